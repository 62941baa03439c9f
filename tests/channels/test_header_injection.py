"""A customer's name or a subject built to forge headers (RFC 2047 encoded CR/LF, CVE-2024-6923
in some Python versions' `email` package, or a plain line break from Alt+Enter in Excel) goes out
as text: sent through a real SMTP server on loopback and written to the outbox, the raw bytes
hold exactly the headers regua writes and regua's body."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from regua.channels.base import OutgoingMessage
from regua.channels.file_outbox import FileOutboxChannel
from regua.channels.smtp import SmtpChannel, header_text
from regua.clock import FixedClock
from tests.servers import SmtpServer

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
BODY = "Olá. A fatura F-1, de R$ 80,00, venceu em 20/11/2026."
CREDITOR_REPLY_TO = "atendimento@conectafibra.com.br"
FORGED = "golpe@evil.example"

HOSTILE_NAMES = [
    # encoded CR/LF: a Reply-To, then an empty line and a body of the attacker's
    f"=?utf-8?q?x=0D=0AReply-To:_{FORGED}=0D=0A=0D=0APague_o_PIX_na_chave_golpe?=",
    f"=?utf-8?q?x=0D=0ABcc:_{FORGED}?=",
    "=?utf-8?b?eA0KQmNjOiBnb2xwZUBldmlsLmV4YW1wbGUNCg0KUGFndWU=?= Maria",
    f"Maria\r\nBcc: {FORGED}\r\n\r\nPague o PIX",
    "Maria da\nConceição",  # Alt+Enter in Excel
    "Maria\u2028Souza\x00\x0b",
]


def hostile(name: str, key: str = "act-1") -> OutgoingMessage:
    return OutgoingMessage(
        channel="email",
        to="maria@example.com.br",
        to_name=name,
        subject=f"Fatura de {name}",
        text=BODY,
        idempotency_key=key,
        reply_to=CREDITOR_REPLY_TO,
    )


def header_lines(raw: bytes) -> list[bytes]:
    """The header block's lines, each folded header joined back into one."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    lines: list[bytes] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def assert_only_regua_wrote(raw: bytes) -> None:
    lines = header_lines(raw)
    names = [line.split(b":", 1)[0].lower() for line in lines]
    assert names.count(b"reply-to") == 1
    assert next(line for line in lines if line.lower().startswith(b"reply-to:")) == (
        b"Reply-To: " + CREDITOR_REPLY_TO.encode()
    )
    assert b"bcc" not in names and b"cc" not in names
    assert names.count(b"to") == 1 and names.count(b"subject") == 1
    email = message_from_bytes(raw, policy=default_policy)
    assert email["Reply-To"] == CREDITOR_REPLY_TO
    assert email["Bcc"] is None
    assert str(email.get_content()).replace("\r\n", "\n") == BODY + "\n"  # type: ignore[attr-defined]
    # What the reader shows holds no line break, and nothing decodes to the forged address.
    for header in ("To", "Subject"):
        shown = str(email[header])
        assert "\n" not in shown and "\r" not in shown


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_forged_name_reaches_the_smtp_server_as_text(smtp_server: SmtpServer, name: str) -> None:
    channel = SmtpChannel(
        "127.0.0.1",
        smtp_server.port,
        security="none",
        sender="cobranca@conectafibra.com.br",
        sender_name="Conecta Fibra",
        timeout=2.0,
        clock=FixedClock(NOW),
    )
    channel.send(hostile(name))

    [mail] = smtp_server.handler.received
    assert mail.rcpt_tos == ["maria@example.com.br"]
    assert_only_regua_wrote(mail.content)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_forged_name_is_written_to_the_outbox_as_text(tmp_path: Path, name: str) -> None:
    outbox = FileOutboxChannel(
        tmp_path,
        "email",
        sender="cobranca@conectafibra.com.br",
        sender_name="Conecta Fibra",
        clock=FixedClock(NOW),
    )
    receipt = outbox.send(hostile(name))

    assert_only_regua_wrote((tmp_path / receipt.provider_message_id).read_bytes())


def test_a_line_break_in_a_name_is_a_space_and_the_name_stays_readable(
    smtp_server: SmtpServer,
) -> None:
    channel = SmtpChannel(
        "127.0.0.1", smtp_server.port, security="none", sender="cobranca@conectafibra.com.br"
    )
    channel.send(hostile("Maria da\r\nConceição"))

    email = smtp_server.handler.received[0].message
    assert email["To"].addresses[0].display_name == "Maria da Conceição"
    assert email["Subject"] == "Fatura de Maria da Conceição"


def test_header_text_keeps_ordinary_names_and_breaks_encoded_words() -> None:
    assert header_text("  José   da Silva ") == "José da Silva"
    assert header_text("Ana\tPaula\r\nSouza") == "Ana Paula Souza"
    assert header_text("=?utf-8?q?x?=") == "= ?utf-8?q?x?="
    assert header_text(None) == ""
