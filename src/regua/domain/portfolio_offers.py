"""The offers for a whole portfolio in one run: every figure of ``make_offers`` for each
customer, computed in columns (one array a figure, one entry a customer) instead of customer by
customer.

What depends only on the rule and the day -- the installment counts, their due dates on bank
business days, the installment per centavo financed, the CET of each plan's shape -- is
computed once (``offers._plan_shape``). What depends on the customer -- the debt brought up to
date, the discounts, the down payment, each plan's regular and last installment, the CET's two
places -- is computed for all customers at once with numpy, under the guards of
``make_offers``: a figure that floats cannot settle (an installment too near a half centavo, a
CET too near a half hundredth) is computed plainly for that customer and plan, and a customer
whose debt the integer columns cannot hold (a negative balance, amounts near 2⁶³, the taxa
legal) gets ``make_offers`` whole. ``PortfolioOffers.offers(i)`` is then exactly
``make_offers(debts[i], ...)``, which a property test holds equal to the plain computation.

The offers themselves (``Offer`` and ``Installment`` tuples, about a hundred a customer) are
built when asked for: a portfolio's run reads its figures by column, a screen or a file asks
for some customers'.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from regua.domain.calendar import effective_due_date, next_bank_business_day
from regua.domain.fees import NO_FEES_SETTLED, FeeTerms
from regua.domain.offers import (
    _ZERO_RATES,
    DebtInvoice,
    DebtToday,
    Installment,
    Offer,
    _hundredths,
    _offered_counts,
    _plan_shape,
    _PlanShape,
    effective_rates,
    make_offers,
    split_installments,
)
from regua.domain.policy_terms import FULL_BP, TermRule

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
_TWELFTH = 1 / 12
# Products of centavos, basis points and days stay below this in int64 (with room to double);
# balances below 2⁵³ are exact in floats.
_INT64_ROOM = float(2**61)
_FLOAT_EXACT = 2**53
# The plans of a block of customers are computed together, each of its arrays at most this
# many bytes: below the C library's threshold for mapping memory afresh (128 KiB), so that the
# temporaries of one block reuse those of the last instead of faulting in new pages, and within
# the processor's cache.
_BLOCK_BYTES = 120_000
_BALANCE = attrgetter("balance_cents")
_DUE_DATE = attrgetter("due_date")


class PortfolioOffers:
    """The offers of many customers under one rule and day, by column.

    Per customer (arrays of ``len(self)``): ``principal_cents``, ``late_fee_cents``,
    ``interest_cents``, ``oldest_days_late``, ``cash_discount_cents``, ``discount_cents`` (an
    installment plan's), ``down_payment_cents``, ``financed_cents``, ``plan_count`` (plans
    offered besides paying at once). Per plan and customer (``len(counts)`` × ``len(self)``):
    ``regular_cents``, ``last_cents``; ``counts`` holds each plan's installment count and
    ``plan_dates`` its due dates. A customer without invoices has no offers. Customers that
    ``make_offers`` computed whole have zeros in the columns; ``offers(i)`` is right for all."""

    def __init__(
        self,
        debts: Sequence[Sequence[DebtInvoice]],
        rule: TermRule,
        today: date,
        until: date,
        shapes: Sequence[_PlanShape],
    ) -> None:
        n = len(debts)
        self._debts = debts
        self._rule = rule
        self.today = today
        self.valid_until = until
        self.counts = tuple(shape.count for shape in shapes)
        self.plan_dates = tuple(shape.dates for shape in shapes)
        self._shapes = tuple(shapes)
        zeros = np.zeros(n, dtype=np.int64)
        self.principal_cents = self.late_fee_cents = self.interest_cents = zeros
        self.oldest_days_late = self.cash_discount_cents = self.discount_cents = zeros
        self.down_payment_cents = self.financed_cents = self.plan_count = zeros
        grid = np.zeros((len(shapes), n), dtype=np.int64)
        self.regular_cents = self.last_cents = grid
        # The CET shown, in hundredths of a percent (monthly, annual); none where the plan adds
        # nothing to the amount financed.
        self._monthly = self._annual = grid
        self._no_rate = np.ones(grid.shape, dtype=bool)
        # (plan, customer) -> the CET of the plain search, where the shortcut could not tell
        self._rates: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
        # customer -> its offers from ``make_offers``, where the columns cannot hold its debt
        self._whole: dict[int, list[Offer]] = {}
        self._has_debt = np.zeros(n, dtype=bool)
        self._lists: dict[str, list[Any]] | None = None

    def __len__(self) -> int:
        return len(self._debts)

    @property
    def offer_count(self) -> int:
        """Offers in the portfolio, paying at once included."""
        columnar = int(self.plan_count.sum() + self._has_debt.sum())
        return columnar + sum(len(offers) for offers in self._whole.values())

    def __iter__(self) -> Iterator[list[Offer]]:
        return (self.offers(i) for i in range(len(self)))

    def offers(self, index: int) -> list[Offer]:
        """The customer's offers, as ``make_offers`` gives them."""
        if index in self._whole:
            return list(self._whole[index])
        if not self._has_debt[index]:
            return []
        cols = self._columns()
        i = index
        today, until = self.today, self.valid_until
        debt = DebtToday(
            tuple(self._debts[i]),
            cols["principal"][i],
            cols["late_fee"][i],
            cols["interest"][i],
            cols["oldest"][i],
        )
        pay_day = next_bank_business_day(today)
        cash = cols["cash_discount"][i]
        zero = Decimal("0.00")
        offers = [
            Offer(
                1,
                "cash",
                today,
                until,
                debt,
                cash,
                0,
                (Installment(1, pay_day, debt.total_cents - cash),),
                "none",
                0,
                zero,
                zero,
            )
        ]
        down, discount = cols["down"][i], cols["discount"][i]
        head = (Installment(0, pay_day, down),) if down else ()
        interest = self._rule.interest
        regular, last = cols["regular"][i], cols["last"][i]
        monthly, annual, no_rate = cols["monthly"][i], cols["annual"][i], cols["no_rate"][i]
        for j in range(cols["plans"][i]):
            shape = self._shapes[j]
            amounts = [regular[j]] * (shape.count - 1) + [last[j]]
            rates = self._rates.get((j, i))
            if rates is None:
                rates = (
                    _ZERO_RATES if no_rate[j] else (_hundredths(monthly[j]), _hundredths(annual[j]))
                )
            offers.append(
                Offer(
                    j + 2,
                    "installments",
                    today,
                    until,
                    debt,
                    discount,
                    down,
                    head + tuple(map(Installment, shape.numbers, shape.dates, amounts)),
                    interest.kind,
                    interest.monthly_bp,
                    rates[0],
                    rates[1],
                )
            )
        return offers

    def _columns(self) -> dict[str, list[Any]]:
        """The columns as lists of Python ints (what an ``Offer`` holds), by customer, once."""
        if self._lists is None:
            self._lists = {
                "principal": self.principal_cents.tolist(),
                "late_fee": self.late_fee_cents.tolist(),
                "interest": self.interest_cents.tolist(),
                "oldest": self.oldest_days_late.tolist(),
                "cash_discount": self.cash_discount_cents.tolist(),
                "discount": self.discount_cents.tolist(),
                "down": self.down_payment_cents.tolist(),
                "plans": self.plan_count.tolist(),
                "regular": self.regular_cents.T.tolist(),
                "last": self.last_cents.T.tolist(),
                "monthly": self._monthly.T.tolist(),
                "annual": self._annual.T.tolist(),
                "no_rate": self._no_rate.T.tolist(),
            }
        return self._lists


