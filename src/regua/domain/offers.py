"""Offers to settle a debt: pay at once with a discount, or in installments, within the terms.

``make_offers`` takes a customer's overdue invoices, the fee terms (to bring them up to date:
principal, multa and juros as of ``today``), the rule of the policy's negotiation terms that
covers the customer, and ``today``; it returns the offers, each saying what CDC art. 52 requires
a consumer to be told: the debt today, the discount (in reais and percent), the down payment,
each installment's date and amount, the total to pay, the monthly and annual effective rates
(CET) and the totals with and without the agreement.

Rules of the arithmetic, in one place:
- paying at once gets every discount cap of the rule (multa, juros, principal); an installment
  plan gets those on multa and juros only (the principal discount rewards paying now);
- the down payment, when the rule asks for one, is its minimum share of the negotiated debt,
  due on the first bank business day from ``today``;
- installments: none (the financed amount split evenly), simple (each installment discounted at
  simple interest to the agreement's day: P = F / Σ 1/(1 + i·tₖ)) or price (tabela Price:
  P = F·i / (1 − (1 + i)⁻ⁿ)), with i the rate of a period (monthly, or the monthly rate made
  equivalent for 14 or 7 days) and tₖ the period count;
- amounts are rounded to the centavo half up; every installment but the last is the rounded
  installment and the last takes the difference, so the sum is exactly the total stated
  (the financed amount without interest, the rounded P·n with it);
- due dates on a weekend or bank holiday move to the next bank business day (CC art. 132 §1);
  the amounts keep their nominal periods, the CET is computed on the real dates (days / 365,
  as the Banco Central asks).

``counter_offer`` answers a debtor who says how much they can pay a month, or on which date.
"""

from __future__ import annotations

import calendar as std_calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from typing import Literal, NamedTuple

from regua.domain.calendar import effective_due_date, next_bank_business_day
from regua.domain.fees import NO_FEES_SETTLED, FeeState, FeeTerms, charges
from regua.domain.money import Cents, format_brl, round_half_up
from regua.domain.policy_terms import (
    FULL_BP,
    INTEREST_LABELS_PT,
    PERIODICITY_LABELS_PT,
    EarlyPayment,
    NegotiationTerms,
    TermRule,
    percent_pt,
    rule_for,
)

OfferKind = Literal["cash", "installments", "extension"]
# The counts offered besides the rule's maximum (what a collections desk usually proposes).
USUAL_COUNTS = (2, 3, 4, 5, 6, 8, 10, 12, 18, 24, 36, 48, 60)
PERIOD_DAYS = {"monthly": 30, "biweekly": 14, "weekly": 7}


@dataclass(frozen=True, slots=True)
class DebtInvoice:
    """One open invoice of the debt: its open principal and original due date."""

    invoice_id: int
    number: str
    due_date: date
    balance_cents: Cents
    fees_settled: FeeState = NO_FEES_SETTLED  # what earlier late payments settled


class DebtToday(NamedTuple):
    """The debt brought up to ``today``: each part apart, then the total. Named tuples, this
    and the offers: built by the hundred thousand in a portfolio's run, where a frozen
    dataclass costs several times as much to build."""

    invoices: tuple[DebtInvoice, ...]
    principal_cents: Cents
    late_fee_cents: Cents
    interest_cents: Cents
    oldest_days_late: int

    @property
    def total_cents(self) -> Cents:
        return self.principal_cents + self.late_fee_cents + self.interest_cents


class Installment(NamedTuple):
    """One payment of an offer; number 0 is the down payment (entrada). A named tuple: a
    portfolio's offers hold about ten of these a plan, and a frozen dataclass costs five times
    as much to build."""

    number: int
    due_date: date
    amount_cents: Cents


