"""What providers tell us after sending: delivery receipts, replies, and opt-outs.

`receive_webhook` takes one signed webhook call (raw body plus the ``sha256=<hex>`` signature
of HMAC-SHA256 over it), parses it with the channel's parser (WhatsApp Cloud API or the SMS
provider) and applies every event in one transaction:

- delivered / read: the action's `delivered_at` / `read_at`, and a timeline entry;
- failed (the provider could not deliver after accepting): the action becomes failed with the
  reason; an unknown or non-WhatsApp number flags the contact, so the next plan skips it;
- reply: the text lands on the timeline of every customer with that number on that channel
  (of the creditor whose message it answers, when the provider says which);
  a reply that is only an opt-out word (SAIR, PARE, STOP, CANCELAR; case, accents and
  punctuation do not matter) opts that contact out at once (`store.contacts.opt_out`) and
  the opt-out is confirmed on the timeline.

Providers deliver webhooks at least once: each event is recorded under a unique key
(``<channel>:<kind>:<provider id>``), so a repeated call changes nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection

from regua.channels.base import InboundEvent
from regua.channels.http_sms import INVALID_NUMBER_CODES, parse_sms_webhook
from regua.channels.http_whatsapp import (
    INVALID_RECIPIENT_CODES,
    parse_whatsapp_webhook,
)
from regua.domain.channels import channel_label
from regua.error_codes import ErrorCode
from regua.errors import InputError, WebhookNotConfigured
from regua.payments.webhooks import load_webhook_json, verify_signature
from regua.services.contact_flags import flag_invalid_contact
from regua.store.contacts import customers_with_contact, opt_out
from regua.store.provider_events import (
    find_answered_action,
    find_reported_action,
    mark_delivered,
    mark_read,
    mark_undelivered,
    record_event_once,
)
from regua.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

InboundChannel = Literal["sms", "whatsapp"]
OPT_OUT_WORDS = frozenset({"SAIR", "PARE", "STOP", "CANCELAR"})
_NOT_LETTERS = re.compile(r"[^A-Z]")


def opt_out_word(text: str) -> str | None:
    """The opt-out word a whole message amounts to ("Sair!", " pare ", "Cancelar."), or None.

    Only the whole message counts: "não quero sair do plano" is a reply, not an opt-out.
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    word = _NOT_LETTERS.sub("", plain.upper())
    return word if word in OPT_OUT_WORDS else None


@dataclass
class InboundResult:
    """What one webhook call changed."""

    events: int = 0
    duplicates: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    replies: int = 0
    opted_out: int = 0
    contacts_flagged: int = 0
    unmatched: int = 0  # a message or number regua does not know

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def receive_webhook(
    uow: UnitOfWorkFactory,
    channel: InboundChannel,
    body: bytes,
    signature: str | None,
    *,
    secret: str,
    now: datetime,
) -> InboundResult:
    """Verify, parse and apply one webhook call (see the module docstring)."""
    if not secret:
        raise WebhookNotConfigured(
            "webhook desativado: configure REGUA_WEBHOOK_SECRET para receber avisos"
        )
    verify_signature(body, signature, secret)
    payload = load_webhook_json(body)
    if not isinstance(payload, dict):
        raise InputError("corpo do webhook deve ser um objeto JSON", code=ErrorCode.INVALID_WEBHOOK)
    events = _checked(_parsed(channel, payload), now)
    with uow() as work:
        result = apply_events(work.connection, channel, events, now=now)
        work.commit()
    return result


# Events are dated from the Unix epoch (what a provider sends for "unknown") to a day after now;
# anything else (year 1, year 9999, 1e20 seconds) is not a real event.
_EARLIEST_EVENT = datetime(1970, 1, 1, tzinfo=UTC)


