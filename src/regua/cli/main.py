"""The `regua` command line: parse, call a service, present. No business rules here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

import regua
from regua.cli import (
    analyst_commands,
    credor_commands,
    dispatch_commands,
    negotiation_commands,
    ops_commands,
    payments_commands,
    pix_boleto_commands,
    plan_commands,
    policy_commands,
    portal_commands,
    ptbr,
    serve_commands,
    templates_commands,
)
from regua.cli.context import (
    CreditorOption,
    DbOption,
    TodayOption,
    command_app,
    command_creditor,
    parse_day,
    root_app,
    shown_url,
)
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.domain.fees import FeeTerms, charges
from regua.domain.money import MoneyFormatError, format_brl, parse_brl, to_decimal_str
from regua.errors import InputError
from regua.logs import configure_logging
from regua.services import setup
from regua.services.importing import DuplicateRule, ImportKind, ImportResult, import_file

if TYPE_CHECKING:
    from regua.services.simulation import SimulatedDay

ptbr.install()
app = typer.Typer(
    name="regua",
    cls=ptbr.ReguaGroup,
    help="regua: régua de cobrança para empresas brasileiras.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manutenção do banco de dados.", no_args_is_help=True)
app.add_typer(db_app, name="db")
credor_commands.register(app)
pix_boleto_commands.register(app)
payments_commands.register(app)
policy_commands.register(app)
templates_commands.register(app)
plan_commands.register(app)
dispatch_commands.register(app)
negotiation_commands.register(app)
portal_commands.register(app)
analyst_commands.register(app)
serve_commands.register(app)
ops_commands.register(app)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"regua {regua.__version__}", markup=False)
        raise typer.Exit()


@app.callback()
@cli_errors
def main(
    ctx: typer.Context,
    db: DbOption = None,
    today: TodayOption = None,
    creditor: CreditorOption = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Mostra a versão do regua e sai.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """regua: régua de cobrança para empresas brasileiras."""
    # The one App of this process: every command takes it from the context.
    configure_logging(root_app(ctx, db, today, creditor).settings)


@db_app.command("upgrade")
@cli_errors
def db_upgrade(ctx: typer.Context, db: DbOption = None) -> None:
    """Atualiza o esquema de um banco existente para a versão desta instalação."""
    regua = command_app(ctx, db)
    before, after = setup.upgrade_database(regua.uow)
    if before == after:
        console.print(f"Esquema já está na versão atual ({after}).")
    else:
        console.print(f"Esquema atualizado: {before or 'vazio'} -> {after}")


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--map espera campo=coluna, recebeu {pair!r}")
        name, column = pair.split("=", 1)
        mapping[name.strip()] = column.strip()
    return mapping


@app.command("import")
@cli_errors
def import_command(
    ctx: typer.Context,
    kind: Annotated[ImportKind, typer.Argument(help="customers, invoices ou payments")],
    file: Annotated[Path, typer.Argument(help="Arquivo CSV ou XLSX.")],
    db: DbOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Uma linha inválida recusa o arquivo inteiro.")
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Coluna com outro nome: campo=coluna, campo com o nome das mensagens "
            "(vencimento=Data Venc.; repetível).",
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--linha-cabecalho",
            "--header-row",
            min=1,
            help="Linha do cabeçalho. Padrão: a primeira com as colunas necessárias "
            "(relatórios com título acima).",
        ),
    ] = None,
    duplicates: Annotated[
        DuplicateRule,
        typer.Option(
            "--duplicados",
            help="Mesmo número de título cobrado duas vezes do cliente, ou o mesmo CPF/CNPJ "
            "em dois clientes: avisar (importa e lista) ou rejeitar (deixa de fora).",
        ),
    ] = "avisar",
    json_output: JsonOption = False,
) -> None:
    """Importa clientes, títulos ou pagamentos de uma planilha (idempotente)."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    size = file.stat().st_size if file.exists() else 0
    show_progress = not json_output and size > 2_000_000
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task(f"Importando {file.name}", total=size)
        # The import is one unit of work of its own, committed once the whole file is written,
        # or rolled back whole under --strict.
        result = import_file(
            regua.uow,
            kind,
            file,
            creditor_id=creditor_id,
            now=regua.now(),
            strict=strict,
            mapping=_parse_mapping(mapping or []),
            progress=lambda n: progress.advance(task, n),
            header_row=header_row,
            duplicates=duplicates,
            max_amount_cents=regua.settings.max_invoice_cents,
        )
    if json_output:
        print_json(result.to_dict())
    else:
        _print_import(result)


