"""The embedded default channel: messages written to a folder instead of sent.

E-mails are ``.eml`` files (the same `EmailMessage` the SMTP channel sends, from the shared
builder), letters are ``.pdf``, and SMS, WhatsApp and phone actions are ``.json``. A file is
named after the send date and the idempotency key, ``2026-11-23_act-123.sms.json``, so re-sending
the same action on the same day overwrites it instead of duplicating it. Files are written
atomically (temporary file in the same folder, then rename), so a reader never sees half a file.

A real channel: laptop mode uses it, and service tests assert on the files it writes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from regua.channels.base import (
    ChannelPermanentError,
    ChannelTransientError,
    OutgoingMessage,
    Receipt,
)
from regua.channels.letter import letter_pdf_from_message
from regua.channels.smtp import build_email_message, serialized
from regua.clock import Clock, SystemClock
from regua.domain.channels import CHANNELS

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def outbox_file_name(message: OutgoingMessage, day: str) -> str:
    key = _UNSAFE.sub("_", message.idempotency_key).strip("._") or "sem-chave"
    extension = {"email": "eml", "letter": "pdf"}.get(message.channel, "json")
    return f"{day}_{key}.{message.channel}.{extension}"


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` so that readers see the old file or the new one, never a mix."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileOutboxChannel:
    """Writes each message of one channel to `folder`."""

    def __init__(
        self,
        folder: Path | str,
        channel: str,
        *,
        sender: str = "",
        sender_name: str = "",
        unsubscribe_mailto: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel: {channel}")
        self.folder = Path(folder)
        self.name = channel
        self.sender = sender
        self.sender_name = sender_name
        self.unsubscribe_mailto = unsubscribe_mailto
        self.clock: Clock = clock or SystemClock()

    def path_for(self, message: OutgoingMessage) -> Path:
        return self.folder / outbox_file_name(message, self.clock.now().date().isoformat())

    def render_bytes(self, message: OutgoingMessage) -> bytes:
        """The file content for `message`, as `send` writes it."""
        now = self.clock.now()
        if message.channel == "email":
            email = build_email_message(
                message,
                sender=message.sender or self.sender,
                sender_name=self.sender_name,
                unsubscribe_mailto=self.unsubscribe_mailto,
                now=now,
            )
            return serialized(email, default_policy)
        if message.channel == "letter":
            return letter_pdf_from_message(message, created_at=now)
        record: dict[str, Any] = {
            "channel": message.channel,
            "to": message.to,
            "to_name": message.to_name,
            "text": message.text,
            "template": message.whatsapp_template,
            "params": list(message.whatsapp_params),
            "key": message.idempotency_key,
            "at": now.isoformat(),
            "metadata": dict(message.metadata),
        }
        return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    def send(self, message: OutgoingMessage) -> Receipt:
        if message.channel != self.name:
            raise ChannelPermanentError(
                f"Mensagem de {message.channel} enviada à caixa de saída de {self.name}.",
                provider_code="wrong_channel",
            )
        content = self.render_bytes(message)
        path = self.path_for(message)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, content)
        except OSError as exc:
            # A full disk or a missing mount may pass; the dispatcher retries later.
            raise ChannelTransientError(
                f"Não foi possível gravar a mensagem em {path}: {exc.strerror or exc}."
            ) from exc
        return Receipt(provider_message_id=path.name, accepted_at=self.clock.now())
