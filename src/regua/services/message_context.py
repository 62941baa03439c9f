"""The render context of one message (see `regua.channels.rendering`): who writes to whom,
about which invoices, with amounts at the send date and the ways to pay.

Amounts are computed at the send date: each open invoice's balance with multa and juros
(`domain.fees.charges`, the creditor's terms, the CDC cap for consumers). Payment options: a PIX
copia-e-cola for the total from the creditor's key; the boleto line when the message is about
one invoice that has one; a portal link when the portal is configured. A thank-you speaks of
the invoices that were paid, without charges or payment options.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import segno

from regua.channels.context_items import invoice_item, invoice_sections
from regua.domain.creditor_profile import full_address
from regua.domain.customer_links import DEFAULT_LINK_DAYS, LinkPurpose, make_link_token
from regua.domain.documents import DocumentError, format_phone, parse_tax_id
from regua.domain.fees import NO_FEES_SETTLED, FeeState, FeeTerms, charges
from regua.domain.postal import PostalAddress
from regua.domain.settlement import offered_discount
from regua.payments.pix import PixError, PixKey, encode_static, normalize_pix_key

log = logging.getLogger(__name__)

OPT_OUT_KEYWORD = "SAIR"
# The txid of the portal's "pay it all" PIX, with the customer id (messages use their own).
TXID_PREFIX_PORTAL = "REGUAP"


@dataclass(frozen=True)
class PortalLinks:
    """Where the debtor portal and the unsubscribe page live, and the key that signs links.

    A link carries an opaque token (`domain.customer_links`): it expires after `days`, and
    neither reveals the customer id nor can be made for another customer without the key
    (LGPD art. 46). Without a key there are no links.
    """

    base_url: str
    secret: str
    days: int = DEFAULT_LINK_DAYS
    unsubscribe_base_url: str = ""

    def for_customer(self, customer_id: int, today: date) -> str | None:
        return self._link(self.base_url, LinkPurpose.PORTAL, customer_id, today)

    def unsubscribe_for(self, customer_id: int, today: date) -> str | None:
        return self._link(self.unsubscribe_base_url, LinkPurpose.UNSUBSCRIBE, customer_id, today)

    def _link(self, base: str, purpose: LinkPurpose, customer_id: int, today: date) -> str | None:
        if not base or not self.secret:
            return None
        token = make_link_token(self.secret, purpose, customer_id, today, self.days)
        return f"{base.rstrip('/')}/{token}"


class _Payment(dict[str, Any]):
    """The context's `payment`, drawing the PIX QR code (SVG) only if a template asks for it."""

    def __missing__(self, key: str) -> Any:
        if key != "pix_qr_svg":
            raise KeyError(key)
        code = self.get("pix_code")
        svg = segno.make(code, error="m").svg_inline(scale=3) if code else None
        self[key] = svg
        return svg


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
        # A consumer (CDC art. 2) is spoken to as a person; a company by its name, without CDC.
        "consumer": bool(row.is_consumer),
        # The postal address as imported, CEP included (a letter's recipient block is its
        # letter contact, written from the same columns); None without a street.
        "address": _customer_address(row),
    }


def _customer_address(row: Any) -> str | None:
    street = getattr(row, "customer_address", None)
    if not street:
        return None
    return "\n".join(
        PostalAddress(
            street,
            row.customer_district,
            row.customer_city,
            row.customer_uf,
            row.customer_postal_code,
        ).lines()
    )


def creditor_context(row: Any) -> dict[str, Any]:
    """The creditor's own details, as its profile holds them: an unset field is None, never an
    example (a message that needs one is held before it gets here, `messages.prepare`)."""
    return {
        "name": row.name,
        "trade_name": row.trade_name or row.name,
        "document": _formatted_document(row.document),
        "phone": _formatted_phone(row.phone),
        "whatsapp": _formatted_phone(row.whatsapp),
        "email": row.email,
        "address": full_address(row.address, row.city, row.uf, row.postal_code),
        "website": row.website,
    }


