"""How large an amount regua accepts: one rule for every entrance (spreadsheet import, and for
CNAB return files and PIX notifications to call), `check_amount`.

No invoice of a business regua serves comes near R$ 100 milhões, and an amount beyond what
64-bit integers hold overflows the database (a column, or the SUM of a portfolio). A number
like 92 trillion reais in a file is a typo or an attack, refused with its reason; the ceiling
is a setting (`REGUA_MAX_INVOICE_CENTS`) for whoever really bills more.
"""

from __future__ import annotations

from decimal import Decimal

from regua.domain.money import Cents, format_brl

DEFAULT_MAX_INVOICE_CENTS: Cents = 100_000_000_00  # R$ 100 milhões
# Beyond any setting: a SUM over a portfolio of such amounts still fits in 64 bits.
HARD_MAX_CENTS: Cents = 10**15  # R$ 10 trilhões


class AmountOutOfRange(ValueError):
    """An amount beyond the ceiling; the message is the reason, in pt-BR."""


def check_amount(cents: Cents | Decimal, ceiling: Cents = DEFAULT_MAX_INVOICE_CENTS) -> None:
    """Refuse `cents` (`AmountOutOfRange`, naming the ceiling) when its size passes
    min(ceiling, HARD_MAX_CENTS). Takes a Decimal too, checked before any rounding, so a
    1,000-digit number or 1e300 is refused without being computed on."""
    limit = min(ceiling, HARD_MAX_CENTS)
    if isinstance(cents, Decimal) and not cents.is_finite():
        raise AmountOutOfRange("valor inválido")
    size = abs(Decimal(cents))
    if size > limit:
        raise AmountOutOfRange(f"valor acima do limite de {format_brl(limit)}")
