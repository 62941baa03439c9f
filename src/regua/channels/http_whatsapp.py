"""WhatsApp through the WhatsApp Business Cloud API, and its webhook payloads.

Sending: ``POST {base_url}/{api_version}/{phone_number_id}/messages`` with a Bearer token.
Outside the 24 h customer-service window only approved templates may be sent, so a message goes
as a template (``whatsapp_template`` + ordered ``whatsapp_params``, body parameters) unless the
caller says the conversation is open (``metadata["conversation_open"] == "1"``), when the
free text is sent instead. The idempotency key travels as ``biz_opaque_callback_data`` and comes
back in status webhooks as `InboundEvent.reference`.

Errors (Cloud API error JSON ``{"error": {"code": ..., "message": ..., "error_data": ...}}``):
131026 (undeliverable) and 131030 (recipient not allowed), and 100 (invalid parameter) when it is
about the phone, are permanent with `invalid_recipient`; 130429/131048/131056 (rate limits),
131000/131016/133004/1/2 (service trouble), HTTP 429 and 5xx are transient; anything else is
permanent (131047: the 24 h window is closed, send a template; 132xxx: template problems;
190: expired token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from regua.channels.base import (
    ChannelPermanentError,
    ChannelTransientError,
    InboundEvent,
    OutgoingMessage,
    Receipt,
)
from regua.channels.http_provider import (
    DEFAULT_TIMEOUT,
    HttpProviderChannel,
    retry_after_seconds,
)
from regua.clock import Clock
from regua.errors import InputError

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
DEFAULT_LANGUAGE = "pt_BR"

INVALID_RECIPIENT_CODES = frozenset({131026, 131030})
TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 133004})


def whatsapp_payload(message: OutgoingMessage) -> dict[str, Any]:
    """The Cloud API request body for `message` (template, or free text in an open window)."""
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.lstrip("+"),
        "biz_opaque_callback_data": message.idempotency_key,
    }
    if message.metadata.get("conversation_open") == "1" and message.text:
        return {**base, "type": "text", "text": {"body": message.text, "preview_url": False}}
    if not message.whatsapp_template:
        raise ChannelPermanentError(
            "Mensagem de WhatsApp sem modelo aprovado e fora da janela de 24 horas de conversa.",
            provider_code="no_template",
        )
    template: dict[str, Any] = {
        "name": message.whatsapp_template,
        "language": {"code": message.metadata.get("whatsapp_language", DEFAULT_LANGUAGE)},
    }
    if message.whatsapp_params:
        template["components"] = [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": p} for p in message.whatsapp_params],
            }
        ]
    return {**base, "type": "template", "template": template}


def _is_about_phone(error: dict[str, Any]) -> bool:
    data = error.get("error_data")
    details = data.get("details", "") if isinstance(data, dict) else ""
    text = f"{error.get('message', '')} {details}".lower()
    return any(word in text for word in ("phone", "recipient", "'to'", '"to"', "wa_id"))


class WhatsAppCloudChannel(HttpProviderChannel):
    """WhatsApp Business Cloud API sender. Holds one pooled httpx client; `close` it (or use
    ``with``) when done. Creating it opens no connection."""

    name = "whatsapp"

    def __init__(
        self,
        *,
        phone_number_id: str,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        super().__init__(token, timeout, clock=clock, transport=transport)

    def send(self, message: OutgoingMessage) -> Receipt:
        """Send a template or free-text message; raises the channel errors of `base`."""
        payload = whatsapp_payload(message)
        try:
            response = self._client.post(self.url, json=payload)
        except httpx.TimeoutException as exc:
            raise ChannelTransientError(
                f"Tempo esgotado ao enviar WhatsApp ({type(exc).__name__})."
            ) from exc
        except httpx.TransportError as exc:
            raise ChannelTransientError(
                f"Falha de conexão com a API do WhatsApp ({type(exc).__name__}: {exc})."
            ) from exc
        if 200 <= response.status_code < 300:
            try:
                provider_id = str(response.json()["messages"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError):
                provider_id = f"ref:{message.idempotency_key}"  # accepted: never resend
            return Receipt(provider_message_id=provider_id, accepted_at=self.clock.now())
        raise self._error(response, message)

    def _error(
        self, response: httpx.Response, message: OutgoingMessage
    ) -> ChannelTransientError | ChannelPermanentError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        error = body.get("error", {}) if isinstance(body, dict) else {}
        error = error if isinstance(error, dict) else {}
        raw_code = error.get("code")
        code = (
            int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
        )
        detail = f"HTTP {status}" + (f", código {code}" if code is not None else "")
        if error.get("message"):
            detail += f": {error['message']}"
        if status >= 500 or status == 429 or code in TRANSIENT_CODES:
            return ChannelTransientError(
                f"WhatsApp indisponível ou limite de envio atingido ({detail}).",
                retry_after=retry_after_seconds(response),
                http_status=status,
                provider_code=str(code) if code is not None else None,
            )
        invalid = code in INVALID_RECIPIENT_CODES or (code == 100 and _is_about_phone(error))
        if invalid:
            text = f"Número sem WhatsApp ou inválido: {message.to} ({detail})."
        elif code == 131047:
            text = f"A janela de 24 horas da conversa fechou; envie um modelo aprovado ({detail})."
        else:
            text = f"A API do WhatsApp recusou a mensagem ({detail})."
        return ChannelPermanentError(
            text,
            invalid_recipient=invalid,
            provider_code=str(code) if code is not None else str(status),
            http_status=status,
        )


# --- webhooks ------------------------------------------------------------------------------

_STATUS_KINDS = {"delivered": "delivered", "read": "read", "failed": "failed"}


def _instant(value: Any, field: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError):
        raise InputError(f"timestamp inválido: {value!r}", field=field) from None


def _phone(value: Any) -> str:
    digits = str(value or "")
    return digits if digits.startswith("+") or not digits else f"+{digits}"


def _reply_text(raw: dict[str, Any]) -> str:
    kind = raw.get("type")
    if kind == "text":
        return str((raw.get("text") or {}).get("body", ""))
    if kind == "button":
        return str((raw.get("button") or {}).get("text", ""))
    if kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title", ""))
    return ""  # media, location, contacts: a reply, but no text to read


def parse_whatsapp_webhook(body: dict[str, Any]) -> list[InboundEvent]:
    """Status updates (delivered, read, failed) and incoming messages of a Cloud API webhook.

    "sent" statuses are skipped (the send already returned a Receipt). The signature
    (X-Hub-Signature-256) is checked by the caller before this runs.
    """
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise InputError("corpo do webhook do WhatsApp inválido: esperava 'entry'")
    events: list[InboundEvent] = []
    for e, entry in enumerate(body["entry"]):
        for c, change in enumerate((entry or {}).get("changes") or []):
            value = (change or {}).get("value") or {}
            where = f"entry[{e}].changes[{c}].value"
            for s, status in enumerate(value.get("statuses") or []):
                kind = _STATUS_KINDS.get(str(status.get("status")))
                if kind is None:
                    continue
                errors = status.get("errors") or [{}]
                first = errors[0] if isinstance(errors[0], dict) else {}
                events.append(
                    InboundEvent(
                        kind=kind,  # type: ignore[arg-type]
                        provider_message_id=str(status.get("id", "")),
                        from_phone=_phone(status.get("recipient_id")),
                        text="",
                        at=_instant(status.get("timestamp"), f"{where}.statuses[{s}].timestamp"),
                        reference=status.get("biz_opaque_callback_data") or None,
                        error_code=str(first["code"]) if "code" in first else None,
                        error_message=(first.get("message") or first.get("title")) or None,
                    )
                )
            for m, incoming in enumerate(value.get("messages") or []):
                context = incoming.get("context") or {}
                events.append(
                    InboundEvent(
                        kind="reply",
                        provider_message_id=str(incoming.get("id", "")),
                        from_phone=_phone(incoming.get("from")),
                        text=_reply_text(incoming),
                        at=_instant(incoming.get("timestamp"), f"{where}.messages[{m}].timestamp"),
                        in_reply_to=context.get("id") or None,
                    )
                )
    return events
