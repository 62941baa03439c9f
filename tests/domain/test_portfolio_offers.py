"""A portfolio's offers computed in columns must be, customer by customer, the offers computed
plainly, plan by plan, for any debts: the same debt today, discounts, down payment, every
installment's date and centavos, the sum exact, the CET's two places."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.domain.fees import FeeTerms
from regua.domain.offers import DebtInvoice, fresh_offers, make_offers
from regua.domain.policy_terms import TermRule
from regua.domain.portfolio_offers import offers_for_portfolio
from regua.policies.loader import default_policy
from tests.domain.test_offers_cached import term_rule

TODAY = date(2026, 11, 23)

portfolio_strategy = st.lists(
    st.lists(
        st.tuples(st.integers(min_value=-400, max_value=40), st.integers(0, 5_000_000)),
        max_size=4,
    ),
    min_size=1,
    max_size=6,
)


def debts_of(raw: list[list[tuple[int, int]]], today: date) -> list[list[DebtInvoice]]:
    return [
        [
            DebtInvoice(c * 10 + k, f"NF-{c}-{k}", today + timedelta(days=offset), balance)
            for k, (offset, balance) in enumerate(invoices)
        ]
        for c, invoices in enumerate(raw)
    ]


def default_rule() -> TermRule:
    terms = default_policy().negotiation
    assert terms is not None
    return terms.rules[-1]  # 91 days or more: cash, up to 12x Price 1,99 %, 10 % down


@settings(max_examples=300, deadline=None)
@given(
    raw=portfolio_strategy,
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    kind=st.sampled_from(["none", "simple", "price"]),
    rate_bp=st.integers(min_value=0, max_value=800),
    down_bp=st.sampled_from([0, 500, 1_000, 3_000]),
    minimum=st.sampled_from([0, 5_000, 20_000]),
    count=st.integers(min_value=1, max_value=48),
    periodicity=st.sampled_from(["monthly", "monthly", "biweekly", "weekly"]),
    fee_bp=st.integers(min_value=0, max_value=1_000),
    monthly_bp=st.integers(min_value=0, max_value=1_500),
    consumer=st.booleans(),
)
def test_each_customers_offers_are_those_computed_plainly(
    raw: list[list[tuple[int, int]]],
    today: date,
    kind: str,
    rate_bp: int,
    down_bp: int,
    minimum: int,
    count: int,
    periodicity: str,
    fee_bp: int,
    monthly_bp: int,
    consumer: bool,
) -> None:
    debts = debts_of(raw, today)
    fees = FeeTerms(late_fee_bp=fee_bp, interest_monthly_bp=monthly_bp, is_consumer=consumer)
    rule = term_rule(kind, rate_bp, down_bp, minimum, count, periodicity)
    portfolio = offers_for_portfolio(debts, fees, rule, today, validity_days=5)
    expected = [fresh_offers(d, fees, rule, today, validity_days=5) for d in debts]
    assert list(portfolio) == expected
    assert portfolio.offer_count == sum(map(len, expected))


def test_a_portfolio_of_the_benchmark_shape_gets_the_plain_figures() -> None:
    # Thousands of customers, a few plans each: the installment and CET shortcuts decide nearly
    # all plans, the plain search the few whose CET lies too near a half hundredth.
    rng = Random(16)
    debts = [
        [
            DebtInvoice(
                customer * 3 + k,
                f"NF-{customer}-{k}",
                TODAY - timedelta(days=rng.randint(95, 400)),
                rng.randint(20_000, 5_000_000),
            )
            for k in range(rng.randint(1, 3))
        ]
        for customer in range(2_000)
    ]
    rule, fees = default_rule(), FeeTerms()
    portfolio = offers_for_portfolio(debts, fees, rule, TODAY)
    for i, invoices in enumerate(debts):
        assert portfolio.offers(i) == fresh_offers(invoices, fees, rule, TODAY)
    # the columns say what the offers say
    for i in (0, 1, 1_999):
        offers = portfolio.offers(i)
        assert portfolio.plan_count[i] == len(offers) - 1
        assert (
            portfolio.financed_cents[i] == offers[1].negotiated_cents - offers[1].down_payment_cents
        )
        assert portfolio.regular_cents[0, i] == offers[1].installment_cents
        assert portfolio.last_cents[0, i] == offers[1].payments[-1].amount_cents


def test_a_three_invoice_debt_reads_as_a_person_would_check_it() -> None:
    # R$ 1.000,00 due 100 days ago, 2 % multa, 1 % a month: multa R$ 20,00, juros R$ 33,33;
    # the 91+ rule waives all multa and half the juros on a plan, 10 % down.
    due = TODAY - timedelta(days=100)
    debts = [[DebtInvoice(1, "NF-1", due, 100_000)], [], [DebtInvoice(2, "NF-2", due, 100_000)]]
    portfolio = offers_for_portfolio(debts, FeeTerms(), default_rule(), TODAY)
    assert portfolio.offers(1) == []
    offers = portfolio.offers(0)
    # the same debt on another customer: the same figures
    assert [o.payments for o in offers] == [o.payments for o in portfolio.offers(2)]
    debt = offers[0].debt
    assert (debt.principal_cents, debt.late_fee_cents, debt.interest_cents) == (
        100_000,
        2_000,
        3_333,
    )
    plan = offers[1]
    assert plan.count == 2 and plan.down_payment_cents == plan.negotiated_cents // 10 + (
        plan.negotiated_cents % 10 >= 5
    )
    installments = [p.amount_cents for p in plan.payments if p.number > 0]
    assert plan.down_payment_cents + sum(installments) == plan.total_cents
    assert all(p.due_date.weekday() < 5 for p in plan.payments)
    assert plan.monthly_rate > Decimal("0")


def test_odd_debts_get_the_offers_of_the_customer_by_customer_path() -> None:
    # Amounts the integer columns cannot hold, no invoices at all, next to ordinary debts: each
    # customer still gets exactly the offers of ``make_offers``.
    due = TODAY - timedelta(days=120)
    debts = [
        [DebtInvoice(1, "NF-1", due, 150_000), DebtInvoice(2, "NF-2", due, 2**70)],
        [DebtInvoice(3, "NF-3", due, 2**50)],
        [],
        [DebtInvoice(4, "NF-4", due, 80_000)],
    ]
    rule, fees = default_rule(), FeeTerms()
    portfolio = offers_for_portfolio(debts, fees, rule, TODAY)
    assert list(portfolio) == [make_offers(d, fees, rule, TODAY) for d in debts]
    assert portfolio.offer_count == sum(len(make_offers(d, fees, rule, TODAY)) for d in debts)


def test_a_negative_balance_is_refused_as_customer_by_customer() -> None:
    due = TODAY - timedelta(days=120)
    debts = [[DebtInvoice(1, "NF-1", due, 150_000)], [DebtInvoice(2, "NF-2", due, -20_000)]]
    with pytest.raises(ValueError, match="negative"):
        make_offers(debts[1], FeeTerms(), default_rule(), TODAY)
    with pytest.raises(ValueError, match="negative"):
        offers_for_portfolio(debts, FeeTerms(), default_rule(), TODAY)


def test_the_legal_rate_goes_customer_by_customer() -> None:
    # The taxa legal changes month by month: those debts take the per-customer path whole.
    fees = FeeTerms(
        interest_source="legal",
        legal_rates={
            (year, month): Decimal("0.5") for year in (2025, 2026) for month in range(1, 13)
        },
    )
    due = TODAY - timedelta(days=200)
    debts = [[DebtInvoice(1, "NF-1", due, 300_000)], [DebtInvoice(2, "NF-2", due, 90_000)]]
    rule = default_rule()
    portfolio = offers_for_portfolio(debts, fees, rule, TODAY)
    assert list(portfolio) == [fresh_offers(d, fees, rule, TODAY) for d in debts]


def test_an_installment_a_hair_from_half_a_centavo_is_rounded_exactly() -> None:
    # Financing R$ 46.447,13 in 12x Price at 1,99 % a month makes an installment of
    # 438.932,4999999… centavos, and R$ 102.833,94 one of 971.796,5000000…: floats cannot tell
    # which way to round them, the exact computation does (found by searching every amount).
    rule = term_rule("price", 199, 0, 0, 12, "monthly")
    debts = [
        [DebtInvoice(1, "NF-1", TODAY + timedelta(days=10), 4_644_713)],
        [DebtInvoice(2, "NF-2", TODAY + timedelta(days=10), 10_283_394)],
    ]
    portfolio = offers_for_portfolio(debts, FeeTerms(), rule, TODAY)
    assert list(portfolio) == [fresh_offers(d, FeeTerms(), rule, TODAY) for d in debts]
    assert [portfolio.offers(i)[-1].installment_cents for i in (0, 1)] == [438_932, 971_797]


def test_an_empty_portfolio_has_no_offers() -> None:
    portfolio = offers_for_portfolio([], FeeTerms(), default_rule(), TODAY)
    assert len(portfolio) == 0 and portfolio.offer_count == 0 and list(portfolio) == []