def contact_context(row: Any) -> dict[str, Any]:
    return {
        "phone": _formatted_phone(row.phone),
        "whatsapp": _formatted_phone(row.whatsapp),
        "email": row.email,
        "hours": row.service_hours,
    }


def settled_fees(row: Any) -> FeeState:
    """What earlier late payments settled of the fees of an invoice row (`FeeState`); rows
    read without the columns (an invoice never paid late) settled nothing."""
    through = getattr(row, "fees_paid_through", None)
    unpaid = int(getattr(row, "fees_unpaid_cents", 0) or 0)
    if through is None and not unpaid:
        return NO_FEES_SETTLED
    if isinstance(through, str):  # SQLite through a raw read: ISO text
        through = date.fromisoformat(through)
    return FeeState(through, unpaid)


def invoice_items(
    rows: Sequence[Any], *, today: date, terms: FeeTerms, with_charges: bool
) -> list[dict[str, Any]]:
    """The context's `invoices`, by due date; charges at `today` unless `with_charges` is off
    (a thank-you speaks of invoices already paid)."""
    items = []
    for row in sorted(rows, key=lambda r: (r.due_date, r.id)):
        principal = int(row.balance_cents if with_charges else row.amount_cents)
        if with_charges:
            owed = charges(principal, row.due_date, today, terms, settled_fees(row))
            # Fees an earlier payment left unpaid are owed with the juros (CC art. 354).
            late_fee = owed.late_fee_cents
            interest = owed.interest_cents + owed.carried_fees_cents
        else:
            late_fee = interest = 0
        items.append(
            invoice_item(
                number=row.number,
                description=row.description or row.number,
                issue_date=row.issue_date,
                due_date=row.due_date,
                days_late=(today - row.due_date).days,
                amount_cents=int(row.amount_cents),
                balance_cents=int(row.balance_cents),
                principal_cents=principal,
                late_fee_cents=late_fee,
                interest_cents=interest,
            )
        )
    return items


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
            postal_code=creditor.postal_code,
        )
    except PixError:
        log.warning("creditor %s: unusable PIX key, message goes without PIX", creditor.id)
        return None


