"""The updated amount of an overdue invoice: principal, multa and juros, each shown apart.

Rules (see BRAZIL.md §6):
- Multa (late fee) is a percentage of the installment, charged once. For a consumer it is capped
  at 2 % (CDC art. 52 §1); between companies the contract decides, but never above the principal
  (CC art. 412).
- Juros de mora: simple interest on the principal only, never compounded. With a contractual
  monthly rate it accrues pro rata die over a 30-day month. Without an agreed rate the taxa legal
  applies (CC art. 406 as amended by Lei 14.905/2024: SELIC minus IPCA, published monthly by the
  Banco Central; accumulated simply, pro rata for partial months, Res. CMN 5.171/2024 art. 6).
- A due date on a weekend or bank holiday moves to the next business day (CC art. 132 §1): paying
  on that day costs nothing. Once late, days count from the original due date.
- Each part is rounded to the centavo, half up (money.round_half_up), and only then summed.
- After a late payment (`FeeState`): the multa is not charged again (it was paid with the whole
  balance, or carried unpaid), juros run only from that payment's date, and the fees it did not
  cover are carried forward as they were (CC art. 354: fees first, never charged twice).
"""

from __future__ import annotations

import calendar as std_calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal, NamedTuple

from regua.domain.calendar import effective_due_date
from regua.domain.money import Cents, round_half_up

CONSUMER_LATE_FEE_CAP_BP = 200  # CDC art. 52 §1: 2 % of the installment
COMPANY_LATE_FEE_CAP_BP = 10_000  # CC art. 412: the penalty never exceeds the principal
DEFAULT_LATE_FEE_BP = 200
DEFAULT_INTEREST_MONTHLY_BP = 100
DAYS_IN_COMMERCIAL_MONTH = 30

InterestSource = Literal["contract", "legal"]


class LegalRateMissing(ValueError):
    """The taxa legal for a month in the period is not in the rate table."""


@dataclass(frozen=True)
class FeeTerms:
    """What the contract (or the creditor's settings) says about late payment."""

    late_fee_bp: int = DEFAULT_LATE_FEE_BP  # basis points: 200 = 2 %
    interest_monthly_bp: int = DEFAULT_INTEREST_MONTHLY_BP  # 100 = 1 % a month
    is_consumer: bool = True
    interest_source: InterestSource = "contract"
    # Taxa legal per (year, month) as a monthly rate in percent, e.g. Decimal("0.4321").
    legal_rates: Mapping[tuple[int, int], Decimal] | None = None

    @property
    def effective_late_fee_bp(self) -> int:
        cap = CONSUMER_LATE_FEE_CAP_BP if self.is_consumer else COMPANY_LATE_FEE_CAP_BP
        return max(0, min(self.late_fee_bp, cap))


class FeeState(NamedTuple):
    """What earlier late payments settled on an invoice (none: the default).

    `paid_through` is the date of the last late payment: the multa and the juros up to that day
    were due then and are settled, paid or carried in `unpaid_cents` (what that payment did not
    cover).
    """

    paid_through: date | None = None
    unpaid_cents: Cents = 0


NO_FEES_SETTLED = FeeState()


@dataclass(frozen=True)
class Charges:
    principal_cents: Cents
    late_fee_cents: Cents
    interest_cents: Cents
    days_late: int
    due_date: date
    effective_due_date: date
    late_fee_bp: int  # the rate actually applied, after the legal cap
    carried_fees_cents: Cents = 0  # fees due at an earlier payment it did not cover

    @property
    def fees_cents(self) -> Cents:
        return self.late_fee_cents + self.interest_cents + self.carried_fees_cents

    @property
    def total_cents(self) -> Cents:
        return self.principal_cents + self.fees_cents

    @property
    def is_late(self) -> bool:
        return self.days_late > 0


def charges(
    principal_cents: Cents,
    due_date: date,
    on: date,
    terms: FeeTerms,
    settled: FeeState = NO_FEES_SETTLED,
) -> Charges:
    """Principal, multa and juros owed if `principal_cents` due on `due_date` is paid on `on`.

    Args:
        principal_cents: the open principal (the invoice balance), never negative.
        due_date: the due date as written on the invoice.
        on: the payment (or quotation) date.
        terms: fee settings; the consumer cap is applied here, whatever the settings say.
        settled: what earlier late payments settled: no second multa, juros only from the
            last one's date, plus the fees they left unpaid.
    """
    if principal_cents < 0:
        raise ValueError("principal must not be negative")
    grace = effective_due_date(due_date)
    fee_bp = terms.effective_late_fee_bp
    carried = settled.unpaid_cents
    if on <= grace or (principal_cents == 0 and not carried):
        return Charges(principal_cents, 0, 0, 0, due_date, grace, fee_bp, carried)
    days_late = (on - due_date).days
    if settled.paid_through is None:
        late_fee = round_half_up(Fraction(principal_cents * fee_bp, 10_000))
        since = due_date
    else:
        late_fee = 0
        since = max(settled.paid_through, due_date)
    if on <= since:
        interest = 0
    elif terms.interest_source == "legal":
        interest = legal_interest(principal_cents, since, on, terms.legal_rates or {})
    else:
        interest = round_half_up(
            Fraction(principal_cents * terms.interest_monthly_bp * (on - since).days, 10_000 * 30)
        )
    return Charges(principal_cents, late_fee, interest, days_late, due_date, grace, fee_bp, carried)


def legal_interest(
    principal_cents: Cents,
    due_date: date,
    on: date,
    monthly_rates: Mapping[tuple[int, int], Decimal],
) -> Cents:
    """Simple interest at the taxa legal from the day after `due_date` up to `on`.

    Each calendar month contributes its published monthly rate times the fraction of its days in
    the period; months are summed, not compounded (Res. CMN 5.171/2024 art. 6). A negative rate
    counts as zero (CC art. 406 §3).
    """
    total = Fraction(0)
    day = due_date + timedelta(days=1)
    while day <= on:
        days_in_month = std_calendar.monthrange(day.year, day.month)[1]
        month_end = date(day.year, day.month, days_in_month)
        last = min(month_end, on)
        key = (day.year, day.month)
        if key not in monthly_rates:
            raise LegalRateMissing(f"taxa legal de {day.month:02d}/{day.year} não informada")
        rate_percent = max(Fraction(monthly_rates[key]), Fraction(0))
        covered = (last - day).days + 1
        total += Fraction(principal_cents) * rate_percent / 100 * Fraction(covered, days_in_month)
        day = last + timedelta(days=1)
    return round_half_up(total)
