"""`regua cnab FILE` (import a bank return file), `regua cnab inspect FILE` (what a return file
says, without the database) and `regua payments` (what came in)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from regua.cli.context import DbOption, command_app, command_creditor, creditor_given
from regua.cli.listing_sheets import payments_sheet
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.cli.xlsx_output import XlsxOption, write_xlsx
from regua.domain.money import format_brl
from regua.errors import InputError
from regua.services.payments_report import (
    DEFAULT_DAYS,
    DEFAULT_LIMIT,
    PaymentsReport,
    StatusTotal,
    recent_payments,
)

if TYPE_CHECKING:
    # Settling payments is imported by `regua cnab` alone: every other command starts without.
    from regua.services.cnab_returns import CnabImportResult

STATUS_LABELS = {
    "applied": "aplicado",
    "unmatched": "sem título",
    "reversed": "estornado",
    "reversal": "estorno",
}
SOURCE_LABELS = {
    "cnab": "boleto",
    "pix": "PIX",
    "import": "importação",
    "manual": "manual",
    "disputa": "contestação",
}
KIND_LABELS = {
    "entry_confirmed": "entrada confirmada",
    "entry_rejected": "entrada rejeitada",
    "written_off": "baixa",
    "protest": "protesto",
    "other": "outras",
}
LAYOUT_LABELS = {"cnab240": "CNAB 240", "cnab400": "CNAB 400"}
SHOWN_UNMATCHED = 50


INSPECT = "inspect"


def cnab(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="ARQUIVO|inspect",
            help="Arquivo retorno do banco (CNAB 240 ou 400), ou `inspect` seguido do arquivo.",
        ),
    ],
    inspected: Annotated[
        Path | None,
        typer.Argument(
            metavar="ARQUIVO",
            help="Com `inspect`: o arquivo a ler, sem gravar nada.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """Importa um arquivo retorno: baixa os títulos pagos (importar de novo não duplica nada).

    `regua cnab inspect ARQUIVO`: o que o arquivo diz, título a título, sem abrir o banco.
    """
    if str(file) == INSPECT and inspected is not None:
        _inspect(inspected, json_output)
        return
    if inspected is not None:
        raise InputError(
            f"argumento a mais: {inspected} (para ler sem importar: regua cnab inspect ARQUIVO)"
        )
    if not file.is_file():
        raise InputError("arquivo não encontrado", file=str(file))
    regua = command_app(ctx, db)
    # Without --credor the file's header says whose titles it settles.
    creditor_id = command_creditor(ctx, regua) if creditor_given(ctx) else None
    working: AbstractContextManager[Any] = (
        nullcontext() if json_output else console.status(f"Importando {file.name}...")
    )
    with working:
        from regua.services.cnab_returns import import_return_file

        # One unit of work of its own, with the session settings and GC pause of a batch.
        result = import_return_file(regua.uow, file, creditor_id, regua.now())
    if json_output:
        print_json(result.to_dict())
        return
    _print_cnab(result)


def _inspect(file: Path, json_output: bool) -> None:
    if not file.is_file():
        raise InputError("arquivo não encontrado", file=str(file))
    from regua.payments.cnab import parse_return
    from regua.payments.cnab.presenting import describe_file

    described = describe_file(parse_return(file.read_bytes(), filename=file.name), file.name)
    if json_output:
        print_json(described)
        return
    console.print(
        f"[bold]{escape(file.name)}[/bold]: {described['layout_name']}, banco "
        f"{described['bank_code']} {escape(described['bank_name'])}"
        + (f" ({described['variant']})" if described["variant"] else ""),
        soft_wrap=True,
    )
    generated = described["generated_on"]
    console.print(
        f"  Gerado em {_br_date(generated)}; CNPJ/CPF da empresa "
        f"{described['company_document'] or '-'}; {len(described['titles'])} ocorrências, "
        f"{described['settlements']} liquidações ({format_brl(described['paid_cents'])} pagos, "
        f"tarifas {format_brl(described['fee_cents'])}, creditado "
        f"{format_brl(described['credited_cents'])})",
        soft_wrap=True,
        markup=False,
    )
    for warning in described["warnings"]:
        console.print(f"  Aviso: {warning}", soft_wrap=True, markup=False)
    table = Table(show_edge=False, pad_edge=False)
    for column in (
        "linha",
        "nosso número",
        "seu número",
        "ocorrência",
        "data",
        "valor",
        "pago",
        "tarifa",
        "creditado",
        "crédito em",
    ):
        table.add_column(column)
    for title in described["titles"]:
        table.add_row(
            str(title["line"]),
            title["nosso_numero"] or "-",
            title["seu_numero"] or "-",
            f"{title['occurrence']} {title['occurrence_text']}",
            _br_date(title["paid_on"]),
            format_brl(title["face_cents"]),
            format_brl(title["paid_cents"]),
            format_brl(title["fee_cents"]),
            format_brl(title["credited_cents"]),
            _br_date(title["credited_on"]),
        )
    console.print(table)


def _br_date(iso: str | None) -> str:
    return "-" if not iso else f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def _print_cnab(result: CnabImportResult) -> None:
    def say(text: str, *, markup: bool = True) -> None:
        # One fact per line, never wrapped: people grep and paste these lines.
        console.print(text, soft_wrap=True, markup=markup)

    layout = LAYOUT_LABELS.get(result.layout, result.layout)
    say(
        f"[bold]{escape(result.file)}[/bold] ({layout}, banco {result.bank_code}): "
        f"{result.records} ocorrências, {result.settlements} liquidações"
    )
    for warning in result.warnings:
        say(f"  Aviso: {warning}", markup=False)
    matched_cents = result.amount_cents - result.unmatched_cents
    say(
        f"  Pagamentos aplicados: {result.applied} ({format_brl(matched_cents)}): "
        f"{result.settled} títulos quitados, {result.partial} pagos em parte"
    )
    if result.fee_cents:
        say(
            f"  Tarifas do banco: {format_brl(result.fee_cents)}; creditado em conta: "
            f"{format_brl(result.credited_cents)}"
        )
    if result.credit_cents:
        say(f"  Pago a mais, crédito dos clientes: {format_brl(result.credit_cents)}")
    unmatched_payments = sum(
        1 for u in result.unmatched if u.kind in ("settlement", "settled_written_off")
    )
    if unmatched_payments:
        say(
            f"  Sem título correspondente: {unmatched_payments} pagamentos "
            f"({format_brl(result.unmatched_cents)}), guardados em `regua payments --unmatched`"
        )
    if result.duplicates:
        say(f"  Já importados antes (ignorados): {result.duplicates}")
    if result.reversals:
        say(f"  Estornos: {result.reversals} pagamentos desfeitos, títulos reabertos")
    if result.occurrences:
        shown = ", ".join(
            f"{KIND_LABELS.get(kind, kind)} {count}"
            for kind, count in sorted(result.occurrences.items())
        )
        say(f"  Ocorrências registradas nos títulos: {shown}")
    if result.cancelled_actions or result.thank_you_actions:
        say(
            f"  Ações de cobrança canceladas: {result.cancelled_actions}; "
            f"agradecimentos planejados: {result.thank_you_actions}"
        )
    if result.unmatched:
        say(f"[bold]Linhas sem título correspondente ({len(result.unmatched)}):[/bold]")
        for line in result.unmatched[:SHOWN_UNMATCHED]:
            ids = ", ".join(
                part
                for part in (
                    f"nosso número {line.nosso_numero}" if line.nosso_numero else "",
                    f"seu número {line.seu_numero}" if line.seu_numero else "",
                )
                if part
            )
            say(
                f"  linha {line.line}: ocorrência {line.occurrence} {line.occurrence_text}"
                + (f", {ids}" if ids else "")
                + (f", {format_brl(line.amount_cents)}" if line.amount_cents else "")
                + f": {line.reason}",
                markup=False,
            )
        if len(result.unmatched) > SHOWN_UNMATCHED:
            say(f"  ... e mais {len(result.unmatched) - SHOWN_UNMATCHED} (use --json)")
    if result.unknown:
        say(
            f"[bold]Ocorrências fora da tabela do banco ({len(result.unknown)}), "
            "não aplicadas:[/bold]"
        )
        for line in result.unknown[:SHOWN_UNMATCHED]:
            say(
                f"  linha {line.line}: ocorrência {line.occurrence}"
                + (f", nosso número {line.nosso_numero}" if line.nosso_numero else ""),
                markup=False,
            )


def payments(
    ctx: typer.Context,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3660, help="Pagamentos dos últimos N dias.")
    ] = DEFAULT_DAYS,
    unmatched: Annotated[
        bool, typer.Option("--unmatched", help="Só o dinheiro sem título identificado.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="Máximo de linhas listadas.")
    ] = DEFAULT_LIMIT,
    db: DbOption = None,
    xlsx: XlsxOption = None,
    json_output: JsonOption = False,
) -> None:
    """Lista os pagamentos recentes e o que cada um baixou; mostra o dinheiro sem título."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    report = recent_payments(
        regua.uow, creditor_id, regua.now(), days=days, unmatched_only=unmatched, limit=limit
    )
    if xlsx is not None:
        write_xlsx(xlsx, [payments_sheet(report)])
        if not json_output:
            console.print(
                f"Planilha gravada: {xlsx} ({len(report.lines)} pagamentos)", markup=False
            )
    if json_output:
        print_json(_report_dict(report))
        return
    _print_report(report)


