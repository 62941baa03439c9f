"""Incoming payment webhooks: POST /api/v1/webhooks/pix (Banco Central Pix API payload).

The PSP posts ``{"pix": [...]}`` to the registered URL with ``/pix`` appended, so both
``/webhooks/pix`` and ``/webhooks/pix/pix`` answer. Each call must carry
``X-Regua-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` made with
REGUA_PIX_WEBHOOK_SECRET; the TLS side (the PSP's client certificate) is the reverse proxy's
job, see docs/pix-webhook.md. The answer comes after the commit: a 200 means the payments are
stored, the invoices settled and their pending actions cancelled.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel

from regua.errors import WebhookNotConfigured
from regua.payments.webhooks import parse_pix_webhook, verify_signature
from regua.services.pix_receipts import PixOutcome, PixResult, receive_pix_for_keys
from regua.web.deps import AppDep, RawBody

SIGNATURE_HEADER = "X-Regua-Signature"

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class PixItemOut(BaseModel):
    end_to_end_id: str
    txid: str | None
    status: Literal["applied", "unmatched", "duplicate", "refunded"]
    amount_cents: int
    invoice: str | None  # the invoice's external id (the ERP's)
    invoice_number: str | None
    applied_cents: int  # multa + juros + principal
    fees_cents: int
    credit_cents: int  # paid beyond what was owed: the customer's credit
    balance_cents: int | None  # what is still open on the invoice
    invoice_status: str | None
    # A Pix whose txid names several invoices, spread over them oldest first: each invoice's
    # part (the figures above are their sums). Empty for a Pix to one invoice.
    parts: list[PixItemOut] = []


class PixWebhookOut(BaseModel):
    received: int
    applied: list[PixItemOut]
    unmatched: list[PixItemOut]  # stored as money without an invoice; see `regua payments`
    duplicates: list[PixItemOut]  # endToEndId seen before: nothing was applied twice
    refunded: list[PixItemOut]
    cancelled_actions: int
    thank_you_actions: int


@router.post("/pix", response_model=PixWebhookOut)
@router.post("/pix/pix", response_model=PixWebhookOut, include_in_schema=False)
def pix_webhook(
    body: RawBody,
    regua: AppDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> PixWebhookOut:
    """Pix received (BCB API Pix webhook): each item is applied to the invoice of its txid."""
    secret = regua.settings.pix_webhook_secret
    if not secret:
        raise WebhookNotConfigured(
            "webhook PIX desativado: defina REGUA_PIX_WEBHOOK_SECRET para aceitar chamadas"
        )
    verify_signature(body, signature, secret)
    received = parse_pix_webhook(body, today=regua.now().astimezone(UTC).date())
    # One unit of work, owned by the service: the answer comes after its commit. Each Pix is
    # the creditor's whose key (chave) received it.
    result = receive_pix_for_keys(regua.uow, received, now=regua.now())
    return _present(result)


def _item(outcome: PixOutcome) -> PixItemOut:
    return PixItemOut(
        end_to_end_id=outcome.end_to_end_id,
        txid=outcome.txid,
        status=outcome.status,
        amount_cents=outcome.amount_cents,
        invoice=outcome.invoice_external_id,
        invoice_number=outcome.invoice_number,
        applied_cents=outcome.applied_cents,
        fees_cents=outcome.fees_cents,
        credit_cents=outcome.credit_cents,
        balance_cents=outcome.balance_cents,
        invoice_status=outcome.invoice_status,
        parts=[_item(part) for part in outcome.parts],
    )


def _present(result: PixResult) -> PixWebhookOut:
    return PixWebhookOut(
        received=len(result.items),
        applied=[_item(i) for i in result.with_status("applied")],
        unmatched=[_item(i) for i in result.with_status("unmatched")],
        duplicates=[_item(i) for i in result.with_status("duplicate")],
        refunded=[_item(i) for i in result.with_status("refunded")],
        cancelled_actions=result.cancelled_actions,
        thank_you_actions=result.thank_you_actions,
    )
