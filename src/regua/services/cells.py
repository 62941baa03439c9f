"""Typed values out of spreadsheet cells: dates, amounts, yes/no, invoice statuses.

Each parser raises `CellError` with a pt-BR reason; the importer attaches file, row and field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from regua.domain.money import Cents, MoneyFormatError, parse_brl, round_half_up
from regua.domain.text_cleaning import one_line


class CellError(ValueError):
    """A cell that cannot be read as the field's type; the message is the reason, in pt-BR."""


def text(cell: Any) -> str:
    """The cell as one line of text: line breaks (Alt+Enter in Excel), tabs, NULs and other
    control characters become single spaces, so a name reaches an e-mail header, a call list
    or PostgreSQL (which refuses NUL) as the text a person reads."""
    if isinstance(cell, date):
        return cell.isoformat()
    return one_line(str(cell))


def multiline_text(cell: Any) -> str:
    """The cell with its line breaks kept (a postal address written on several lines), each
    line cleaned as `text` cleans a cell."""
    lines = (one_line(line) for line in str(cell).splitlines())
    return "\n".join(line for line in lines if line)


def parse_date(cell: Any) -> date:
    """`dd/mm/aaaa`, `d/m/aaaa`, `dd-mm-aaaa`, `dd.mm.aaaa`, `aaaa-mm-dd` or an XLSX date."""
    if isinstance(cell, date):
        return cell
    raw = str(cell).strip()
    if not raw:
        raise CellError("data vazia")
    value = raw.split(" ")[0].split("T")[0]  # "05/10/2026 00:00:00" from some ERPs
    for separator in ("/", "-", "."):
        parts = value.split(separator)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            break
    else:
        raise CellError(f"data inválida: {raw} (use dd/mm/aaaa)")
    try:
        if len(parts[0]) == 4:
            year, month, day = (int(p) for p in parts)
        else:
            day, month, year = (int(p) for p in parts)
            if len(parts[2]) == 2:
                year += 2000
        return date(year, month, day)
    except ValueError:
        raise CellError(f"data que não existe: {raw}") from None


def parse_amount(cell: Any, *, allow_zero: bool = False) -> Cents:
    if isinstance(cell, Decimal):
        cents = round_half_up(cell * 100)
    else:
        try:
            cents = parse_brl(str(cell))
        except MoneyFormatError as exc:
            raise CellError(str(exc)) from None
    if cents < 0:
        raise CellError(f"valor negativo: {text(cell)}")
    if cents == 0 and not allow_zero:
        raise CellError("valor zero")
    return cents


_YES = {"s", "sim", "y", "yes", "true", "1", "x", "verdadeiro"}
_NO = {"n", "nao", "não", "no", "false", "0", "", "falso"}


def parse_yes_no(cell: Any) -> bool:
    raw = text(cell).lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(f"esperado sim ou não: {raw}")


INVOICE_STATUS_WORDS = {
    "open": ("aberto", "em aberto", "aberta", "pendente", "a vencer", "vencido", "vencida", "open"),
    "paid": ("pago", "paga", "liquidado", "liquidada", "quitado", "quitada", "baixado", "paid"),
    "cancelled": ("cancelado", "cancelada", "estornado", "cancelled", "canceled"),
    "disputed": ("contestado", "contestada", "em disputa", "disputa", "disputed"),
    "in_agreement": ("em acordo", "acordo", "renegociado", "parcelado", "in_agreement"),
    "written_off": ("perda", "baixado como perda", "prejuizo", "prejuízo", "written_off"),
}
_STATUS_LOOKUP = {word: status for status, words in INVOICE_STATUS_WORDS.items() for word in words}


def parse_invoice_status(cell: Any) -> str:
    raw = text(cell).lower()
    if not raw:
        return "open"
    try:
        return _STATUS_LOOKUP[raw]
    except KeyError:
        raise CellError(f"situação desconhecida: {text(cell)}") from None
