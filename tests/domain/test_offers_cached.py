"""The offers of a portfolio run share dates, factors and CET shapes across customers: the figures
must be those computed plainly, plan by plan, for any debt."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from regua.domain.fees import FeeTerms, charges
from regua.domain.offers import DebtInvoice, debt_today, fresh_offers, make_offers
from regua.domain.policy_terms import AgreementInterest, DiscountCaps, InstallmentRules, TermRule

invoices_strategy = st.lists(
    st.tuples(st.integers(min_value=-400, max_value=40), st.integers(0, 5_000_000)),
    min_size=1,
    max_size=4,
)


def term_rule(
    kind: str, rate_bp: int, down_bp: int, minimum: int, count: int, periodicity: str
) -> TermRule:
    return TermRule(
        discount=DiscountCaps(late_fee_bp=10_000, interest_bp=5_000, principal_bp=1_000),
        installments=InstallmentRules(
            max_count=count,
            min_installment_cents=minimum,
            min_down_payment_bp=down_bp,
            first_due_days=30,
            periodicity=periodicity,  # type: ignore[arg-type]
        ),
        interest=AgreementInterest(kind, rate_bp),  # type: ignore[arg-type]
    )


@settings(max_examples=400, deadline=None)
@given(
    raw=invoices_strategy,
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
def test_the_shared_computation_gives_the_figures_of_a_fresh_one(
    raw: list[tuple[int, int]],
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
    invoices = [
        DebtInvoice(k, f"NF-{k}", today + timedelta(days=offset), balance)
        for k, (offset, balance) in enumerate(raw)
    ]
    fees = FeeTerms(late_fee_bp=fee_bp, interest_monthly_bp=monthly_bp, is_consumer=consumer)
    rule = term_rule(kind, rate_bp, down_bp, minimum, count, periodicity)
    assert make_offers(invoices, fees, rule, today) == fresh_offers(invoices, fees, rule, today)


@settings(max_examples=300, deadline=None)
@given(
    raw=invoices_strategy,
    today=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    fee_bp=st.integers(min_value=0, max_value=2_000),
    monthly_bp=st.integers(min_value=0, max_value=1_500),
    consumer=st.booleans(),
)
def test_the_debt_today_is_the_sum_of_each_invoices_charges(
    raw: list[tuple[int, int]], today: date, fee_bp: int, monthly_bp: int, consumer: bool
) -> None:
    invoices = [
        DebtInvoice(k, f"NF-{k}", today + timedelta(days=offset), balance)
        for k, (offset, balance) in enumerate(raw)
    ]
    fees = FeeTerms(late_fee_bp=fee_bp, interest_monthly_bp=monthly_bp, is_consumer=consumer)
    each = [charges(i.balance_cents, i.due_date, today, fees) for i in invoices]
    debt = debt_today(invoices, fees, today)
    assert debt.principal_cents == sum(c.principal_cents for c in each)
    assert debt.late_fee_cents == sum(c.late_fee_cents for c in each)
    assert debt.interest_cents == sum(c.interest_cents for c in each)
    assert debt.oldest_days_late == max(c.days_late for c in each)


def test_a_portfolio_of_the_benchmark_shape_gets_the_same_offers_both_ways() -> None:
    # The default régua's last rule (Price 1,99 %, 10 % down, up to 12x) over many debts: the
    # CET shortcut is used for nearly all plans, and none differs from the full search.
    from random import Random

    from regua.policies.loader import default_policy

    terms = default_policy().negotiation
    assert terms is not None
    rule = terms.rules[-1]
    today = date(2026, 11, 23)
    rng = Random(52)
    for customer in range(1_500):
        invoices = [
            DebtInvoice(
                k,
                f"NF-{customer}-{k}",
                today - timedelta(days=rng.randint(95, 400)),
                rng.randint(20_000, 5_000_000),
            )
            for k in range(rng.randint(1, 3))
        ]
        assert make_offers(invoices, FeeTerms(), rule, today) == fresh_offers(
            invoices, FeeTerms(), rule, today
        )
