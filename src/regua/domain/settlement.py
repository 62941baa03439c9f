"""How a payment is applied to an invoice: fees due on the payment date first, then principal.

CC art. 354: unless agreed otherwise, a payment is imputed first to the interest due and then to
the principal; regua treats the multa the same way. Whether fees were due is decided by the
payment date, never the date the payment reached regua. Money beyond what was owed is a credit
for the customer, never silently dropped.

Also the shapes money travels in while it is applied (`IncomingPayment`, `PaymentOutcome`,
`InvoiceFacts`) and what a reversal does to an invoice (`given_back`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, NamedTuple

from regua.domain.calendar import effective_due_date
from regua.domain.fees import NO_FEES_SETTLED, FeeState, FeeTerms, charges
from regua.domain.money import Cents


class Settlement(NamedTuple):  # one per payment: a tuple is quicker to build than a dataclass
    fees_paid_cents: Cents
    principal_paid_cents: Cents
    credit_cents: Cents  # overpayment, kept for the customer
    new_balance_cents: Cents  # open principal after the payment
    fee_state: FeeState = NO_FEES_SETTLED  # what the invoice's fees stand at afterwards

    @property
    def settles(self) -> bool:
        return self.new_balance_cents == 0


def apply_payment(
    balance_cents: Cents,
    due_date: date,
    paid_on: date,
    amount_cents: Cents,
    terms: FeeTerms,
    settled: FeeState = NO_FEES_SETTLED,
) -> Settlement:
    """Split `amount_cents` paid on `paid_on` against an open principal of `balance_cents`,
    given what earlier payments `settled` of its fees.

    A late payment settles the fees due on its date: what it does not cover of them is carried
    (`FeeState.unpaid_cents`), never dropped, and is paid first by the next payment.
    """
    if amount_cents < 0:
        raise ValueError("payment amount must not be negative")
    due = fees_due(balance_cents, due_date, paid_on, terms, settled)
    fees_paid = min(amount_cents, due)
    remaining = amount_cents - fees_paid
    principal_paid = min(remaining, balance_cents)
    credit = remaining - principal_paid
    state = settled
    if paid_on > effective_due_date(due_date):
        through = paid_on if settled.paid_through is None else max(paid_on, settled.paid_through)
        state = FeeState(through, due - fees_paid)
    elif settled.unpaid_cents:
        state = settled._replace(unpaid_cents=due - fees_paid)
    return Settlement(fees_paid, principal_paid, credit, balance_cents - principal_paid, state)


def fees_due(
    balance_cents: Cents,
    due_date: date,
    paid_on: date,
    terms: FeeTerms,
    settled: FeeState = NO_FEES_SETTLED,
) -> Cents:
    """Multa and juros due on an open principal of `balance_cents` paid on `paid_on`, with the
    fees earlier payments left unpaid."""
    if paid_on <= due_date and balance_cents >= 0 and not settled.unpaid_cents:
        return 0  # paid by the due date: on time whatever the calendar (return files: most)
    return charges(balance_cents, due_date, paid_on, terms, settled).fees_cents


def fee_state_after(
    balance_cents: Cents,
    due_date: date,
    payments: Sequence[tuple[date, Cents]],
    terms: FeeTerms,
) -> FeeState:
    """The fee state left by `payments` (payment date, amount applied to fees and principal),
    replayed in date order over the principal open before them: what a reversal leaves is the
    state of the payments that remain."""
    state = NO_FEES_SETTLED
    balance = balance_cents
    for paid_on, applied in sorted(payments):
        split = apply_payment(balance, due_date, paid_on, applied, terms, state)
        balance, state = split.new_balance_cents, split.fee_state
    return state


def spread_payment(owed_cents: Sequence[Cents], amount_cents: Cents) -> list[Cents]:
    """How one payment naming several invoices (a Pix code for a group of them) is shared:
    `owed_cents` is what settles each on the payment day, oldest due date first.

    Each invoice in that order gets what it owes, or what is left; whatever remains after the
    last goes to the last (it becomes the customer's credit there). Invoices the money does not
    reach get nothing and are left out, so a smaller payment pays the oldest first. Never empty:
    with nothing owed anywhere the whole amount goes to the first.
    """
    parts: list[Cents] = []
    left = amount_cents
    for owed in owed_cents:
        if left <= 0 and parts:
            break
        parts.append(min(left, owed))
        left -= parts[-1]
    if not parts:
        parts.append(0)
    parts[-1] += left
    return parts


def offered_discount(
    balance_cents: Cents, today: date, offered_cents: Cents | None, offered_until: date | None
) -> Cents:
    """The early-payment discount an invoice still has on offer `today` (0: none): what a
    payment of the balance less it, made today, earns (`early_discount`). A discount as large as
    the balance is no discount anyone was told of: none."""
    if not offered_cents or offered_until is None or today > offered_until:
        return 0
    return offered_cents if offered_cents < balance_cents else 0


def early_discount(
    balance_cents: Cents,
    paid_on: date,
    amount_cents: Cents,
    offered_cents: Cents | None,
    offered_until: date | None,
) -> Cents:
    """The early-payment discount a payment earns on an invoice whose preventive reminder
    offered `offered_cents` off when paid by `offered_until`: all of it when at least the
    balance less it is paid by that day, nothing otherwise (a later or smaller payment counts as
    usual). The payer was told the discounted amount: paying it settles the invoice in full."""
    if not offered_cents or offered_until is None or paid_on > offered_until:
        return 0
    discount = min(offered_cents, balance_cents)
    return discount if amount_cents >= balance_cents - discount else 0


# Statuses whose balance a payment still reduces: "open" before settled when matching.
PAYABLE = ("open", "disputed", "in_agreement")

OutcomeStatus = Literal["applied", "unmatched", "duplicate"]


class IncomingPayment(NamedTuple):
    """Money received; `invoice_id` None means nobody could tell which invoice it pays.

    Named tuples here and in `PaymentOutcome`: a return file makes 100,000 of each, and a
    tuple is built at a third of a frozen dataclass's cost.
    """

    external_id: str  # unique per source: CNAB line key, PIX endToEndId, ERP payment id
    amount_cents: Cents
    paid_on: date  # decides whether fees were due, never the day it reached regua
    invoice_id: int | None = None
    reference: str | None = None  # nosso número, txid, invoice id as the payer gave it
    method: str | None = None
    note: str | None = None
    # Other invoices the same reference names (a Pix code shown for several): the payment is
    # spread over all of them, oldest due date first (`spread_payment`).
    more_invoice_ids: tuple[int, ...] = ()


class PaymentOutcome(NamedTuple):
    """What one incoming payment did (see `IncomingPayment` on why a named tuple)."""

    external_id: str
    status: OutcomeStatus
    amount_cents: Cents
    invoice_id: int | None = None
    customer_id: int | None = None
    applied_cents: Cents = 0  # fees + principal
    fees_cents: Cents = 0
    credit_cents: Cents = 0
    balance_cents: Cents | None = None  # invoice balance after this payment
    settled: bool = False  # this payment paid the invoice off
    invoice_status: str | None = None
    # A payment spread over several invoices: what it did to each, oldest due date first (the
    # figures above are their sums and the first's invoice).
    parts: tuple[PaymentOutcome, ...] = ()


class InvoiceFacts(NamedTuple):
    """What applying a payment needs to know about its invoice.

    A named tuple: a return file reads 100,000 of them, and a tuple is built at a fraction of
    the cost of a frozen dataclass.
    """

    id: int
    customer_id: int
    number: str
    due_date: date
    balance_cents: Cents
    status: str
    settled_on: date | None
    early_discount_cents: Cents | None = None  # offered by a preventive reminder, see
    early_discount_until: date | None = None  # `early_discount`
    fee_state: FeeState = NO_FEES_SETTLED  # what earlier late payments settled of the fees


def given_back(invoice: InvoiceFacts, principal: Cents) -> tuple[InvoiceFacts, bool]:
    """The invoice after `principal` of a payment came back; whether a paid one reopened."""
    balance = invoice.balance_cents + principal
    reopened = invoice.status == "paid" and balance > 0
    return (
        invoice._replace(
            balance_cents=balance,
            status="open" if reopened else invoice.status,
            settled_on=None if reopened else invoice.settled_on,
        ),
        reopened,
    )
