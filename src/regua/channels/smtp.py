"""E-mail over SMTP, and the one e-mail builder the file outbox shares.

`build_email_message` turns an `OutgoingMessage` into a standard `EmailMessage`: text/plain
and text/html alternatives in UTF-8, headers encoded per RFC 2047, a ``Message-ID`` derived
from the idempotency key (``<act-123@sender.domain>``) so a retried message is recognisable,
``List-Unsubscribe`` (with ``List-Unsubscribe-Post`` for one-click URLs, RFC 8058), and
attachments.

`email_bytes` writes the same e-mail straight to its SMTP wire form (CRLF, 7-bit: RFC 2047
headers, quoted-printable parts) without the `email` package's header objects, which cost
milliseconds a message; messages it does not cover (attachments, addresses with accents, header
texts with line breaks or what looks like an encoded word) go through `build_email_message`.

`SmtpChannel` sends it. Used as a context manager it keeps one connection open for a batch
(reconnecting when the server dropped it between messages); otherwise each send opens and
closes its own connection. SMTP replies map to the channel errors: 4xx -> transient, 5xx ->
permanent, and 550/551/553 (or enhanced status 5.1.x) on RCPT -> invalid recipient.
"""

from __future__ import annotations

import binascii
import contextlib
import re
import smtplib
import ssl
import threading
import uuid
from datetime import datetime
from email.charset import Charset
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, Policy
from email.utils import format_datetime
from functools import lru_cache
from typing import Literal

from regua.channels.base import (
    ChannelError,
    ChannelPermanentError,
    ChannelTransientError,
    Connected,
    OutgoingMessage,
    Receipt,
)
from regua.clock import Clock, SystemClock
from regua.domain.text_cleaning import one_line

Security = Literal["none", "starttls", "ssl"]
DEFAULT_TIMEOUT = 10.0

_MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]")
_ENHANCED_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


def message_id_for(idempotency_key: str, sender: str) -> str:
    """``act-123`` + ``cobranca@loja.com.br`` -> ``<act-123@loja.com.br>``."""
    domain = sender.rpartition("@")[2] or "localhost"
    left = _MESSAGE_ID_UNSAFE.sub("-", idempotency_key).strip(".") or "msg"
    return f"<{left}@{domain}>"


def header_text(value: str | None) -> str:
    """A display name or subject as regua writes it into a header: on one line (control
    characters and line breaks become spaces, see `domain.text_cleaning`) and with no RFC 2047
    encoded word in it.

    A name in the database is plain Unicode text, so ``=?utf-8?q?...?=`` in it is literal
    text, never an encoding. Left as it is, readers decode it, and the `email` package of some
    Python versions (CVE-2024-6923) decodes it too and writes its encoded CR/LF as real line
    ends: a customer named ``=?utf-8?q?x=0D=0AReply-To:_golpe@...?=`` would add a Reply-To
    and replace the body. A space after the ``=`` keeps the text readable and makes it no
    encoded word for anyone.
    """
    return one_line(value or "").replace("=?", "= ?")


def _address(addr_spec: str, display_name: str = "") -> Address:
    try:
        address = Address(addr_spec=addr_spec)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ChannelPermanentError(
            f"Endereço de e-mail inválido: {addr_spec}", invalid_recipient=True
        ) from exc
    # The name cannot make a valid address invalid: it is cleaned here, whoever built it.
    name = header_text(display_name)
    if not name:
        return address
    return Address(display_name=name, username=address.username, domain=address.domain)


