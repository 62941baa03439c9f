"""Loopback servers that play the providers: an aiosmtpd SMTP server and a small HTTP server.

Both listen on 127.0.0.1 on a free port and record exactly what they received. Shared by the
channel tests and the dispatch, inbound and worker tests; `smtp_server` and `http_provider`
are pytest fixtures (import them into a test module, or use tests/channels/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpHandler:
    """Accepts mail; `rcpt_replies` maps an address to the reply RCPT gets, `data_replies` is a
    queue of replies for the next DATA commands (then 250)."""

    received: list[ReceivedMail] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    # Seconds between receiving a message and answering 250: sends stay in flight that long.
    data_delay: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            ReceivedMail(
                session.peer, envelope.mail_from, list(envelope.rcpt_tos), envelope.content
            )
        )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 2.0.0 Ok: queued"


@dataclass
class SmtpServer:
    handler: SmtpHandler
    controller: Controller
    port: int


def start_smtp(handler: SmtpHandler, **smtp_kwargs: Any) -> SmtpServer:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_kwargs)
    controller.start()
    return SmtpServer(handler, controller, port)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = start_smtp(SmtpHandler())
    yield server
    server.controller.stop()


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as is
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpProvider:
    """A tiny HTTP provider on loopback: answers with queued `Reply`s (default 200 {"id": ...})."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.replies: list[Reply] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                provider.requests.append(
                    ReceivedRequest("POST", self.path, dict(self.headers.items()), body)
                )
                reply = provider.replies.pop(0) if provider.replies else Reply(200, {"id": "ok"})
                if reply.delay:
                    time.sleep(reply.delay)
                payload = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_provider() -> Iterator[HttpProvider]:
    provider = HttpProvider()
    provider.start()
    yield provider
    provider.stop()
