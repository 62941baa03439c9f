"""Multa and juros: caps, rounding, business-day grace, simple interest."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.fees import FeeTerms, LegalRateMissing, charges, legal_interest

CONSUMER = FeeTerms()
COMPANY_10 = FeeTerms(late_fee_bp=1000, is_consumer=False)


@pytest.mark.parametrize(
    ("principal", "due", "on", "terms", "expected"),
    [
        # R$ 1.500,00 due Mon 05/10/2026, paid 23/11: 49 days; multa 30,00; juros 1500*1%*49/30
        (150000, date(2026, 10, 5), date(2026, 11, 23), CONSUMER, (150000, 3000, 2450, 49)),
        # paying on the due date costs nothing
        (150000, date(2026, 10, 5), date(2026, 10, 5), CONSUMER, (150000, 0, 0, 0)),
        # due Saturday 07/11/2026: Monday 09/11 is still on time (CC art. 132 §1)
        (10000, date(2026, 11, 7), date(2026, 11, 9), CONSUMER, (10000, 0, 0, 0)),
        # ... but Tuesday is late, and days count from the original Saturday
        (10000, date(2026, 11, 7), date(2026, 11, 10), CONSUMER, (10000, 200, 10, 3)),
        # a consumer's contract asking 10 % still pays 2 % (CDC art. 52 §1)
        (
            10000,
            date(2026, 10, 1),
            date(2026, 10, 2),
            FeeTerms(late_fee_bp=1000),
            (10000, 200, 3, 1),
        ),
        # a company pays what its contract says
        (10000, date(2026, 10, 1), date(2026, 10, 2), COMPANY_10, (10000, 1000, 3, 1)),
        # half a centavo rounds up: 99,90 * 2 % = 1,998 -> 2,00; 99,90*1%*13/30 = 0,4329 -> 0,43
        (9990, date(2026, 11, 10), date(2026, 11, 23), CONSUMER, (9990, 200, 43, 13)),
        # 12,25 * 2 % = 0,245 -> 0,25 (half up, not half even)
        (1225, date(2026, 11, 4), date(2026, 11, 5), CONSUMER, (1225, 25, 0, 1)),
        # Carnival Tuesday 17/02/2026 closes the banks: due then, paying Wednesday is on time
        (10000, date(2026, 2, 17), date(2026, 2, 18), CONSUMER, (10000, 0, 0, 0)),
    ],
)
def test_charges_table(
    principal: int, due: date, on: date, terms: FeeTerms, expected: tuple[int, int, int, int]
) -> None:
    result = charges(principal, due, on, terms)
    assert (
        result.principal_cents,
        result.late_fee_cents,
        result.interest_cents,
        result.days_late,
    ) == expected
    assert result.total_cents == sum(expected[:3])


def test_multa_is_capped_at_two_percent_for_consumers() -> None:
    result = charges(100000, date(2026, 1, 5), date(2026, 3, 5), FeeTerms(late_fee_bp=500))
    assert result.late_fee_bp == 200
    assert result.late_fee_cents == 2000


def test_company_multa_never_exceeds_the_principal() -> None:
    terms = FeeTerms(late_fee_bp=50_000, is_consumer=False)  # a contract asking 500 %
    assert charges(10000, date(2026, 1, 5), date(2026, 1, 6), terms).late_fee_cents == 10000


due_dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(
    principal=st.integers(min_value=0, max_value=10**11),
    due=due_dates,
    days=st.integers(min_value=-60, max_value=3000),
    fee_bp=st.integers(min_value=0, max_value=20_000),
    rate_bp=st.integers(min_value=0, max_value=1_000),
    consumer=st.booleans(),
)
def test_fees_never_exceed_caps_and_grow_with_delay(
    principal: int, due: date, days: int, fee_bp: int, rate_bp: int, consumer: bool
) -> None:
    terms = FeeTerms(late_fee_bp=fee_bp, interest_monthly_bp=rate_bp, is_consumer=consumer)
    on = due + timedelta(days=days)
    today = charges(principal, due, on, terms)
    tomorrow = charges(principal, due, on + timedelta(days=1), terms)
    cap = 200 if consumer else 10_000
    assert 0 <= today.late_fee_cents <= (principal * cap + 5_000) // 10_000 + 1
    assert today.late_fee_cents <= principal
    assert tomorrow.total_cents >= today.total_cents
    if on <= due:
        assert today.total_cents == principal and today.days_late == 0


def test_legal_rate_is_summed_month_by_month_pro_rata() -> None:
    rates = {(2026, 10): Decimal("0.50"), (2026, 11): Decimal("0.60")}
    # 15 of 31 days of October at 0,50 % + 10 of 30 days of November at 0,60 % on R$ 10.000,00
    expected = round(1_000_000 * (0.005 * 15 / 31 + 0.006 * 10 / 30))
    assert legal_interest(1_000_000, date(2026, 10, 16), date(2026, 11, 10), rates) == expected


def test_legal_rate_missing_month_is_an_error() -> None:
    with pytest.raises(LegalRateMissing, match="taxa legal de 12/2026"):
        legal_interest(1000, date(2026, 11, 20), date(2026, 12, 2), {(2026, 11): Decimal("1")})


def test_negative_legal_rate_counts_as_zero() -> None:
    assert (
        legal_interest(1000, date(2026, 11, 1), date(2026, 11, 30), {(2026, 11): Decimal("-0.2")})
        == 0
    )
