"""Money in integer centavos: parsing what Brazilian spreadsheets hold, pt-BR display, rounding.

The rounding rule lives here and nowhere else: every computed part of an amount (multa, juros,
installment) is rounded to the centavo, half up.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

Cents = int

_BR_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d{1,2})?$")
_BR_DECIMAL = re.compile(r"^-?\d+(,\d{1,2})?$")
_DOT_DECIMAL = re.compile(r"^-?\d+(\.\d{1,2})?$")
_EN_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d{1,2})?$")


class MoneyFormatError(ValueError):
    """Text that is not an amount of money."""


def round_half_up(value: Fraction | Decimal) -> Cents:
    """Round an exact fractional number of centavos to a whole centavo, half up (away from zero)."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_brl(text: str) -> Cents:
    """Read an amount as Brazilian businesses write it and return centavos.

    Accepts ``1.234,56``, ``1234,56``, ``1234.56``, ``1,234.56``, ``R$ 1.234,56`` and whole
    numbers. A single ``.`` or ``,`` followed by exactly three digits is read as a thousands
    separator only in the Brazilian form with more groups; ``1.234`` alone is ambiguous and read as
    one thousand two hundred thirty-four reais, the way a pt-BR spreadsheet writes it.
    """
    raw = text.strip().replace("R$", "").replace("\u00a0", "").replace(" ", "")
    if not raw:
        raise MoneyFormatError("valor vazio")
    negative = raw.startswith("-") or (raw.startswith("(") and raw.endswith(")"))
    raw = raw.strip("()")
    if _BR_THOUSANDS.match(raw):
        normal = raw.replace(".", "").replace(",", ".")
    elif _BR_DECIMAL.match(raw):
        normal = raw.replace(",", ".")
    elif _DOT_DECIMAL.match(raw):
        normal = raw
    elif _EN_THOUSANDS.match(raw):
        normal = raw.replace(",", "")
    else:
        raise MoneyFormatError(f"valor inválido: {text.strip()!r}")
    try:
        amount = Decimal(normal) * 100
    except InvalidOperation as exc:  # pragma: no cover - the regexes above admit only numbers
        raise MoneyFormatError(f"valor inválido: {text.strip()!r}") from exc
    cents = round_half_up(amount)
    if negative and cents > 0:
        cents = -cents
    return cents


def format_brl(cents: Cents) -> str:
    """``123456`` -> ``R$ 1.234,56``: the pt-BR currency format as Babel writes it (a test
    compares them), written here because Babel takes 15 µs an amount and a message has several.

    Babel puts a no-break space between the symbol and the number; a plain space reads the same
    everywhere (terminals, SMS, CSV) and keeps messages GSM-7 friendly.
    """
    whole, part = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    grouped = f"{whole:,}".replace(",", ".")
    return f"{sign}R$ {grouped},{part:02d}"


def to_decimal_str(cents: Cents) -> str:
    """``123456`` -> ``1234.56``: machine form for JSON, PIX and CSV exports."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