def agreement_context(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The context's `agreement`: the facts of a broken agreement, dates as dates."""
    return {
        "id": int(facts["id"]),
        "made_on": date.fromisoformat(str(facts["made_on"])),
        "broken_on": date.fromisoformat(str(facts["broken_on"])),
        "reason": str(facts["reason"]),
        "paid_cents": int(facts["paid_cents"]),
        "owed_principal_cents": int(facts["owed_principal_cents"]),
        "owed_total_cents": int(facts["owed_total_cents"]),
    }


def discount_on_offer(row: Any, today: date) -> tuple[int, date | None]:
    """(discount, last day) of the early-payment discount an invoice row still has on offer
    `today`; (0, None) when none."""
    until = getattr(row, "early_discount_until", None)
    if until is not None and not isinstance(until, date):
        until = date.fromisoformat(str(until))
    discount = offered_discount(
        int(row.balance_cents), today, getattr(row, "early_discount_cents", None), until
    )
    return (discount, until) if discount else (0, None)


def early_payment_context(
    rows: Sequence[Any], today: date, creditor: Any, txid: str | None
) -> dict[str, Any] | None:
    """The payment's `early`: the early-payment discount the plan offered on a message about one
    invoice, while its day has not passed: the discount, the amount to pay, the last day, and
    a PIX code of its own for that amount (the invoice's txid, so the payment finds it).
    None otherwise, and without that PIX code (no key): the boleto and the portal ask for the
    whole amount, so a message would promise a discount the customer has no way to pay.
    A payment still honours exactly what was offered (`domain.settlement`)."""
    if len(rows) != 1:
        return None
    row = rows[0]
    discount, until = discount_on_offer(row, today)
    if not discount or until is None:
        return None
    amount = int(row.balance_cents) - discount
    code = pix_code_for(creditor, amount, txid) if txid else None
    if code is None:
        return None
    return {
        "discount_cents": int(discount),
        "amount_cents": amount,
        "pay_by": until,
        "pix_code": code,
    }


def installment_context(row: Any) -> dict[str, Any] | None:
    """The context's `installment`: the agreement an installment invoice belongs to, which
    installment it is ("parcela 2 de 3" or "entrada"), its amount and due date, and the day the
    agreement breaks if it stays unpaid (its due date plus the terms' days, as
    `domain.agreements.breaking_installment` counts them) with the last day to pay before.
    None for an invoice outside an agreement."""
    if getattr(row, "agreement_id", None) is None or row.agreement_break_days is None:
        return None
    # The installment's number is written "ACORDO-<id>-<k>/<n>" or "ACORDO-<id>-ENTRADA".
    tail = str(row.number).rsplit("-", 1)[-1]
    number, _, count = tail.partition("/")
    label = f"parcela {int(number)} de {int(count)}" if count else "entrada"
    break_on = row.due_date + timedelta(days=int(row.agreement_break_days))
    return {
        "agreement_id": int(row.agreement_id),
        "made_on": row.agreement_made_on
        if isinstance(row.agreement_made_on, date)
        else date.fromisoformat(str(row.agreement_made_on)),
        "number": int(number) if count else 0,
        "count": int(row.agreement_installments),
        "label": label,
        "amount_cents": int(row.amount_cents),
        "balance_cents": int(row.balance_cents),
        "due_date": row.due_date,
        "break_on": break_on,
        "pay_by": break_on - timedelta(days=1),
    }


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
    channel: str | None = None,
    agreement: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The render context (see `regua.channels.rendering`) of one message on `channel`; a
    broken agreement's (`agreement`: the facts its action keeps) speaks of the originals back in
    collection, with charges and the ways to pay, and has `agreement` besides."""
    collecting = purpose == "collection" or agreement is not None
    terms = FeeTerms(
        late_fee_bp=creditor.late_fee_bp,
        interest_monthly_bp=creditor.interest_monthly_bp,
        is_consumer=bool(customer.is_consumer),
    )
    items = invoice_items(invoice_rows, today=today, terms=terms, with_charges=collecting)
    sections = invoice_sections(items, step_offset if collecting and agreement is None else None)
    payment = _Payment(
        pix_code=None, pix_amount_cents=None, boleto_line=None, portal_url=None, early=None
    )
    if collecting:
        if txid:
            # The PIX pays every invoice of the action, those not yet due included.
            amount = sections["all_totals"]["total_cents"]
            payment["pix_code"] = pix_code_for(creditor, amount, txid)
            payment["pix_amount_cents"] = amount
        payment["early"] = early_payment_context(invoice_rows, today, creditor, txid)
        lines = [row.boleto_line for row in invoice_rows if row.boleto_line]
        # A boleto pays one invoice: with several, the PIX (for the total) and the portal do.
        if len(invoice_rows) == 1 and lines:
            payment["boleto_line"] = lines[0]
        if portal is not None:
            payment["portal_url"] = portal.for_customer(int(customer.id), today)
    extra: dict[str, Any] = {} if agreement is None else {"agreement": agreement_context(agreement)}
    installments = [row for row in invoice_rows if getattr(row, "agreement_id", None) is not None]
    if installments and len(installments) == len(invoice_rows):
        first = min(installments, key=lambda r: (r.due_date, r.id))
        found = installment_context(first)
        if found is not None:
            extra["installment"] = found
    return {
        **extra,
        "today": today,
        "customer": customer_context(customer),
        "creditor": creditor_context(creditor),
        **sections,
        "payment": payment,
        "step": {"id": step_id, "offset": step_offset},
        "contact": contact_context(creditor),
        "opt_out": {
            "keyword": OPT_OUT_KEYWORD,
            # The one-click unsubscribe page (e-mail's List-Unsubscribe and visible link).
            "url": portal.unsubscribe_for(int(customer.id), today)
            if portal is not None and channel == "email"
            else None,
        },
    }