def _total_dict(total: StatusTotal) -> dict[str, int]:
    return asdict(total)


def _report_dict(report: PaymentsReport) -> dict[str, Any]:
    return {
        "since": report.since,
        "until": report.until,
        "unmatched_only": report.unmatched_only,
        "count": report.count,
        "received_cents": report.received_cents,
        "applied_cents": report.applied_cents,
        "fees_cents": report.fees_cents,
        "credit_cents": report.credit_cents,
        "settled_invoices": report.settled_invoices,
        "by_status": {status: _total_dict(t) for status, t in sorted(report.by_status.items())},
        "unmatched": _total_dict(report.unmatched),
        "unmatched_all_time": _total_dict(report.unmatched_open),
        "payments": [asdict(line) for line in report.lines],
    }


def _print_report(report: PaymentsReport) -> None:
    what = "Pagamentos sem título" if report.unmatched_only else "Pagamentos"
    console.print(
        f"[bold]{what} de {report.since:%d/%m/%Y} a {report.until:%d/%m/%Y}[/bold] ({report.count})"
    )
    if report.lines and report.unmatched_only:
        console.print(_unmatched_table(report))
    elif report.lines:
        console.print(_payments_table(report))
    if report.count > len(report.lines):
        console.print(f"  ... {report.count - len(report.lines)} a mais (use --limit)")
    if not report.unmatched_only:
        console.print(
            f"Recebido: {format_brl(report.received_cents)}; aplicado aos títulos: "
            f"{format_brl(report.applied_cents)} (multa e juros {format_brl(report.fees_cents)}); "
            f"crédito dos clientes: {format_brl(report.credit_cents)}; "
            f"títulos quitados: {report.settled_invoices}",
            soft_wrap=True,
        )
    period = report.unmatched
    console.print(
        f"Sem título identificado no período: {period.count} pagamentos, "
        f"{format_brl(period.amount_cents)}",
        soft_wrap=True,
    )
    total = report.unmatched_open
    if total.count != period.count:
        console.print(
            f"Sem título identificado, desde o início: {total.count} pagamentos, "
            f"{format_brl(total.amount_cents)}",
            soft_wrap=True,
        )


