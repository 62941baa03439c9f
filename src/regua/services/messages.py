"""What an action says: its render context built from the store, and the message it becomes.

`prepare_messages` loads a batch of claimed actions set-based (the action with its customer,
creditor and contact; its invoices) and returns, per action, either a `PreparedMessage` (the
context of `regua.channels.rendering`, addressed) or `NotSendable` with the reason it must not
go out any more: every invoice settled, the customer paused or anonymised, the contact opted
out or flagged invalid after the plan was made.

Amounts are computed at the send date: each open invoice's balance with multa and juros
(`domain.fees.charges`, the creditor's terms, the CDC cap for consumers). Payment options: a PIX
copia-e-cola for the total from the creditor's key, with a txid per action stored on the
invoices that have none, so a PIX webhook finds them; the boleto line when the action is about
one invoice that has one; a portal link when the portal is configured.

Thank-you actions render with the invoices that were paid, and no payment options.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import segno
from sqlalchemy import Connection, and_, bindparam, select, update

from regua.channels.base import OutgoingMessage
from regua.channels.letter import letter_metadata
from regua.channels.rendering import RenderedMessage, TemplateRenderer, default_renderer
from regua.domain.documents import DocumentError, format_phone, parse_tax_id
from regua.domain.fees import FeeTerms, charges
from regua.domain.planning import ContactPoint, choose_channel
from regua.domain.policy import select_policy
from regua.errors import InputError, NotFound
from regua.payments.pix import PixError, PixKey, encode_static, normalize_pix_key
from regua.services.policies import active_policies
from regua.store.bulk import chunks
from regua.store.outbox import idempotency_key_for
from regua.store.tables import action_invoices, actions, contacts, creditors, customers, invoices

log = logging.getLogger(__name__)

OPT_OUT_KEYWORD = "SAIR"
TXID_PREFIX = "REGUA"
BATCH = 1_000


@dataclass(frozen=True)
class PortalLinks:
    """Where the debtor portal lives and the key that signs its links.

    A link names the customer and carries an HMAC of it, so nobody reaches another debtor's
    page by changing a number (LGPD art. 46). Without a key there are no links.
    """

    base_url: str
    secret: str

    def for_customer(self, customer_id: int) -> str | None:
        if not self.base_url or not self.secret:
            return None
        return f"{self.base_url.rstrip('/')}/{customer_id}.{portal_token(self.secret, customer_id)}"


def portal_token(secret: str, customer_id: int) -> str:
    """The signature part of a customer's portal link (URL-safe, 22 characters)."""
    digest = hmac.new(secret.encode(), f"portal:{customer_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


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

    def outgoing(self, rendered: RenderedMessage) -> OutgoingMessage:
        """The message a channel sends: the rendered text, addressed; letters carry the header
        and PIX code the PDF prints."""
        metadata = {"action_id": str(self.action_id)}
        if self.channel == "letter":
            metadata.update(letter_metadata(self.context))
        return rendered.to_outgoing(
            to=self.to,
            to_name=self.to_name,
            idempotency_key=self.idempotency_key,
            sender_name=self.sender_name,
            reply_to=self.reply_to,
            metadata=metadata,
        )


@dataclass(frozen=True)
class NotSendable:
    """An action that must not go out any more, and why (pt-BR, for the timeline)."""

    action_id: int
    customer_id: int
    channel: str | None
    reason: str


class _Payment(dict[str, Any]):
    """The context's `payment`, drawing the PIX QR code (SVG) only if a template asks for it."""

    def __missing__(self, key: str) -> Any:
        if key != "pix_qr_svg":
            raise KeyError(key)
        code = self.get("pix_code")
        svg = segno.make(code, error="m").svg_inline(scale=3) if code else None
        self[key] = svg
        return svg


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


# Cached: every message of a creditor formats its document and phones again (phonenumbers
# parses metadata each time, about 0.1 ms a call).
@lru_cache(maxsize=4096)
def _formatted_document(number: str) -> str:
    try:
        return parse_tax_id(number).formatted
    except DocumentError:
        return number


@lru_cache(maxsize=1024)
def _formatted_phone(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return format_phone(value)
    except DocumentError:
        return value


def customer_context(row: Any) -> dict[str, Any]:
    name = str(row.name)
    is_company = row.document_kind == "cnpj"
    return {
        "id": row.external_id,
        "name": name,
        # Companies are greeted by their name; people by their first name.
        "first_name": name if is_company else (name.split() or [name])[0],
        "document": _formatted_document(row.document),
        "kind": row.document_kind,
    }


def creditor_context(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "document": _formatted_document(row.document),
        "phone": _formatted_phone(row.phone),
        "email": row.email,
        "address": row.address,
        "website": row.website,
    }


def contact_context(row: Any) -> dict[str, Any]:
    return {
        "phone": _formatted_phone(row.phone),
        "whatsapp": _formatted_phone(row.whatsapp),
        "email": row.email,
        "hours": None,
    }


def invoice_items(
    rows: Sequence[Any], *, today: date, terms: FeeTerms, with_charges: bool
) -> list[dict[str, Any]]:
    """The context's `invoices`, by due date; charges at `today` unless `with_charges` is off
    (a thank-you speaks of invoices already paid)."""
    items = []
    for row in sorted(rows, key=lambda r: (r.due_date, r.id)):
        principal = int(row.balance_cents if with_charges else row.amount_cents)
        if with_charges:
            owed = charges(principal, row.due_date, today, terms)
            late_fee, interest = owed.late_fee_cents, owed.interest_cents
        else:
            late_fee = interest = 0
        items.append(
            {
                "number": row.number,
                "description": row.description or row.number,
                "issue_date": row.issue_date,
                "due_date": row.due_date,
                "days_late": (today - row.due_date).days,
                "amount_cents": int(row.amount_cents),
                "balance_cents": int(row.balance_cents),
                "principal_cents": principal,
                "late_fee_cents": late_fee,
                "interest_cents": interest,
                "total_cents": principal + late_fee + interest,
            }
        )
    return items


def totals_of(items: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {
        "balance_cents": sum(i["balance_cents"] for i in items),
        "late_fee_cents": sum(i["late_fee_cents"] for i in items),
        "interest_cents": sum(i["interest_cents"] for i in items),
        "total_cents": sum(i["total_cents"] for i in items),
        "count": len(items),
    }


@lru_cache(maxsize=256)
def _pix_key(text: str) -> PixKey:
    """The creditor's key, read once (an invalid one raises every time)."""
    return normalize_pix_key(text)


def pix_code_for(creditor: Any, amount_cents: int, txid: str) -> str | None:
    """PIX copia e cola for `amount_cents` to the creditor's key, or None without a usable key."""
    if not creditor.pix_key or amount_cents <= 0:
        return None
    try:
        return encode_static(
            key=_pix_key(creditor.pix_key),
            name=creditor.name,
            city=creditor.city or "BRASIL",
            amount_cents=amount_cents,
            txid=txid,
        )
    except PixError:
        log.warning("creditor %s: unusable PIX key, message goes without PIX", creditor.id)
        return None


def build_context(
    *,
    today: date,
    customer: Any,
    creditor: Any,
    invoice_rows: Sequence[Any],
    step_id: str,
    step_offset: int,
    purpose: str,
    txid: str | None,
    portal: PortalLinks | None,
) -> dict[str, Any]:
    """The render context (see `regua.channels.rendering`) of one message."""
    collecting = purpose == "collection"
    terms = FeeTerms(
        late_fee_bp=creditor.late_fee_bp,
        interest_monthly_bp=creditor.interest_monthly_bp,
        is_consumer=bool(customer.is_consumer),
    )
    items = invoice_items(invoice_rows, today=today, terms=terms, with_charges=collecting)
    totals = totals_of(items)
    payment = _Payment(pix_code=None, boleto_line=None, portal_url=None)
    if collecting:
        if txid:
            payment["pix_code"] = pix_code_for(creditor, totals["total_cents"], txid)
        lines = [row.boleto_line for row in invoice_rows if row.boleto_line]
        # A boleto pays one invoice: with several, the PIX (for the total) and the portal do.
        if len(invoice_rows) == 1 and lines:
            payment["boleto_line"] = lines[0]
        if portal is not None:
            payment["portal_url"] = portal.for_customer(int(customer.id))
    return {
        "today": today,
        "customer": customer_context(customer),
        "creditor": creditor_context(creditor),
        "invoices": items,
        "totals": totals,
        "payment": payment,
        "step": {"id": step_id, "offset": step_offset},
        "contact": contact_context(creditor),
        "opt_out": {"keyword": OPT_OUT_KEYWORD},
    }


def _paused(flag: Any, until: date | None, today: date) -> bool:
    return bool(flag) and (until is None or until >= today)


_ACTION_COLUMNS = (
    actions.c.id.label("action_id"),
    actions.c.purpose,
    actions.c.channel,
    actions.c.contact_value,
    actions.c.template,
    actions.c.step_id,
    actions.c.step_offset,
    actions.c.idempotency_key,
    customers.c.id,
    customers.c.creditor_id,
    customers.c.external_id,
    customers.c.name,
    customers.c.document,
    customers.c.document_kind,
    customers.c.is_consumer,
    customers.c.paused,
    customers.c.paused_until,
    customers.c.anonymised_at,
    contacts.c.opted_out_at,
    contacts.c.invalid_at,
)

_CREDITOR_COLUMNS = (
    creditors.c.id,
    creditors.c.name,
    creditors.c.document,
    creditors.c.email,
    creditors.c.phone,
    creditors.c.whatsapp,
    creditors.c.address,
    creditors.c.city,
    creditors.c.website,
    creditors.c.timezone,
    creditors.c.pix_key,
    creditors.c.late_fee_bp,
    creditors.c.interest_monthly_bp,
)

_INVOICE_COLUMNS = (
    invoices.c.id,
    invoices.c.number,
    invoices.c.description,
    invoices.c.issue_date,
    invoices.c.due_date,
    invoices.c.amount_cents,
    invoices.c.balance_cents,
    invoices.c.status,
    invoices.c.boleto_line,
    invoices.c.pix_txid,
    invoices.c.paused,
    invoices.c.paused_until,
)


def load_creditors(connection: Connection, creditor_ids: set[int]) -> dict[int, Any]:
    return {
        int(row.id): row
        for row in connection.execute(
            select(*_CREDITOR_COLUMNS).where(creditors.c.id.in_(sorted(creditor_ids)))
        )
    }


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
) -> tuple[dict[int, PreparedMessage | NotSendable], TxidAssignments]:
    """Render contexts for `action_ids`, read set-based; and the PIX txids handed out, which
    the caller writes with `store_txids` before sending.

    Amounts are at the creditor's date at `now` (the send date), or at `on` when given (a call
    list prepared for a day).
    """
    prepared: dict[int, PreparedMessage | NotSendable] = {}
    assignments: TxidAssignments = []
    for batch in chunks(sorted(set(action_ids)), BATCH):
        found, txids = _prepare_batch(connection, batch, now, portal, on)
        prepared.update(found)
        assignments.extend(txids)
    return prepared, assignments


def _prepare_batch(
    connection: Connection,
    action_ids: Sequence[int],
    now: datetime,
    portal: PortalLinks | None,
    on: date | None,
) -> tuple[dict[int, PreparedMessage | NotSendable], TxidAssignments]:
    heads = connection.execute(
        select(*_ACTION_COLUMNS)
        .select_from(
            actions.join(customers, customers.c.id == actions.c.customer_id).outerjoin(
                contacts,
                and_(
                    contacts.c.customer_id == actions.c.customer_id,
                    contacts.c.channel == actions.c.channel,
                    contacts.c.value == actions.c.contact_value,
                ),
            )
        )
        .where(actions.c.id.in_(list(action_ids)))
    ).all()
    linked: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(
        select(action_invoices.c.action_id, *_INVOICE_COLUMNS)
        .join(invoices, invoices.c.id == action_invoices.c.invoice_id)
        .where(action_invoices.c.action_id.in_(list(action_ids)))
    ):
        linked[int(row.action_id)].append(row)
    creditor_rows = load_creditors(connection, {int(h.creditor_id) for h in heads})
    result: dict[int, PreparedMessage | NotSendable] = {}
    new_txids: dict[str, list[int]] = defaultdict(list)
    for head in heads:
        action_id = int(head.action_id)
        creditor = creditor_rows[int(head.creditor_id)]
        today = on or local_today(now, creditor.timezone)
        refusal = _refusal(head, today)
        rows = linked.get(action_id, [])
        collecting = head.purpose == "collection"
        if collecting:
            rows = [
                r
                for r in rows
                if r.status == "open"
                and r.balance_cents > 0
                and not _paused(r.paused, r.paused_until, today)
            ]
            if refusal is None and not rows:
                refusal = "títulos pagos, encerrados ou pausados antes do envio"
        if refusal is not None:
            result[action_id] = NotSendable(action_id, int(head.id), head.channel, refusal)
            continue
        txid = _txid_for(action_id, rows) if collecting and creditor.pix_key else None
        if txid is not None:
            new_txids[txid].extend(int(r.id) for r in rows if r.pix_txid is None)
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
            sender_name=str(creditor.name),
            reply_to=creditor.email,
            context=context,
        )
    return result, [
        {"p_id": invoice_id, "p_txid": txid}
        for txid, invoice_ids in new_txids.items()
        for invoice_id in invoice_ids
    ]


def store_txids(connection: Connection, assignments: Sequence[Mapping[str, Any]]) -> None:
    """Write the txids `prepare_messages` handed out on invoices that still have none.

    Its own write transaction, committed before sending: a debtor who pays at once must find
    the txid already on the invoice (and on SQLite a write after reads could meet a newer
    snapshot and fail).
    """
    if assignments:
        connection.execute(
            update(invoices)
            .where(invoices.c.id == bindparam("p_id"), invoices.c.pix_txid.is_(None))
            .values(pix_txid=bindparam("p_txid")),
            list(assignments),
        )


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


def render_prepared(renderer: TemplateRenderer, message: PreparedMessage) -> RenderedMessage:
    return renderer.render(message.template, message.channel, message.context)


# --- a real customer's message, for people to read ------------------------------------------


@dataclass(frozen=True)
class CustomerPreview:
    """What `regua templates render` shows: one step's message for one real customer."""

    customer_external_id: str
    customer_name: str
    step_id: str
    template: str
    channel: str
    to: str | None
    context: dict[str, Any] = field(repr=False)


PREVIEW_TXID = "***"  # a preview's PIX code identifies no action; the real message gets one


def customer_preview(
    connection: Connection,
    creditor_id: int,
    customer_external_id: str,
    step_or_template: str,
    *,
    day: date,
    now: datetime,
    channel: str | None = None,
    portal: PortalLinks | None = None,
    renderer: TemplateRenderer | None = None,
) -> CustomerPreview:
    """The context and channel of `step_or_template` for one customer on `day`.

    `step_or_template` is a step id of the customer's régua ("atraso-3"), ``agradecimento``
    (the régua's thank-you), or a template name. Without `channel`, the step's first channel
    the customer can be reached on. Invoices: the customer's open ones, with charges at `day`.
    Reads only (the active régua may be stored on first use: run it in a transaction that is
    rolled back to leave nothing behind).
    """
    customer = connection.execute(
        select(
            customers.c.id,
            customers.c.creditor_id,
            customers.c.external_id,
            customers.c.name,
            customers.c.document,
            customers.c.document_kind,
            customers.c.is_consumer,
            customers.c.segment,
            customers.c.tags,
        ).where(
            customers.c.creditor_id == creditor_id,
            customers.c.external_id == customer_external_id,
        )
    ).first()
    if customer is None:
        raise NotFound(f"cliente {customer_external_id!r} não encontrado", code="no_customer")
    renderer = renderer or default_renderer()
    policy = select_policy(
        active_policies(connection, creditor_id, now),
        customer.segment or "novo",
        tuple(t for t in (customer.tags or "").split(",") if t),
    )
    purpose = "collection"
    step_ids = {step.id for step in policy.steps}
    if step_or_template in step_ids:
        step = policy.step(step_or_template)
        template = step.template or step.script or ""
        channels: tuple[str, ...] = step.channels
        offset = step.offset
    elif step_or_template == "agradecimento" and policy.thank_you is not None:
        template, channels, offset = policy.thank_you.template, policy.thank_you.channels, 0
        purpose = "thank_you"
    elif step_or_template in renderer.template_names():
        template, offset = step_or_template, 0
        channels = tuple(renderer.channels_of(step_or_template))
    else:
        raise NotFound(
            f"{step_or_template!r} não é etapa da régua {policy.name} nem modelo conhecido; "
            f"etapas: {', '.join(sorted(step_ids))}",
            code="no_step",
        )
    points: dict[str, list[ContactPoint]] = defaultdict(list)
    for name, value, opted_out_at, invalid_at in connection.execute(
        select(contacts.c.channel, contacts.c.value, contacts.c.opted_out_at, contacts.c.invalid_at)
        .where(contacts.c.customer_id == customer.id)
        .order_by(contacts.c.id)
    ):
        points[name].append(ContactPoint(value, opted_out_at is not None, invalid_at is not None))
    reach = {name: tuple(found) for name, found in points.items()}
    if channel is None:
        chosen, to, _tried = choose_channel(channels, reach)
        channel = chosen or (channels[0] if channels else "email")
    else:
        to = next((p.value for p in reach.get(channel, ()) if p.reachable), None)
    if channel not in channels and channel != "phone":
        raise InputError(
            f"o modelo {template} não tem versão para {channel}; use: {', '.join(channels)}",
            field="--channel",
        )
    rows = connection.execute(
        select(*_INVOICE_COLUMNS).where(
            invoices.c.customer_id == customer.id,
            invoices.c.status == "open",
            invoices.c.balance_cents > 0,
        )
    ).all()
    if not rows:
        raise NotFound(
            f"cliente {customer_external_id} sem títulos em aberto", code="no_open_invoices"
        )
    creditor = load_creditors(connection, {int(customer.creditor_id)})[int(customer.creditor_id)]
    context = build_context(
        today=day,
        customer=customer,
        creditor=creditor,
        invoice_rows=rows,
        step_id=step_or_template if purpose == "collection" else "agradecimento",
        step_offset=offset,
        purpose=purpose,
        txid=PREVIEW_TXID,
        portal=portal,
    )
    return CustomerPreview(
        customer_external_id=customer.external_id,
        customer_name=customer.name,
        step_id=step_or_template,
        template=template,
        channel=channel,
        to=to,
        context=context,
    )