def _print_import(result: ImportResult) -> None:
    if result.header_row != 1:
        console.print(f"{result.file}: cabeçalho na linha {result.header_row}")
    console.print(
        f"{result.file}: {result.inserted} novos, {result.updated} atualizados, "
        f"{result.unchanged} sem mudança, {result.rejected} rejeitados"
        + (f", {len(result.warnings)} avisos" if result.warnings else "")
        + (f", {result.customers_created} clientes criados" if result.customers_created else "")
    )
    if result.history_payments:
        console.print(
            f"  {result.history_payments} pagamentos do histórico registrados com a data "
            "em que foram feitos"
        )
    if result.unmatched:
        console.print(
            f"  {result.unmatched} pagamentos sem título correspondente guardados "
            f"(veja regua payments --unmatched --days {max(result.unmatched_days, 7)})"
        )
    if result.unused_columns:
        console.print("  Colunas não usadas: " + ", ".join(result.unused_columns), markup=False)
    for error in result.errors[:10]:
        console.print(f"  {error}", markup=False)
    if result.rejected > 10:
        console.print(f"  ... e mais {result.rejected - 10}")
    for warning in result.warnings[:10]:
        console.print(f"  aviso: {warning}", markup=False)
    if len(result.warnings) > 10:
        console.print(f"  ... e mais {len(result.warnings) - 10} avisos")
    if result.reject_file:
        console.print(f"Linhas rejeitadas e avisos, com o motivo: {result.reject_file}")


def _percent(value: float) -> str:
    """2.0 -> "2,00%": the decimal comma on the number only, never on "a.m."."""
    return f"{value:.2f}".replace(".", ",") + "%"