def _parsed(channel: InboundChannel, payload: dict[str, object]) -> list[InboundEvent]:
    """The provider's events; a body of the wrong shape (a list item that is no object, a
    number where text goes) is refused as the provider's mistake, never a crash."""
    try:
        if channel == "whatsapp":
            return parse_whatsapp_webhook(payload)
        return parse_sms_webhook(payload)
    except InputError as exc:
        raise InputError(exc.message, code=ErrorCode.INVALID_WEBHOOK) from None
    except (AttributeError, TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        # The exception's text may quote the body (phones, messages): only its kind is said.
        raise InputError(
            f"corpo do webhook em formato inesperado ({type(exc).__name__})",
            code=ErrorCode.INVALID_WEBHOOK,
        ) from None


def _checked(events: Sequence[InboundEvent], now: datetime) -> list[InboundEvent]:
    """The events, each with plain-text fields and a believable instant, or InputError."""
    latest = now.astimezone(UTC) + timedelta(days=1)
    checked = []
    for index, event in enumerate(events):
        where = f"events[{index}]"
        for name in ("reference", "in_reply_to", "error_code", "error_message"):
            value = getattr(event, name)
            if value is not None and not isinstance(value, str):
                raise InputError(
                    f"{name}: texto esperado", field=where, code=ErrorCode.INVALID_WEBHOOK
                )
        try:
            at = event.at.astimezone(UTC)
        except (OverflowError, ValueError):
            at = None
        if at is None or not _EARLIEST_EVENT <= at <= latest:
            raise InputError(
                "data e hora fora do intervalo aceito (de 1970 até amanhã)",
                field=where,
                code=ErrorCode.INVALID_WEBHOOK,
            )
        checked.append(replace(event, at=at))
    return checked


def apply_events(
    connection: Connection,
    channel: InboundChannel,
    events: Sequence[InboundEvent],
    *,
    now: datetime,
) -> InboundResult:
    """Apply parsed events; idempotent on each event's provider id."""
    result = InboundResult()
    for event in events:
        # Providers send local offsets too ("-03:00"); the store keeps UTC.
        event = replace(event, at=event.at.astimezone(UTC))
        result.events += 1
        if event.kind == "reply":
            _reply(connection, channel, event, now, result)
        else:
            _status(connection, channel, event, now, result)
    return result


def _invalid_recipient(channel: str, code: str | None) -> bool:
    if code is None:
        return False
    if channel == "whatsapp":
        return code.isdigit() and int(code) in INVALID_RECIPIENT_CODES
    return code in INVALID_NUMBER_CODES


def _status(
    connection: Connection,
    channel: InboundChannel,
    event: InboundEvent,
    now: datetime,
    result: InboundResult,
) -> None:
    action = find_reported_action(connection, channel, event.reference, event.provider_message_id)
    if action is None:
        log.info("%s %s for unknown message %s", channel, event.kind, event.provider_message_id)
        result.unmatched += 1
        return
    label = channel_label(channel)
    if event.kind == "delivered":
        detail = f"Mensagem de {label} entregue no aparelho de {action.contact_value}."
    elif event.kind == "read":
        detail = f"Mensagem de {label} lida por {action.contact_value}."
    else:
        why = event.error_message or event.error_code or "motivo não informado"
        detail = f"O provedor não conseguiu entregar a mensagem de {label}: {why}."
    fresh = record_event_once(
        connection,
        key=f"{channel}:{event.kind}:{event.provider_message_id or action.idempotency_key}",
        customer_id=int(action.customer_id),
        action_id=int(action.id),
        at=event.at,
        kind=event.kind,
        channel=channel,
        detail=detail,
        data={
            "provider_message_id": event.provider_message_id,
            "error_code": event.error_code,
        },
    )
    if not fresh:
        result.duplicates += 1
        return
    if event.kind == "delivered":
        mark_delivered(connection, int(action.id), event.at)
        result.delivered += 1
    elif event.kind == "read":
        mark_read(connection, int(action.id), event.at)
        result.read += 1
    else:
        mark_undelivered(connection, int(action.id), detail)
        result.failed += 1
        if _invalid_recipient(channel, event.error_code) and flag_invalid_contact(
            connection,
            int(action.customer_id),
            channel,
            action.contact_value,
            now,
            action_id=int(action.id),
            why="o provedor não conseguiu entregar a mensagem a este número",
        ):
            result.contacts_flagged += 1


def _reply(
    connection: Connection,
    channel: InboundChannel,
    event: InboundEvent,
    now: datetime,
    result: InboundResult,
) -> None:
    answered = None
    if event.in_reply_to:
        answered = find_answered_action(connection, channel, event.in_reply_to)
    # A reply to a known message concerns that message's creditor only: another creditor of
    # the installation with the same customer never sees it.
    owners = customers_with_contact(
        connection,
        channel,
        event.from_phone,
        creditor_id=int(answered.creditor_id) if answered is not None else None,
    )
    if not owners:
        log.info("%s reply from unknown number", channel)
        result.unmatched += 1
        return
    word = opt_out_word(event.text)
    label = channel_label(channel)
    recorded = False
    for customer_id in owners:
        action_id = (
            int(answered.id)
            if answered is not None and int(answered.customer_id) == customer_id
            else None
        )
        fresh = record_event_once(
            connection,
            key=f"{channel}:reply:{event.provider_message_id}:{customer_id}",
            customer_id=customer_id,
            action_id=action_id,
            at=event.at,
            kind="replied",
            channel=channel,
            detail=f"Resposta por {label} de {event.from_phone}: {event.text}"
            if event.text
            else f"Resposta por {label} de {event.from_phone} (sem texto).",
            data={"provider_message_id": event.provider_message_id, "text": event.text},
        )
        if not fresh:
            continue
        recorded = True
        if word is not None and opt_out(
            connection,
            customer_id=customer_id,
            channel=channel,
            reason=f"respondeu {word} por {label}: não recebe mais mensagens por {label} "
            f"em {event.from_phone}",
            at=now,
            value=event.from_phone,
        ):
            result.opted_out += 1
    if recorded:
        result.replies += 1
    else:
        result.duplicates += 1
