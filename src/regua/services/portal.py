"""The debtor portal's use cases: open a personal link, check who is there, show the debt
today, accept an offer, stop messages on a channel.

A link (`domain.customer_links`, purpose PORTAL) names one customer; before any amount, name or
document is shown the visitor answers the customer's date of birth when the ERP gave it, else
the first five digits of the customer's CPF/CNPJ. Every
answer is stored (`store.portal_attempts`): a link locks after `LINK_TRIES` wrong answers in a
day, a customer after `CUSTOMER_TRIES` (each message carries a new link), a client address after
`ADDRESS_TRIES` in an hour. The debt is the messages' own (`message_context.invoice_items`:
multa and juros today under the creditor's terms and the CDC cap), the offers and the agreement
the negotiation services' own, so the page says what a message or `regua cliente` says.
Every view and action goes on the customer's timeline with the address and the user agent.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from regua.channels.context_items import invoice_totals
from regua.domain.channels import channel_label
from regua.domain.customer_links import LinkPurpose, LinkRefused, read_link_token
from regua.domain.disputes import portal_answer
from regua.domain.documents import DocumentError, parse_tax_id
from regua.domain.fees import FeeTerms
from regua.domain.offers import Offer
from regua.errors import ReguaError
from regua.payments import qr as pix_qr
from regua.services.agreements import AgreementMade, AgreementRequest, create_agreement
from regua.services.message_context import (
    TXID_PREFIX_PORTAL,
    PortalLinks,
    discount_on_offer,
    invoice_items,
    pix_code_for,
)
from regua.services.negotiation import customer_offers, negotiable_customer, offers_of
from regua.store import portal_attempts as attempts
from regua.store import portal_requests as requests_store
from regua.store import timeline
from regua.store.contacts import contact_states, opt_out
from regua.store.message_context import load_creditors, open_invoices, store_txids
from regua.store.uow import UnitOfWorkFactory

LINK_TRIES = 5
CUSTOMER_TRIES = 10
ADDRESS_TRIES = 20
LOCK_WINDOW = timedelta(hours=24)
ADDRESS_WINDOW = timedelta(hours=1)
TIMELINE_KIND = "portal"
ANSWER_DIGITS = 5
ANSWERED_DAYS = timedelta(days=30)  # a settled dispute's answer stays on the page this long
PAID_DAYS = timedelta(days=30)  # a payment this recent is thanked for, and asked about


@dataclass(frozen=True)
class LinkCheck:
    status: Literal["valid", "expired", "invalid"]
    customer_id: int | None = None


def check_portal_link(secret: str, token: str, today: date) -> LinkCheck:
    """Whether `token` is a good portal link, and for whom; nothing is read or written."""
    try:
        return LinkCheck("valid", read_link_token(secret, LinkPurpose.PORTAL, token, today))
    except LinkRefused as refused:
        return LinkCheck("expired" if refused.problem == "expired" else "invalid")


def link_key(token: str) -> str:
    """What the attempts table keeps of a link: not the token, which opens the page."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class IdentityCheck:
    status: Literal["ok", "wrong", "locked"]
    tries_left: int = 0


def _tries_left(connection: Any, customer_id: int, key: str, address: str, now: datetime) -> int:
    on_link = attempts.failures_since(connection, now - LOCK_WINDOW, link_key=key)
    of_customer = attempts.failures_since(connection, now - LOCK_WINDOW, customer_id=customer_id)
    from_address = attempts.failures_since(connection, now - ADDRESS_WINDOW, address=address)
    return min(LINK_TRIES - on_link, CUSTOMER_TRIES - of_customer, ADDRESS_TRIES - from_address)


def is_locked(
    uow: UnitOfWorkFactory, *, customer_id: int, token: str, address: str, now: datetime
) -> bool:
    """Whether the identity check of this link, customer or address is locked now."""
    with uow() as work:
        return _tries_left(work.connection, customer_id, link_key(token), address, now) <= 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


Question = Literal["birth_date", "document"]


def identity_question(uow: UnitOfWorkFactory, customer_id: int) -> Question:
    """What the check asks this customer: the date of birth when known, else the document."""
    with uow() as work:
        customer = attempts.portal_customer(work.connection, customer_id)
    return "birth_date" if customer is not None and customer.birth_date else "document"


