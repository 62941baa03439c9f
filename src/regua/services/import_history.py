"""The payment history an invoice file carries: an invoice row with its payment date (and the
amount paid) records that payment, dated when it was made.

The invoice itself is written as the ERP says it is (paid, with `settled_on` the payment date;
or open with what is left), so the segment refresh of the first `regua run` already reads who
pays on time. The payment rows and their timeline entries are written as a reconciliation
writes them (`store.payments.PaymentWrites`), without applying the money again: the ERP already
split it. No thank-you is planned for money received weeks ago.

An invoice regua already has money for (a bank return file, a PIX) gets no second payment from
the ERP's history: the same money would count twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from regua.domain.settlement import IncomingPayment, PaymentOutcome
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store

SOURCE = "import"


@dataclass(frozen=True)
class PaidInvoice:
    """What an imported invoice row says was paid on it."""

    external_id: str
    number: str
    customer_id: int
    amount_cents: int
    status: str
    balance_cents: int  # after the payment, as stored
    paid_on: date
    paid_cents: int | None  # None: the file has no amount paid


def payment_id(external_id: str, paid_on: date) -> str:
    """The payment's id: the invoice's and the day, so a second import adds nothing."""
    return f"{external_id}:{paid_on:%Y%m%d}"


def record_history(
    conn: Connection,
    creditor_id: int,
    paid: Sequence[PaidInvoice],
    *,
    invoice_ids: dict[str, int],
    now: datetime,
) -> int:
    """Store the payments of `paid` (their invoices by external id in `invoice_ids`) not
    already stored; how many were stored."""
    if not paid:
        return 0
    known = payment_store.known_payments(
        conn, creditor_id, SOURCE, [payment_id(p.external_id, p.paid_on) for p in paid]
    )
    with_money = payment_store.invoices_with_any_payment(conn, invoice_ids.values())
    written = payment_store.PaymentWrites(conn, creditor_id, SOURCE, now)
    stored = 0
    for invoice in paid:
        key = payment_id(invoice.external_id, invoice.paid_on)
        invoice_id = invoice_ids[invoice.external_id]
        if key in known or invoice_id in with_money:
            continue
        settled = invoice.status == "paid"
        amount = invoice.paid_cents
        if amount is None:
            amount = (
                invoice.amount_cents if settled else invoice.amount_cents - invoice.balance_cents
            )
        if amount <= 0:
            continue
        # What was paid over the amount settled the multa and juros the ERP charged.
        fees = max(0, amount - invoice.amount_cents) if settled else 0
        outcome = PaymentOutcome(
            key,
            "applied",
            amount,
            invoice_id=invoice_id,
            customer_id=invoice.customer_id,
            applied_cents=amount,
            fees_cents=fees,
            credit_cents=0,
            balance_cents=invoice.balance_cents,
            settled=settled,
            invoice_status=invoice.status,
        )
        incoming = IncomingPayment(
            key, amount, invoice.paid_on, invoice_id, reference=invoice.external_id
        )
        written.applied(incoming, outcome, invoice.number, None)
        stored += 1
    if stored:
        written.store(conn, [], lambda: None)
    return stored


def invoice_ids(conn: Connection, creditor_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    return invoice_store.ids_by_external(conn, creditor_id, external_ids)
