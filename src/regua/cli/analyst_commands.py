"""What an analyst reaches for after a run: `regua acoes` (what was not sent, to whom and why),
`regua cliente` (one customer's page) and `regua resumo` (the portfolio and its aging)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from regua.cli.context import DateOption, DbOption, command_app, command_day
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.cli.xlsx_output import Column, Sheet, write_xlsx
from regua.domain.action_statuses import ACTION_STATUS_LABELS, status_label, status_named
from regua.domain.channels import channel_label
from regua.errors import InputError
from regua.services import reporting, setup
from regua.services.reporting import ActionLine

XlsxOption = Annotated[
    Path | None,
    typer.Option(
        "--xlsx",
        help="Grava também uma planilha XLSX (datas e valores como números).",
        dir_okay=False,
    ),
]


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
    creditor_id = setup.default_creditor_id(regua.uow)
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


def register(app: typer.Typer) -> None:
    for command in (acoes,):
        app.command(command.__name__)(cli_errors(command))