class Offer(NamedTuple):
    """One way to settle the debt, with every figure CDC art. 52 asks for."""

    number: int
    kind: OfferKind
    made_on: date
    valid_until: date
    debt: DebtToday
    discount_cents: Cents
    down_payment_cents: Cents
    payments: tuple[Installment, ...]  # the down payment first, when there is one
    interest_kind: str
    interest_monthly_bp: int
    monthly_rate: Decimal  # CET, percent a month, 2 places
    annual_rate: Decimal  # CET, percent a year, 2 places

    @property
    def count(self) -> int:  # type: ignore[override]  # tuple.count(x) has no use on an offer
        """Installments besides the down payment."""
        return sum(1 for p in self.payments if p.number > 0)

    @property
    def negotiated_cents(self) -> Cents:
        """The debt after the discount: what the agreement replaces."""
        return self.debt.total_cents - self.discount_cents

    @property
    def total_cents(self) -> Cents:
        """Everything paid under the agreement (the total with the agreement)."""
        return sum(p.amount_cents for p in self.payments)

    @property
    def agreement_interest_cents(self) -> Cents:
        return self.total_cents - self.negotiated_cents

    @property
    def discount_percent(self) -> Decimal:
        if not self.debt.total_cents:
            return Decimal("0.00")
        return _two_places(Fraction(self.discount_cents * 100, self.debt.total_cents))

    @property
    def installment_cents(self) -> Cents:
        """The regular installment (the first one after the down payment)."""
        return next(p.amount_cents for p in self.payments if p.number > 0)

    def describe(self) -> str:
        """One pt-BR line: "6x de R$ 183,17 + entrada de R$ 100,00 (total R$ 1.199,02)"."""
        if self.kind != "installments":
            label = "À vista" if self.kind == "cash" else "Nova data"
            return (
                f"{label}: {format_brl(self.total_cents)} em {self.payments[0].due_date:%d/%m/%Y}"
            )
        down = (
            f"entrada de {format_brl(self.down_payment_cents)} + "
            if self.down_payment_cents
            else ""
        )
        return f"{down}{self.count}x de {format_brl(self.installment_cents)}"


def _two_places(value: Fraction | float) -> Decimal:
    """A percentage to show, with two places: exact for a fraction, the float's own rounding
    for a rate found numerically (its last places are not significant anyway)."""
    if isinstance(value, float):
        return Decimal(f"{value:.2f}")
    return (Decimal(round_half_up(value * 100)) / 100).quantize(Decimal("0.01"))


def debt_today(invoices: Sequence[DebtInvoice], fee_terms: FeeTerms, today: date) -> DebtToday:
    """The invoices' principal, multa and juros as of ``today`` (``domain.fees``)."""
    principal = late_fee = interest = oldest = 0
    contract = fee_terms.interest_source == "contract"
    for invoice in invoices:
        if contract and invoice.balance_cents >= 0 and invoice.fees_settled is NO_FEES_SETTLED:
            # The same figures as ``fees.charges`` (a test holds them equal), in integers: a
            # portfolio's offers bring each invoice up to date once, and Fractions cost tenfold.
            balance, due = invoice.balance_cents, invoice.due_date
            if today <= _grace_day(due) or balance == 0:
                continue
            days = (today - due).days
            late_fee += _ratio_half_up(balance * fee_terms.effective_late_fee_bp, FULL_BP)
            interest += _ratio_half_up(balance * fee_terms.interest_monthly_bp * days, FULL_BP * 30)
            oldest = max(oldest, days)
            continue
        owed = charges(
            invoice.balance_cents, invoice.due_date, today, fee_terms, invoice.fees_settled
        )
        late_fee += owed.late_fee_cents
        # Fees an earlier payment left unpaid are owed with the juros (CC art. 354).
        interest += owed.interest_cents + owed.carried_fees_cents
        oldest = max(oldest, owed.days_late)
    principal = sum(invoice.balance_cents for invoice in invoices)
    return DebtToday(tuple(invoices), principal, late_fee, interest, oldest)


@lru_cache(maxsize=8192)
def _grace_day(due: date) -> date:
    return effective_due_date(due)


