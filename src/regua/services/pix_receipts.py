"""PIX received through the PSP's webhook: each Pix applied to the invoices of its txid.

A txid shown for several invoices (the portal's "pagar tudo por PIX", a grouped message) names
them all: its Pix is spread over them, oldest due date first (`reconciling.reconcile`).

Idempotent by endToEndId. A devolução (refund) the PSP reports for a Pix already applied is
reversed once per refund id: the principal the Pix had paid is reopened and the timeline says
so (`reconciling.reconcile` with refunds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from regua.domain.creditor_profile import read_pix_key
from regua.domain.money import Cents
from regua.domain.settlement import IncomingPayment
from regua.errors import InputError, NotFound
from regua.payments.webhooks import PixReceived
from regua.services.reconciling import IncomingRefund, RefundOutcome, reconcile, refund_key
from regua.services.reversing import record_given_back
from regua.store import creditors as creditor_store
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store.uow import UnitOfWorkFactory

SOURCE = "pix"


@dataclass(frozen=True)
class PixOutcome:
    end_to_end_id: str
    txid: str | None
    status: Literal["applied", "unmatched", "duplicate", "refunded"]
    amount_cents: Cents
    invoice_external_id: str | None = None
    invoice_number: str | None = None
    applied_cents: Cents = 0
    fees_cents: Cents = 0
    credit_cents: Cents = 0
    balance_cents: Cents | None = None
    invoice_status: str | None = None
    # A Pix whose txid names several invoices: what it paid on each, oldest due date first
    # (the figures above are their sums, the invoice the first).
    parts: tuple[PixOutcome, ...] = ()


@dataclass
class PixResult:
    items: list[PixOutcome]
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def with_status(self, status: str) -> list[PixOutcome]:
        return [item for item in self.items if item.status == status]


def receive_pix(
    uow: UnitOfWorkFactory, creditor_id: int, received: Sequence[PixReceived], *, now: datetime
) -> PixResult:
    """Apply the Pix of one webhook call in one transaction, matched by txid.

    Idempotent by endToEndId (source "pix"). A Pix whose txid matches no invoice is stored as
    unmatched money: the PSP gets a success answer and does not retry forever. The payment
    date is the instant of the Pix in the creditor's time zone.

    Settled devoluções (status DEVOLVIDO) give money back, once per devolução id: a Pix given
    back whole before regua ever applied it is stored as given back, applying nothing
    ("refunded"), so that its own notification arriving later is a duplicate and settles
    nothing; otherwise the Pix is applied and each devolução reverses its part
    (`reconciling.reconcile` with refunds), also when it is reported after the Pix was applied.
    """
    with uow() as work:
        result = _receive_pix(work.connection, creditor_id, received, now)
        work.commit()
    return result


def receive_pix_for_keys(
    uow: UnitOfWorkFactory, received: Sequence[PixReceived], *, now: datetime
) -> PixResult:
    """`receive_pix` for a webhook call of an installation that may hold several creditors:
    each Pix goes to the creditor whose Pix key (``chave``) received it, matched only against
    that creditor's invoices. With one creditor, a Pix without a key (or with another key)
    is that creditor's, as before.

    Raises:
        InputError: with several creditors, a Pix whose key is missing or no creditor's; the
            call is refused whole (the PSP retries once the key is registered).
    """
    with uow() as work:
        owners = _owners(work.connection, received)
        results: dict[int, PixResult] = {}
        # Creditors in id order: two calls lock them in the same order.
        for creditor_id in sorted(set(owners)):
            mine = [
                item for item, owner in zip(received, owners, strict=True) if owner == creditor_id
            ]
            results[creditor_id] = _receive_pix(work.connection, creditor_id, mine, now)
        work.commit()
    ordered = {creditor_id: iter(result.items) for creditor_id, result in results.items()}
    return PixResult(
        items=[next(ordered[owner]) for owner in owners],
        cancelled_actions=sum(r.cancelled_actions for r in results.values()),
        thank_you_actions=sum(r.thank_you_actions for r in results.values()),
    )


def _owners(conn: Connection, received: Sequence[PixReceived]) -> list[int]:
    """The creditor of each Pix, by the key that received it."""
    names = creditor_store.names(conn)
    if not names:
        raise NotFound("banco sem credor: rode `regua init` primeiro")
    owners = []
    for index, item in enumerate(received):
        owner = _owner_of_key(conn, item.key) if item.key else None
        if owner is None and len(names) == 1:
            owner = names[0].id
        if owner is None:
            why = (
                f"a chave {item.key} não é de nenhum credor deste banco (regua credor editar --pix)"
                if item.key
                else "campo ausente: com mais de um credor, a chave diz de quem é o Pix"
            )
            raise InputError(why, field=f"pix[{index}].chave")
        owners.append(owner)
    return owners


def _owner_of_key(conn: Connection, key: str) -> int | None:
    try:
        _kind, canonical = read_pix_key(key)
    except ValueError:
        canonical = key
    return creditor_store.find_by_pix_key(conn, canonical)


def _receive_pix(
    conn: Connection, creditor_id: int, received: Sequence[PixReceived], now: datetime
) -> PixResult:
    # Taken before anything is read: two calls carrying the same Pix (a PSP retry racing the
    # original) must not both find it new.
    zone = ZoneInfo(payment_store.lock_for_payments(conn, creditor_id).timezone)
    txids = sorted({item.txid for item in received if item.txid})
    by_txid: dict[str, int] = {}
    named: dict[str, list[int]] = {}
    if txids:
        by_txid = invoice_store.find_by_reference(conn, creditor_id, "pix_txid", txids)
        # A txid shown for several invoices (the portal's "pagar tudo", a grouped message)
        # names them all: its Pix is spread over them (`reconciling.reconcile`).
        named = invoice_store.all_by_reference(conn, creditor_id, "pix_txid", txids)
        for txid, ids in named.items():
            # Only in `pix_txid_invoices` when every invoice had a txid of its own.
            by_txid.setdefault(txid, ids[0])
    stored = payment_store.known_payments(
        conn, creditor_id, SOURCE, [item.end_to_end_id for item in received]
    )
    given_back: dict[str, PixOutcome] = {}  # given back whole before it was ever applied
    incoming: list[IncomingPayment] = []
    refunds: list[IncomingRefund] = []
    for item in received:
        payment = IncomingPayment(
            external_id=item.end_to_end_id,
            amount_cents=item.amount_cents,
            paid_on=item.paid_at.astimezone(zone).date(),
            invoice_id=by_txid.get(item.txid) if item.txid else None,
            reference=item.txid,
            method="pix",
            note=(item.payer_info or "")[:400] or None,
            more_invoice_ids=tuple(
                i for i in named.get(item.txid or "", []) if i != by_txid.get(item.txid or "")
            ),
        )
        settled = [
            IncomingRefund(
                external_id=refund_key(item.end_to_end_id, refund.id),
                payment_external_id=item.end_to_end_id,
                amount_cents=refund.amount_cents,
                refunded_on=(refund.settled_at or now).astimezone(zone).date(),
                reason=f"devolução Pix {refund.id}",
            )
            for refund in item.refunds
            if refund.settled
        ]
        if (
            item.end_to_end_id not in stored
            and item.amount_cents - item.refunded_cents <= 0
            and item.end_to_end_id not in given_back
            and all(p.external_id != item.end_to_end_id for p in incoming)
        ):
            # Recorded, not skipped: the Pix's own notification may still come (a retry, calls
            # out of order) and must then find it given back, not settle the invoice.
            given = record_given_back(conn, creditor_id, SOURCE, payment, settled, now)
            given_back[item.end_to_end_id] = PixOutcome(
                item.end_to_end_id,
                item.txid,
                "refunded",
                given,
                invoice_external_id=None,
            )
            stored[item.end_to_end_id] = (0, "reversed", payment.invoice_id)
            if payment.invoice_id is not None:
                names = invoice_store.names_of(conn, [payment.invoice_id]).get(payment.invoice_id)
                if names:
                    given_back[item.end_to_end_id] = replace(
                        given_back[item.end_to_end_id],
                        invoice_external_id=names[0],
                        invoice_number=names[1],
                    )
            continue
        incoming.append(payment)
        refunds.extend(settled)
    outcome = reconcile(conn, creditor_id, incoming, source=SOURCE, now=now, refunds=refunds)
    refunded: dict[str, list[RefundOutcome]] = defaultdict(list)
    for done in outcome.refunds:
        if done.status == "refunded":
            refunded[done.payment_external_id].append(done)
    invoice_ids = {
        i.invoice_id for p in outcome.payments for i in (p, *p.parts) if i.invoice_id is not None
    }
    numbers = invoice_store.names_of(conn, invoice_ids)
    # One outcome per incoming payment, in input order: an endToEndId listed twice has its
    # first outcome (applied) and then "duplicate", each reported as it is.
    outcomes = iter(outcome.payments)
    reported: set[str] = set()
    items = []
    for item in received:
        if item.end_to_end_id in given_back:
            first = item.end_to_end_id not in reported
            reported.add(item.end_to_end_id)
            gone = given_back[item.end_to_end_id]
            items.append(gone if first else replace(gone, status="duplicate"))
            continue
        result = next(outcomes)
        invoice = numbers.get(result.invoice_id) if result.invoice_id else None
        found = PixOutcome(
            end_to_end_id=item.end_to_end_id,
            txid=item.txid,
            status=result.status,
            amount_cents=result.amount_cents,
            invoice_external_id=invoice[0] if invoice else None,
            invoice_number=invoice[1] if invoice else None,
            applied_cents=result.applied_cents,
            fees_cents=result.fees_cents,
            credit_cents=result.credit_cents,
            balance_cents=result.balance_cents,
            invoice_status=result.invoice_status,
            parts=tuple(
                PixOutcome(
                    end_to_end_id=part.external_id,
                    txid=item.txid,
                    status=part.status,
                    amount_cents=part.amount_cents,
                    invoice_external_id=numbers[part.invoice_id][0],
                    invoice_number=numbers[part.invoice_id][1],
                    applied_cents=part.applied_cents,
                    fees_cents=part.fees_cents,
                    credit_cents=part.credit_cents,
                    balance_cents=part.balance_cents,
                    invoice_status=part.invoice_status,
                )
                for part in result.parts
                if part.invoice_id is not None
            ),
        )
        back = refunded.pop(item.end_to_end_id, [])
        if back:
            # Given back in this call: what stayed, and the invoice as the refunds left it. A Pix
            # applied by an earlier call is reported as refunded, with the amount given back.
            last = back[-1]
            given = sum(done.amount_cents for done in back)
            fees = sum(done.fees_cents for done in back)
            principal = sum(done.principal_cents for done in back)
            credit = sum(done.credit_cents for done in back)
            if result.status == "duplicate":
                found = replace(found, status="refunded", amount_cents=given)
            else:
                found = replace(
                    found,
                    amount_cents=found.amount_cents - given,
                    applied_cents=found.applied_cents - principal - fees,
                    fees_cents=found.fees_cents - fees,
                    credit_cents=found.credit_cents - credit,
                )
            found = replace(
                found, balance_cents=last.balance_cents, invoice_status=last.invoice_status
            )
            if found.parts or len({done.invoice_id for done in back}) > 1:
                # Spread over several invoices: what is open on them all after the refunds.
                open_now = {p.invoice_id: p.balance_cents for p in result.parts}
                open_now.update({done.invoice_id: done.balance_cents for done in back})
                found = replace(
                    found,
                    balance_cents=sum(b or 0 for b in open_now.values()),
                    invoice_status=None,
                )
            if found.invoice_number is None and last.invoice_id is not None:
                names = invoice_store.names_of(conn, [last.invoice_id])[last.invoice_id]
                found = replace(found, invoice_external_id=names[0], invoice_number=names[1])
        items.append(found)
    return PixResult(items, outcome.cancelled_actions, outcome.thank_you_actions)
