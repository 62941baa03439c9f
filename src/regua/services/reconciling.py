"""Money received applied to invoices: the core every way of receiving money goes through.

One call of `reconcile` is one transaction and does, set-based, everything a payment implies:

- the payment is recorded once: (creditor, source, external_id) is unique, so a replayed webhook
  or a return file imported twice adds nothing;
- it is applied with `domain.settlement.apply_payment`: fees due on the PAYMENT date first (CC
  art. 354), then principal; what is left open keeps the régua going; an overpayment is a credit;
- a settled invoice becomes `paid` with `settled_on`; its pending collection actions are
  cancelled and its customer gets one thank-you action (`thank_yous`);
- the customer's timeline gets a "paid" interaction;
- money nobody could match is stored with `invoice_id` NULL and status `unmatched`, so it shows
  in `regua payments` instead of vanishing; a later import that can match it applies it;
- a reversal (CNAB 44, Bradesco 22/40, a Pix devolução) marks the payment `reversed`, stores the
  opposite amounts (status `reversal`) and reopens the principal it had paid (`reversing`).

Payments, timeline entries and balances are written set-based (`store.payments.PaymentWrites`):
a return file of 100,000 lines costs a handful of statements, not 100,000 round trips.

Callers: `cnab_returns` (bank return files), `pix_receipts` (PIX webhooks) and the importer
(`apply_matched_payments`, payments already matched to invoices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from regua.domain.fees import FeeTerms
from regua.domain.money import format_brl
from regua.domain.settlement import (
    PAYABLE,
    IncomingPayment,
    InvoiceFacts,
    OutcomeStatus,
    PaymentOutcome,
    apply_payment,
    early_discount,
    fees_due,
    spread_payment,
)
from regua.services.reversing import (
    IncomingRefund,
    IncomingReversal,
    RefundOutcome,
    ReversalOutcome,
    part_key,
    refund,
    refund_key,
    reverse,
)
from regua.services.thank_yous import plan_thank_you_rows, read_thank_you_reach
from regua.store import actions as action_store
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store import timeline
from regua.store.plan_runs import first_day as first_plan_day

# A thank-you is for money that just arrived. A payment found in an old export (an ERP history
# imported on the first day) settles its invoice but thanking for it weeks later reads oddly.
THANK_YOU_MAX_AGE_DAYS = 7

__all__ = [
    "IncomingPayment",
    "IncomingRefund",
    "IncomingReversal",
    "InvoiceFacts",
    "PaymentOutcome",
    "Reconciliation",
    "RefundOutcome",
    "ReversalOutcome",
    "apply_matched_payments",
    "reconcile",
    "refund_key",
]


@dataclass
class Reconciliation:
    payments: list[PaymentOutcome] = field(default_factory=list)
    reversals: list[ReversalOutcome] = field(default_factory=list)
    refunds: list[RefundOutcome] = field(default_factory=list)
    settled_invoice_ids: list[int] = field(default_factory=list)
    reopened_invoice_ids: list[int] = field(default_factory=list)
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def count(self, status: OutcomeStatus) -> int:
        return sum(1 for p in self.payments if p.status == status)


def reconcile(
    conn: Connection,
    creditor_id: int,
    incoming: Sequence[IncomingPayment],
    *,
    source: str,
    now: datetime,
    terms: FeeTerms | None = None,
    reversals: Sequence[IncomingReversal] = (),
    refunds: Sequence[IncomingRefund] = (),
    day: date | None = None,
    invoices_read: Mapping[int, InvoiceFacts] | None = None,
    bank_amounts: Mapping[str, tuple[int, int]] | None = None,
) -> Reconciliation:
    """Record and apply `incoming` (then `reversals` and `refunds`) in the caller's transaction.

    Args:
        terms: fee settings; default the creditor's (the consumer cap is applied per customer).
        day: the day thank-you actions are planned for; default today in the creditor's zone.
        invoices_read: invoices the caller has already read in this transaction, after
            `store.payments.lock_for_payments` (matching by nosso número reads them anyway);
            the others are read here.
        bank_amounts: external id -> (bank fee, amount credited) of payments from a bank
            return file, stored beside what the payer paid.

    Returns:
        One outcome per incoming payment, in input order (duplicates included).
    """
    creditor = payment_store.lock_for_payments(conn, creditor_id)
    terms = terms or creditor.terms
    today = day or now.astimezone(ZoneInfo(creditor.timezone)).date()
    result = Reconciliation()

    known = payment_store.known_payments(
        conn, creditor_id, source, [p.external_id for p in incoming]
    )
    fresh, rematched = _fresh(incoming, known)
    wanted = {i for p in fresh for i in (p.invoice_id, *p.more_invoice_ids) if i}
    state = {i: invoices_read[i] for i in wanted if i in invoices_read} if invoices_read else {}
    state.update(invoice_store.payment_facts(conn, creditor_id, wanted - state.keys()))
    balances = {invoice_id: row.balance_cents for invoice_id, row in state.items()}
    fee_states = {invoice_id: row.fee_state for invoice_id, row in state.items()}
    # The consumer cap (CDC art. 52 §1) depends on the customer: one set of terms per case.
    # Fees are only due on a payment made after the due date, so only then is it read whether
    # the customer is a consumer: most of a return file is paid on time.
    terms_for = {flag: replace(terms, is_consumer=flag) for flag in (False, True)}
    consumers = payment_store.consumer_flags(
        conn,
        {
            state[i].customer_id
            for p in fresh
            for i in (p.invoice_id, *p.more_invoice_ids)
            if i in state and p.paid_on > state[i].due_date
        },
    )
    settled_on: dict[int, date] = {}
    discounts: dict[int, int] = {}
    outcomes: dict[str, PaymentOutcome] = {}
    written = payment_store.PaymentWrites(conn, creditor_id, source, now, bank_amounts)

    def terms_of(row: InvoiceFacts, paid_on: date) -> FeeTerms:
        return terms_for[consumers[row.customer_id]] if paid_on > row.due_date else terms

    def apply(payment: IncomingPayment, row: InvoiceFacts) -> PaymentOutcome:
        invoice_id = row.id
        balance = balances[invoice_id]
        if row.status in PAYABLE and balance > 0:
            # Paid early by the reminder's discounted amount: settled in full, the discount
            # recorded on the invoice.
            discount = early_discount(
                balance,
                payment.paid_on,
                payment.amount_cents,
                row.early_discount_cents,
                row.early_discount_until,
            )
            if discount:
                discounts[invoice_id] = discount
            split = apply_payment(
                balance - discount,
                row.due_date,
                payment.paid_on,
                payment.amount_cents,
                terms_of(row, payment.paid_on),  # on time: no fees
                fee_states[invoice_id],
            )
            fee_states[invoice_id] = split.fee_state
            fees, principal, credit = (
                split.fees_paid_cents,
                split.principal_paid_cents,
                split.credit_cents,
            )
            balance = balances[invoice_id] = split.new_balance_cents
            settles = split.settles and invoice_id not in settled_on
            if settles:
                settled_on[invoice_id] = payment.paid_on
        else:
            # Nothing open on it (already paid, cancelled): the money is the customer's credit.
            fees, principal, credit, settles = 0, 0, payment.amount_cents, False
        return PaymentOutcome(
            payment.external_id,
            "applied",
            payment.amount_cents,
            invoice_id=invoice_id,
            customer_id=row.customer_id,
            applied_cents=fees + principal,
            fees_cents=fees,
            credit_cents=credit,
            balance_cents=balance,
            settled=settles,
            invoice_status="paid" if invoice_id in settled_on else row.status,
        )

    def owed(row: InvoiceFacts, paid_on: date) -> int:
        """What settles `row` on `paid_on`: its balance less an early discount it earns, plus
        the fees due that day."""
        balance = balances[row.id]
        principal = balance - early_discount(
            balance, paid_on, balance, row.early_discount_cents, row.early_discount_until
        )
        return principal + fees_due(
            principal, row.due_date, paid_on, terms_of(row, paid_on), fee_states[row.id]
        )

    def apply_spread(payment: IncomingPayment, rows: list[InvoiceFacts]) -> PaymentOutcome:
        """One payment over the invoices its reference names: each part is stored as its own
        payment (the first keeps the external id, so a replay is still a duplicate; the others
        are `part_key`s), applied like any other."""
        payable = sorted(
            (r for r in rows if r.status in PAYABLE and balances[r.id] > 0),
            key=lambda r: (r.due_date, r.id),
        )
        if not payable:
            payable = rows[:1]  # all settled already: the money is credit on the first
        amounts = spread_payment([owed(r, payment.paid_on) for r in payable], payment.amount_cents)
        done: list[PaymentOutcome] = []
        for number, (row, amount) in enumerate(zip(payable, amounts, strict=False), start=1):
            part = payment._replace(
                external_id=part_key(payment.external_id, number),
                amount_cents=amount,
                invoice_id=row.id,
                more_invoice_ids=(),
                note=_part_note(payment, number, len(amounts)),
            )
            result = apply(part, row)
            stored_id = rematched.get(payment.external_id) if number == 1 else None
            written.applied(part, result, row.number, stored_id)
            done.append(result)
        first = done[0]
        return first._replace(
            external_id=payment.external_id,
            amount_cents=payment.amount_cents,
            applied_cents=sum(p.applied_cents for p in done),
            fees_cents=sum(p.fees_cents for p in done),
            credit_cents=sum(p.credit_cents for p in done),
            balance_cents=sum(p.balance_cents or 0 for p in done),
            settled=all(p.settled for p in done),
            parts=tuple(done) if len(done) > 1 else (),
        )

    # Payments to one invoice are applied in payment-date order whatever order they came in.
    ordered = sorted(
        fresh,
        key=lambda p: (p.invoice_id is None, p.invoice_id or 0, p.paid_on, p.external_id),
    )
    for payment in ordered:
        row = state.get(payment.invoice_id) if payment.invoice_id is not None else None
        if row is None:
            outcome = PaymentOutcome(payment.external_id, "unmatched", payment.amount_cents)
            outcomes[payment.external_id] = outcome
            if payment.external_id not in rematched:
                written.unmatched(payment, outcome)
            continue
        if payment.more_invoice_ids:
            rows = [row, *(state[i] for i in payment.more_invoice_ids if i in state)]
            outcomes[payment.external_id] = apply_spread(payment, rows)
            continue
        outcome = apply(payment, row)
        outcomes[payment.external_id] = outcome
        written.applied(payment, outcome, row.number, rematched.get(payment.external_id))

    changed_balances = [
        (
            invoice_id,
            balance,
            "paid" if invoice_id in settled_on else state[invoice_id].status,
            settled_on.get(invoice_id, state[invoice_id].settled_on),
            fee_states[invoice_id],
        )
        # In key order: the table's pages are visited once each, not at random.
        for invoice_id, balance in sorted(balances.items())
        if balance != state[invoice_id].balance_cents
        or invoice_id in settled_on
        or fee_states[invoice_id] != state[invoice_id].fee_state
    ]

    def recent() -> dict[int, int]:
        """Invoice id -> customer id of the invoices settled by money recent enough to thank:
        paid in the last days, and not before the régua's first run. The payments loaded while
        a creditor is brought in (its ERP's last days of receipts) were made before regua
        collected anything: thanking them would thank hundreds of people for nothing regua
        asked."""
        began = first_plan_day(conn, creditor_id)
        if began is None:
            return {}
        since = max(today - timedelta(days=THANK_YOU_MAX_AGE_DAYS), began)
        return {
            invoice_id: state[invoice_id].customer_id
            for invoice_id, paid_on in settled_on.items()
            if paid_on >= since
        }

    # Without reversals or refunds nothing reopens an invoice: whom to thank is known before
    # the writes, and their actions are made while the database updates the balances.
    reach = None if reversals or refunds else read_thank_you_reach(conn, creditor_id, recent(), now)
    thank_yous = written.store(
        conn, changed_balances, lambda: plan_thank_you_rows(reach) if reach is not None else None
    )

    if discounts:
        _record_discounts(conn, discounts, state, now)

    if reversals:
        result.reversals, reopened = reverse(conn, creditor_id, source, reversals, now, terms)
        result.reopened_invoice_ids.extend(reopened)
    if refunds:
        result.refunds, reopened = refund(conn, creditor_id, source, refunds, now, terms)
        result.reopened_invoice_ids.extend(reopened)
    for invoice_id in result.reopened_invoice_ids:
        settled_on.pop(invoice_id, None)  # paid and reversed in one call: open again

    settled = sorted(settled_on)
    result.settled_invoice_ids = settled
    # Pending collection actions about the settled invoices that no longer cover anything
    # open: the daily sweep's rule for just these invoices.
    result.cancelled_actions = action_store.cancel_unbacked(conn, invoice_ids=settled)
    if thank_yous is None:
        thank_yous = plan_thank_you_rows(read_thank_you_reach(conn, creditor_id, recent(), now))
    # Unique per (customer, day, purpose): a second settlement the same day adds its invoice
    # to the same thank-you.
    result.thank_you_actions = action_store.insert_thank_yous(
        conn, creditor_id, thank_yous, today, now
    )
    result.payments = _in_input_order(incoming, outcomes, known)
    return result


def _record_discounts(
    conn: Connection, discounts: Mapping[int, int], state: Mapping[int, InvoiceFacts], now: datetime
) -> None:
    """The early-payment discounts granted, on the invoices and their customers' timelines."""
    invoice_store.record_discounts(conn, discounts)
    for invoice_id, discount in sorted(discounts.items()):
        row = state[invoice_id]
        timeline.add_entry(
            conn,
            customer_id=row.customer_id,
            invoice_id=invoice_id,
            at=now,
            kind="discount",
            detail=f"fatura {row.number} quitada com desconto por antecipação de "
            f"{format_brl(discount)} (pago até {row.early_discount_until:%d/%m/%Y})",
            data={"invoice_id": invoice_id, "early_discount_cents": discount},
        )


def apply_matched_payments(
    conn: Connection,
    creditor_id: int,
    new_payments: Sequence[dict[str, Any]],
    *,
    source: str,
    now: datetime,
    terms: FeeTerms,
) -> list[int]:
    """Record payments already matched to invoices and apply them (see `reconcile`).

    Each dict has external_id, invoice_id, amount_cents, paid_on and optionally method and
    reference (str). Returns the ids of the invoices that became settled.
    """
    if not new_payments:
        return []
    incoming = [
        IncomingPayment(
            external_id=p["external_id"],
            amount_cents=p["amount_cents"],
            paid_on=p["paid_on"],
            invoice_id=p["invoice_id"],
            reference=p["reference"] if isinstance(p.get("reference"), str) else None,
            method=p.get("method"),
        )
        for p in new_payments
    ]
    result = reconcile(conn, creditor_id, incoming, source=source, now=now, terms=terms)
    return result.settled_invoice_ids


def _part_note(payment: IncomingPayment, number: int, parts: int) -> str:
    """What `regua payments` shows beside one part of a payment spread over several invoices."""
    note = f"parte {number} de {parts} de {format_brl(payment.amount_cents)}"
    if payment.reference:
        note += f" ({payment.reference})"
    return f"{note}: {payment.note}"[:400] if payment.note else note


def _fresh(
    incoming: Sequence[IncomingPayment], known: dict[str, tuple[int, str, int | None]]
) -> tuple[list[IncomingPayment], dict[str, int]]:
    """What to apply: new ids once each, and unmatched money that can now be matched.

    Returns the payments and, for the second kind, external id -> id of the stored row.
    """
    seen: set[str] = set()
    fresh: list[IncomingPayment] = []
    rematched: dict[str, int] = {}
    for payment in incoming:
        previous = known.get(payment.external_id)
        if payment.external_id in seen or (
            previous is not None and (previous[1] != "unmatched" or payment.invoice_id is None)
        ):
            continue
        seen.add(payment.external_id)
        fresh.append(payment)
        if previous is not None:
            rematched[payment.external_id] = previous[0]
    return fresh, rematched


def _in_input_order(
    incoming: Sequence[IncomingPayment],
    outcomes: dict[str, PaymentOutcome],
    known: dict[str, tuple[int, str, int | None]],
) -> list[PaymentOutcome]:
    ordered: list[PaymentOutcome] = []
    emitted: set[str] = set()
    for payment in incoming:
        found = outcomes.get(payment.external_id)
        if found is None or payment.external_id in emitted:
            # Stored before, or listed twice in this input: the money was counted once.
            previous = known.get(payment.external_id)
            found = PaymentOutcome(
                payment.external_id,
                "duplicate",
                payment.amount_cents,
                invoice_id=previous[2] if previous else found.invoice_id if found else None,
            )
        emitted.add(payment.external_id)
        ordered.append(found)
    return ordered
