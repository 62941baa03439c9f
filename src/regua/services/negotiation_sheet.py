"""The negotiation sheet: one line per agreement with what is paid and what is still due, and
the same as an Excel file the finance team opens: typed cells, not text.

Dates are dates, money is a number in reais with the R$ format, counts are integers, and every
text (names, ids, statuses) is written as a string cell, never a formula: a customer named
``=HYPERLINK(...)`` stays a name (CSV/formula injection).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from regua.domain.money import Cents
from regua.domain.policy_terms import INTEREST_LABELS_PT
from regua.store import agreements as store
from regua.store.uow import UnitOfWorkFactory

STATUS_LABELS_PT = {
    "active": "ativo",
    "completed": "cumprido",
    "broken": "quebrado",
    "cancelled": "cancelado",
}
MONEY_FORMAT = '"R$" #,##0.00'
DATE_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class SheetLine:
    """One line of the negotiation sheet."""

    agreement_id: int
    customer: str
    name: str
    made_on: date
    status: str
    original_cents: Cents
    debt_cents: Cents
    discount_cents: Cents
    total_cents: Cents
    installment_count: int
    down_payment_cents: Cents
    interest_kind: str
    monthly_rate: str
    paid_count: int
    due_count: int
    paid_cents: Cents
    due_cents: Cents
    next_due: date | None
    accepted_by: str
    channel: str
    closed_on: date | None


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns MIN() of dates as text


def negotiation_sheet(
    uow: UnitOfWorkFactory, creditor_id: int, statuses: Sequence[str] | None = None
) -> list[SheetLine]:
    """The agreements, with what is paid and what is still due."""
    with uow() as work:
        rows = store.sheet(work.connection, creditor_id, statuses)
    return [
        SheetLine(
            agreement_id=row.id,
            customer=row.customer,
            name=row.name,
            made_on=row.made_on,
            status=row.status,
            original_cents=int(row.original_cents),
            debt_cents=row.debt_cents,
            discount_cents=row.discount_cents,
            total_cents=row.total_cents,
            installment_count=row.installment_count,
            down_payment_cents=row.down_payment_cents,
            interest_kind=row.interest_kind,
            monthly_rate=row.monthly_rate,
            paid_count=int(row.paid_count),
            due_count=int(row.due_count),
            paid_cents=int(row.paid_cents),
            due_cents=int(row.due_cents),
            next_due=_day(row.next_due),
            accepted_by=row.accepted_by,
            channel=row.channel,
            closed_on=row.closed_on,
        )
        for row in rows
    ]


def _reais(cents: int) -> Decimal:
    return Decimal(cents) / 100


# (header, width, kind, value): kind is text, date, money or int.
COLUMNS: Sequence[tuple[str, int, str, Callable[[SheetLine], Any]]] = (
    ("Acordo", 8, "int", lambda s: s.agreement_id),
    ("Cliente", 12, "text", lambda s: s.customer),
    ("Nome", 32, "text", lambda s: s.name),
    ("Feito em", 12, "date", lambda s: s.made_on),
    ("Situação", 11, "text", lambda s: STATUS_LABELS_PT.get(s.status, s.status)),
    ("Dívida original", 15, "money", lambda s: _reais(s.original_cents)),
    ("Dívida atualizada", 15, "money", lambda s: _reais(s.debt_cents)),
    ("Desconto", 12, "money", lambda s: _reais(s.discount_cents)),
    ("Total do acordo", 15, "money", lambda s: _reais(s.total_cents)),
    ("Entrada", 12, "money", lambda s: _reais(s.down_payment_cents)),
    ("Parcelas", 9, "int", lambda s: s.installment_count),
    ("Juros", 24, "text", lambda s: INTEREST_LABELS_PT.get(s.interest_kind, s.interest_kind)),
    ("CET a.m. (%)", 11, "text", lambda s: s.monthly_rate.replace(".", ",")),
    ("Pagas", 7, "int", lambda s: s.paid_count),
    ("Valor pago", 13, "money", lambda s: _reais(s.paid_cents)),
    ("A vencer", 9, "int", lambda s: s.due_count),
    ("Saldo a pagar", 13, "money", lambda s: _reais(s.due_cents)),
    ("Próximo vencimento", 12, "date", lambda s: s.next_due),
    ("Aceito por", 14, "text", lambda s: s.accepted_by),
    ("Canal", 10, "text", lambda s: s.channel),
    ("Encerrado em", 12, "date", lambda s: s.closed_on),
)


def write_sheet(lines: Sequence[SheetLine], path: Path) -> None:
    """Write the sheet to ``path`` (.xlsx)."""
    from openpyxl import Workbook  # heavy; only when a sheet is asked for
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Acordos"
    for col, (header, width, _kind, _value) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=col)
        cell.value = header
        cell.data_type = "s"
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(col)].width = width
    for row, line in enumerate(lines, start=2):
        for col, (_header, _width, kind, value) in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=row, column=col)
            raw = value(line)
            if raw is None:
                continue
            if kind == "text":
                cell.value = str(raw)
                # openpyxl reads a string starting with "=" as a formula; a name is a name.
                cell.data_type = "s"
            elif kind == "date":
                assert isinstance(raw, date)
                cell.value = raw
                cell.number_format = DATE_FORMAT
            elif kind == "money":
                cell.value = raw
                cell.number_format = MONEY_FORMAT
            else:
                cell.value = int(raw)
    sheet.freeze_panes = "A2"
    workbook.save(path)