def _payments_table(report: PaymentsReport) -> Table:
    table = Table()
    # The bank's fee and what it credited, for the reconciliation with the bank statement:
    # only when a return file brought them.
    from_bank = any(line.credited_cents is not None for line in report.lines)
    amounts = ["Valor", "Aplicado", "Multa/juros", "Crédito"]
    if from_bank:
        amounts += ["Tarifa", "Creditado"]
    for column in ("Data", "Origem", "Título", "Cliente", *amounts, "Situação"):
        table.add_column(column, justify="right" if column in amounts else "left")
    for line in report.lines:
        if line.invoice_number is None:
            invoice = f"? ({line.reference})" if line.reference else "?"
        else:
            invoice = line.invoice_number
            if line.invoice_status == "paid":
                invoice += " (quitado)"
            elif line.invoice_balance_cents:
                invoice += f" (resta {format_brl(line.invoice_balance_cents)})"
        table.add_row(
            f"{line.paid_on:%d/%m/%Y}",
            SOURCE_LABELS.get(line.source, line.source),
            invoice,
            line.customer_name or "-",
            format_brl(line.amount_cents),
            format_brl(line.applied_cents),
            format_brl(line.fees_cents) if line.fees_cents else "-",
            format_brl(line.credit_cents) if line.credit_cents else "-",
            *(
                (
                    format_brl(line.bank_fee_cents) if line.bank_fee_cents else "-",
                    format_brl(line.credited_cents) if line.credited_cents is not None else "-",
                )
                if from_bank
                else ()
            ),
            STATUS_LABELS.get(line.status, line.status),
        )
    return table


def _unmatched_table(report: PaymentsReport) -> Table:
    """Money without an invoice: what the payer or the bank said, to find whose it is."""
    table = Table()
    for column in ("Data", "Origem", "Referência", "Valor", "Identificação", "Observação"):
        table.add_column(column, justify="right" if column == "Valor" else "left")
    for line in report.lines:
        table.add_row(
            f"{line.paid_on:%d/%m/%Y}",
            SOURCE_LABELS.get(line.source, line.source),
            line.reference or "-",
            format_brl(line.amount_cents),
            line.external_id,
            line.note or "",
        )
    return table


def register(app: typer.Typer) -> None:
    for command in (cnab, payments):
        app.command(command.__name__)(cli_errors(command))