def build_email_message(
    message: OutgoingMessage,
    *,
    sender: str,
    sender_name: str = "",
    unsubscribe_mailto: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The e-mail for `message`, as both the SMTP channel and the file outbox write it."""
    email = EmailMessage()
    _set_mailbox(email, "From", sender, message.sender_name or sender_name)
    _set_mailbox(email, "To", message.to, message.to_name)
    if message.reply_to:
        email["Reply-To"] = _address(message.reply_to)
    # Written by regua, not parsed by the email package (see `_set_mailbox`).
    email.set_raw("Subject", _unstructured(header_text(message.subject), "Subject"))
    email["Date"] = format_datetime(now or SystemClock().now())
    email["Message-ID"] = message_id_for(message.idempotency_key, sender)
    # RFC 3834: tells vacation responders not to answer; people can still reply.
    email["Auto-Submitted"] = "auto-generated"
    email["X-Regua-Key"] = message.idempotency_key
    unsubscribe = []
    if unsubscribe_mailto:
        unsubscribe.append(f"<mailto:{unsubscribe_mailto}?subject=SAIR>")
    if message.unsubscribe_url:
        unsubscribe.append(f"<{message.unsubscribe_url}>")
    if unsubscribe:
        email["List-Unsubscribe"] = ", ".join(unsubscribe)
    if message.unsubscribe_url:
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    email.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime.partition("/")
        email.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return email


def _set_mailbox(email: EmailMessage, header_name: str, addr_spec: str, display_name: str) -> None:
    """``Name <address>`` written by regua and stored as it is (`set_raw`): the email package
    parses a header value it is given and, in some Python versions, writes back what an
    encoded word in it decodes to, line ends included (CVE-2024-6923), and drops the quotes of
    a long quoted name. The name is cleaned (`header_text`), quoted when short and ASCII, else
    RFC 2047 encoded words (only letters, digits and ``-!*+/`` inside, folded under 78
    characters). An address with non-ASCII (SMTPUTF8) is left to the package, cleaned name and
    all."""
    address = _address(addr_spec)
    name = header_text(display_name)
    if not addr_spec.isascii():
        email[header_name] = _address(addr_spec, name)
        return
    if not name:
        email.set_raw(header_name, address.addr_spec)
        return
    if name.isascii() and len(header_name) + len(name) + 4 <= 78:
        words = ['"' + _QUOTED_PAIR.sub(r"\\\1", name) + '"' if _SPECIALS.search(name) else name]
    else:
        words = _phrase_words(name)
    lines = [f"{header_name}:"]
    for word in [*words, f"<{address.addr_spec}>"]:
        if len(lines[-1]) + 1 + len(word) > 78:
            lines.append(word)
        else:
            lines[-1] += " " + word
    email.set_raw(header_name, "\r\n ".join(lines).partition(": ")[2])


_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def _phrase_words(name: str) -> list[str]:
    """A display name as words to fold between: plain ASCII words as they are, each run of
    other words as one RFC 2047 encoded word (the spaces inside it), so no two encoded words
    meet: readers disagree on the space between adjacent ones (RFC 2047 drops it, Python's
    parser adds one). A run too long for one encoded word (75 characters) is cut; only then do
    two meet."""
    words: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = " ".join(run)
        while text:
            size = len(text)
            while len(_UTF8.header_encode(text[:size])) > 75:
                size -= 1
            words.append(_UTF8.header_encode(text[:size]))
            text = text[size:]
        run.clear()

    for word in name.split(" "):
        if _ATOM.fullmatch(word) and "=?" not in word:
            flush()
            words.append(word)
        else:
            run.append(word)
    flush()
    return words


# RFC 5322 3.2.3 specials: an ASCII display name containing one is written as a quoted string.
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')
_QUOTED_PAIR = re.compile(r'([\\"])')
_MAX_LINE = 998  # RFC 5322 2.1.1: the hard limit of a line, CRLF excluded


# RFC 5322 dot-atoms on both sides of the @ (the domain in letters, digits and hyphens): the
# common address, which the email package accepts and writes unchanged, and which an SMTP
# command carries as ``<address>``. Anything else is parsed by the email package.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


@lru_cache(maxsize=1024)
def _parsed_address(addr_spec: str) -> str:
    return _address(addr_spec).addr_spec


def _checked_address(addr_spec: str) -> str:
    """`addr_spec` as the e-mail writes it, validated as `build_email_message` does (the email
    package's parse, about 30 µs, only for addresses out of the common form, and cached: the
    sender and the reply-to repeat)."""
    if _PLAIN_ADDRESS.fullmatch(addr_spec):
        return addr_spec
    return _parsed_address(addr_spec)


_UTF8 = Charset("utf-8")


@lru_cache(maxsize=4096)
def _mailbox_header(header_name: str, name: str, address: str) -> str | None:
    """``Name <address>`` as a header value: the name as it is, quoted when it has specials, or
    as one RFC 2047 encoded word when it has non-ASCII; the address on a folded line when the
    first would pass 78 characters. None for a name too long for one encoded word (75
    characters): readers disagree on the space between several in a name, so the email
    package writes that message."""
    if not name:
        return address
    if name.isascii():
        phrase = '"' + _QUOTED_PAIR.sub(r"\\\1", name) + '"' if _SPECIALS.search(name) else name
    else:
        phrase = _UTF8.header_encode(name)
        if len(phrase) > 75:
            return None
    fold = "\r\n " if len(header_name) + len(phrase) + len(address) + 5 > 78 else " "
    return f"{phrase}{fold}<{address}>"


def _mailbox(header_name: str, addr_spec: str, name: str) -> str | None:
    return _mailbox_header(header_name, name, _checked_address(addr_spec))


@lru_cache(maxsize=1024)
def _unstructured(text: str, header_name: str) -> str:
    """An unstructured header value (Subject), folded; RFC 2047 encoded when non-ASCII."""
    charset = "us-ascii" if text.isascii() else "utf-8"
    return Header(text, charset, header_name=header_name).encode(linesep="\r\n")


def _quoted_printable(text: str) -> bytes:
    """A text part's body as `set_content` sees it (one line end added, bytes line ends only),
    with CRLF line ends, quoted-printable (lines of at most 76 characters, "=" always encoded,
    so a boundary starting with "=_" never occurs in it)."""
    data = b"\r\n".join(text.encode("utf-8").splitlines()) + b"\r\n"
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)


def _header_safe(value: str | None) -> bool:
    # Printable only: no line boundary (which the email package refuses), no control character;
    # and nothing that reads as an RFC 2047 encoded word.
    return value is None or (value.isprintable() and "=?" not in value)


def wire_ready(
    message: OutgoingMessage,
    sender: str,
    sender_name: str = "",
    unsubscribe_mailto: str | None = None,
) -> bool:
    """Whether `email_bytes` writes `message` itself (else it uses `build_email_message`)."""
    name = message.sender_name or sender_name
    addresses = (sender, message.to, message.reply_to, message.unsubscribe_url, unsubscribe_mailto)
    return (
        not message.attachments
        and all(value is None or value.isascii() for value in addresses)
        and message.idempotency_key.isascii()
        and all(
            _header_safe(value)
            for value in (name, message.to_name, message.subject, message.idempotency_key)
        )
        and all(_header_safe(value) for value in addresses)
    )


def email_bytes(
    message: OutgoingMessage,
    *,
    sender: str,
    sender_name: str = "",
    unsubscribe_mailto: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """The e-mail of `build_email_message` as the bytes SMTP sends (CRLF line ends).

    The same headers and parts, written directly: display names and the subject in RFC 2047
    encoded words when they have non-ASCII, text parts in UTF-8 quoted-printable, so the whole
    message is 7-bit. Messages `wire_ready` refuses, and names too long for one encoded word,
    are built by `build_email_message` (with the SMTPUTF8 policy when an address has
    non-ASCII).

    Why not always the email package: building a message with it costs about 2 ms, more than
    the SMTP exchange itself, and dispatch must keep up with a plain send loop. This path still
    uses the package's encoders (Header, Charset) and the standard quoted-printable codec; it
    only lays out the headers and the parts, and a test compares what both ways produce.
    """
    now = now or SystemClock().now()
    wire = _direct_bytes(message, sender, sender_name, unsubscribe_mailto, now)
    if wire is not None:
        return wire
    email = build_email_message(
        message,
        sender=sender,
        sender_name=sender_name,
        unsubscribe_mailto=unsubscribe_mailto,
        now=now,
    )
    ascii_only = sender.isascii() and message.to.isascii()
    return serialized(email, SMTP if ascii_only else SMTPUTF8)


def serialized(email: EmailMessage, policy: Policy) -> bytes:
    """`email` as bytes, refused unless its header block holds exactly the headers regua set.

    The values are cleaned before they reach the `email` package (`header_text`); this is the
    second lock, for a Python whose `email` package writes a decoded line end into a header
    (CVE-2024-6923) or a value no cleaning foresaw: a message that would carry a header regua
    did not write, or lose one, is not sent.
    """
    raw = email.as_bytes(policy=policy)
    head = raw.split(b"\r\n\r\n" if policy.linesep == "\r\n" else b"\n\n", 1)[0]
    written = [
        line.split(b":", 1)[0].decode("ascii", "replace").lower()
        for line in head.splitlines()
        if line and line[:1] not in (b" ", b"\t")
    ]
    if written != [name.lower() for name in email]:
        raise ChannelPermanentError(
            "E-mail recusado: um cabeçalho sairia diferente do que o regua escreveu "
            "(nome ou assunto com quebra de linha escondida)."
        )
    return raw


def _direct_bytes(
    message: OutgoingMessage,
    sender: str,
    sender_name: str,
    unsubscribe_mailto: str | None,
    now: datetime,
) -> bytes | None:
    if not wire_ready(message, sender, sender_name, unsubscribe_mailto):
        return None
    # Addresses are validated first: an invalid one is refused whichever way the message goes.
    from_ = _mailbox("From", sender, header_text(message.sender_name or sender_name))
    to = _mailbox("To", message.to, header_text(message.to_name))
    reply_to = _checked_address(message.reply_to) if message.reply_to else None
    if from_ is None or to is None:
        return None
    headers = ["From: " + from_, "To: " + to]
    if reply_to:
        headers.append("Reply-To: " + reply_to)
    headers += [
        "Subject: " + _unstructured(header_text(message.subject), "Subject"),
        "Date: " + format_datetime(now),
        "Message-ID: " + message_id_for(message.idempotency_key, sender),
        "Auto-Submitted: auto-generated",
        "X-Regua-Key: " + message.idempotency_key,
    ]
    unsubscribe = []
    if unsubscribe_mailto:
        unsubscribe.append(f"<mailto:{unsubscribe_mailto}?subject=SAIR>")
    if message.unsubscribe_url:
        unsubscribe.append(f"<{message.unsubscribe_url}>")
    if unsubscribe:
        headers.append("List-Unsubscribe: " + ", ".join(unsubscribe))
    if message.unsubscribe_url:
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers.append("MIME-Version: 1.0")
    text_part = (
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _quoted_printable(message.text)
    )
    if message.html:
        boundary = f"=_regua_{uuid.uuid4().hex}"
        headers.append(f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"')
        head = "\r\n".join(headers).encode("ascii")
        # The line end before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
        mark = f"\r\n--{boundary}".encode("ascii")
        parts: tuple[bytes, ...] = (
            head,
            b"\r\n\r\n",
            mark[2:],
            b"\r\n",
            text_part,
            mark,
            b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            _quoted_printable(message.html),
            mark,
            b"--\r\n",
        )
    else:
        head = "\r\n".join(headers).encode("ascii")
        parts = (head, b"\r\n", text_part)
    if any(len(line) > _MAX_LINE for line in head.split(b"\r\n")):
        return None  # a name or key too long for one line: the email package folds it
    return b"".join(parts)


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def error_for_reply(code: int, reply: bytes | str, stage: str) -> ChannelError:
    """Map an SMTP reply to a channel error; `stage` is "connect", "auth", "mail", "rcpt" or
    "data"."""
    text = _reply_text(reply)
    detail = f"{code} {text}".strip()
    if 400 <= code < 500:
        return ChannelTransientError(
            f"O servidor de e-mail recusou temporariamente ({detail}).",
            smtp_code=code,
            stage=stage,
        )
    enhanced = _ENHANCED_STATUS.match(text)
    if enhanced:
        # 5.1.x: bad mailbox or domain; 5.7.x (policy) and others say nothing about the address.
        invalid = stage == "rcpt" and enhanced.group(2) == "1"
    else:
        invalid = stage == "rcpt" and code in (550, 551, 553)
    message = (
        f"Endereço de e-mail recusado pelo servidor ({detail})."
        if invalid
        else f"O servidor de e-mail recusou a mensagem ({detail})."
    )
    return ChannelPermanentError(
        message, invalid_recipient=invalid, provider_code=str(code), smtp_code=code, stage=stage
    )


class _Retryable(Exception):
    """The kept connection died before the message was handed over: reconnect and retry."""


class SmtpChannel(Connected):
    """Sends e-mail through an SMTP server.

    Not a connection at construction: `send` connects on demand, and ``with channel:`` keeps one
    connection for a batch. One instance may be shared by threads; sends are serialised.
    """

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        username: str | None = None,
        password: str | None = None,
        sender: str,
        sender_name: str = "",
        timeout: float = DEFAULT_TIMEOUT,
        unsubscribe_mailto: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"unknown SMTP security: {security}")
        self.host = host
        self.port = port
        self.security: Security = security
        self.username = username
        self.password = password
        self.sender = sender
        self.sender_name = sender_name
        self.timeout = timeout
        self.unsubscribe_mailto = unsubscribe_mailto
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname
        self.clock: Clock = clock or SystemClock()
        self._conn: smtplib.SMTP | None = None
        self._keep_open = False
        self._lock = threading.Lock()

    # -- connection -------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    context=self._context(),
                    local_hostname=self.local_hostname,
                )
            else:
                conn = smtplib.SMTP(
                    self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
                )
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self._context())
                conn.ehlo()
            if self.username:
                try:
                    conn.login(self.username, self.password or "")
                except smtplib.SMTPAuthenticationError as exc:
                    raise error_for_reply(exc.smtp_code, exc.smtp_error, "auth") from exc
            return conn
        except BaseException:
            if conn is not None:
                _close_quietly(conn)
            raise

    def open(self) -> None:
        """Keep one connection open for the following sends (until `close`)."""
        with self._lock:
            self._keep_open = True
            if self._conn is None:
                self._conn = self._translate_connect()

    def close(self) -> None:
        with self._lock:
            self._keep_open = False
            if self._conn is not None:
                try:
                    self._conn.quit()
                except (smtplib.SMTPException, OSError):
                    _close_quietly(self._conn)
                self._conn = None

    def _translate_connect(self) -> smtplib.SMTP:
        try:
            return self._connect()
        except ChannelError:
            raise
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelPermanentError(
                f"O servidor de e-mail não oferece o recurso necessário ({exc}); "
                "confira a configuração de segurança (STARTTLS/SSL) e autenticação.",
                provider_code="not_supported",
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise error_for_reply(exc.smtp_code, exc.smtp_error, "connect") from exc
        except ssl.SSLCertVerificationError as exc:
            raise ChannelPermanentError(
                f"Certificado do servidor de e-mail não confiável: {exc.verify_message}.",
                provider_code="tls_certificate",
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Timeouts, refused connections, DNS failures, TLS handshakes cut short.
            raise ChannelTransientError(
                f"Não foi possível conectar ao servidor de e-mail {self.host}:{self.port} "
                f"({type(exc).__name__}: {exc})."
            ) from exc

    # -- sending ----------------------------------------------------------------------------

    def _transact(self, conn: smtplib.SMTP, message: OutgoingMessage, payload: bytes) -> None:
        sender = self.sender_for(message)
        options: list[str] = []
        if not (sender.isascii() and message.to.isascii()):
            if not conn.has_extn("smtputf8"):
                raise ChannelPermanentError(
                    "O servidor de e-mail não aceita endereços com acentos (SMTPUTF8).",
                    provider_code="smtputf8",
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        # smtplib's mail() and rcpt() parse each address again to quote it; a plain address is
        # written as it is.
        plain = not options and bool(
            _PLAIN_ADDRESS.fullmatch(sender) and _PLAIN_ADDRESS.fullmatch(message.to)
        )
        stage = "mail"
        try:
            if plain:
                code, reply = conn.docmd("mail", f"FROM:<{sender}>")
            else:
                code, reply = conn.mail(sender, options)
            if code == 421:
                raise _Retryable()
            if code != 250:
                raise error_for_reply(code, reply, "mail")
            stage = "rcpt"
            if plain:
                code, reply = conn.docmd("rcpt", f"TO:<{message.to}>")
            else:
                code, reply = conn.rcpt(message.to)
            if code not in (250, 251):
                raise error_for_reply(code, reply, "rcpt")
            stage = "data"
            code, reply = conn.data(payload)
            if code != 250:
                raise error_for_reply(code, reply, "data")
        except smtplib.SMTPServerDisconnected as exc:
            if stage != "data":
                raise _Retryable() from exc
            raise ChannelTransientError(
                "A conexão com o servidor de e-mail caiu durante o envio; "
                "a mensagem será reenviada com o mesmo Message-ID.",
            ) from exc
        except smtplib.SMTPResponseException as exc:  # DATA command refused, for one
            _reset_quietly(conn)
            raise error_for_reply(exc.smtp_code, exc.smtp_error, stage) from exc
        except ChannelError:
            _reset_quietly(conn)
            raise
        except (TimeoutError, OSError) as exc:
            raise ChannelTransientError(
                f"Tempo esgotado ou falha de rede ao enviar e-mail ({type(exc).__name__}: {exc})."
            ) from exc

    def sender_for(self, message: OutgoingMessage) -> str:
        """The creditor's own sender address, else the deployment's (``REGUA_SMTP_SENDER``)."""
        sender = message.sender or self.sender
        if not sender:
            raise ChannelPermanentError(
                "falta o e-mail de envio do credor (regua credor editar --email-envio ...)",
                provider_code="no_sender",
            )
        return sender

    def send(self, message: OutgoingMessage) -> Receipt:
        """Send one e-mail; raises ChannelTransientError / ChannelPermanentError."""
        now = self.clock.now()
        sender = self.sender_for(message)
        payload = email_bytes(
            message,
            sender=sender,
            sender_name=self.sender_name,
            unsubscribe_mailto=self.unsubscribe_mailto,
            now=now,
        )
        with self._lock:
            if self._keep_open:
                self._send_on_kept_connection(message, payload)
            else:
                conn = self._translate_connect()
                try:
                    self._transact(conn, message, payload)
                except _Retryable as exc:
                    raise ChannelTransientError(
                        "O servidor de e-mail encerrou a conexão antes do envio."
                    ) from exc
                finally:
                    _quit_quietly(conn)
        message_id = message_id_for(message.idempotency_key, sender).strip("<>")
        return Receipt(provider_message_id=message_id, accepted_at=now)

    def _send_on_kept_connection(self, message: OutgoingMessage, payload: bytes) -> None:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._translate_connect()
            try:
                self._transact(self._conn, message, payload)
                return
            except _Retryable as exc:
                # The server closed an idle connection; nothing was handed over yet.
                _close_quietly(self._conn)
                self._conn = None
                if attempt == 2:
                    raise ChannelTransientError(
                        "O servidor de e-mail encerrou a conexão antes do envio."
                    ) from exc
            except ChannelTransientError as exc:
                if "smtp_code" not in exc.fields:
                    # A network failure, not a 4xx reply: this connection is unusable.
                    _close_quietly(self._conn)
                    self._conn = None
                raise


def _reset_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        conn.rset()


def _quit_quietly(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        _close_quietly(conn)


def _close_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()
