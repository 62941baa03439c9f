"""Provider webhooks for messages: POST /api/v1/inbound/whatsapp and /api/v1/inbound/sms.

Delivery receipts (delivered, read, failed), replies and opt-outs (SAIR, PARE, STOP, CANCELAR)
arrive here; `services.inbound` applies them. Each call must be signed with HMAC-SHA256 over
the raw body, ``sha256=<hex>``, keyed with REGUA_WEBHOOK_SECRET, in ``X-Regua-Signature``; the
WhatsApp Cloud API's own ``X-Hub-Signature-256`` (same scheme, keyed with the app secret) is
accepted too, so Meta can post directly when the app secret is that key. A call is answered
after its events are committed; a repeated call changes nothing.

GET /api/v1/inbound/whatsapp answers Meta's subscription check (``hub.verify_token`` must be
REGUA_WHATSAPP_VERIFY_TOKEN).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from regua.error_codes import ErrorCode
from regua.errors import Unauthorized
from regua.services.inbound import InboundChannel, InboundResult, receive_webhook
from regua.web.deps import AppDep, RawBody

SIGNATURE_HEADER = "X-Regua-Signature"
META_SIGNATURE_HEADER = "X-Hub-Signature-256"

router = APIRouter(prefix="/api/v1/inbound", tags=["inbound"])


class InboundOut(BaseModel):
    events: int
    duplicates: int  # seen before: nothing changed twice
    delivered: int
    read: int
    failed: int
    replies: int
    opted_out: int
    contacts_flagged: int
    unmatched: int  # messages or numbers regua does not know


async def _receive(
    channel: InboundChannel, regua: AppDep, body: bytes, signature: str | None
) -> InboundOut:
    # The service verifies the signature before it opens its one unit of work.
    result: InboundResult = await run_in_threadpool(
        receive_webhook,
        regua.uow,
        channel,
        body,
        signature,
        secret=regua.settings.webhook_secret,
        now=regua.now(),
    )
    return InboundOut(**result.to_dict())


@router.post("/whatsapp", response_model=InboundOut)
async def whatsapp_webhook(
    body: RawBody,
    regua: AppDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    meta_signature: Annotated[str | None, Header(alias=META_SIGNATURE_HEADER)] = None,
) -> InboundOut:
    """WhatsApp Cloud API webhook: message statuses and incoming messages."""
    return await _receive("whatsapp", regua, body, signature or meta_signature)


@router.get("/whatsapp", response_class=PlainTextResponse)
def whatsapp_subscription(
    regua: AppDep,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    token: Annotated[str, Query(alias="hub.verify_token")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge")] = "",
) -> str:
    """Meta's subscription check: echo the challenge when the token is the verify token."""
    # Its own value (REGUA_WHATSAPP_VERIFY_TOKEN): it travels in a URL, so it must not be a
    # key that signs anything.
    secret = regua.settings.whatsapp_verify_token
    if (
        mode != "subscribe"
        or not secret
        or not hmac.compare_digest(token.encode(), secret.encode())
    ):
        raise Unauthorized("token de verificação inválido", code=ErrorCode.WEBHOOK_VERIFY_TOKEN)
    return challenge


@router.post("/sms", response_model=InboundOut)
async def sms_webhook(
    body: RawBody,
    regua: AppDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> InboundOut:
    """SMS provider webhook: delivery receipts and replies."""
    return await _receive("sms", regua, body, signature)
