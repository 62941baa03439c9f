"""How a payment is applied to an invoice: fees due on the payment date first, then principal.

CC art. 354: unless agreed otherwise, a payment is imputed first to the interest due and then to
the principal; regua treats the multa the same way. Whether fees were due is decided by the
payment date, never the date the payment reached regua. Money beyond what was owed is a credit
for the customer, never silently dropped.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from regua.domain.fees import FeeTerms, charges
from regua.domain.money import Cents


class Settlement(NamedTuple):  # one per payment: a tuple is quicker to build than a dataclass
    fees_paid_cents: Cents
    principal_paid_cents: Cents
    credit_cents: Cents  # overpayment, kept for the customer
    new_balance_cents: Cents  # open principal after the payment

    @property
    def settles(self) -> bool:
        return self.new_balance_cents == 0


def apply_payment(
    balance_cents: Cents,
    due_date: date,
    paid_on: date,
    amount_cents: Cents,
    terms: FeeTerms,
) -> Settlement:
    """Split `amount_cents` paid on `paid_on` against an open principal of `balance_cents`."""
    if amount_cents < 0:
        raise ValueError("payment amount must not be negative")
    if paid_on <= due_date and balance_cents >= 0:
        fees_due = 0  # paid by the due date: on time whatever the calendar (return files: most)
    else:
        owed = charges(balance_cents, due_date, paid_on, terms)
        fees_due = owed.late_fee_cents + owed.interest_cents
    fees_paid = min(amount_cents, fees_due)
    remaining = amount_cents - fees_paid
    principal_paid = min(remaining, balance_cents)
    credit = remaining - principal_paid
    return Settlement(fees_paid, principal_paid, credit, balance_cents - principal_paid)
