"""Typed values out of spreadsheet cells: dates, amounts, yes/no, invoice statuses.

Each parser raises `CellError` with a pt-BR reason; the importer attaches file, row and field.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from regua.domain.amount_limits import DEFAULT_MAX_INVOICE_CENTS, AmountOutOfRange, check_amount
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


# Dates a collections file can mean: an invoice issued in 1900 or due in 2199 is odd but
# possible; 31/12/9999 (an ERP's "no date") is refused, as the day after it does not exist.
MIN_YEAR, MAX_YEAR = 1900, 2199


def as_typed(cell: Any) -> str:
    """A cell as a pt-BR user typed it: a spreadsheet's date as 15/10/2026, its number with a
    decimal comma (199,90; two places when it has cents), text as it was."""
    if isinstance(cell, date):
        return f"{cell:%d/%m/%Y}"
    if isinstance(cell, Decimal):
        if cell == cell.to_integral_value():
            return str(int(cell))
        places = max(2, -int(cell.normalize().as_tuple().exponent))
        return f"{cell:.{places}f}".replace(".", ",")
    return str(cell)


def parse_date(cell: Any) -> date:
    """`dd/mm/aaaa`, `d/m/aaaa`, `dd-mm-aaaa`, `dd.mm.aaaa`, `aaaa-mm-dd` or an XLSX date,
    between the years `MIN_YEAR` and `MAX_YEAR`."""
    if isinstance(cell, date):
        return _plausible(cell, cell.strftime("%d/%m/%Y"))
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
        parsed = date(year, month, day)
    except (ValueError, OverflowError):
        raise CellError(f"data que não existe: {raw}") from None
    return _plausible(parsed, raw)


def _plausible(value: date, raw: str) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise CellError(f"data fora do intervalo aceito (anos {MIN_YEAR} a {MAX_YEAR}): {raw}")
    return value


def parse_amount(
    cell: Any, *, allow_zero: bool = False, ceiling: Cents = DEFAULT_MAX_INVOICE_CENTS
) -> Cents:
    """Centavos from a cell, at most `ceiling` (`domain.amount_limits`)."""
    try:
        if isinstance(cell, Decimal):
            check_amount(cell * 100, ceiling)
            cents = round_half_up(cell * 100)
        else:
            raw = str(cell)
            # The digits a ceiling of trillions needs, with separators: a longer number is
            # refused before Decimal computes on it (a 1,000-digit cell).
            if sum(ch.isdigit() for ch in raw) > 40:
                raise AmountOutOfRange(f"valor com dígitos demais: {raw.strip()[:20]}…")
            cents = parse_brl(raw)
            check_amount(cents, ceiling)
    except (MoneyFormatError, AmountOutOfRange) as exc:
        raise CellError(str(exc)) from None
    except (InvalidOperation, OverflowError, ValueError):
        raise CellError(f"valor inválido: {text(cell)[:40]}") from None
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


# The words ERPs export in their "situação" column (Conta Azul, Omie, Bling, TOTVS and the
# like), compared without case, accents or extra spaces. A protested invoice is still owed:
# it stays open for the régua.
INVOICE_STATUS_WORDS = {
    "open": (
        "aberto",
        "em aberto",
        "aberta",
        "pendente",
        "a vencer",
        "a receber",
        "vencido",
        "vencida",
        "atrasado",
        "atrasada",
        "em atraso",
        "não pago",
        "não recebido",
        "parcial",
        "pago parcialmente",
        "recebido parcialmente",
        "baixado parcialmente",
        "protestado",
        "protestada",
        "em cartório",
        "open",
        "overdue",
    ),
    "paid": (
        "pago",
        "paga",
        "recebido",
        "recebida",
        "liquidado",
        "liquidada",
        "quitado",
        "quitada",
        "baixado",
        "baixada",
        "compensado",
        "paid",
    ),
    "cancelled": (
        "cancelado",
        "cancelada",
        "estornado",
        "estornada",
        "excluído",
        "cancelled",
        "canceled",
    ),
    "disputed": ("contestado", "contestada", "em disputa", "disputa", "disputed"),
    "in_agreement": (
        "em acordo",
        "acordo",
        "renegociado",
        "renegociada",
        "parcelado",
        "in agreement",
    ),
    "written_off": (
        "perda",
        "baixado como perda",
        "baixado por perda",
        "prejuízo",
        "incobrável",
        "written off",
    ),
}


def _status_key(text: str) -> str:
    """`  Em Aberto` / `EM_ABERTO` / `Não pago` -> `em aberto` / `nao pago`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().replace("_", " ").replace("-", " ").split())


_STATUS_LOOKUP = {
    _status_key(word): status for status, words in INVOICE_STATUS_WORDS.items() for word in words
}
_ENGLISH = {"open", "overdue", "paid", "cancelled", "canceled", "disputed", "in agreement"}
# What the error lists: the pt-BR words, in the order above.
ACCEPTED_STATUS_WORDS = ", ".join(
    word
    for words in INVOICE_STATUS_WORDS.values()
    for word in words
    if word not in _ENGLISH and word != "written off"
)


def parse_invoice_status(cell: Any) -> str:
    raw = _status_key(text(cell))
    if not raw:
        return "open"
    try:
        return _STATUS_LOOKUP[raw]
    except KeyError:
        raise CellError(
            f"situação desconhecida: {text(cell)} (aceitas: {ACCEPTED_STATUS_WORDS})"
        ) from None
