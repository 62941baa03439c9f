"""What every channel adapter speaks: the outgoing message, the receipt, the errors, the protocol.

An adapter (SMTP, HTTP SMS, WhatsApp Cloud API, file outbox) takes one `OutgoingMessage` and
either returns a `Receipt` (the provider accepted it) or raises one of two errors, so the
dispatch service decides what to do without knowing the provider:

- `ChannelTransientError`: try again later with the same idempotency key (timeouts, refused
  connections, HTTP 5xx/429, SMTP 4xx).
- `ChannelPermanentError`: do not retry; when `invalid_recipient` is set the address or number
  itself is bad and the contact should be flagged (HTTP 4xx, SMTP 5xx).

Inbound webhook payloads (delivery receipts, replies) are parsed by each HTTP adapter into the
plain `InboundEvent` defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol, Self, runtime_checkable

from regua.domain.channels import Channel as ChannelName
from regua.error_codes import ErrorCode
from regua.errors import ReguaError


class Connected:
    """`with` opens and closes: channels that keep a connection, and the registry of them."""

    def open(self) -> None:
        """Connect ahead of the first send; by default the first send connects."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str  # "application/pdf", "image/png", ...


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """One message ready to leave: rendered text plus the addressing a provider needs.

    `to` is an e-mail address (email), an E.164 phone (sms, whatsapp, phone) or the postal
    address text (letter). `idempotency_key` is stable for one action and its retries
    (e.g. ``"act-123"``): providers that support it deduplicate on it, SMTP derives the
    Message-ID from it, and the file outbox names the file after it.
    """

    channel: ChannelName
    to: str
    text: str
    idempotency_key: str
    to_name: str = ""
    subject: str | None = None
    html: str | None = None
    whatsapp_template: str | None = None
    whatsapp_params: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    sender_name: str = ""
    sender: str | None = None  # the creditor's own From address (else the channel's default)
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """The provider took the message; its id lets delivery receipts find the action later."""

    provider_message_id: str
    accepted_at: datetime


InboundKind = Literal["delivered", "read", "failed", "reply"]


@dataclass(frozen=True)
class InboundEvent:
    """Something a provider told us after sending: a delivery status or a reply from the debtor.

    `provider_message_id` is the id of our message for statuses and the id of the incoming
    message for replies; `in_reply_to` is our message a reply answers, when the provider says.
    `reference` is the idempotency key echoed back, when the provider supports it.
    """

    kind: InboundKind
    provider_message_id: str
    from_phone: str  # E.164; for statuses, the recipient of our message
    text: str
    at: datetime
    reference: str | None = None
    in_reply_to: str | None = None
    error_code: str | None = None
    error_message: str | None = None


class ChannelError(ReguaError):
    """A message could not be handed to the provider."""

    code = ErrorCode.CHANNEL_ERROR
    http_status = 502


class ChannelTransientError(ChannelError):
    """Try again later with the same idempotency key; nothing is wrong with the message."""

    code = ErrorCode.CHANNEL_TRANSIENT

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        super().__init__(message, retry_after=retry_after, **fields)
        self.retry_after = retry_after  # seconds, when the provider said (HTTP Retry-After)


class ChannelPermanentError(ChannelError):
    """Retrying will not help. `invalid_recipient` means the address or number itself is bad."""

    code = ErrorCode.CHANNEL_PERMANENT

    def __init__(
        self,
        message: str,
        *,
        invalid_recipient: bool = False,
        provider_code: str | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(
            message, invalid_recipient=invalid_recipient, provider_code=provider_code, **fields
        )
        self.invalid_recipient = invalid_recipient
        self.provider_code = provider_code


@runtime_checkable
class Channel(Protocol):
    """A way to reach a debtor. Implementations translate their library errors into
    `ChannelTransientError` / `ChannelPermanentError` and never raise anything else on purpose."""

    name: str

    def send(self, message: OutgoingMessage) -> Receipt: ...
