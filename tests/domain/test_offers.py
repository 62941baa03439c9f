"""Offers: figures checked by hand or against an independent formula (float pmt)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.fees import FeeTerms
from regua.domain.offers import (
    DebtInvoice,
    EarlyPaymentOffer,
    Installment,
    build_plan,
    counter_offer,
    debt_today,
    early_payment_offer,
    make_offers,
    split_installments,
    violations,
)
from regua.domain.policy_terms import (
    AgreementInterest,
    DiscountCaps,
    EarlyPayment,
    Extension,
    InstallmentRules,
    NegotiationTerms,
    TermRule,
)

TODAY = date(2025, 3, 10)  # a Monday
FEES = FeeTerms(late_fee_bp=200, interest_monthly_bp=100)
# R$ 1.000,00 due 31/01/2025: 38 days late on 10/03 -> multa R$ 20,00 (2 %),
# juros 100000 x 1 % x 38/30 = 1266,67 -> R$ 12,67; R$ 1.032,67 today.
DEBT = [DebtInvoice(1, "NF-1", date(2025, 1, 31), 100_000)]


def rule(
    *,
    count: int = 12,
    down_bp: int = 0,
    kind: str = "none",
    rate_bp: int = 0,
    minimum: int = 0,
    periodicity: str = "monthly",
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


def pmt(financed: int, rate: float, n: int) -> float:
    """Independent check: the textbook Price installment in floats."""
    return financed * rate / (1 - (1 + rate) ** -n)


def test_the_debt_today_shows_principal_multa_and_juros_apart() -> None:
    debt = debt_today(DEBT, FEES, TODAY)
    assert (debt.principal_cents, debt.late_fee_cents, debt.interest_cents) == (
        100_000,
        2_000,
        1_267,
    )
    assert debt.total_cents == 103_267
    assert debt.oldest_days_late == 38


def test_cash_gets_every_discount_cap() -> None:
    cash = make_offers(DEBT, FEES, rule(), TODAY)[0]
    # multa 100 % (2000) + juros 50 % (633,5 -> 634) + principal 10 % (10000)
    assert cash.kind == "cash"
    assert cash.discount_cents == 12_634
    assert cash.discount_percent == Decimal("12.23")  # 12634 / 103267
    assert cash.payments == (Installment(1, TODAY, 90_633),)
    assert (cash.total_cents, cash.debt.total_cents) == (90_633, 103_267)
    assert cash.valid_until == date(2025, 3, 13)
    assert cash.monthly_rate == Decimal("0.00")


# count, down bp, interest kind, monthly bp -> (down, installments, dates)
PLANS = [
    (
        "3x without interest, no down payment",
        3,
        0,
        "none",
        0,
        # negotiated 103267 - 2634 = 100633; 100633 / 3 = 33544,33: the last takes the difference
        0,
        [33_544, 33_544, 33_545],
        [date(2025, 4, 9), date(2025, 5, 9), date(2025, 6, 9)],
    ),
    (
        "6x without interest, 10 % down",
        6,
        1_000,
        "none",
        0,
        # down 10 % of 100633 = 10063,3 -> 10063; 90570 / 6 = 15095 exactly
        10_063,
        [15_095] * 6,
        [
            date(2025, 4, 9),
            date(2025, 5, 9),
            date(2025, 6, 9),
            date(2025, 7, 9),
            date(2025, 8, 11),  # 09/08/2025 is a Saturday
            date(2025, 9, 9),
        ],
    ),
]


@pytest.mark.parametrize(
    ("case", "count", "down_bp", "kind", "rate_bp", "down", "amounts", "dates"),
    PLANS,
    ids=[p[0] for p in PLANS],
)
def test_plans_without_interest(
    case: str,
    count: int,
    down_bp: int,
    kind: str,
    rate_bp: int,
    down: int,
    amounts: list[int],
    dates: list[date],
) -> None:
    offer = build_plan(2, debt_today(DEBT, FEES, TODAY), rule(down_bp=down_bp), TODAY, TODAY, count)
    assert offer.discount_cents == 2_634  # no principal discount when paying in installments
    assert offer.down_payment_cents == down
    installments = [p for p in offer.payments if p.number > 0]
    assert [p.amount_cents for p in installments] == amounts
    assert [p.due_date for p in installments] == dates
    assert offer.total_cents == offer.negotiated_cents == 100_633
    assert (offer.monthly_rate, offer.annual_rate) == (Decimal("0.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("count", "down_bp", "kind", "rate_bp"),
    [
        (3, 0, "price", 199),
        (6, 1_000, "price", 200),
        (12, 0, "price", 199),
        (12, 2_000, "price", 299),
        (6, 0, "simple", 200),
        (12, 1_000, "simple", 150),
    ],
)
def test_plans_with_interest_match_an_independent_formula(
    count: int, down_bp: int, kind: str, rate_bp: int
) -> None:
    terms = rule(down_bp=down_bp, kind=kind, rate_bp=rate_bp)
    offer = build_plan(2, debt_today(DEBT, FEES, TODAY), terms, TODAY, TODAY, count)
    financed = 100_633 - round(100_633 * down_bp / 10_000)
    rate = rate_bp / 10_000
    if kind == "price":
        exact = pmt(financed, rate, count)
    else:
        exact = financed / sum(1 / (1 + rate * k) for k in range(1, count + 1))
    installments = [p.amount_cents for p in offer.payments if p.number > 0]
    assert installments[:-1] == [round(exact)] * (count - 1)
    assert abs(installments[-1] - exact) <= count  # the rounding differences of the others
    assert sum(installments) == round(exact * count)
    assert offer.total_cents == offer.down_payment_cents + sum(installments)
    assert offer.agreement_interest_cents == offer.total_cents - 100_633
    if kind == "price":
        # the CET is near the plan's own rate: real dates (days / 365) instead of 30-day
        # months, and dates moved past weekends, make it a little different
        assert abs(offer.monthly_rate - Decimal(rate_bp) / 100) <= Decimal("0.08")
    else:
        assert Decimal(0) < offer.monthly_rate < Decimal(rate_bp) / 100
    monthly = float(offer.monthly_rate) / 100
    assert abs(float(offer.annual_rate) - ((1 + monthly) ** 12 - 1) * 100) < 0.1


def test_the_price_table_of_a_textbook_example() -> None:
    # R$ 1.000,00 in 12x at 1,99 % a.m.: PMT = 94,5015 (an HP-12C says 94,50); P x 12 =
    # 1.134,0184 -> 1.134,02, so the last installment is 1.134,02 - 11 x 94,50 = 94,52.
    assert split_installments(100_000, 12, "price", Decimal("0.0199")) == [9_450] * 11 + [9_452]
    assert split_installments(100_000, 3, "none", Decimal(0)) == [33_333, 33_333, 33_334]


def test_a_first_due_date_on_a_holiday_moves_to_the_next_business_day() -> None:
    today = date(2025, 3, 22)  # + 30 days = 21/04/2025, Tiradentes
    offer = build_plan(2, debt_today(DEBT, FEES, today), rule(), today, today, 2)
    assert [p.due_date for p in offer.payments] == [date(2025, 4, 22), date(2025, 5, 21)]
    # and paying at once on a Saturday means paying on Monday
    assert make_offers(DEBT, FEES, rule(), today)[0].payments[0].due_date == date(2025, 3, 24)


def test_offers_stop_where_the_installment_falls_below_the_minimum() -> None:
    offers = make_offers(DEBT, FEES, rule(count=12, minimum=20_000), TODAY)
    # 100633 / 5 = 20126,6 is the last count at or above R$ 200,00
    assert [o.count for o in offers] == [1, 2, 3, 4, 5]
    assert [o.number for o in offers] == [1, 2, 3, 4, 5]


def test_biweekly_plans_are_fourteen_days_apart() -> None:
    offer = build_plan(
        2, debt_today(DEBT, FEES, TODAY), rule(periodicity="biweekly"), TODAY, TODAY, 3
    )
    assert [p.due_date for p in offer.payments] == [
        date(2025, 4, 9),
        date(2025, 4, 23),
        date(2025, 5, 7),
    ]


def test_violations_name_the_rule_broken() -> None:
    terms = rule(count=6, down_bp=1_000, minimum=5_000)
    debt = debt_today(DEBT, FEES, TODAY)
    assert violations(build_plan(2, debt, terms, TODAY, TODAY, 6), terms, TODAY) == []
    too_long = build_plan(2, debt, terms, TODAY, TODAY, 24, down_payment_cents=0)
    assert violations(too_long, terms, TODAY) == [
        "24 parcelas passam do máximo de 6 das condições",
        "parcela de R$ 41,93 abaixo do mínimo de R$ 50,00",
        "entrada de R$ 0,00 abaixo do mínimo de R$ 100,63 (10%)",
    ]
    past = build_plan(2, debt, terms, TODAY, TODAY, 2, first_due=date(2025, 3, 1))
    assert violations(past, terms, TODAY) == ["há parcela com vencimento no passado"]


TERMS = NegotiationTerms(rules=(rule(count=6, minimum=5_000),), extension=Extension(10, True))


def test_counter_offer_by_monthly_amount_finds_the_fewest_installments() -> None:
    answer = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, monthly_cents=30_000)
    assert answer.offer is not None and answer.reason is None
    assert answer.offer.count == 4  # 3x would be 33.544,33 > 300,00; 4x is 25.158,25
    assert answer.offer.installment_cents == 25_158


def test_counter_offer_says_plainly_why_none_fits() -> None:
    low = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, monthly_cents=10_000)
    assert low.offer is None
    assert low.reason == (
        "em 6x (mensal, sem juros), o máximo das condições, a parcela é R$ 167,72; "
        "R$ 100,00 não cobre a dívida dentro das condições (um gestor pode aprovar um acordo "
        "fora delas)"
    )
    tiny = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, monthly_cents=1_000)
    assert tiny.reason == "a parcela mínima das condições é R$ 50,00; R$ 10,00 fica abaixo dela"


def test_counter_offer_by_date_is_a_prorrogacao_within_the_terms() -> None:
    answer = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, pay_on=date(2025, 3, 15))
    assert answer.offer is not None and answer.offer.kind == "extension"
    # 15/03 is a Saturday: pay on Monday 17/03, juros to that day (45 days: 1500)
    assert answer.offer.payments == (Installment(1, date(2025, 3, 17), 103_500),)
    late = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, pay_on=date(2025, 4, 30))
    assert late.reason == (
        "a prorrogação vai no máximo até 20/03/2025 (10 dias); 30/04/2025 passa desse prazo"
    )
    past = counter_offer(DEBT, FEES, TERMS, TERMS.rules[0], TODAY, pay_on=date(2025, 3, 1))
    assert past.reason == "a data 01/03/2025 já passou"


@given(
    financed=st.integers(min_value=1, max_value=10_000_000),
    count=st.integers(min_value=1, max_value=60),
    kind=st.sampled_from(["none", "simple", "price"]),
    rate_bp=st.integers(min_value=0, max_value=800),
)
def test_installments_add_up_exactly_and_differ_only_on_the_last(
    financed: int, count: int, kind: str, rate_bp: int
) -> None:
    amounts = split_installments(financed, count, kind, Decimal(rate_bp) / 10_000)
    assert len(amounts) == count
    assert len(set(amounts[:-1])) <= 1
    assert sum(amounts) >= financed
    if kind == "none" or rate_bp == 0:
        assert sum(amounts) == financed


def test_early_payment_discount_holds_until_its_day() -> None:
    early = EarlyPayment(discount_bp=200, days_before=5)
    due = date(2025, 4, 15)
    offer = early_payment_offer(49_990, due, date(2025, 4, 1), early)
    # 2 % of 499,90 = 9,998 -> 10,00; pay 489,90 by 10/04
    assert offer == EarlyPaymentOffer(48_990, 1_000, date(2025, 4, 10))
    assert early_payment_offer(49_990, due, date(2025, 4, 10), early) is not None
    assert early_payment_offer(49_990, due, date(2025, 4, 11), early) is None
    assert early_payment_offer(49_990, due, date(2025, 4, 1), EarlyPayment()) is None
