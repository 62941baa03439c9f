"""PIX received through the PSP's webhook: each Pix applied to the invoice of its txid.

Idempotent by endToEndId. A devolução (refund) the PSP reports for a Pix already applied is
reversed once per refund id: the principal the Pix had paid is reopened and the timeline says
so (`settling.reconcile` with reversals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from regua.domain.money import Cents
from regua.errors import NotFound
from regua.payments.webhooks import PixReceived
from regua.services.settling import IncomingPayment, lookup_invoices, reconcile
from regua.store.tables import creditors, invoices


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


@dataclass
class PixResult:
    items: list[PixOutcome]
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def with_status(self, status: str) -> list[PixOutcome]:
        return [item for item in self.items if item.status == status]


def receive_pix(
    engine: Engine, creditor_id: int, received: Sequence[PixReceived], *, now: datetime
) -> PixResult:
    """Apply the Pix of one webhook call in one transaction, matched by txid.

    Idempotent by endToEndId (source "pix"). A Pix whose txid matches no invoice is stored as
    unmatched money: the PSP gets a success answer and does not retry forever. The payment
    date is the instant of the Pix in the creditor's time zone.
    """
    with engine.begin() as conn:
        return _receive_pix(conn, creditor_id, received, now)


def _receive_pix(
    conn: Connection, creditor_id: int, received: Sequence[PixReceived], now: datetime
) -> PixResult:
    zone = ZoneInfo(_creditor_timezone(conn, creditor_id))
    txids = sorted({item.txid for item in received if item.txid})
    by_txid: dict[str, int] = {}
    if txids:
        by_txid = lookup_invoices(conn, creditor_id, invoices.c.pix_txid, txids)
    refunded: dict[str, PixReceived] = {}
    incoming = []
    for item in received:
        net = item.amount_cents - item.refunded_cents
        if net <= 0:  # given back whole (devolução): no money stayed
            refunded[item.end_to_end_id] = item
            continue
        incoming.append(
            IncomingPayment(
                external_id=item.end_to_end_id,
                amount_cents=net,
                paid_on=item.paid_at.astimezone(zone).date(),
                invoice_id=by_txid.get(item.txid) if item.txid else None,
                reference=item.txid,
                method="pix",
                note=(item.payer_info or "")[:400] or None,
            )
        )
    outcome = reconcile(conn, creditor_id, incoming, source="pix", now=now)
    numbers = {
        row.id: row
        for row in conn.execute(
            select(invoices.c.id, invoices.c.external_id, invoices.c.number).where(
                invoices.c.id.in_(sorted({p.invoice_id for p in outcome.payments if p.invoice_id}))
            )
        )
    }
    by_e2e = {p.external_id: p for p in outcome.payments}
    items = []
    for item in received:
        if item.end_to_end_id in refunded:
            items.append(PixOutcome(item.end_to_end_id, item.txid, "refunded", 0))
            continue
        payment = by_e2e[item.end_to_end_id]
        invoice = numbers.get(payment.invoice_id) if payment.invoice_id else None
        items.append(
            PixOutcome(
                end_to_end_id=item.end_to_end_id,
                txid=item.txid,
                status=payment.status,
                amount_cents=payment.amount_cents,
                invoice_external_id=invoice.external_id if invoice else None,
                invoice_number=invoice.number if invoice else None,
                applied_cents=payment.applied_cents,
                fees_cents=payment.fees_cents,
                credit_cents=payment.credit_cents,
                balance_cents=payment.balance_cents,
                invoice_status=payment.invoice_status,
            )
        )
    return PixResult(items, outcome.cancelled_actions, outcome.thank_you_actions)


def _creditor_timezone(conn: Connection, creditor_id: int) -> str:
    zone = conn.execute(
        select(creditors.c.timezone).where(creditors.c.id == creditor_id)
    ).scalar_one_or_none()
    if zone is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return str(zone)