@app.command()
@cli_errors
def fees(
    ctx: typer.Context,
    amount: Annotated[str, typer.Option("--amount", help="Valor do título: 1500,00")],
    due: Annotated[str, typer.Option("--due", help="Vencimento (AAAA-MM-DD ou dd/mm/aaaa).")],
    on: Annotated[str | None, typer.Option("--on", help="Data do pagamento. Padrão: hoje.")] = None,
    multa: Annotated[float, typer.Option(help="Multa em %.")] = 2.0,
    juros: Annotated[float, typer.Option(help="Juros de mora em % ao mês.")] = 1.0,
    empresa: Annotated[
        bool, typer.Option("--empresa", help="Devedor é empresa (sem o teto de 2% do CDC).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Mostra o valor atualizado de um título vencido: principal, multa e juros."""
    from regua.services.cells import CellError, parse_date

    try:
        principal = parse_brl(amount)
    except MoneyFormatError as exc:
        raise InputError(str(exc), field="--amount") from None
    if principal < 0:
        raise InputError(f"valor negativo: {amount} (informe o valor do título)", field="--amount")
    try:
        due_date = parse_date(due)
        on_date = parse_date(on) if on else command_app(ctx).today()
    except CellError as exc:
        raise InputError(str(exc), field="--due/--on") from None
    terms = FeeTerms(
        late_fee_bp=round(multa * 100),
        interest_monthly_bp=round(juros * 100),
        is_consumer=not empresa,
    )
    result = charges(principal, due_date, on_date, terms)
    if json_output:
        print_json(
            {
                "due_date": result.due_date,
                "effective_due_date": result.effective_due_date,
                "on": on_date,
                "days_late": result.days_late,
                "late_fee_percent": result.late_fee_bp / 100,
                "principal_cents": result.principal_cents,
                "late_fee_cents": result.late_fee_cents,
                "interest_cents": result.interest_cents,
                "total_cents": result.total_cents,
                "total": to_decimal_str(result.total_cents),
            }
        )
        return
    table = Table(show_header=False, box=None)
    table.add_row(
        "Vencimento",
        f"{result.due_date:%d/%m/%Y}"
        + (
            f" (prorrogado para {result.effective_due_date:%d/%m/%Y}, dia útil seguinte)"
            if result.effective_due_date != result.due_date
            else ""
        ),
    )
    table.add_row("Pagamento em", f"{on_date:%d/%m/%Y}")
    table.add_row("Dias de atraso", str(result.days_late))
    table.add_row("Principal", format_brl(result.principal_cents))
    table.add_row(
        f"Multa ({_percent(result.late_fee_bp / 100)})",
        format_brl(result.late_fee_cents),
    )
    table.add_row(
        f"Juros ({_percent(juros)} a.m. pro rata die)",
        format_brl(result.interest_cents),
    )
    table.add_row("[bold]Total[/bold]", f"[bold]{format_brl(result.total_cents)}[/bold]")
    console.print(table)
    if terms.late_fee_bp > result.late_fee_bp:
        console.print("Multa limitada a 2% (CDC art. 52 §1º: devedor consumidor).")


@app.command()
@cli_errors
def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Pasta da demonstração. Padrão: regua-demo na pasta pessoal (~/regua-demo).",
            show_default=False,
        ),
    ] = None,
    customers: Annotated[int, typer.Option("--customers", min=1, max=500_000)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    days: Annotated[int, typer.Option("--days", min=0, max=366, help="Dias simulados.")] = 30,
    today: Annotated[
        str | None, typer.Option("--today", help="Data de referência (AAAA-MM-DD).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Cria uma carteira de demonstração realista e mostra o resumo."""
    from regua.services.demo import build_demo, default_folder, demo_database_url

    folder = folder or default_folder()
    regua = command_app(ctx)
    reference = parse_day(today, "--today") if today else regua.today()
    # The demo runs on its folder's own database, whatever --db says.
    demo_app = regua.with_settings(database_url=demo_database_url(folder))
    try:
        with console.status("Gerando a carteira de demonstração...", spinner="dots"):
            result = build_demo(
                folder,
                uow=demo_app.uow,
                settings=demo_app.settings,
                customers=customers,
                seed=seed,
                today=reference,
                now=regua.now(),
                days=days,
            )
    finally:
        if demo_app is not regua:
            demo_app.close()
    if json_output:
        print_json(
            {
                "folder": result.folder,
                "database_url": shown_url(result.database_url),
                "imports": [r.to_dict() for r in result.imports],
                "summary": analyst_commands.summary_dict(result.summary),
                "outbox": result.outbox,
                "outbox_files": result.outbox_files,
                "days": [_day_dict(d) for d in result.days],
                "portal_url": result.portal.url if result.portal else None,
            }
        )
        return
    console.print(f"Demonstração em {result.folder}/ (banco {shown_url(result.database_url)})")
    for imported in result.imports:
        _print_import(imported)
    analyst_commands.print_summary(result.summary)
    if result.days:
        print_simulation(result.days)
        console.print(
            f"\nMensagens dos dias simulados: {result.outbox_files} arquivos em {result.outbox}/ "
            "(.eml e-mails, .json SMS e WhatsApp, .pdf cartas)"
        )
    console.print(
        f"\nPara explorar: [bold]regua --help[/bold]  (use --db {shown_url(result.database_url)})"
    )
    if result.portal is not None:
        console.print(
            "\nPortal do devedor: rode "
            f"[bold]regua serve --db {shown_url(result.database_url)}[/bold] e abra\n"
            f"{result.portal.url}\n(cliente {result.portal.customer_name}; para confirmar a "
            f"identidade, digite {result.portal.answer}, os 5 primeiros números do documento)",
            soft_wrap=True,
        )


def _day_dict(day: SimulatedDay) -> dict[str, object]:
    return {
        "date": day.day,
        "payments": day.payments,
        "paid_cents": day.paid_cents,
        "planned": [
            {"step": step, "channel": channel, "actions": n}
            for (step, channel), n in sorted(day.planned.items())
        ],
        "not_sent": dict(day.not_sent),
        "sent": dict(day.sent),
        "cost_cents": day.cost_cents,
        "thank_yous": day.thank_yous,
        "closed": day.closed or None,
        "quiet": day.quiet or None,
    }


def print_simulation(days: list[SimulatedDay]) -> None:
    from collections import Counter

    from regua.domain.channels import channel_label

    table = Table(title=f"Régua simulada: {len(days)} dias")
    numeric = ("Pagamentos", "Ações", "Agradecimentos")
    for column in ("Dia", "Pagamentos", "Ações", "Agradecimentos", "Por etapa", "Não enviadas"):
        table.add_column(column, justify="right" if column in numeric else "left")
    steps: Counter[tuple[str, str]] = Counter()
    reasons: Counter[str] = Counter()
    for day in days:
        steps.update(day.planned)
        reasons.update(day.not_sent)
        per_step: Counter[str] = Counter()
        for (step, _channel), n in day.planned.items():
            per_step[step] += n
        weekday = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")[day.day.weekday()]
        table.add_row(
            f"{day.day:%d/%m} {weekday}",
            str(day.payments),
            str(sum(day.planned.values())),
            str(day.thank_yous),
            ", ".join(f"{s} {n}" for s, n in sorted(per_step.items())) or day.quiet,
            ", ".join(f"{r} {n}" for r, n in day.not_sent.most_common(3)),
        )
    console.print(table)
    thanked = sum(day.thank_yous for day in days)
    if thanked:
        console.print(f"Agradecimentos pelos pagamentos: {thanked}")
    totals = Table(title="Total por etapa e canal")
    for column in ("Etapa", "Canal", "Ações"):
        totals.add_column(column, justify="right" if column == "Ações" else "left")
    for (step, channel), n in sorted(steps.items()):
        totals.add_row(step, channel_label(channel), str(n))
    console.print(totals)
    for reason, n in reasons.most_common():
        console.print(f"  {n} não enviadas: {reason}")