def offers_for_portfolio(
    debts: Sequence[Sequence[DebtInvoice]],
    fee_terms: FeeTerms,
    rule: TermRule,
    today: date,
    *,
    validity_days: int = 3,
) -> PortfolioOffers:
    """The offers for each debt of ``debts`` (one customer's overdue invoices each) under one
    rule of the terms: ``result.offers(i) == make_offers(debts[i], fee_terms, rule, today)``."""
    until = today + timedelta(days=validity_days)
    plan = rule.installments
    start = today + timedelta(days=plan.first_due_days)
    counts = _offered_counts(plan.max_count)
    interest = rule.interest
    shapes = [
        _plan_shape(today, start, c, plan.periodicity, interest.kind, interest.monthly_bp)
        for c in counts
    ]
    result = PortfolioOffers(debts, rule, today, until, shapes)
    n = len(debts)

    def whole(customers: Sequence[int]) -> dict[int, list[Offer]]:
        return {
            i: make_offers(debts[i], fee_terms, rule, today, validity_days=validity_days)
            for i in customers
        }

    if fee_terms.interest_source != "contract" or min(counts, default=1) < 1:
        # The taxa legal varies month by month (``fees.charges``): customer by customer.
        result._whole = whole(range(n))
        return result

    # --- the debt today: each invoice's multa and juros in integers (``offers.debt_today``)
    sizes = np.fromiter(map(len, debts), dtype=np.int64, count=n)
    has = sizes > 0
    m = int(sizes.sum())  # invoices, read customer after customer
    odd: set[int] = set()  # customers whose debt the int64 columns cannot hold
    balance = _balances(debts, sizes, m, odd)
    # An invoice paid in part late owes no second multa and juros only since that payment
    # (``fees.FeeState``): its customer is brought up to date by ``fees.charges``.
    odd.update(
        i
        for i, debt in enumerate(debts)
        if any(invoice.fees_settled is not NO_FEES_SETTLED for invoice in debt)
    )
    invoices = chain.from_iterable(debts)
    due = np.fromiter(map(date.toordinal, map(_DUE_DATE, invoices)), dtype=np.int64, count=m)
    days = today.toordinal() - due
    # A due date is late once its next bank business day has passed; that day grows with the
    # due date, so the late invoices are those due on or before the last such date.
    last_late = today - timedelta(days=1)
    while effective_due_date(last_late) >= today:
        last_late -= timedelta(days=1)
    late = (due <= last_late.toordinal()) & (balance != 0)
    fee_bp, rate_bp = fee_terms.effective_late_fee_bp, fee_terms.interest_monthly_bp
    if m and float(balance.max()) * (float(np.abs(days).max()) * rate_bp + fee_bp) >= _INT64_ROOM:
        too_big = balance * (np.abs(days) * float(rate_bp) + fee_bp) >= _INT64_ROOM
        odd.update(np.repeat(np.arange(n), sizes)[too_big].tolist())
        balance[too_big] = 0
    late_fee = np.where(late, (2 * fee_bp * balance + FULL_BP) // (2 * FULL_BP), 0)
    juros = np.where(late, (2 * rate_bp * balance * days + FULL_BP * 30) // (2 * FULL_BP * 30), 0)
    oldest = np.where(late, days, 0)
    starts = (np.cumsum(sizes) - sizes)[has]

    def per_customer(values: Ints, ufunc: np.ufunc) -> Ints:
        found = np.zeros(n, dtype=np.int64)
        if m:
            found[has] = ufunc.reduceat(values, starts)
        return found

    principal = per_customer(balance, np.add)
    late_fee_c = per_customer(late_fee, np.add)
    interest_c = per_customer(juros, np.add)
    oldest_c = per_customer(oldest, np.maximum)
    total = principal + late_fee_c + interest_c
    if float(total.max(initial=0)) * FULL_BP >= _INT64_ROOM:
        huge = total * float(FULL_BP) >= _INT64_ROOM
        odd.update(np.flatnonzero(huge).tolist())
        principal[huge] = late_fee_c[huge] = interest_c[huge] = total[huge] = 0
    if odd:
        # Rare: a negative or enormous balance; those customers get ``make_offers`` whole.
        result._whole = whole(sorted(odd))
        has[list(odd)] = False
    result._has_debt = has

    # --- discounts and the down payment (``offers.discount_for``, ``offers._share``)
    caps = rule.discount
    plan_discount = _share(late_fee_c, caps.late_fee_bp) + _share(interest_c, caps.interest_bp)
    cash_discount = plan_discount + _share(principal, caps.principal_bp)
    negotiated = total - plan_discount
    down = _share(negotiated, plan.min_down_payment_bp)
    financed = negotiated - down
    result.principal_cents, result.late_fee_cents = principal, late_fee_c
    result.interest_cents, result.oldest_days_late = interest_c, oldest_c
    result.cash_discount_cents, result.discount_cents = cash_discount, plan_discount
    result.down_payment_cents, result.financed_cents = down, financed
    if not shapes:
        return result

    # --- each plan's installments and CET, a block of customers at a time
    size = (len(shapes), n)
    regular, last = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    monthly, annual = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    offered, no_rate, sure = (np.empty(size, dtype=bool) for _ in range(3))
    per_plan = _PerPlan(shapes)
    step = max(_BLOCK_BYTES // (8 * len(shapes)), 256)
    for lo in range(0, n, step):
        block = slice(lo, min(lo + step, n))
        _plans(
            financed[block],
            has[block],
            per_plan,
            plan.min_installment_cents,
            (regular, last, offered, no_rate, monthly, annual, sure),
            block,
        )
    result.plan_count = offered.sum(axis=0)
    result.regular_cents, result.last_cents = regular, last
    result._monthly, result._annual, result._no_rate = monthly, annual, no_rate
    head_day = next_bank_business_day(today)
    for j, i in zip(*np.nonzero(offered & ~no_rate & ~sure), strict=True):
        amount = int(down[i])
        payments = [Installment(0, head_day, amount)] if amount else []
        shape = shapes[j]
        amounts = [int(regular[j, i])] * (shape.count - 1) + [int(last[j, i])]
        payments += map(Installment, shape.numbers, shape.dates, amounts)
        result._rates[int(j), int(i)] = effective_rates(
            int(financed[i]), today, payments, interest.monthly_bp
        )
    return result


def _balances(debts: Sequence[Sequence[DebtInvoice]], sizes: Ints, m: int, odd: set[int]) -> Ints:
    """Every invoice's balance, customer after customer; a customer with a negative balance or
    one floats cannot hold exactly goes into ``odd``, its balances as zeros."""
    try:
        balance = np.fromiter(map(_BALANCE, chain.from_iterable(debts)), dtype=np.int64, count=m)
    except OverflowError:  # beyond int64: found below, in Python integers
        balance = np.array(
            [c if 0 <= c < _FLOAT_EXACT else -1 for c in map(_BALANCE, chain.from_iterable(debts))]
        )
    if m and (balance.min() < 0 or balance.max() >= _FLOAT_EXACT):
        strange = (balance < 0) | (balance >= _FLOAT_EXACT)
        odd.update(np.repeat(np.arange(len(sizes)), sizes)[strange].tolist())
        balance[strange] = 0
    return balance


class _PerPlan:
    """What the block computation reads of each plan's shape, as columns (a plan a row)."""

    def __init__(self, shapes: Sequence[_PlanShape]) -> None:
        self.shapes = shapes
        self.count = np.array([s.count for s in shapes], dtype=np.float64)[:, None]

        def column(name: str) -> Floats:
            return np.array([getattr(s, name, 0.0) for s in shapes])[:, None]  # unset: no root

        self.factor = column("factor")
        self.root, self.curvature = column("root"), column("curvature")
        self.head_worth, self.head_slope = column("head_worth"), column("head_slope")
        self.last_worth, self.last_slope = column("last_worth"), column("last_slope")


def _plans(
    financed: Ints,
    has: Flags,
    per_plan: _PerPlan,
    minimum: int,
    out: tuple[Ints, Ints, Flags, Flags, Ints, Ints, Flags],
    block: slice,
) -> None:
    """Each plan's regular and last installment (``_PlanShape.split``), whether it is offered,
    and its CET shown (``_PlanShape.rates``), for a block of customers: into ``out[k][:, block]``
    (regular, last, offered, no interest, monthly, annual, CET sure). In floats, which hold
    these whole centavos exactly (the debt is below 2⁵³ / 10⁴)."""
    shapes, count = per_plan.shapes, per_plan.count
    amount = financed.astype(np.float64)
    if not shapes[0].factor:  # no interest: the financed amount split in integers
        whole_count = count.astype(np.int64)
        regular = ((2 * financed + whole_count) // (2 * whole_count)).astype(np.float64)
        total = np.repeat(amount[None, :], len(shapes), axis=0)
        unsure = np.zeros(regular.shape, dtype=bool)
    else:
        exact = per_plan.factor * amount
        whole = exact * count
        # Rounded in floats where the exact installment and total are far enough from a half
        # centavo; the margin of ``_PlanShape.split``, at the block's largest total.
        margin = 0.5 - (1e-6 + max(float(whole.max(initial=0.0)), 0.0) * 1e-12)
        exact += 0.5
        whole += 0.5
        regular, total = np.floor(exact), np.floor(whole)
        exact -= regular  # past the half by this much: near 0 or 1 is too near to tell
        whole -= total
        exact -= 0.5
        whole -= 0.5
        np.abs(exact, out=exact)
        np.abs(whole, out=whole)
        np.maximum(exact, whole, out=exact)
        unsure = exact > margin
    if (financed < 0).any():
        unsure |= financed < 0
    for j, i in zip(*np.nonzero(unsure & has), strict=True):
        amounts = split_installments(
            int(financed[i]), shapes[j].count, shapes[j].kind, shapes[j].period_rate
        )
        regular[j, i], total[j, i] = amounts[0], sum(amounts)
    last = regular * (1 - count)
    last += total
    offered = np.logical_and.accumulate(regular >= minimum, axis=0)
    offered &= has
    no_rate = total <= amount
    no_rate |= amount <= 0
    monthly, annual, sure = _cet_shown(regular, last, amount, per_plan)
    for column, values in zip(
        out, (regular, last, offered, no_rate, monthly, annual, sure), strict=True
    ):
        column[:, block] = values


def _cet_shown(
    regular: Floats, last: Floats, financed: Floats, per_plan: _PerPlan
) -> tuple[Ints, Floats, Flags]:
    """``_PlanShape.rates`` by column: the CET's two places, monthly and annual, in hundredths
    of a percent, and whether they are sure (else the plain search decides).

    One Newton step from each plan's root gives the annual rate within an error bound; the
    places shown are sure when no rounding boundary lies within it. The monthly rate's
    boundaries are taken to the annual scale once a plan (m hundredths a month show from the
    annual rate (1 + (m − ½)/10⁴)¹² − 1 on): every customer's rate is near the plan's root, so
    a few comparisons replace a power a customer."""
    root = per_plan.root
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        step = regular * per_plan.head_worth
        step += last * per_plan.last_worth
        step -= financed
        slope = regular * per_plan.head_slope
        slope += last * per_plan.last_slope
        step /= slope
        error = step * step
        error *= per_plan.curvature
        error += 1e-9
        low = root - step
        high = low + error
        low -= error
        sure = np.abs(step) <= 1e-3
        sure &= low > 0
        sure &= root != 0
        annual = low * 10_000
        annual += 0.5
        np.floor(annual, out=annual)
        high_shown = high * 10_000
        high_shown += 0.5
        np.floor(high_shown, out=high_shown)
        sure &= annual == high_shown
    monthly = np.zeros(regular.shape, dtype=np.int64)
    for j, shape in enumerate(per_plan.shapes):
        if not shape.root:
            continue
        # Every rate a step of at most 10⁻³ from the root can reach, with its error bound.
        reach = 1e-3 + shape.curvature * 1e-6 + 1e-9
        first = int(((1 + max(shape.root - reach, 0.0)) ** _TWELFTH - 1) * 10_000 + 0.5) - 1
        shown = monthly[j]
        shown += max(first, 0)
        same = sure[j]
        m = max(first, 0) + 1
        while (boundary := (1 + (m - 0.5) / 10_000) ** 12 - 1) <= shape.root + reach:
            above = low[j] >= boundary
            shown += above
            same &= above == (high[j] >= boundary)
            m += 1
    annual[~sure] = 0
    return monthly, annual, sure


def _share(cents: Ints, bp: int) -> Ints:
    """``offers._share`` by column: ``bp`` basis points of each amount, rounded half up."""
    whole, rest = np.divmod(cents * bp, FULL_BP)
    return whole + (2 * rest >= FULL_BP)
