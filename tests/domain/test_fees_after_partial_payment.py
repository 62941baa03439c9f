"""Multa and juros after a partial payment: charged once, juros only since the last late payment,
the fees a payment did not cover carried forward (CC art. 354: fees first, then principal).

Figures by hand, 2 % multa and 1 % a month of juros (pro rata over 30 days), an invoice of
R$ 300,00 due Tuesday 20/10/2026; 23/11 is 34 days late:
- multa 2 % x 300,00 = 6,00; juros 300,00 x 1 % x 34/30 = 3,40; fees 9,40.
- R$ 79,33 paid on 23/11: 9,40 of fees, 69,93 of principal; 230,07 left.
"""

from __future__ import annotations

from datetime import date

import pytest

from regua.domain.fees import NO_FEES_SETTLED, FeeState, FeeTerms, charges
from regua.domain.offers import DebtInvoice, debt_today, make_offers
from regua.domain.portfolio_offers import offers_for_portfolio
from regua.domain.settlement import apply_payment, fee_state_after
from tests.domain.test_portfolio_offers import default_rule

TERMS = FeeTerms(late_fee_bp=200, interest_monthly_bp=100, is_consumer=True)
DUE = date(2026, 10, 20)
PAID = date(2026, 11, 23)


def pay(payments: list[tuple[date, int]], balance: int = 30_000) -> tuple[int, FeeState, list]:
    """Apply `payments` in turn: the balance, fee state and splits they leave."""
    state, splits = NO_FEES_SETTLED, []
    for paid_on, amount in payments:
        split = apply_payment(balance, DUE, paid_on, amount, TERMS, state)
        balance, state = split.new_balance_cents, split.fee_state
        splits.append(split)
    return balance, state, splits


CASES = [
    # (case, payments, quoted on, principal, multa, juros, carried, total)
    ("unpaid: the whole charges", [], PAID, 30_000, 600, 340, 0, 30_940),
    # Before the fix the same day showed 237,28: multa 4,60 and juros 2,61 charged again.
    ("the example, same day", [(PAID, 7_933)], PAID, 23_007, 0, 0, 0, 23_007),
    # 30 days later: juros 230,07 x 1 % = 2,30 (2,3007), no new multa.
    ("the example, 30 days later", [(PAID, 7_933)], date(2026, 12, 23), 23_007, 0, 230, 0, 23_237),
    # R$ 5,00 of the 9,40 of fees: 4,40 carried, nothing off the principal.
    ("smaller than the fees, same day", [(PAID, 500)], PAID, 30_000, 0, 0, 440, 30_440),
    # 30 days later: juros 300,00 x 1 % = 3,00 since 23/11, plus the 4,40 carried.
    (
        "smaller than the fees, 30 days later",
        [(PAID, 500)],
        date(2026, 12, 23),
        30_000,
        0,
        300,
        440,
        30_740,
    ),
    # Then R$ 100,00 on 23/12: 7,40 of fees (4,40 carried + 3,00 juros), 92,60 of principal.
    (
        "smaller than the fees, then a second payment",
        [(PAID, 500), (date(2026, 12, 23), 10_000)],
        date(2026, 12, 23),
        20_740,
        0,
        0,
        0,
        20_740,
    ),
    # 23/12: R$ 100,00 = juros 2,30 since 23/11 + 97,70 of principal: 132,37 left; on 22/01
    # (30 days later) juros 132,37 x 1 % = 1,32.
    (
        "two partial payments",
        [(PAID, 7_933), (date(2026, 12, 23), 10_000)],
        date(2027, 1, 22),
        13_237,
        0,
        132,
        0,
        13_369,
    ),
    # R$ 100,00 on 15/10, before the due date: no fees, 200,00 left. On 19/11, 30 days late,
    # the multa on what is left (4,00) and juros from the due date (2,00).
    (
        "on-time partial payment, then late",
        [(date(2026, 10, 15), 10_000)],
        date(2026, 11, 19),
        20_000,
        400,
        200,
        0,
        20_600,
    ),
]