def typed_day(text: str) -> date | None:
    """A day as typed (dd/mm/aaaa) or as a date field sends it (aaaa-mm-dd); None otherwise."""
    raw = text.strip()[:20]
    try:
        if "/" in raw:
            day, month, year = (int(part) for part in raw.split("/"))
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _right_answer(customer: Any, answer: str) -> bool:
    if customer is None:
        return False
    if customer.birth_date:
        return typed_day(answer) == customer.birth_date
    given = _digits(answer)
    expected = str(customer.document)[:ANSWER_DIGITS]
    return len(given) == ANSWER_DIGITS and hmac.compare_digest(given, expected)


def check_identity(
    uow: UnitOfWorkFactory,
    *,
    customer_id: int,
    token: str,
    answer: str,
    address: str,
    user_agent: str,
    now: datetime,
) -> IdentityCheck:
    """The visitor's answer (the date of birth when known, else the first five digits of the
    CPF/CNPJ), counted; refused once locked, even when right."""
    key = link_key(token)
    with uow() as work:
        connection = work.connection
        left = _tries_left(connection, customer_id, key, address, now)
        if left <= 0:
            return IdentityCheck("locked")
        customer = attempts.portal_customer(connection, customer_id)
        right = _right_answer(customer, answer)
        attempts.record_attempt(
            connection,
            customer_id=customer_id,
            link_key=key,
            address=address,
            at=now,
            succeeded=right,
        )
        if customer is not None:
            timeline.add_entry(
                connection,
                customer_id=customer_id,
                invoice_id=None,
                at=now,
                kind=TIMELINE_KIND,
                detail=(
                    "abriu o portal (identidade confirmada)"
                    if right
                    else "errou a confirmação de identidade no portal"
                ),
                data={"event": "identity", "ok": right, "address": address, "ua": user_agent},
            )
        work.commit()
    if right:
        return IdentityCheck("ok")
    return IdentityCheck("wrong" if left - 1 > 0 else "locked", max(left - 1, 0))


@dataclass(frozen=True)
class PortalView:
    """What the debtor sees after the check."""

    today: date
    customer_name: str
    creditor_name: str
    creditor_document: str
    invoices: list[dict[str, Any]]
    totals: dict[str, int]
    pix_code: str | None
    offers: list[Offer]
    offers_note: str | None
    # What the PIX asks: the total less the early-payment discounts still on offer today, the
    # earliest day they hold to.
    pay_cents: int = 0
    discount_cents: int = 0
    discount_until: date | None = None
    channels: list[tuple[str, str]] = field(default_factory=list)  # (channel, label) reachable
    # Invoices the customer may dispute: (id, number, description), open and not an installment.
    disputable: list[tuple[int, str, str]] = field(default_factory=list)
    # Invoices paid in the last `PAID_DAYS` days (number, description, amount, day).
    paid: list[Any] = field(default_factory=list)
    feedback_due: bool = False  # paid lately and not asked yet
    call: Any = None  # the call asked for and not yet made: requested_for, starts, ends
    disputed: list[Any] = field(default_factory=list)  # under review: number, description
    # Disputes staff settled in the last `ANSWERED_DAYS`, as the page says them (pt-BR).
    answered: list[str] = field(default_factory=list)


def _formatted(number: str) -> str:
    try:
        return parse_tax_id(number).formatted
    except DocumentError:
        return number


def _portal_txid(customer_id: int, rows: list[Any]) -> str:
    existing = {row.pix_txid for row in rows}
    # Invoices that already share a txid keep it, so a PIX made from a message still matches.
    if len(existing) == 1 and None not in existing:
        return str(existing.pop())
    return f"{TXID_PREFIX_PORTAL}{customer_id}"


def _by_due_date(row: Any) -> tuple[date, int]:
    return (row.due_date, int(row.id))


def _fee_terms(creditor: Any, customer: Any) -> FeeTerms:
    return FeeTerms(
        late_fee_bp=creditor.late_fee_bp,
        interest_monthly_bp=creditor.interest_monthly_bp,
        is_consumer=bool(customer.is_consumer),
    )