def _ratio_half_up(numerator: int, denominator: int) -> Cents:
    """numerator / denominator (both not negative) rounded half up: ``round_half_up`` of the
    Fraction, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def _share(cents: Cents, bp: int) -> Cents:
    """``bp`` basis points of ``cents`` (not negative), rounded half up, in integers: the same
    as ``money.round_half_up`` at a tenth of its cost, for a loop over a portfolio."""
    whole, rest = divmod(cents * bp, FULL_BP)
    return whole + (2 * rest >= FULL_BP)


def discount_for(debt: DebtToday, rule: TermRule, *, cash: bool) -> Cents:
    """The largest discount the rule allows: on multa and juros, and on principal when paying
    at once."""
    caps = rule.discount
    waived = _share(debt.late_fee_cents, caps.late_fee_bp) + _share(
        debt.interest_cents, caps.interest_bp
    )
    if cash:
        waived += _share(debt.principal_cents, caps.principal_bp)
    return waived


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, std_calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=1024)  # a day's offers share their start dates: computed once each
def installment_dates(start: date, count: int, periodicity: str) -> tuple[date, ...]:
    """Nominal due dates from ``start`` (the first), one period apart, each moved to the next
    bank business day."""
    dates = []
    for k in range(count):
        if periodicity == "monthly":
            nominal = _add_months(start, k)
        else:
            nominal = start + timedelta(days=PERIOD_DAYS[periodicity] * k)
        dates.append(next_bank_business_day(nominal))
    return tuple(dates)


def _period_rate(monthly_bp: int, periodicity: str) -> Decimal:
    monthly = Decimal(monthly_bp) / FULL_BP
    if periodicity == "monthly":
        return monthly
    return (1 + monthly) ** (Decimal(PERIOD_DAYS[periodicity]) / 30) - 1


def installment_amount(financed: Cents, count: int, kind: str, period_rate: Decimal) -> Decimal:
    """The exact (unrounded) installment of ``financed`` centavos in ``count`` periods."""
    if kind == "none" or period_rate == 0:
        return Decimal(financed) / count
    if kind == "price":
        return Decimal(financed) * period_rate / (1 - (1 + period_rate) ** -count)
    # simple: each installment's present value at simple interest adds up to the financed amount
    return Decimal(financed) / sum(1 / (1 + period_rate * k) for k in range(1, count + 1))


def split_installments(financed: Cents, count: int, kind: str, period_rate: Decimal) -> list[Cents]:
    """The installments in whole centavos: all but the last rounded half up, the last the
    difference, so they add up exactly to the total (the financed amount without interest)."""
    with localcontext() as ctx:
        ctx.prec = 34
        exact = installment_amount(financed, count, kind, period_rate)
        total = financed if kind == "none" or period_rate == 0 else round_half_up(exact * count)
        regular = round_half_up(exact)
    return [regular] * (count - 1) + [total - regular * (count - 1)]


def effective_rates(
    financed: Cents, made_on: date, payments: Sequence[Installment], guess_bp: int = 0
) -> tuple[Decimal, Decimal]:
    """CET as the Banco Central defines it (Res. CMN 3.517/2007): the annual rate at which the
    payments, at their real dates (days / 365), are worth the amount financed on ``made_on``;
    and its monthly equivalent. Both in percent, (monthly, annual). ``guess_bp``: the plan's
    own monthly rate, where the search starts.

    Hand-written Newton's method (bisection when it strays): the only unknown is one rate, on
    a smooth function that falls as the rate grows; a numerical library would be a dependency
    for twenty lines, and this runs once per offer.
    """
    flows = [
        (float(p.amount_cents), (p.due_date - made_on).days / 365)
        for p in payments
        if p.number > 0 and p.amount_cents
    ]
    paid = sum(amount for amount, _ in flows)
    if financed <= 0 or not flows or paid <= financed:
        return Decimal("0.00"), Decimal("0.00")
    annual = _irr(flows, float(financed), (1 + guess_bp / FULL_BP) ** 12 - 1 or 0.25)
    return _two_places(((1 + annual) ** (1 / 12) - 1) * 100), _two_places(annual * 100)


def _irr(flows: Sequence[tuple[float, float]], financed: float, rate: float) -> float:
    """The annual rate r > 0 at which Σ amount / (1 + r)^years equals ``financed``, searched
    from ``rate``."""
    for _ in range(50):
        worth = slope = 0.0
        for amount, years in flows:
            discounted = amount * (1 + rate) ** -years
            worth += discounted
            slope -= years * discounted / (1 + rate)
        step = (worth - financed) / slope
        rate -= step
        if rate <= -0.99 or rate != rate:  # strayed (or NaN): bisection below
            break
        if abs(step) < 1e-12:
            return rate
    low, high = 0.0, 1.0
    while sum(a * (1 + high) ** -y for a, y in flows) > financed:
        high *= 2
    for _ in range(80):
        mid = (low + high) / 2
        if sum(a * (1 + mid) ** -y for a, y in flows) > financed:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _cash_offer(number: int, debt: DebtToday, rule: TermRule, today: date, until: date) -> Offer:
    discount = discount_for(debt, rule, cash=True)
    pay = Installment(1, next_bank_business_day(today), debt.total_cents - discount)
    zero = Decimal("0.00")
    return Offer(number, "cash", today, until, debt, discount, 0, (pay,), "none", 0, zero, zero)


def build_plan(
    number: int,
    debt: DebtToday,
    rule: TermRule,
    today: date,
    until: date,
    count: int,
    *,
    down_payment_cents: Cents | None = None,
    first_due: date | None = None,
) -> Offer:
    """An installment plan of ``count`` installments under the rule's discount and interest.

    The down payment is the rule's minimum unless given; the first installment falls
    ``first_due_days`` after ``today`` unless ``first_due`` is given. The plan is not checked
    against the rule's limits here (see ``violations``).
    """
    plan = rule.installments
    discount = discount_for(debt, rule, cash=False)
    negotiated = debt.total_cents - discount
    down = (
        _share(negotiated, plan.min_down_payment_bp)
        if down_payment_cents is None
        else down_payment_cents
    )
    financed = negotiated - down
    start = first_due or today + timedelta(days=plan.first_due_days)
    dates = installment_dates(start, count, plan.periodicity)
    rate = _period_rate(rule.interest.monthly_bp, plan.periodicity)
    amounts = split_installments(financed, count, rule.interest.kind, rate)
    payments = [Installment(0, next_bank_business_day(today), down)] if down else []
    payments += [
        Installment(k + 1, d, a) for k, (d, a) in enumerate(zip(dates, amounts, strict=True))
    ]
    monthly, annual = effective_rates(financed, today, payments, rule.interest.monthly_bp)
    return Offer(
        number,
        "installments",
        today,
        until,
        debt,
        discount,
        down,
        tuple(payments),
        rule.interest.kind,
        rule.interest.monthly_bp,
        monthly,
        annual,
    )


def make_offers(
    invoices: Sequence[DebtInvoice],
    fee_terms: FeeTerms,
    rule: TermRule,
    today: date,
    *,
    validity_days: int = 3,
) -> list[Offer]:
    """The offers for a debt under one rule of the terms: at once, then each installment count
    (the usual ones up to the rule's maximum, and the maximum) whose installment is not below
    the rule's minimum. Numbered from 1, valid through ``today + validity_days``.

    The figures are those of ``build_plan`` for each count (a property test holds them equal);
    what every customer of the day shares -- the dates, the installment factor, the CET of the
    plan's shape -- is computed once (``_plan_shape``)."""
    if not invoices:
        return []
    debt = debt_today(invoices, fee_terms, today)
    until = today + timedelta(days=validity_days)
    offers = [_cash_offer(1, debt, rule, today, until)]
    plan = rule.installments
    interest = rule.interest
    discount = discount_for(debt, rule, cash=False)
    negotiated = debt.total_cents - discount
    down = _share(negotiated, plan.min_down_payment_bp)
    financed = negotiated - down
    head = (Installment(0, next_bank_business_day(today), down),) if down else ()
    start = today + timedelta(days=plan.first_due_days)
    for count in _offered_counts(plan.max_count):
        shape = _plan_shape(
            today, start, count, plan.periodicity, interest.kind, interest.monthly_bp
        )
        amounts = shape.split(financed)
        if amounts[0] < plan.min_installment_cents:
            break  # more installments only make them smaller
        payments = head + tuple(map(Installment, shape.numbers, shape.dates, amounts))
        rates = shape.rates(financed, amounts)
        if rates is None:  # too near a rounding boundary to tell: the full search decides
            rates = effective_rates(financed, today, payments, interest.monthly_bp)
        offers.append(
            Offer(
                len(offers) + 1,
                "installments",
                today,
                until,
                debt,
                discount,
                down,
                payments,
                interest.kind,
                interest.monthly_bp,
                rates[0],
                rates[1],
            )
        )
    return offers


@lru_cache(maxsize=64)
def _offered_counts(max_count: int) -> tuple[int, ...]:
    return tuple(sorted({n for n in USUAL_COUNTS if n <= max_count} | {max_count} - {1}))


_ZERO_RATES = (Decimal("0.00"), Decimal("0.00"))


class _PlanShape:
    """What every plan of one count, rule and day shares, whatever the amount financed: the
    due dates, the installment per centavo financed, and the CET of the exact (unrounded)
    schedule with its discount factors, so that a customer's CET is one Newton step away.

    Every shortcut here checks that it cannot change a figure, and otherwise hands over to the
    plain computation (``split_installments``, ``effective_rates``)."""

    __slots__ = (
        "count",
        "curvature",
        "dates",
        "factor",
        "head_slope",
        "head_worth",
        "kind",
        "last_slope",
        "last_worth",
        "numbers",
        "period_rate",
        "root",
    )

    def __init__(
        self, today: date, start: date, count: int, periodicity: str, kind: str, monthly_bp: int
    ) -> None:
        self.count = count
        self.kind = kind
        self.period_rate = _period_rate(monthly_bp, periodicity)
        self.dates = installment_dates(start, count, periodicity)
        self.numbers = tuple(range(1, count + 1))
        self.root = 0.0
        self.factor = 0.0  # 0: installments without interest, split in integers
        if kind == "none" or self.period_rate == 0:
            return
        with localcontext() as ctx:
            ctx.prec = 34
            self.factor = float(installment_amount(1, count, kind, self.period_rate))
        years = [(d - today).days / 365 for d in self.dates]
        flows = [(self.factor, t) for t in years]
        if self.factor * count <= 1:
            return
        root = _irr(flows, 1.0, (1 + monthly_bp / FULL_BP) ** 12 - 1 or 0.25)
        self.root = root
        worth = [(1 + root) ** -t for t in years]
        slope = [-t * w / (1 + root) for t, w in zip(years, worth, strict=True)]
        self.head_worth, self.head_slope = sum(worth[:-1]), sum(slope[:-1])
        self.last_worth, self.last_slope = worth[-1], slope[-1]
        # Newton's error after one step is at most f''/(2 f') times the square of the first
        # error; f''/f' is below (years + 2) here. Doubled, for the first error is near the step.
        self.curvature = 4 * (max(years) + 2)

    def split(self, financed: Cents) -> list[Cents]:
        """``split_installments`` of ``financed``: in floats when the exact installment and the
        exact total are far enough from a half centavo for floats to round them the same."""
        count = self.count
        if not self.factor:
            if financed < 0:
                return split_installments(financed, count, self.kind, self.period_rate)
            regular = (2 * financed + count) // (2 * count)
            return [regular] * (count - 1) + [financed - regular * (count - 1)]
        exact = financed * self.factor
        whole = exact * count
        margin = 1e-6 + whole * 1e-12
        if financed < 0 or abs(exact % 1 - 0.5) < margin or abs(whole % 1 - 0.5) < margin:
            return split_installments(financed, count, self.kind, self.period_rate)
        regular, total = int(exact + 0.5), int(whole + 0.5)
        return [regular] * (count - 1) + [total - regular * (count - 1)]

    def rates(self, financed: Cents, amounts: Sequence[Cents]) -> tuple[Decimal, Decimal] | None:
        """``effective_rates`` for these amounts: one Newton step from the shape's root, kept
        when every rate within its error bound shows the same two places; None otherwise."""
        regular, last = amounts[0], amounts[-1]
        if financed <= 0 or regular * (self.count - 1) + last <= financed:
            return _ZERO_RATES
        if not self.root:
            return None
        worth = regular * self.head_worth + last * self.last_worth
        slope = regular * self.head_slope + last * self.last_slope
        step = (worth - financed) / slope
        if abs(step) > 1e-3:
            return None
        annual = self.root - step
        error = self.curvature * step * step + 1e-9
        # In hundredths of a percent: the two places shown are the same at both ends of the
        # error bound (no half between them), hence for the rate the full search would find.
        low, high = (annual - error) * 10_000 + 0.5, (annual + error) * 10_000 + 0.5
        annual_shown = int(low)
        if annual_shown != int(high):
            return None
        low = ((1 + annual - error) ** _TWELFTH - 1) * 10_000 + 0.5
        high = ((1 + annual + error) ** _TWELFTH - 1) * 10_000 + 0.5
        monthly_shown = int(low)
        if monthly_shown != int(high):
            return None
        return _hundredths(monthly_shown), _hundredths(annual_shown)


_TWELFTH = 1 / 12


@lru_cache(maxsize=100_000)
def _hundredths(value: int) -> Decimal:
    """``value`` hundredths as a Decimal with two places, as ``_two_places`` shows a rate."""
    return Decimal(value).scaleb(-2)


@lru_cache(maxsize=4096)  # a day's offers share their shapes: one per count and rule
def _plan_shape(
    today: date, start: date, count: int, periodicity: str, kind: str, monthly_bp: int
) -> _PlanShape:
    return _PlanShape(today, start, count, periodicity, kind, monthly_bp)


def fresh_offers(
    invoices: Sequence[DebtInvoice],
    fee_terms: FeeTerms,
    rule: TermRule,
    today: date,
    *,
    validity_days: int = 3,
) -> list[Offer]:
    """``make_offers`` computed plainly, plan by plan with ``build_plan``: the reference the
    shortcuts of ``make_offers`` are tested against."""
    if not invoices:
        return []
    debt = debt_today(invoices, fee_terms, today)
    until = today + timedelta(days=validity_days)
    offers = [_cash_offer(1, debt, rule, today, until)]
    plan = rule.installments
    for count in _offered_counts(plan.max_count):
        offer = build_plan(len(offers) + 1, debt, rule, today, until, count)
        if offer.installment_cents < plan.min_installment_cents:
            break
        offers.append(offer)
    return offers


def rule_covering(
    invoices: Sequence[DebtInvoice],
    fee_terms: FeeTerms,
    terms: NegotiationTerms,
    segment: str,
    today: date,
) -> TermRule | None:
    """The rule of the terms for this debt: by segment, the oldest invoice's days late and the
    amount owed today."""
    debt = debt_today(invoices, fee_terms, today)
    return rule_for(terms, segment, debt.oldest_days_late, debt.total_cents)


def violations(offer: Offer, rule: TermRule, today: date) -> list[str]:
    """Every way an offer goes beyond the rule, in pt-BR (empty: an operator may close it)."""
    problems: list[str] = []
    plan = rule.installments
    cap = discount_for(offer.debt, rule, cash=offer.kind == "cash")
    if offer.discount_cents > cap:
        problems.append(
            f"desconto de {format_brl(offer.discount_cents)} acima do máximo de "
            f"{format_brl(cap)} das condições"
        )
    if any(p.due_date < today for p in offer.payments):
        problems.append("há parcela com vencimento no passado")
    if offer.kind == "installments":
        if offer.count > plan.max_count:
            problems.append(
                f"{offer.count} parcelas passam do máximo de {plan.max_count} das condições"
            )
        smallest = min(p.amount_cents for p in offer.payments if p.number > 0)
        if smallest < plan.min_installment_cents:
            problems.append(
                f"parcela de {format_brl(smallest)} abaixo do mínimo de "
                f"{format_brl(plan.min_installment_cents)}"
            )
        minimum_down = _share(offer.negotiated_cents, plan.min_down_payment_bp)
        if offer.down_payment_cents < minimum_down:
            problems.append(
                f"entrada de {format_brl(offer.down_payment_cents)} abaixo do mínimo de "
                f"{format_brl(minimum_down)} ({percent_pt(plan.min_down_payment_bp)})"
            )
    return problems


@dataclass(frozen=True)
class CounterOffer:
    """The answer to what a debtor proposed: the nearest plan inside the terms, or why none
    fits (``reason``, pt-BR)."""

    offer: Offer | None
    reason: str | None = None


def counter_offer(
    invoices: Sequence[DebtInvoice],
    fee_terms: FeeTerms,
    terms: NegotiationTerms,
    rule: TermRule,
    today: date,
    *,
    monthly_cents: Cents | None = None,
    pay_on: date | None = None,
) -> CounterOffer:
    """The nearest plan to what the debtor can pay: ``monthly_cents`` a period (the fewest
    installments not above it), or everything on ``pay_on`` (a prorrogação within the terms'
    days; with fees up to that day when the terms say so)."""
    if not invoices:
        return CounterOffer(None, "não há dívida em aberto para negociar")
    until = today + timedelta(days=terms.offer_validity_days)
    debt = debt_today(invoices, fee_terms, today)
    if pay_on is not None:
        return _new_date(invoices, fee_terms, terms, debt, today, until, pay_on)
    if monthly_cents is None or monthly_cents <= 0:
        return CounterOffer(None, "informe quanto pode pagar por parcela ou em que data")
    plan = rule.installments
    period = PERIODICITY_LABELS_PT[plan.periodicity]
    if monthly_cents < plan.min_installment_cents:
        return CounterOffer(
            None,
            f"a parcela mínima das condições é {format_brl(plan.min_installment_cents)}; "
            f"{format_brl(monthly_cents)} fica abaixo dela",
        )
    cash = _cash_offer(1, debt, rule, today, until)
    if cash.total_cents <= monthly_cents:
        return CounterOffer(cash)
    for count in range(2, plan.max_count + 1):
        offer = build_plan(1, debt, rule, today, until, count)
        if offer.installment_cents < plan.min_installment_cents:
            break
        if max(p.amount_cents for p in offer.payments if p.number > 0) <= monthly_cents:
            return CounterOffer(offer)
    longest = build_plan(1, debt, rule, today, until, max(plan.max_count, 1))
    interest = INTEREST_LABELS_PT[rule.interest.kind]
    return CounterOffer(
        None,
        f"em {plan.max_count}x ({period}, {interest}), o máximo das condições, a parcela é "
        f"{format_brl(longest.installment_cents)}; {format_brl(monthly_cents)} não cobre a "
        "dívida dentro das condições (um gestor pode aprovar um acordo fora delas)",
    )


def _new_date(
    invoices: Sequence[DebtInvoice],
    fee_terms: FeeTerms,
    terms: NegotiationTerms,
    debt: DebtToday,
    today: date,
    until: date,
    pay_on: date,
) -> CounterOffer:
    if pay_on < today:
        return CounterOffer(None, f"a data {pay_on:%d/%m/%Y} já passou")
    limit = today + timedelta(days=terms.extension.max_days)
    if not terms.extension.max_days:
        return CounterOffer(None, "as condições não permitem prorrogação (nova data)")
    if pay_on > limit:
        return CounterOffer(
            None,
            f"a prorrogação vai no máximo até {limit:%d/%m/%Y} ({terms.extension.max_days} "
            f"dias); {pay_on:%d/%m/%Y} passa desse prazo",
        )
    day = next_bank_business_day(pay_on)
    # With fees, multa and juros run on to the new day; without, the debt stays as it is today.
    amount = (
        debt_today(invoices, fee_terms, day).total_cents
        if terms.extension.with_fees
        else debt.total_cents
    )
    zero = Decimal("0.00")
    offer = Offer(
        1,
        "extension",
        today,
        until,
        debt,
        0,
        0,
        (Installment(1, day, amount),),
        "none",
        0,
        zero,
        zero,
    )
    return CounterOffer(offer)


@dataclass(frozen=True)
class EarlyPaymentOffer:
    """The discounted amount of an invoice not yet due, and the last day it holds."""

    amount_cents: Cents
    discount_cents: Cents
    pay_by: date


def early_payment_offer(
    balance_cents: Cents, due_date: date, today: date, early: EarlyPayment
) -> EarlyPaymentOffer | None:
    """The early-payment discount of the terms for an invoice due on ``due_date``: paid by
    ``days_before`` days before it, ``discount_bp`` off; None when the terms give none or the
    day has passed. ``pay_by`` is a calendar day (paying earlier is always allowed), never moved
    forward: a weekend before the due date would otherwise stretch the discount."""
    if not early.discount_bp or balance_cents <= 0:
        return None
    pay_by = due_date - timedelta(days=early.days_before)
    if today > pay_by:
        return None
    discount = _share(balance_cents, early.discount_bp)
    return EarlyPaymentOffer(balance_cents - discount, discount, pay_by)
