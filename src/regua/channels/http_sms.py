"""SMS through a generic HTTP provider API, and that provider's inbound webhook shape.

Sending (what `HttpSmsChannel` speaks; most Brazilian SMS gateways offer this shape or a thin
variation of it):

    POST {base_url}/messages
    Authorization: Bearer <token>
    Idempotency-Key: <idempotency key>
    {"to": "+5511987654321", "from": "<sender>", "text": "...", "reference": "<key>"}

    2xx  {"id": "<provider message id>"}
    4xx  {"error": {"code": "invalid_number", "message": "..."}}   (or the same keys flat)

Errors: timeouts, connection failures, 5xx and 429 are transient (429 honours Retry-After);
400/422 whose error code says the number is bad are permanent with `invalid_recipient`;
401/403 are permanent (credentials: fix the configuration); other 4xx are permanent.

Inbound webhook (`parse_sms_webhook`), one event or a list under "events":

    {"events": [
      {"type": "delivered" | "failed" | "reply", "id": "<message id>", "reference": "<key>",
       "from": "+5511987654321", "text": "SAIR", "at": "2026-11-23T13:00:00Z",
       "error": {"code": "...", "message": "..."}}
    ]}

For "delivered"/"failed", `id` is our message's provider id and `from` the recipient; for
"reply", `id` is the incoming message and `in_reply_to` (optional) the message it answers.
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

INVALID_NUMBER_CODES = frozenset(
    {"invalid_number", "invalid_recipient", "invalid_to", "not_mobile", "unreachable_number"}
)


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from a provider error body, tolerating non-JSON bodies."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200]
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = error.get("code")
            return (str(code) if code is not None else None), str(error.get("message", ""))
        return None, str(error)
    return None, str(body)[:200]


class HttpSmsChannel(HttpProviderChannel):
    """SMS over the generic provider API above. Holds one pooled httpx client; `close` it (or
    use ``with``) when done. Creating it opens no connection."""

    name = "sms"

    def __init__(
        self,
        base_url: str,
        token: str,
        sender: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        super().__init__(token, timeout, clock=clock, transport=transport)

    def send(self, message: OutgoingMessage) -> Receipt:
        """Hand one SMS to the provider; raises ChannelTransientError / ChannelPermanentError."""
        payload = {
            "to": message.to,
            "from": self.sender,
            "text": message.text,
            "reference": message.idempotency_key,
        }
        try:
            response = self._client.post(
                f"{self.base_url}/messages",
                json=payload,
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.TimeoutException as exc:
            raise ChannelTransientError(
                f"Tempo esgotado ao enviar SMS ({type(exc).__name__}); "
                "o reenvio usa a mesma chave de idempotência."
            ) from exc
        except httpx.TransportError as exc:
            raise ChannelTransientError(
                f"Falha de conexão com o provedor de SMS ({type(exc).__name__}: {exc})."
            ) from exc
        return self._receipt(response, message)

    def _receipt(self, response: httpx.Response, message: OutgoingMessage) -> Receipt:
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
                provider_id = str(body["id"])
            except (ValueError, KeyError, TypeError):
                # Accepted but unreadable: do not resend (that would duplicate the SMS); the
                # reference we sent identifies it in the provider's reports.
                provider_id = f"ref:{message.idempotency_key}"
            return Receipt(provider_message_id=provider_id, accepted_at=self.clock.now())
        code, text = _error_fields(response)
        detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {text}" if text else "")
        if status == 429 or status >= 500:
            raise ChannelTransientError(
                f"Provedor de SMS indisponível no momento ({detail}).",
                retry_after=retry_after_seconds(response) if status == 429 else None,
                http_status=status,
            )
        if status in (401, 403):
            raise ChannelPermanentError(
                f"O provedor de SMS recusou as credenciais ({detail}); confira o token.",
                provider_code=code or str(status),
                http_status=status,
            )
        invalid = code in INVALID_NUMBER_CODES
        raise ChannelPermanentError(
            f"Número de celular inválido para SMS: {message.to} ({detail})."
            if invalid
            else f"O provedor de SMS recusou a mensagem ({detail}).",
            invalid_recipient=invalid,
            provider_code=code or str(status),
            http_status=status,
        )


def _parse_instant(value: Any, field: str) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"data/hora inválida: {value!r}", field=field) from None
    if parsed.tzinfo is None:
        raise InputError(f"data/hora sem fuso horário: {value!r}", field=field)
    return parsed


_SMS_KINDS = {"delivered": "delivered", "failed": "failed", "reply": "reply", "read": "read"}


def parse_sms_webhook(body: dict[str, Any]) -> list[InboundEvent]:
    """Events of the generic SMS provider's webhook (shape in the module docstring).

    Unknown event types are skipped (providers add "sent", "queued", ...); a malformed known
    event raises InputError naming the field. The signature is checked by the caller.
    """
    raw_events = body.get("events", [body]) if isinstance(body, dict) else None
    if not isinstance(raw_events, list):
        raise InputError("corpo do webhook de SMS inválido: esperava 'events' (lista)")
    events: list[InboundEvent] = []
    for index, raw in enumerate(raw_events):
        if not isinstance(raw, dict):
            raise InputError("evento inválido", field=f"events[{index}]")
        kind = _SMS_KINDS.get(str(raw.get("type", "")))
        if kind is None:
            continue
        try:
            provider_id = str(raw["id"])
            phone = str(raw["from"])
        except KeyError as exc:
            raise InputError(
                f"campo obrigatório ausente: {exc.args[0]}", field=f"events[{index}]"
            ) from None
        raw_error = raw.get("error")
        error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
        events.append(
            InboundEvent(
                kind=kind,  # type: ignore[arg-type]
                provider_message_id=provider_id,
                from_phone=phone if phone.startswith("+") else f"+{phone}",
                text=str(raw.get("text") or ""),
                at=_parse_instant(raw.get("at"), f"events[{index}].at"),
                reference=str(raw["reference"]) if raw.get("reference") else None,
                in_reply_to=str(raw["in_reply_to"]) if raw.get("in_reply_to") else None,
                error_code=str(error["code"]) if error.get("code") is not None else None,
                error_message=str(error["message"]) if error.get("message") else None,
            )
        )
    return events
