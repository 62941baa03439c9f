"""How one payment naming several invoices is shared among them: oldest first, rest as credit."""

from __future__ import annotations

from regua.domain.settlement import spread_payment


def test_each_invoice_gets_what_it_owes_oldest_first() -> None:
    assert spread_payment([52_067, 30_940], 83_007) == [52_067, 30_940]


def test_a_smaller_payment_pays_the_oldest_and_leaves_the_rest_out() -> None:
    assert spread_payment([52_067, 30_940], 60_000) == [52_067, 7_933]
    assert spread_payment([52_067, 30_940], 52_067) == [52_067]
    assert spread_payment([52_067, 30_940], 100) == [100]


def test_money_beyond_them_all_stays_on_the_newest_as_credit() -> None:
    assert spread_payment([52_067, 30_940], 90_000) == [52_067, 37_933]


def test_nothing_owed_anywhere_puts_it_all_on_the_first() -> None:
    assert spread_payment([], 5_000) == [5_000]
