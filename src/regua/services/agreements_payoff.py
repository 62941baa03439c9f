"""Paying an agreement off early: what settles the rest today, with the interest not yet run
taken off (CDC art. 52 §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from regua.domain.agreements import payoff_cents
from regua.domain.money import Cents
from regua.error_codes import ErrorCode
from regua.errors import NotFound
from regua.store import agreements as store
from regua.store.uow import UnitOfWorkFactory

__all__ = ["PayoffQuote", "payoff_quote"]


@dataclass(frozen=True)
class PayoffQuote:
    agreement_id: int
    remaining_cents: Cents  # the installments still due, as agreed
    payoff_cents: Cents  # what settles them today, with the interest not yet run taken off


def payoff_quote(
    uow: UnitOfWorkFactory, creditor_id: int, agreement_id: int, *, today: date
) -> PayoffQuote:
    """What pays the rest of an agreement off today (CDC art. 52 §2)."""
    with uow() as work:
        row = store.agreement_row(work.connection, creditor_id, agreement_id)
        if row is None or row.status != "active":
            raise NotFound(
                f"acordo {agreement_id} não existe ou não está ativo",
                code=ErrorCode.UNKNOWN_AGREEMENT,
            )
        items = store.installments_of(work.connection, [agreement_id]).get(agreement_id, [])
    remaining = [
        (i.effective_due_date, i.balance_cents)
        for i in items
        if i.status == "open" and i.balance_cents > 0
    ]
    return PayoffQuote(
        agreement_id,
        sum(amount for _, amount in remaining),
        payoff_cents(remaining, row.interest_kind, row.interest_monthly_bp, today),
    )
