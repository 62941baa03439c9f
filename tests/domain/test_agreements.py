"""The rules of an agreement's life: breaking, restoring the originals, early payoff."""

from __future__ import annotations

from datetime import date

from regua.domain.agreements import (
    HeldInvoice,
    InstallmentState,
    all_paid,
    breaking_installment,
    installment_txid,
    paid_under,
    payoff_cents,
    restored_balances,
)

TODAY = date(2026, 11, 23)


def _item(number: int, due: date, amount: int, balance: int, status: str = "open"):
    return InstallmentState(number, number, due, amount, balance, status)


def test_an_installment_late_by_the_terms_days_breaks_the_agreement() -> None:
    items = [
        _item(0, date(2026, 10, 1), 100, 0, "paid"),
        _item(1, date(2026, 10, 24), 500, 500),
        _item(2, date(2026, 11, 23), 500, 500),
    ]
    assert breaking_installment(items, 31, TODAY) is None  # 30 days late
    assert breaking_installment(items, 30, TODAY) == items[1]
    assert not all_paid(items)
    assert paid_under(items) == 100
    assert all_paid([_item(1, TODAY, 500, 0, "paid")])


def test_what_was_paid_goes_to_the_oldest_original_first() -> None:
    held = [
        HeldInvoice(2, date(2026, 10, 20), 30_000),
        HeldInvoice(1, date(2026, 9, 20), 50_000),
    ]
    assert restored_balances(held, 8_000) == [(1, 42_000), (2, 30_000)]
    assert restored_balances(held, 60_000) == [(1, 0), (2, 20_000)]


def test_early_payoff_reduces_the_interest_proportionally() -> None:
    # one installment of R$ 102,00 a year ahead at 2 % a.m. compound: 102 / 1.02^12 = 80,43
    assert payoff_cents([(date(2027, 11, 23), 10_200)], "price", 200, TODAY) == 8_043
    # simple: 102 / (1 + 0.02 x 12) = 82,26
    assert payoff_cents([(date(2027, 11, 23), 10_200)], "simple", 200, TODAY) == 8_226
    # without interest, or already due, nothing comes off
    assert payoff_cents([(date(2027, 11, 23), 10_200)], "none", 0, TODAY) == 10_200
    assert payoff_cents([(date(2026, 11, 1), 10_200)], "price", 200, TODAY) == 10_200


def test_each_installment_has_its_own_pix_txid() -> None:
    assert installment_txid(12, 3) == "ACD000000012P03"
    assert len(installment_txid(999_999_999, 99)) <= 25
