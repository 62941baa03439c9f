"""SmtpChannel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
import subprocess
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.channels.base import (
    Attachment,
    ChannelPermanentError,
    ChannelTransientError,
    OutgoingMessage,
    Receipt,
)
from regua.channels.smtp import SmtpChannel, build_email_message, email_bytes, wire_ready
from regua.clock import FixedClock
from tests.servers import SmtpHandler, SmtpServer, free_port, start_smtp

# The AUTH tests without TLS are on loopback on purpose; aiosmtpd warns about them.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TEXT = "Olá, Maria.\n\nA fatura de Instalação do roteador, no valor de R$ 80,00, vence amanhã."
HTML = "<p>Olá, Maria.</p><p>A fatura de <strong>Instalação do roteador</strong> vence amanhã.</p>"


def message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "to": "maria@example.com.br",
        "to_name": "Maria da Conceição",
        "subject": "Lembrete: sua fatura vence amanhã — ação necessária",
        "text": TEXT,
        "html": HTML,
        "idempotency_key": "act-123",
        "reply_to": "atendimento@conectafibra.com.br",
        "unsubscribe_url": "https://pagar.conectafibra.com.br/sair/abc",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


def decoded(part: Any) -> str:
    """A text part as the reader sees it (SMTP carries CRLF line ends)."""
    return str(part.get_content()).replace("\r\n", "\n")


def channel(port: int, **overrides: Any) -> SmtpChannel:
    options: dict[str, Any] = {
        "security": "none",
        "sender": "cobranca@conectafibra.com.br",
        "sender_name": "Conecta Fibra Ltda",
        "timeout": 2.0,
        "unsubscribe_mailto": "sair@conectafibra.com.br",
        "clock": FixedClock(NOW),
    }
    options.update(overrides)
    return SmtpChannel("127.0.0.1", port, **options)


def test_sends_text_and_html_with_ptbr_headers(smtp_server: SmtpServer) -> None:
    receipt = channel(smtp_server.port).send(message())

    assert receipt == Receipt("act-123@conectafibra.com.br", NOW)
    [mail] = smtp_server.handler.received
    assert mail.mail_from == "cobranca@conectafibra.com.br"
    assert mail.rcpt_tos == ["maria@example.com.br"]
    email = mail.message
    assert email["Subject"] == "Lembrete: sua fatura vence amanhã — ação necessária"
    headers = mail.content.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii() and b"=?utf-8?" in headers  # RFC 2047 on the wire
    assert email["From"].addresses[0].display_name == "Conecta Fibra Ltda"
    assert email["To"].addresses[0].display_name == "Maria da Conceição"
    assert email["Message-ID"] == "<act-123@conectafibra.com.br>"
    assert email["Reply-To"] == "atendimento@conectafibra.com.br"
    assert email["List-Unsubscribe"] == (
        "<mailto:sair@conectafibra.com.br?subject=SAIR>, "
        "<https://pagar.conectafibra.com.br/sair/abc>"
    )
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Date"] == "Mon, 23 Nov 2026 13:00:00 +0000"
    assert email.get_content_type() == "multipart/alternative"
    assert decoded(email.get_body(("plain",))) == TEXT + "\n"
    assert decoded(email.get_body(("html",))) == HTML + "\n"


def test_attachments_travel_with_the_message(smtp_server: SmtpServer) -> None:
    pdf = b"%PDF-1.4 carta"
    channel(smtp_server.port).send(
        message(attachments=(Attachment("carta.pdf", pdf, "application/pdf"),))
    )

    email = smtp_server.handler.received[0].message
    [part] = list(email.iter_attachments())
    assert part.get_filename() == "carta.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == pdf


def test_text_only_message_is_single_part(smtp_server: SmtpServer) -> None:
    channel(smtp_server.port).send(message(html=None, unsubscribe_url=None))

    email = smtp_server.handler.received[0].message
    assert email.get_content_type() == "text/plain"
    assert decoded(email) == TEXT + "\n"
    assert email["List-Unsubscribe"] == "<mailto:sair@conectafibra.com.br?subject=SAIR>"
    assert email["List-Unsubscribe-Post"] is None


def test_451_is_transient_and_the_retry_keeps_the_message_id(smtp_server: SmtpServer) -> None:
    smtp_server.handler.data_replies.append("451 4.3.0 Try again later")
    email_channel = channel(smtp_server.port)

    with pytest.raises(ChannelTransientError, match=r"temporariamente.*451"):
        email_channel.send(message())
    email_channel.send(message())

    [mail] = smtp_server.handler.received
    assert mail.message["Message-ID"] == "<act-123@conectafibra.com.br>"


def test_550_on_rcpt_flags_an_invalid_recipient(smtp_server: SmtpServer) -> None:
    smtp_server.handler.rcpt_replies["nobody@example.com.br"] = "550 5.1.1 User unknown"

    with pytest.raises(ChannelPermanentError, match="Endereço de e-mail recusado") as info:
        channel(smtp_server.port).send(message(to="nobody@example.com.br"))

    assert info.value.invalid_recipient is True
    assert info.value.provider_code == "550"
    assert smtp_server.handler.received == []


def test_policy_rejection_is_permanent_but_not_an_invalid_address(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.rcpt_replies["maria@example.com.br"] = "550 5.7.1 Relaying denied"

    with pytest.raises(ChannelPermanentError, match="recusou a mensagem") as info:
        channel(smtp_server.port).send(message())

    assert info.value.invalid_recipient is False


def test_refused_connection_is_transient() -> None:
    with pytest.raises(ChannelTransientError, match="Não foi possível conectar"):
        channel(free_port()).send(message())


def test_silent_server_times_out_as_transient() -> None:
    with socket.socket() as listener:  # accepts TCP, never greets
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(ChannelTransientError, match=r"timed out|TimeoutError"):
            channel(port, timeout=0.3).send(message())


def test_batch_reuses_one_connection(smtp_server: SmtpServer) -> None:
    with channel(smtp_server.port) as email_channel:
        for number in range(3):
            email_channel.send(message(idempotency_key=f"act-{number}"))

    received = smtp_server.handler.received
    assert [m.message["Message-ID"] for m in received] == [
        "<act-0@conectafibra.com.br>",
        "<act-1@conectafibra.com.br>",
        "<act-2@conectafibra.com.br>",
    ]
    assert len({m.peer for m in received}) == 1


def test_without_batch_each_send_has_its_own_connection(smtp_server: SmtpServer) -> None:
    email_channel = channel(smtp_server.port)
    email_channel.send(message(idempotency_key="act-1"))
    email_channel.send(message(idempotency_key="act-2"))

    assert len({m.peer for m in smtp_server.handler.received}) == 2


def test_batch_reconnects_when_the_server_dropped_the_connection() -> None:
    handler = SmtpHandler()
    server = start_smtp(handler)
    try:
        with channel(server.port) as email_channel:
            email_channel.send(message(idempotency_key="act-1"))
            server.controller.stop()  # drops the open connection
            server = _restart(server)
            email_channel.send(message(idempotency_key="act-2"))
    finally:
        server.controller.stop()

    assert [m.message["Message-ID"] for m in handler.received] == [
        "<act-1@conectafibra.com.br>",
        "<act-2@conectafibra.com.br>",
    ]


def _restart(server: SmtpServer) -> SmtpServer:
    from aiosmtpd.controller import Controller

    controller = Controller(server.handler, hostname="127.0.0.1", port=server.port)
    controller.start()
    return SmtpServer(server.handler, controller, server.port)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"cobranca",
        b"s3nha-forte",
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("excluded", ["PLAIN", "LOGIN"])
def test_authenticates_with_login_and_plain(excluded: str) -> None:
    server = start_smtp(
        SmtpHandler(),
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[excluded],
    )
    try:
        channel(server.port, username="cobranca", password="s3nha-forte").send(message())
    finally:
        server.controller.stop()
    assert len(server.handler.received) == 1


def test_wrong_password_is_permanent() -> None:
    server = start_smtp(
        SmtpHandler(), authenticator=_authenticator, auth_required=True, auth_require_tls=False
    )
    try:
        with pytest.raises(ChannelPermanentError, match="535"):
            channel(server.port, username="cobranca", password="errada").send(message())
    finally:
        server.controller.stop()


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # `cryptography` is not a dependency; the openssl command line makes the certificate.
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _tls_server(cert: Path, key: Path) -> SmtpServer:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    return start_smtp(
        SmtpHandler(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )


def test_starttls_with_auth(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    server = _tls_server(cert, key)
    try:
        channel(
            server.port,
            security="starttls",
            username="cobranca",
            password="s3nha-forte",
            ssl_context=ssl.create_default_context(cafile=str(cert)),
        ).send(message())
    finally:
        server.controller.stop()
    assert server.handler.received[0].message["Subject"].startswith("Lembrete")


def test_untrusted_certificate_is_permanent(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    server = _tls_server(cert, key)
    try:
        with pytest.raises(ChannelPermanentError, match="Certificado do servidor"):
            channel(server.port, security="starttls", username="cobranca", password="x").send(
                message()
            )
    finally:
        server.controller.stop()


@pytest.mark.parametrize(
    "to", ["maria.silva+cobranca@example.com.br", '"maria silva"@example.com.br']
)
def test_the_envelope_carries_the_addresses_plain_or_quoted(
    smtp_server: SmtpServer, to: str
) -> None:
    channel(smtp_server.port).send(message(to=to))

    [mail] = smtp_server.handler.received
    assert (mail.mail_from, mail.rcpt_tos) == ("cobranca@conectafibra.com.br", [to])
    assert mail.message["To"].addresses[0].addr_spec == to


_ATOM = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
_LABEL = st.text("abcXYZ019-", min_size=1, max_size=8)


@given(
    local=st.lists(_ATOM, min_size=1, max_size=3).map(".".join),
    domain=st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
)
def test_an_address_of_dot_atoms_is_written_as_the_email_package_writes_it(
    local: str, domain: str
) -> None:
    address = f"{local}@{domain}"
    wire = email_bytes(message(to=address, to_name=""), sender=SENDER, now=NOW)
    assert message_from_bytes(wire, policy=default_policy)["To"].addresses[0].addr_spec == address
    reference = build_email_message(message(to=address, to_name=""), sender=SENDER, now=NOW)
    assert reference["To"].addresses[0].addr_spec == address
    assert smtplib.quoteaddr(address) == f"<{address}>"  # what smtplib's rcpt() would send


def test_invalid_address_is_refused_before_connecting() -> None:
    with pytest.raises(ChannelPermanentError, match="inválido") as info:
        build_email_message(message(to="maria@@example"), sender="cobranca@conectafibra.com.br")
    assert info.value.invalid_recipient is True


# --- the wire form: email_bytes writes what build_email_message builds -----------------------

SENDER = "cobranca@conectafibra.com.br"


def test_accents_survive_the_wire_in_rfc2047_and_quoted_printable(
    smtp_server: SmtpServer,
) -> None:
    channel(smtp_server.port, sender_name="Cobrança Açaí & Cia.").send(
        message(
            to_name="João Conceição",
            subject="Atenção, João: cobrança de açaí vencida há 3 dias",
            text="Olá, João.\nSua cobrança está em atraso: R$ 1.234,56 (ç, ã, é, ô, ü).",
            html="<p>Olá, <b>João</b>: cobrança em atraso — ação necessária.</p>",
        )
    )

    [mail] = smtp_server.handler.received
    assert mail.content.isascii()  # 7-bit: encoded words and quoted-printable
    headers = mail.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "=?utf-8?" in headers and "João" not in headers
    email = mail.message
    assert email["Subject"] == "Atenção, João: cobrança de açaí vencida há 3 dias"
    assert email["To"].addresses[0].display_name == "João Conceição"
    assert email["To"].addresses[0].addr_spec == "maria@example.com.br"
    assert email["From"].addresses[0].display_name == "Cobrança Açaí & Cia."
    assert email["From"].addresses[0].addr_spec == SENDER
    plain, html = email.get_body(("plain",)), email.get_body(("html",))
    assert plain["Content-Type"].params["charset"] == "utf-8"
    assert (
        decoded(plain) == "Olá, João.\nSua cobrança está em atraso: R$ 1.234,56 (ç, ã, é, ô, ü).\n"
    )
    assert decoded(html) == "<p>Olá, <b>João</b>: cobrança em atraso — ação necessária.</p>\n"
    assert email["List-Unsubscribe"].endswith("<https://pagar.conectafibra.com.br/sair/abc>")


def test_a_name_with_specials_is_quoted() -> None:
    wire = email_bytes(message(to_name='Silva, Maria "Mary" (financeiro)'), sender=SENDER)
    email = message_from_bytes(wire, policy=default_policy)
    assert email["To"].addresses[0].display_name == 'Silva, Maria "Mary" (financeiro)'
    assert email["To"].addresses[0].addr_spec == "maria@example.com.br"


def test_long_texts_fold_within_line_limits() -> None:
    wire = email_bytes(
        message(
            to_name=("Maria da Conceição " * 8).strip(),
            subject=("Lembrete de cobrança " * 12).strip(),
            text="linha longa " * 200,
            html="<p>" + "é" * 500 + "</p>",
        ),
        sender=SENDER,
    )
    assert all(len(line) <= 78 for line in wire.split(b"\r\n"))
    email = message_from_bytes(wire, policy=default_policy)
    assert email["Subject"] == ("Lembrete de cobrança " * 12).strip()
    # A name longer than one encoded word is written as several, on folded lines.
    assert wire.split(b"\r\n\r\n")[0].count(b"=?utf-8?") > 2
    assert email["To"].addresses[0].display_name == ("Maria da Conceição " * 8).strip()
    assert decoded(email.get_body(("plain",))) == "linha longa " * 200 + "\n"


def test_unusual_messages_use_the_email_package() -> None:
    # Attachments, an address with accents (SMTPUTF8), a subject that looks like an encoded word,
    # a line break in a header text.
    pdf = Attachment("carta.pdf", b"%PDF-1.4", "application/pdf")
    assert not wire_ready(message(attachments=(pdf,)), SENDER)
    assert not wire_ready(message(to="joão@example.com.br"), SENDER)
    assert not wire_ready(message(subject="=?utf-8?q?x?="), SENDER)
    assert not wire_ready(message(to_name="Maria\r\nBcc: x@example.com"), SENDER)
    assert not wire_ready(message(subject="Fatura\x00"), SENDER)
    assert not wire_ready(message(), SENDER, unsubscribe_mailto="sair@x.com\r\nBcc: y@x.com")
    assert wire_ready(message(), SENDER)
    wire = email_bytes(message(attachments=(pdf,)), sender=SENDER, now=NOW)
    [part] = list(message_from_bytes(wire, policy=default_policy).iter_attachments())
    assert part.get_content() == b"%PDF-1.4"


def _parsed(wire: bytes) -> dict[str, Any]:
    email = message_from_bytes(wire, policy=default_policy)
    assert isinstance(email, EmailMessage)
    shape: dict[str, Any] = {
        name: str(email[name]) if email[name] is not None else None
        for name in (
            "Subject",
            "Date",
            "Message-ID",
            "Reply-To",
            "Auto-Submitted",
            "X-Regua-Key",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "MIME-Version",
        )
    }
    for name in ("From", "To"):
        [address] = email[name].addresses
        shape[name] = (address.display_name, address.addr_spec)
    # The email package drops the subject's leading white space; the wire form keeps it.
    shape["Subject"] = shape["Subject"].strip()
    shape["type"] = email.get_content_type()
    shape["parts"] = [
        (part.get_content_type(), part.get_content_charset(), decoded(part))
        for part in (email.iter_parts() if email.is_multipart() else [email])
    ]
    return shape


_NO_SURROGATES = st.characters(blacklist_categories=("Cs",))
# Header texts with a line boundary are refused by the email package either way.
_LINE = st.text(_NO_SURROGATES.filter(lambda c: len(f"a{c}a".splitlines()) == 1), max_size=120)
_NAME = st.one_of(
    st.sampled_from(["", "João", "Maria da Conceição", "Conecta Fibra Ltda.", "Silva, J."]),
    st.from_regex(r"[A-Za-zÀ-ÿçÇ][A-Za-zÀ-ÿçÇ .,'&-]{0,60}[A-Za-zÀ-ÿçÇ.]", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(
    to_name=_NAME,
    sender_name=_NAME,
    subject=_LINE,
    text=st.text(_NO_SURROGATES, max_size=400),
    html=st.one_of(st.none(), st.text(_NO_SURROGATES, min_size=1, max_size=400)),
    unsubscribe=st.booleans(),
)
def test_wire_bytes_read_back_as_the_email_package_message(
    to_name: str, sender_name: str, subject: str, text: str, html: str | None, unsubscribe: bool
) -> None:
    sent = message(
        to_name=to_name,
        sender_name=sender_name,
        subject=subject,
        text=text,
        html=html,
        unsubscribe_url="https://pagar.conectafibra.com.br/sair/abc" if unsubscribe else None,
    )
    options: dict[str, Any] = {
        "sender": SENDER,
        "sender_name": "Conecta Fibra",
        "unsubscribe_mailto": "sair@conectafibra.com.br",
        "now": NOW,
    }
    wire = email_bytes(sent, **options)
    reference = build_email_message(sent, **options).as_bytes(policy=SMTP)
    assert all(len(line) <= 998 for line in wire.split(b"\r\n"))
    assert _parsed(wire) == _parsed(reference)
