"""What an action says: the batch of claimed actions made into addressed render contexts.

`prepare_messages` reads a batch of claimed actions set-based (`store.message_context`) and
returns, per action, either a `PreparedMessage` (the context of `regua.channels.rendering`,
addressed) or `NotSendable` with the reason it must not go out any more: every invoice settled,
the customer paused or anonymised, the contact opted out or flagged invalid after the plan was
made.

A collection message gets a PIX txid per action, stored (`store_txids`) on the invoices that
have none, so a PIX webhook finds them. Thank-you actions render with the invoices that were
paid, and no payment options.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from regua.channels.base import OutgoingMessage
from regua.channels.letter import letter_metadata
from regua.channels.rendering import RenderedMessage
from regua.domain.calendar import local_date
from regua.domain.channels import MESSAGE_CHANNELS
from regua.domain.creditor_profile import HELD_NO_SENDER, missing_for_message
from regua.domain.planning import still_collectable
from regua.services.message_context import PortalLinks, build_context
from regua.store.claims import idempotency_key_for
from regua.store.message_context import MessageRows, message_rows

TXID_PREFIX = "REGUA"
AGREEMENT_PURPOSE = "agreement"  # domain.agreements.BROKEN_PURPOSE


@dataclass(frozen=True)
class PreparedMessage:
    """One action ready to render and send."""

    action_id: int
    customer_id: int
    creditor_id: int
    channel: str
    purpose: str
    template: str
    step_id: str
    to: str
    to_name: str
    idempotency_key: str
    sender_name: str
    reply_to: str | None
    context: dict[str, Any] = field(repr=False)
    sender: str | None = None  # the creditor's From address; None: the deployment's default

    def outgoing(self, rendered: RenderedMessage) -> OutgoingMessage:
        """The message a channel sends: the rendered text, addressed; letters carry the header
        and PIX code the PDF prints."""
        metadata = {"action_id": str(self.action_id)}
        if self.channel == "letter":
            metadata.update(letter_metadata(self.context))
        outgoing = rendered.to_outgoing(
            to=self.to,
            to_name=self.to_name,
            idempotency_key=self.idempotency_key,
            sender_name=self.sender_name,
            reply_to=self.reply_to,
            # List-Unsubscribe (RFC 2369, one-click RFC 8058) on e-mails.
            unsubscribe_url=self.context.get("opt_out", {}).get("url")
            if self.channel == "email"
            else None,
            metadata=metadata,
        )
        return replace(outgoing, sender=self.sender) if self.sender else outgoing


@dataclass(frozen=True)
class NotSendable:
    """An action that must not go out any more, and why (pt-BR, for the timeline).

    `held`: not sent because the creditor's profile lacks what the message needs (its PIX
    key...); the creditor fixes it with `regua credor editar`, and the action is counted apart.
    """

    action_id: int
    customer_id: int
    channel: str | None
    reason: str
    held: bool = False


def _paused(flag: Any, until: date | None, today: date) -> bool:
    return bool(flag) and (until is None or until >= today)


def _txid_for(action_id: int, rows: Sequence[Any]) -> str:
    existing = {row.pix_txid for row in rows}
    # An invoice imported with its own txid keeps it, so the PIX the payer makes matches it.
    if len(existing) == 1 and None not in existing:
        return str(existing.pop())
    return f"{TXID_PREFIX}{action_id}"


TxidAssignments = list[dict[str, Any]]


def prepare_messages(
    connection: Connection,
    action_ids: Sequence[int],
    *,
    now: datetime,
    portal: PortalLinks | None = None,
    on: date | None = None,
    default_sender: str | None = None,
) -> tuple[dict[int, PreparedMessage | NotSendable], TxidAssignments]:
    """Render contexts for `action_ids`, read set-based; and the PIX txids handed out, which
    the caller writes with `store.message_context.store_txids` before sending.

    Amounts are at the creditor's date at `now` (the send date), or at `on` when given (a call
    list prepared for a day). `default_sender` is the From the e-mail channel uses for a
    creditor without a sender address of its own: empty, such e-mails are held (None: not
    known, nothing is held for it).
    """
    prepared: dict[int, PreparedMessage | NotSendable] = {}
    assignments: TxidAssignments = []
    for rows in message_rows(connection, action_ids):
        found, txids = _prepare_batch(rows, now, portal, on, default_sender)
        prepared.update(found)
        assignments.extend(txids)
    return prepared, assignments


def _prepare_batch(
    found: MessageRows,
    now: datetime,
    portal: PortalLinks | None,
    on: date | None,
    default_sender: str | None = None,
) -> tuple[dict[int, PreparedMessage | NotSendable], TxidAssignments]:
    result: dict[int, PreparedMessage | NotSendable] = {}
    new_txids: dict[str, list[int]] = defaultdict(list)
    for head in found.heads:
        action_id = int(head.action_id)
        creditor = found.creditors[int(head.creditor_id)]
        today = on or local_date(now, creditor.timezone)
        refusal = _refusal(head, today)
        rows = found.invoices.get(action_id, [])
        collecting = head.purpose == "collection"
        # A broken agreement's message speaks of the originals back in collection, with their
        # amounts and a PIX code like the régua's; without a key it goes without the code.
        owing = collecting or head.purpose == AGREEMENT_PURPOSE
        if head.purpose == AGREEMENT_PURPOSE:
            rows = [r for r in rows if r.status == "open" and r.balance_cents > 0]
            if refusal is None and not rows:
                refusal = "títulos pagos ou encerrados antes do envio"
        if collecting:
            rows = still_collectable(rows, today)
            if refusal is None and not rows:
                refusal = "títulos pagos, encerrados ou pausados antes do envio"
        if refusal is not None:
            result[action_id] = NotSendable(action_id, int(head.id), head.channel, refusal)
            continue
        gap = held_reason(creditor, head.channel, collecting, default_sender)
        if gap is not None:
            result[action_id] = NotSendable(action_id, int(head.id), head.channel, gap, held=True)
            continue
        txid = _txid_for(action_id, rows) if owing and creditor.pix_key else None
        if txid is not None:
            # Every invoice the code is for, also one with a txid of its own: the Pix settles
            # them all (`pix_receipts`); those without one take this txid as theirs.
            new_txids[txid].extend(int(r.id) for r in rows if r.pix_txid != txid)
        context = build_context(
            today=today,
            customer=head,
            creditor=creditor,
            invoice_rows=rows,
            step_id=head.step_id,
            step_offset=int(head.step_offset),
            purpose=head.purpose,
            txid=txid,
            portal=portal,
            channel=str(head.channel),
            agreement=(head.evidence or {}).get("agreement")
            if head.purpose == AGREEMENT_PURPOSE
            else None,
        )
        result[action_id] = PreparedMessage(
            action_id=action_id,
            customer_id=int(head.id),
            creditor_id=int(head.creditor_id),
            channel=str(head.channel),
            purpose=str(head.purpose),
            template=str(head.template),
            step_id=str(head.step_id),
            to=str(head.contact_value),
            to_name=str(head.name),
            idempotency_key=head.idempotency_key or idempotency_key_for(action_id),
            sender_name=str(creditor.trade_name or creditor.name),
            reply_to=creditor.reply_to or creditor.email,
            context=context,
            sender=creditor.sender_email,
        )
    return result, [
        {"p_id": invoice_id, "p_txid": txid}
        for txid, invoice_ids in new_txids.items()
        for invoice_id in invoice_ids
    ]


def held_reason(
    creditor: Any, channel: str | None, collecting: bool, default_sender: str | None
) -> str | None:
    """Why a message on `channel` is held for what the creditor's profile lacks (pt-BR), or
    None: the dispatch and a preview (`regua templates render`) say the same. A call needs
    none of it. `default_sender` as in `prepare_messages`."""
    if channel not in MESSAGE_CHANNELS:
        return None
    missing = missing_for_message(
        pix_key=creditor.pix_key,
        phone=creditor.phone,
        whatsapp=creditor.whatsapp,
        email=creditor.email,
        address=creditor.address,
        channel=str(channel),
        collecting=collecting,
    )
    # No From at all: the SMTP server would refuse the e-mail at every attempt.
    no_sender = channel == "email" and default_sender == "" and not creditor.sender_email
    if missing is None and no_sender:
        return HELD_NO_SENDER
    return missing


def _refusal(head: Any, today: date) -> str | None:
    if head.anonymised_at is not None:
        return "cliente anonimizado"
    if head.purpose == "collection" and _paused(head.paused, head.paused_until, today):
        return "cobrança do cliente pausada"
    if not head.channel or not head.contact_value or not head.template:
        return "ação sem canal, contato ou modelo"
    if head.opted_out_at is not None:
        return "o cliente pediu para não receber mensagens neste canal (descadastrado)"
    if head.invalid_at is not None:
        return "contato marcado como inválido depois do planejamento"
    return None
