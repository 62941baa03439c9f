"""Money taken back: reversals the bank reports (CNAB 44, Bradesco 22/40) and refunds a PSP
reports (Pix devoluções), each undoing what a stored payment had done to its invoice.

Both run inside `reconciling.reconcile`, after the payments of the same call are applied, and
are idempotent by their own external ids. Each is stored as a `reversal` row with the opposite
amounts; the principal it takes back is reopened on the invoice (a paid invoice becomes open
again and its unsent thank-you is cancelled); the invoice's timeline says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from regua.domain.fees import NO_FEES_SETTLED, FeeTerms
from regua.domain.money import Cents
from regua.domain.payment_texts import method_label, refund_detail, reversal_detail
from regua.domain.settlement import IncomingPayment, InvoiceFacts, fee_state_after, given_back
from regua.store import actions, timeline
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store

REFUND_MARK = ":devolucao:"
PART_MARK = ":parte:"


@dataclass(frozen=True)
class IncomingReversal:
    """The bank undid a payment (cheque returned, payment cancelled)."""

    external_id: str
    invoice_id: int
    amount_cents: Cents  # as the bank reports it; picks the payment when there are several
    reversed_on: date
    reason: str  # pt-BR, for the timeline: "ocorrência 44: título pago com cheque devolvido"


@dataclass(frozen=True)
class ReversalOutcome:
    external_id: str
    invoice_id: int
    status: Literal["reversed", "duplicate", "nothing_to_reverse"]
    reversed_external_id: str | None = None
    principal_cents: Cents = 0  # reopened on the invoice


@dataclass(frozen=True)
class IncomingRefund:
    """Money given back to the payer (a Pix devolução): part or all of a stored payment."""

    external_id: str  # unique per refund: see `refund_key`
    payment_external_id: str  # the payment (same source) the money was given back from
    amount_cents: Cents
    refunded_on: date
    reason: str  # pt-BR, for the timeline: "devolução D123 pelo PSP"


@dataclass(frozen=True)
class RefundOutcome:
    external_id: str
    payment_external_id: str
    status: Literal["refunded", "duplicate", "nothing_to_refund"]
    invoice_id: int | None = None
    amount_cents: Cents = 0  # given back out of the payment
    principal_cents: Cents = 0  # reopened on the invoice
    balance_cents: Cents | None = None  # invoice balance after the refund
    invoice_status: str | None = None
    fees_cents: Cents = 0  # of the multa and juros the payment had paid
    credit_cents: Cents = 0  # of the credit the payment had left


def refund_key(payment_external_id: str, refund_id: str) -> str:
    """External id of one refund of one payment: ``<endToEndId>:devolucao:<id>``."""
    return f"{payment_external_id}{REFUND_MARK}{refund_id}"


def part_key(payment_external_id: str, number: int) -> str:
    """External id of part `number` (from 1) of a payment spread over several invoices: the
    first part keeps the payment's own id, so that a replay of the payment is a duplicate; the
    others are ``<endToEndId>:parte:<n>``."""
    return payment_external_id if number == 1 else f"{payment_external_id}{PART_MARK}{number}"


def reverse(
    conn: Connection,
    creditor_id: int,
    source: str,
    reversals: Sequence[IncomingReversal],
    now: datetime,
    terms: FeeTerms | None = None,
) -> tuple[list[ReversalOutcome], list[int]]:
    """Undo the payments the bank reversed; returns the outcomes and the invoices reopened."""
    outcomes: list[ReversalOutcome] = []
    reopened_ids: list[int] = []
    known = payment_store.known_payments(
        conn, creditor_id, source, [r.external_id for r in reversals]
    )
    todo: list[IncomingReversal] = []
    for reversal in reversals:
        if reversal.external_id in known or any(
            t.external_id == reversal.external_id for t in todo
        ):
            outcomes.append(ReversalOutcome(reversal.external_id, reversal.invoice_id, "duplicate"))
        else:
            todo.append(reversal)
    if not todo:
        return outcomes, reopened_ids
    candidates = payment_store.reversible_payments(
        conn, creditor_id, source, (r.invoice_id for r in todo)
    )
    state = invoice_store.payment_facts(conn, creditor_id, {r.invoice_id for r in todo})
    for reversal in todo:
        pool = candidates.get(reversal.invoice_id, [])
        original = next((p for p in pool if p.amount_cents == reversal.amount_cents), None)
        original = original or (pool[0] if pool else None)
        invoice = state.get(reversal.invoice_id)
        if original is None or invoice is None:
            outcomes.append(
                ReversalOutcome(reversal.external_id, reversal.invoice_id, "nothing_to_reverse")
            )
            continue
        pool.remove(original)
        principal = original.applied_cents - original.fees_cents
        invoice, reopened = given_back(invoice, principal)
        state[invoice.id] = invoice  # a second reversal of the same invoice starts from here
        if reopened:
            reopened_ids.append(invoice.id)
        payment_store.mark_reversed(conn, original.id, f"estornado: {reversal.reason}")
        invoice = state[invoice.id] = with_fees_replayed(conn, invoice, terms)
        payment_store.insert_reversal(
            conn,
            original,
            reversal.external_id,
            (
                original.amount_cents,
                original.applied_cents,
                original.fees_cents,
                original.credit_cents,
            ),
            reversal.reversed_on,
            f"estorno de {original.external_id}",
            now,
        )
        invoice_store.write_balance(conn, invoice, now)
        timeline.add_entry(
            conn,
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            at=now,
            kind="payment_reversed",
            detail=reversal_detail(
                original.amount_cents,
                original.paid_on,
                reversal.reason,
                invoice.balance_cents,
                reopened,
            ),
            data={
                "external_id": reversal.external_id,
                "reversed": original.external_id,
                "principal_cents": principal,
            },
        )
        outcomes.append(
            ReversalOutcome(
                reversal.external_id,
                reversal.invoice_id,
                "reversed",
                original.external_id,
                principal,
            )
        )
    if reopened_ids:
        # A thank-you not sent yet for an invoice open again would thank for nothing.
        actions.cancel_thank_yous(conn, reopened_ids)
    return outcomes, reopened_ids


def refund(
    conn: Connection,
    creditor_id: int,
    source: str,
    refunds: Sequence[IncomingRefund],
    now: datetime,
    terms: FeeTerms | None = None,
) -> tuple[list[RefundOutcome], list[int]]:
    """Give back part or all of stored payments, once per refund id.

    A refund is taken first from what the payment left as credit (an overpayment given back
    changes no invoice), then from the principal it paid, then from the fees it paid. A payment
    given back whole becomes `reversed`. Returns the outcomes (one per part of a payment the
    refund touched) and the invoices reopened.

    A payment spread over several invoices (`part_key`) is given back from its newest part
    first: the parts paid the oldest invoices first, so taking back from the newest leaves the
    money that stays where a payment of that smaller amount would have gone, and the credit
    (kept on the newest part) is what goes back first, as for a single invoice. Each part
    touched gets its own `reversal` row, ``refund_key(<part's id>, <refund id>)``.
    """
    outcomes: list[RefundOutcome] = []
    parts = payment_store.payment_parts(
        conn, creditor_id, source, {r.payment_external_id for r in refunds}, PART_MARK
    )

    def keys(incoming: IncomingRefund) -> list[str]:
        """The external ids its reversal rows may have, one per part of the payment."""
        suffix = incoming.external_id.removeprefix(incoming.payment_external_id)
        found = [row.external_id + suffix for row in parts.get(incoming.payment_external_id, [])]
        return found or [incoming.external_id]

    known = payment_store.known_payments(
        conn, creditor_id, source, [key for r in refunds for key in keys(r)]
    )
    seen: set[str] = set()
    todo: list[IncomingRefund] = []
    for incoming in refunds:
        if incoming.external_id in seen or any(key in known for key in keys(incoming)):
            outcomes.append(
                RefundOutcome(incoming.external_id, incoming.payment_external_id, "duplicate")
            )
        else:
            seen.add(incoming.external_id)
            todo.append(incoming)
    if not todo:
        return outcomes, []
    refundable = {
        external_id: [row for row in rows if row.status in ("applied", "unmatched")]
        for external_id, rows in parts.items()
    }
    # What earlier refunds already gave back, per part: amount, principal, fees, credit.
    given = payment_store.given_back_so_far(
        conn,
        creditor_id,
        source,
        [row.external_id for rows in refundable.values() for row in rows],
        REFUND_MARK,
    )
    state = invoice_store.payment_facts(
        conn,
        creditor_id,
        {row.invoice_id for rows in refundable.values() for row in rows if row.invoice_id},
    )
    reopened: list[int] = []
    for incoming in todo:
        left = incoming.amount_cents
        touched = False
        suffix = incoming.external_id.removeprefix(incoming.payment_external_id)
        for original in reversed(refundable.get(incoming.payment_external_id, [])):
            back = given[original.external_id]
            give = min(left, original.amount_cents - back[0])
            if give <= 0:
                continue
            left -= give
            touched = True
            outcomes.append(
                _refund_part(
                    conn,
                    (original, back, state),
                    replace(incoming, external_id=original.external_id + suffix),
                    give,
                    source,
                    now,
                    reopened,
                    terms,
                )
            )
            if left <= 0:
                break
        if not touched:
            outcomes.append(
                RefundOutcome(
                    incoming.external_id, incoming.payment_external_id, "nothing_to_refund"
                )
            )
    if reopened:
        actions.cancel_thank_yous(conn, reopened)
    return outcomes, reopened


def _refund_part(
    conn: Connection,
    found: tuple[Any, list[int], dict[int, InvoiceFacts]],
    incoming: IncomingRefund,
    give: Cents,
    source: str,
    now: datetime,
    reopened: list[int],
    terms: FeeTerms | None = None,
) -> RefundOutcome:
    """Give back `give` of one stored payment (`found`: its row, what was given back of it
    so far, the invoices as they stand), under the refund's external id for that payment."""
    original, back, state = found
    from_credit = min(give, original.credit_cents - back[3])
    from_principal = min(give - from_credit, original.applied_cents - original.fees_cents - back[1])
    from_fees = min(give - from_credit - from_principal, original.fees_cents - back[2])
    back[0] += give
    back[1] += from_principal
    back[2] += from_fees
    back[3] += from_credit
    payment_store.insert_reversal(
        conn,
        original,
        incoming.external_id,
        (give, from_principal + from_fees, from_fees, from_credit),
        incoming.refunded_on,
        f"devolução de {original.external_id}",
        now,
    )
    whole = back[0] >= original.amount_cents
    if whole:
        payment_store.mark_reversed(conn, original.id, f"devolvido: {incoming.reason}")
    invoice = state.get(original.invoice_id) if original.invoice_id else None
    if invoice is None:
        return RefundOutcome(
            incoming.external_id, incoming.payment_external_id, "refunded", amount_cents=give
        )
    fees_before = invoice.fee_state
    if whole:
        invoice = with_fees_replayed(conn, invoice, terms)
    elif from_fees:
        # Fees it had paid given back: owed again, carried like fees a payment did not cover.
        invoice = invoice._replace(
            fee_state=fees_before._replace(unpaid_cents=fees_before.unpaid_cents + from_fees)
        )
    invoice, reopen = given_back(invoice, from_principal)
    if reopen and (discount := invoice_store.granted_discount(conn, invoice.id)):
        # The early-payment discount was earned by the payment that came back: the debt is
        # whole again, and the discount offered stays for a new payment in time.
        invoice = invoice._replace(balance_cents=invoice.balance_cents + discount)
        invoice_store.clear_granted_discount(conn, invoice.id)
    balance = invoice.balance_cents
    state[invoice.id] = invoice  # a second refund of the same invoice starts from here
    if reopen:
        reopened.append(invoice.id)
    if from_principal or invoice.fee_state != fees_before:
        invoice_store.write_balance(conn, invoice, now)
    _record_refund(
        conn,
        invoice,
        now,
        (incoming.external_id, original.external_id, incoming.reason),
        (give, original.amount_cents, method_label(original.method or source), original.paid_on),
        (from_principal, from_fees, from_credit),
        reopened=reopen,
    )
    return RefundOutcome(
        incoming.external_id,
        incoming.payment_external_id,
        "refunded",
        invoice.id,
        give,
        from_principal,
        balance,
        invoice.status,
        from_fees,
        from_credit,
    )


def with_fees_replayed(
    conn: Connection, invoice: InvoiceFacts, terms: FeeTerms | None
) -> InvoiceFacts:
    """The invoice with the fee state its remaining payments leave (`fee_state_after`): a
    payment given back no longer settles the multa or the juros it paid."""
    standing = payment_store.applied_to(conn, invoice.id)
    if not standing:
        return invoice._replace(fee_state=NO_FEES_SETTLED)
    if terms is None:
        return invoice
    consumer = payment_store.consumer_flags(conn, [invoice.customer_id]).get(
        invoice.customer_id, True
    )
    before = invoice.balance_cents + sum(applied - fees for _, applied, fees in standing)
    state = fee_state_after(
        before,
        invoice.due_date,
        [(paid_on, applied) for paid_on, applied, _ in standing],
        replace(terms, is_consumer=consumer),
    )
    return invoice._replace(fee_state=state)


def record_given_back(
    conn: Connection,
    creditor_id: int,
    source: str,
    payment: IncomingPayment,
    refunds: Sequence[IncomingRefund],
    now: datetime,
) -> Cents:
    """Store a payment reported already given back whole, before it was ever applied.

    The payment is kept as `reversed` (it paid nothing) with one `reversal` row per refund, so
    that when its own notification arrives later (a PSP retry, calls out of order) it is known
    and counted as a duplicate instead of settling an invoice whose money went back. The
    invoice's balance does not change; its timeline says what came and went. Returns the amount
    given back.
    """
    invoice = None
    if payment.invoice_id is not None:
        invoice = invoice_store.payment_facts(conn, creditor_id, [payment.invoice_id]).get(
            payment.invoice_id
        )
    if invoice is None:
        payment = payment._replace(invoice_id=None)
    reasons = ", ".join(r.reason for r in refunds)
    original = payment_store.insert_given_back(
        conn,
        creditor_id,
        source,
        payment,
        invoice.customer_id if invoice is not None else None,
        f"devolvido antes de ser aplicado: {reasons}",
        now,
    )
    left = payment.amount_cents
    for incoming in refunds:
        give = min(incoming.amount_cents, left)
        if give <= 0:
            break
        left -= give
        payment_store.insert_reversal(
            conn,
            original,
            incoming.external_id,
            (give, 0, 0, 0),
            incoming.refunded_on,
            f"devolução de {original.external_id}",
            now,
        )
    given = payment.amount_cents - left
    if invoice is not None:
        _record_refund(
            conn,
            invoice,
            now,
            (payment.external_id, payment.external_id, reasons),
            (given, payment.amount_cents, method_label(payment.method or source), payment.paid_on),
            (0, 0, 0),
            reopened=False,
        )
    return given


def _record_refund(
    conn: Connection,
    invoice: InvoiceFacts,
    now: datetime,
    ids: tuple[str, str, str],
    paid: tuple[Cents, Cents, str, date],
    parts: tuple[Cents, Cents, Cents],
    *,
    reopened: bool,
) -> None:
    """The refund on the customer's timeline: `ids` (the refund's id, the payment's, the
    reason), `paid` (given back, paid, method, paid on) and `parts` (principal, fees, credit
    given back)."""
    refund_id, refunded, reason = ids
    given, amount, method, paid_on = paid
    principal, fees, credit = parts
    timeline.add_entry(
        conn,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        at=now,
        kind="payment_reversed",
        detail=refund_detail(
            given,
            amount,
            method,
            paid_on,
            invoice.number,
            reason,
            balance_cents=invoice.balance_cents,
            reopened=reopened,
            principal_cents=principal,
            credit_cents=credit,
        ),
        data={
            "external_id": refund_id,
            "refunded": refunded,
            "amount_cents": given,
            "principal_cents": principal,
            "fees_cents": fees,
            "credit_cents": credit,
        },
    )
