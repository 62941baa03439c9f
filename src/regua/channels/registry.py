"""Channel name -> the adapter that sends it, chosen once from the settings.

- e-mail: SMTP when ``smtp_host`` is set;
- SMS: the HTTP provider when ``sms_base_url`` is set;
- WhatsApp: the Cloud API when ``whatsapp_base_url`` is set;
- otherwise, and always for letters, the file outbox (``outbox_dir``): e-mails as ``.eml``,
  SMS/WhatsApp as ``.json``, letters as printable PDFs.

Phone actions are never sent by a channel: they are the operators' call list (`regua calls`).

Nothing connects when the registry is built. `open()` asks SMTP to keep one connection for the
batch that follows (connecting on the first send if the server is not up yet); `close()` ends
every connection and HTTP client.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from regua.channels.base import Channel, ChannelError, ChannelPermanentError, Connected
from regua.channels.file_outbox import FileOutboxChannel
from regua.channels.http_sms import HttpSmsChannel
from regua.channels.http_whatsapp import WhatsAppCloudChannel
from regua.channels.smtp import SmtpChannel
from regua.clock import Clock, SystemClock
from regua.config import Settings

log = logging.getLogger(__name__)


class ChannelRegistry(Connected):
    """The channels one dispatcher uses. Built from settings (`from_settings`) or given."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self._channels = dict(channels)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> ChannelRegistry:
        return cls(build_channels(settings, clock=clock))

    def get(self, name: str) -> Channel:
        try:
            return self._channels[name]
        except KeyError:
            if name == "phone":
                message = "Ligações não são enviadas: entram na lista de ligações (regua calls)."
            else:
                message = f"Canal sem configuração: {name}."
            raise ChannelPermanentError(message, provider_code="no_channel") from None

    def replica(self, name: str) -> tuple[Channel, bool]:
        """A channel for one more concurrent sender: a new connection for SMTP (one SMTP
        connection carries one message at a time), the shared instance for the others (an HTTP
        client pools its connections; the outbox is a folder). True when the caller owns it and
        must `close` it."""
        channel = self.get(name)
        if isinstance(channel, SmtpChannel):
            copy = SmtpChannel(
                channel.host,
                channel.port,
                security=channel.security,
                username=channel.username,
                password=channel.password,
                sender=channel.sender,
                sender_name=channel.sender_name,
                timeout=channel.timeout,
                unsubscribe_mailto=channel.unsubscribe_mailto,
                ssl_context=channel.ssl_context,
                local_hostname=channel.local_hostname,
                clock=channel.clock,
            )
            with contextlib.suppress(ChannelError):
                copy.open()
            return copy, True
        return channel, False

    def describe(self) -> dict[str, str]:
        """Channel -> where its messages go, for people ("SMTP 10.0.0.5:587", "pasta outbox")."""
        return {name: describe_channel(channel) for name, channel in self._channels.items()}

    def open(self) -> None:
        for channel in self._channels.values():
            opener = getattr(channel, "open", None)
            if callable(opener):
                # A server that is down now may be up at the first send, which reconnects and
                # reports its own error per message.
                with contextlib.suppress(ChannelError):
                    opener()

    def close(self) -> None:
        for channel in self._channels.values():
            closer = getattr(channel, "close", None)
            if callable(closer):
                try:
                    closer()
                except OSError:
                    log.warning("closing channel %s failed", channel.name, exc_info=True)


def build_channels(settings: Settings, *, clock: Clock | None = None) -> dict[str, Channel]:
    """The channel adapters the settings describe (see the module docstring)."""
    clock = clock or SystemClock()

    def outbox(channel: str) -> FileOutboxChannel:
        return FileOutboxChannel(
            settings.outbox_dir, channel, sender=settings.smtp_sender, clock=clock
        )

    channels: dict[str, Any] = {}
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            security=settings.smtp_security,  # type: ignore[arg-type]  # validated in Settings
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            sender=settings.smtp_sender,
            clock=clock,
        )
    else:
        channels["email"] = outbox("email")
    if settings.sms_base_url:
        channels["sms"] = HttpSmsChannel(
            settings.sms_base_url, settings.sms_token, settings.sms_sender, clock=clock
        )
    else:
        channels["sms"] = outbox("sms")
    if settings.whatsapp_base_url:
        channels["whatsapp"] = WhatsAppCloudChannel(
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_token,
            base_url=settings.whatsapp_base_url,
            api_version=settings.whatsapp_api_version,
            clock=clock,
        )
    else:
        channels["whatsapp"] = outbox("whatsapp")
    # Letters are printed by the creditor (or its print shop) from the PDFs in the outbox.
    channels["letter"] = outbox("letter")
    return channels


def describe_channel(channel: Channel) -> str:
    if isinstance(channel, FileOutboxChannel):
        return f"pasta {channel.folder}"
    if isinstance(channel, SmtpChannel):
        return f"SMTP {channel.host}:{channel.port}"
    if isinstance(channel, HttpSmsChannel):
        return f"provedor de SMS {channel.base_url}"
    if isinstance(channel, WhatsAppCloudChannel):
        return f"WhatsApp Cloud API {channel.url}"
    return type(channel).__name__