def portal_view(
    uow: UnitOfWorkFactory,
    customer_id: int,
    *,
    today: date,
    now: datetime,
    address: str = "",
    user_agent: str = "",
    shown: bool = True,
) -> PortalView | None:
    """The customer's debt today, a PIX for all of it, the offers; None if the customer is gone.

    One transaction: everything is read first, then, when the page is `shown` (not only read
    for a form's figures), the PIX code's txid and the view are written and committed at once,
    so the write (one writer at a time on SQLite) is short.
    """
    with uow() as work:
        connection = work.connection
        customer = attempts.portal_customer(connection, customer_id)
        if customer is None:
            return None
        creditor = load_creditors(connection, {int(customer.creditor_id)})[customer.creditor_id]
        terms = _fee_terms(creditor, customer)
        rows = sorted(open_invoices(connection, customer_id, today), key=_by_due_date)
        items = invoice_items(rows, today=today, terms=terms, with_charges=True)
        for item, row in zip(items, rows, strict=True):  # both by due date
            item["discount_cents"], item["discount_until"] = discount_on_offer(row, today)
        totals = invoice_totals(items)
        discount = sum(item["discount_cents"] for item in items)
        pay_cents = totals["total_cents"] - discount
        code = txid = None
        if rows and pay_cents > 0:
            txid = _portal_txid(customer_id, rows)
            # Less the early-payment discounts a reminder offered: a Pix for it settles each of
            # those invoices in full (the payment is spread by `services.reconciling`).
            code = pix_code_for(creditor, pay_cents, txid)
        paid, disputed = requests_store.paid_and_disputed(
            connection, customer_id, today - PAID_DAYS
        )
        feedback_due = bool(paid) and not requests_store.feedback_since(
            connection, customer_id, now - PAID_DAYS
        )
        call = requests_store.open_callback(connection, customer_id, today)
        answered = [
            portal_answer(str(r.number), str(r.reason), str(r.status))
            for r in requests_store.answered_disputes(connection, customer_id, now - ANSWERED_DAYS)
        ]
        channels = sorted(
            {
                c.channel
                for c in contact_states(connection, customer_id)
                if c.opted_out_at is None and c.invalid_at is None
            }
        )
        offers: list[Offer] = []
        note = None
        try:
            if shown:  # a form reads the debt's figures, not the offers
                found = negotiable_customer(connection, customer, terms, today=today, now=now)
                offers = offers_of(found, today)
        except ReguaError:
            note = "Não há propostas de parcelamento para esta dívida agora."
        if shown:
            if code is not None:
                store_txids(
                    connection,
                    # Every invoice the code is for, also one with a txid of its own.
                    [{"p_id": int(r.id), "p_txid": txid} for r in rows if r.pix_txid != txid],
                )
            timeline.add_entry(
                connection,
                customer_id=customer_id,
                invoice_id=None,
                at=now,
                kind=TIMELINE_KIND,
                detail=f"viu a dívida no portal: {totals['count']} título(s)",
                data={"event": "view", "address": address, "ua": user_agent},
            )
            work.commit()
    return PortalView(
        today=today,
        customer_name=str(customer.name),
        creditor_name=str(creditor.name),
        creditor_document=_formatted(str(creditor.document)),
        invoices=items,
        totals=totals,
        pix_code=code if shown else None,
        pay_cents=pay_cents,
        discount_cents=discount,
        discount_until=min(
            (i["discount_until"] for i in items if i["discount_cents"]), default=None
        ),
        offers=offers,
        offers_note=note,
        channels=[(c, channel_label(c)) for c in channels],
        disputable=[
            (int(r.id), str(r.number), str(r.description or r.number))
            for r in rows
            if r.agreement_id is None
        ],
        paid=paid,
        feedback_due=feedback_due,
        call=call,
        disputed=disputed,
        answered=answered,
    )


@lru_cache(maxsize=1024)
def qr_svg(code: str) -> str:
    """The PIX code as a QR code image (SVG), drawn once per code."""
    # Drawing one costs about 20 ms (segno tries the eight masks): the pages send it as an
    # image of its own, shown when asked (a phone cannot scan its own screen), and a debtor's
    # code is the same all day (same txid, same total).
    return pix_qr.qr_svg(code)


