"""What an analyst reaches for after a run: `regua acoes` (what was not sent, to whom and why),
`regua cliente` (one customer's page) and `regua resumo` (the portfolio and its aging)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from regua.cli.context import DateOption, DbOption, command_app, command_creditor, command_day
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.cli.xlsx_output import Column, Sheet, XlsxOption, write_xlsx
from regua.domain.action_statuses import ACTION_STATUS_LABELS, status_label, status_named
from regua.domain.channels import channel_label
from regua.domain.money import format_brl
from regua.domain.segments import default_label
from regua.errors import InputError
from regua.services import reporting, setup
from regua.services.reporting import ActionLine, PortfolioSummary


def parse_statuses(values: list[str] | None) -> tuple[str, ...]:
    """The statuses named on the command line (pt-BR or English, repeated or comma-separated)."""
    if not values:
        return reporting.NOT_SENT
    found: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            status = status_named(name)
            if status is None:
                known = ", ".join(f"{label} ({raw})" for raw, label in ACTION_STATUS_LABELS.items())
                raise InputError(f"situação desconhecida: {name} (use {known})", field="--status")
            if status not in found:
                found.append(status)
    return tuple(found)


def _action_dict(line: ActionLine) -> dict[str, Any]:
    row = line.row
    return {
        "action_id": row.id,
        "date": row.planned_for,
        "purpose": row.purpose,
        "status": row.status,
        "customer": row.customer_external_id,
        "name": row.customer_name,
        "step": row.step_id,
        "channel": row.channel,
        "contact": row.contact_value,
        "template": row.template,
        "invoices": list(row.invoice_numbers),
        "attempts": row.attempts,
        "reason": row.reason,
        "why": line.why,
    }


ACTION_COLUMNS = (
    Column("Data", "date"),
    Column("Cliente"),
    Column("Nome", width=36),
    Column("Etapa"),
    Column("Canal", width=10),
    Column("Contato", width=30),
    Column("Situação", width=12),
    Column("Títulos", width=30),
    Column("Tentativas", "int"),
    Column("Motivo", width=60),
    Column("Ação", "int"),
)


def _action_cells(line: ActionLine) -> tuple[Any, ...]:
    row = line.row
    return (
        row.planned_for,
        row.customer_external_id,
        row.customer_name,
        row.step_id,
        channel_label(row.channel) if row.channel else "",
        row.contact_value or "",
        status_label(row.status),
        ", ".join(row.invoice_numbers),
        row.attempts,
        line.why,
        row.id,
    )


def acoes(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Situações listadas (repetível, ou separadas por vírgula): com falha (failed), "
            "retida (held), pulada (skipped), descartada (dropped), adiada (deferred), "
            "cancelada (cancelled), planejada (planned), enviada (sent). "
            "Padrão: com falha, retida, pulada e descartada.",
            show_default=False,
        ),
    ] = None,
    day: DateOption = None,
    xlsx: XlsxOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """As ações de um dia que não foram enviadas: para quem, por qual canal, sobre quais títulos
    e por quê."""
    statuses = parse_statuses(status)
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    target = command_day(regua, day, timezone=setup.creditor_timezone(regua.uow, creditor_id))
    lines = reporting.actions_by_status(regua.uow, creditor_id, target, statuses)
    if xlsx is not None:
        write_xlsx(xlsx, [Sheet("Ações", ACTION_COLUMNS, (_action_cells(a) for a in lines))])
    if json_output:
        print_json(
            {
                "date": target,
                "statuses": list(statuses),
                "count": len(lines),
                "actions": [_action_dict(a) for a in lines],
            }
        )
        return
    labels = ", ".join(status_label(s) for s in statuses)
    if not lines:
        console.print(f"Nenhuma ação {labels} em {target:%d/%m/%Y}.", markup=False)
    else:
        table = Table(title=f"Ações {labels} em {target:%d/%m/%Y} ({len(lines)})")
        for column in ("Cliente", "Nome", "Etapa", "Canal", "Situação", "Títulos", "Motivo"):
            table.add_column(column, overflow="fold")
        for line in lines:
            row = line.row
            table.add_row(
                row.customer_external_id,
                row.customer_name,
                row.step_id,
                channel_label(row.channel) if row.channel else "-",
                status_label(row.status),
                ", ".join(row.invoice_numbers),
                line.why,
            )
        console.print(table)
        # One line per kind of reason: a skipped action's channels are in the table above.
        why = Counter((status_label(a.row.status), a.why.split(" (")[0]) for a in lines)
        for (label, reason), count in why.most_common():
            console.print(f"  {count} {label}: {reason}", markup=False, soft_wrap=True)
    if xlsx is not None:
        console.print(f"Planilha gravada: {xlsx} ({len(lines)} ações)", markup=False)


def cliente_command(
    ctx: typer.Context,
    cliente: Annotated[str, typer.Argument(help="Código do cliente no ERP ou CPF/CNPJ.")],
    day: DateOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """A ficha de um cliente: dados, contatos, títulos em aberto com multa e juros de hoje e o
    histórico (cada contato, enviado ou não, e por quê; pagamentos, pausas, agradecimentos)."""
    from regua.services.customer_page import customer_page, page_dict

    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    timezone = setup.creditor_timezone(regua.uow, creditor_id)
    target = command_day(regua, day, timezone=timezone)
    page = customer_page(regua.uow, creditor_id, cliente, today=target, timezone=timezone)
    if json_output:
        print_json(page_dict(page))
        return
    c = page.customer
    kind = "consumidor" if c.is_consumer else "empresa"
    console.print(f"[bold]{escape(c.name)}[/bold] (cliente {escape(c.external_id)})")
    console.print(f"{c.document_kind.upper()} {page.document}, {kind}", markup=False)
    place = ", ".join(p for p in (c.address, c.city, c.uf) if p)
    if place:
        console.print(place, markup=False)
    segment = default_label(c.segment) if c.segment else "sem segmento (calculado por regua run)"
    console.print(f"Segmento: {segment}", markup=False)
    if c.paused:
        until = f" até {c.paused_until:%d/%m/%Y}" if c.paused_until else ""
        console.print(f"Cobrança pausada{until}: {c.pause_reason or ''}", markup=False)
    console.print("\n[bold]Contatos[/bold]")
    if not page.contacts:
        console.print("  nenhum: as ações deste cliente são puladas (sem canal disponível)")
    for contact in page.contacts:
        state = contact.state
        if contact.opted_out_at is not None:
            state += f" em {contact.opted_out_at:%d/%m/%Y}"
            if contact.opt_out_reason:
                state += f" ({contact.opt_out_reason})"
        elif contact.invalid_at is not None:
            state += f" desde {contact.invalid_at:%d/%m/%Y}"
        console.print(
            f"  {channel_label(contact.channel)}: {contact.value} ({state})", markup=False
        )
    console.print(f"\n[bold]Títulos em aberto em {page.today:%d/%m/%Y}[/bold]")
    if not page.invoices:
        console.print("  nenhum")
    else:
        table = Table()
        for column in ("Título", "Vencimento", "Atraso", "Saldo", "Multa", "Juros", "Total hoje"):
            table.add_column(
                column, justify="left" if column in ("Título", "Vencimento") else "right"
            )
        for item in page.invoices:
            number = item["number"] + (" (pausado)" if item["paused"] else "")
            table.add_row(
                number,
                f"{item['due_date']:%d/%m/%Y}",
                f"{item['days_late']} dias" if item["days_late"] > 0 else "a vencer",
                format_brl(item["principal_cents"]),
                format_brl(item["late_fee_cents"]),
                format_brl(item["interest_cents"]),
                format_brl(item["total_cents"]),
            )
        totals = page.totals
        table.add_row(
            "[bold]Total[/bold]",
            "",
            "",
            format_brl(totals["balance_cents"]),
            format_brl(totals["late_fee_cents"]),
            format_brl(totals["interest_cents"]),
            f"[bold]{format_brl(totals['total_cents'])}[/bold]",
        )
        console.print(table)
    console.print("\n[bold]Histórico[/bold]")
    if not page.timeline:
        console.print("  nada ainda")
    for line in page.timeline:
        status = f" [{status_label(line.status)}]" if line.status else ""
        invoices = f" títulos {', '.join(line.invoices)}" if line.invoices else ""
        console.print(
            f"  {line.at:%d/%m/%Y} {'     ' if line.date_only else f'{line.at:%H:%M}'} "
            f"{line.label}{status}: {line.what}{invoices}",
            markup=False,
            soft_wrap=True,
        )
        if line.why:
            console.print(f"      {line.why}", markup=False, soft_wrap=True)


def _thousands(count: int) -> str:
    return f"{count:,}".replace(",", ".")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def summary_dict(summary: PortfolioSummary) -> dict[str, Any]:
    """The portfolio summary as plain data: counts, centavos, the aging buckets."""
    return {
        "today": summary.today,
        "customers": summary.customers,
        "open_invoices": summary.open_invoices,
        "open_cents": summary.open_cents,
        "overdue_invoices": summary.overdue_invoices,
        "overdue_cents": summary.overdue_cents,
        "aging": [
            {"bucket": b.label, "invoices": b.invoices, "balance_cents": b.balance_cents}
            for b in summary.buckets
        ],
    }


def print_summary(summary: PortfolioSummary) -> None:
    """The portfolio and its aging, as `regua resumo` and the demo print them."""
    console.print(f"\n[bold]Carteira em {summary.today:%d/%m/%Y}[/bold]")
    console.print(f"Clientes: {_thousands(summary.customers)}")
    console.print(
        f"Títulos em aberto: {_thousands(summary.open_invoices)} ({format_brl(summary.open_cents)})"
    )
    console.print(
        f"Vencido: {_thousands(summary.overdue_invoices)} títulos, "
        f"{format_brl(summary.overdue_cents)}"
    )
    table = Table(title="Aging (dias de atraso)")
    table.add_column("Faixa")
    table.add_column("Títulos", justify="right")
    table.add_column("Saldo", justify="right")
    table.add_column("%", justify="right")
    for bucket in summary.buckets:
        share = _share(bucket.balance_cents, summary.open_cents) * 100
        table.add_row(
            bucket.label,
            _thousands(bucket.invoices),
            format_brl(bucket.balance_cents),
            f"{share:.1f}".replace(".", ","),
        )
    console.print(table)


SUMMARY_COLUMNS = (
    Column("Data", "date"),
    Column("Clientes", "int"),
    Column("Títulos em aberto", "int"),
    Column("Em aberto", "money"),
    Column("Títulos vencidos", "int"),
    Column("Vencido", "money"),
)
AGING_COLUMNS = (
    Column("Faixa (dias de atraso)"),
    Column("Títulos", "int"),
    Column("Saldo", "money"),
    Column("% do saldo", "percent"),
)


def summary_sheets(summary: PortfolioSummary) -> list[Sheet]:
    return [
        Sheet(
            "Resumo",
            SUMMARY_COLUMNS,
            [
                (
                    summary.today,
                    summary.customers,
                    summary.open_invoices,
                    summary.open_cents,
                    summary.overdue_invoices,
                    summary.overdue_cents,
                )
            ],
        ),
        Sheet(
            "Aging",
            AGING_COLUMNS,
            [
                (
                    b.label,
                    b.invoices,
                    b.balance_cents,
                    round(_share(b.balance_cents, summary.open_cents), 4),
                )
                for b in summary.buckets
            ],
        ),
    ]


def resumo(
    ctx: typer.Context,
    day: DateOption = None,
    xlsx: XlsxOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
) -> None:
    """O resumo da carteira: clientes, títulos e saldo em aberto e vencido, e o aging por faixa
    de dias de atraso."""
    regua = command_app(ctx, db)
    creditor_id = command_creditor(ctx, regua)
    target = command_day(regua, day, timezone=setup.creditor_timezone(regua.uow, creditor_id))
    summary = reporting.portfolio_summary(regua.uow, creditor_id, target)
    if xlsx is not None:
        write_xlsx(xlsx, summary_sheets(summary))
    if json_output:
        print_json(summary_dict(summary))
        return
    print_summary(summary)
    if xlsx is not None:
        console.print(f"Planilha gravada: {xlsx}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("resumo")(cli_errors(resumo))
    app.command("acoes")(cli_errors(acoes))
    app.command("cliente")(cli_errors(cliente_command))
