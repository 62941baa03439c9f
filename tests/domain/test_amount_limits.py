"""The amount ceiling every entrance applies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from regua.domain.amount_limits import (
    DEFAULT_MAX_INVOICE_CENTS,
    HARD_MAX_CENTS,
    AmountOutOfRange,
    check_amount,
)


def test_up_to_the_ceiling_passes_and_one_centavo_more_does_not() -> None:
    check_amount(DEFAULT_MAX_INVOICE_CENTS)
    check_amount(-DEFAULT_MAX_INVOICE_CENTS)
    with pytest.raises(AmountOutOfRange, match=r"acima do limite de R\$ 100\.000\.000,00"):
        check_amount(DEFAULT_MAX_INVOICE_CENTS + 1)
    check_amount(5_000, ceiling=5_000)
    with pytest.raises(AmountOutOfRange, match=r"R\$ 50,00"):
        check_amount(5_001, ceiling=5_000)


def test_a_ceiling_never_passes_the_hard_maximum() -> None:
    with pytest.raises(AmountOutOfRange):
        check_amount(HARD_MAX_CENTS + 1, ceiling=10**30)
    assert HARD_MAX_CENTS * 9_000 < 2**63  # thousands of them still sum in 64 bits


@pytest.mark.parametrize(
    "value", [Decimal("1e300"), Decimal("-1e300"), Decimal("NaN"), Decimal("Infinity")]
)
def test_decimals_are_checked_before_rounding(value: Decimal) -> None:
    with pytest.raises(AmountOutOfRange):
        check_amount(value)