def offer_of(
    uow: UnitOfWorkFactory, customer_id: int, number: int, *, today: date, now: datetime
) -> Offer | None:
    """Offer `number` (1-based) as made today, or None when there is no such offer."""
    with uow() as work:  # never committed: offers are computed, not stored
        connection = work.connection
        customer = attempts.portal_customer(connection, customer_id)
        if customer is None:
            return None
        creditor = load_creditors(connection, {int(customer.creditor_id)})[customer.creditor_id]
        try:
            found = negotiable_customer(
                connection, customer, _fee_terms(creditor, customer), today=today, now=now
            )
        except ReguaError:
            return None
    offers = offers_of(found, today)
    return offers[number - 1] if 1 <= number <= len(offers) else None


def accept_offer(
    uow: UnitOfWorkFactory,
    customer_id: int,
    number: int,
    *,
    offered_on: date,
    today: date,
    now: datetime,
    address: str,
    user_agent: str = "",
) -> AgreementMade:
    """The customer accepts offer `number` made on `offered_on`: an agreement, as an operator's
    (`services.agreements`), accepted by the customer on the portal.

    Raises:
        ReguaError: the services' refusals (offer expired or gone, invoice already in an
            agreement...), with their pt-BR message.
    """
    with uow() as work:
        customer = attempts.portal_customer(work.connection, customer_id)
    if customer is None:
        raise LookupError(customer_id)
    made = create_agreement(
        uow,
        int(customer.creditor_id),
        AgreementRequest(customer=str(customer.external_id), offer=number, offered_on=offered_on),
        today=today,
        now=now,
        accepted_by=f"cliente pelo portal ({address})"[:80],
        channel="portal",
    )
    # The agreement's own entry names the channel; this one keeps the device, so that "I never
    # agreed" can be answered with where the acceptance came from.
    with uow() as work:
        timeline.add_entry(
            work.connection,
            customer_id=customer_id,
            invoice_id=None,
            at=now,
            kind=TIMELINE_KIND,
            detail=f"aceitou no portal a proposta {number} (acordo {made.agreement_id})",
            data={
                "event": "accept",
                "agreement_id": made.agreement_id,
                "address": address,
                "ua": user_agent,
            },
        )
        work.commit()
    return made


def stop_channel(
    uow: UnitOfWorkFactory,
    customer_id: int,
    channel: str,
    *,
    now: datetime,
    address: str,
    user_agent: str = "",
) -> bool:
    """Stop collection messages on `channel` at once; False when nothing was left to stop."""
    with uow() as work:
        changed = opt_out(
            work.connection,
            customer_id=customer_id,
            channel=channel,
            reason=f"pediu pelo portal para não receber mais mensagens ({address})",
            at=now,
        )
        timeline.add_entry(
            work.connection,
            customer_id=customer_id,
            invoice_id=None,
            at=now,
            kind=TIMELINE_KIND,
            detail=f"pediu no portal para não receber mais mensagens por {channel_label(channel)}",
            data={"event": "stop", "channel": channel, "address": address, "ua": user_agent},
        )
        work.commit()
    return changed > 0


@dataclass(frozen=True)
class DemoLink:
    url: str
    customer_code: str
    customer_name: str
    answer: str  # what the identity check asks (the demo's data is made up)


def demo_link(
    uow: UnitOfWorkFactory, links: PortalLinks, creditor_id: int, *, today: date, now: datetime
) -> DemoLink | None:
    """A working portal link for a customer of the demo with overdue invoices and offers."""
    with uow() as work:
        owing = attempts.customers_owing(work.connection, creditor_id, today, 20)
    for row in owing:
        url = links.for_customer(int(row.id), today)
        if url is None:
            return None
        try:
            customer_offers(uow, creditor_id, str(row.external_id), today=today, now=now)
        except ReguaError:
            continue
        return DemoLink(url, str(row.external_id), str(row.name), str(row.document)[:ANSWER_DIGITS])
    return None