@pytest.mark.parametrize(
    ("payments", "on", "principal", "multa", "juros", "carried", "total"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_what_is_owed_after_payments(
    payments: list[tuple[date, int]],
    on: date,
    principal: int,
    multa: int,
    juros: int,
    carried: int,
    total: int,
) -> None:
    balance, state, _ = pay(payments)
    owed = charges(balance, DUE, on, TERMS, state)
    assert (
        owed.principal_cents,
        owed.late_fee_cents,
        owed.interest_cents,
        owed.carried_fees_cents,
        owed.total_cents,
    ) == (principal, multa, juros, carried, total)


def test_the_example_payment_is_split_fees_first() -> None:
    _, state, [split] = pay([(PAID, 7_933)])
    assert (split.fees_paid_cents, split.principal_paid_cents, split.new_balance_cents) == (
        940,
        6_993,
        23_007,
    )
    assert state == FeeState(PAID, 0)


def test_a_payment_smaller_than_the_fees_keeps_what_it_did_not_cover() -> None:
    _, state, [split] = pay([(PAID, 500)])
    assert (split.fees_paid_cents, split.principal_paid_cents, split.new_balance_cents) == (
        500,
        0,
        30_000,
    )
    assert state == FeeState(PAID, 440)


def test_paying_exactly_what_is_shown_settles_the_invoice() -> None:
    balance, state, _ = pay([(PAID, 7_933)])
    later = date(2026, 12, 23)
    shown = charges(balance, DUE, later, TERMS, state).total_cents
    split = apply_payment(balance, DUE, later, shown, TERMS, state)
    assert (split.new_balance_cents, split.credit_cents, split.fees_paid_cents) == (0, 0, 230)


def test_a_partial_payment_in_the_grace_days_settles_no_fees() -> None:
    # Due Saturday 17/10/2026, paid Monday 19/10: on time (CC art. 132 §1); when the rest is
    # paid late the multa and juros from the written due date are owed on it.
    saturday = date(2026, 10, 17)
    split = apply_payment(30_000, saturday, date(2026, 10, 19), 10_000, TERMS)
    assert (split.fees_paid_cents, split.fee_state) == (0, NO_FEES_SETTLED)
    owed = charges(20_000, saturday, date(2026, 11, 16), TERMS, split.fee_state)
    assert (owed.late_fee_cents, owed.interest_cents) == (400, 200)  # 30 days: 2,00


@pytest.mark.parametrize(
    ("standing", "state", "total_on_23_12"),
    [
        # Every payment given back: the full charges again, multa and juros from 20/10
        # (300,00 x 1 % x 64/30 = 6,40).
        ([], NO_FEES_SETTLED, 30_000 + 600 + 640),
        # The second of two payments given back: the state the first left.
        ([(PAID, 7_933)], FeeState(PAID, 0), 23_007 + 230),
        ([(PAID, 500)], FeeState(PAID, 440), 30_000 + 300 + 440),
    ],
    ids=["all given back", "second given back", "a payment short of the fees stays"],
)
def test_a_reversal_restores_the_state_of_the_payments_that_remain(
    standing: list[tuple[date, int]], state: FeeState, total_on_23_12: int
) -> None:
    balance, _, _ = pay(standing)
    assert fee_state_after(30_000, DUE, standing, TERMS) == state
    owed = charges(balance, DUE, date(2026, 12, 23), TERMS, state)
    assert owed.total_cents == total_on_23_12


def test_a_negotiated_debt_counts_the_fees_once() -> None:
    # The example's invoice on 23/12 and another of R$ 100,00 never paid, also due 20/10
    # (64 days: multa 2,00, juros 2,13): the debt a negotiation starts from.
    balance, state, _ = pay([(PAID, 500)])  # 4,40 of fees carried, juros since 23/11
    on = date(2026, 12, 23)
    debt = [
        DebtInvoice(1, "NF-1", DUE, balance, state),
        DebtInvoice(2, "NF-2", DUE, 10_000),
    ]
    today = debt_today(debt, TERMS, on)
    assert (today.principal_cents, today.late_fee_cents, today.interest_cents) == (
        40_000,
        200,
        300 + 440 + 213,
    )
    rule = default_rule()
    portfolio = offers_for_portfolio([debt, debt[1:]], TERMS, rule, on)
    assert portfolio.offers(0) == make_offers(debt, TERMS, rule, on)
    assert portfolio.offers(1) == make_offers(debt[1:], TERMS, rule, on)
