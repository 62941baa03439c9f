"""Links in messages: their own secret, opaque, expiring; one-click unsubscribe end to end."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from regua.channels.registry import ChannelRegistry
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.customer_links import (
    LinkProblem,
    LinkPurpose,
    LinkRefused,
    make_link_token,
    read_link_token,
)
from regua.services.dispatching import Dispatcher
from regua.store.installation_secrets import LINK_SIGNING, ensure_secret
from regua.store.tables import contacts
from regua.web.app import create_app
from tests.servers import SmtpServer, smtp_server
from tests.services.test_dispatching import (
    AT_9_IN_SAO_PAULO,
    MONDAY,
    SENDER,
    one_email_customer,
    text_of,
)

__all__ = ["one_email_customer", "smtp_server"]

SECRET = "segredo-dos-links-de-teste"
TODAY = date(2026, 11, 23)


def test_a_token_names_its_customer_only_to_whoever_holds_the_secret() -> None:
    token = make_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, 42, TODAY, 30)

    assert read_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, token, TODAY) == 42
    assert read_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, token, TODAY + timedelta(30)) == 42
    assert len(token) == 35
    # Two links for one customer share nothing readable: the id is not in them.
    other = make_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, 42, TODAY, 30)
    assert other != token
    raw = base64.urlsafe_b64decode(token + "=")
    assert (42).to_bytes(5, "big") not in raw


@pytest.mark.parametrize(
    ("secret", "purpose", "token_of", "day", "problem"),
    [
        ("outro-segredo", LinkPurpose.UNSUBSCRIBE, None, TODAY, LinkProblem.MALFORMED),
        (SECRET, LinkPurpose.PORTAL, None, TODAY, LinkProblem.MALFORMED),
        (SECRET, LinkPurpose.UNSUBSCRIBE, None, TODAY + timedelta(31), LinkProblem.EXPIRED),
        (SECRET, LinkPurpose.UNSUBSCRIBE, "42.Zm9yamFkbw", TODAY, LinkProblem.MALFORMED),
        (SECRET, LinkPurpose.UNSUBSCRIBE, "", TODAY, LinkProblem.MALFORMED),
        (SECRET, LinkPurpose.UNSUBSCRIBE, "é" * 35, TODAY, LinkProblem.MALFORMED),
    ],
    ids=["other-secret", "other-purpose", "expired", "old-link", "empty", "not-ascii"],
)
def test_a_token_is_refused_when_forged_expired_or_old(
    secret: str, purpose: LinkPurpose, token_of: str | None, day: date, problem: LinkProblem
) -> None:
    token = (
        token_of
        if token_of is not None
        else make_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, 42, TODAY, 30)
    )
    with pytest.raises(LinkRefused) as refused:
        read_link_token(secret, purpose, token, day)
    assert refused.value.problem == problem


def test_a_flipped_bit_is_refused() -> None:
    token = make_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, 42, TODAY, 30)
    raw = bytearray(base64.urlsafe_b64decode(token + "="))
    raw[7] ^= 1
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(LinkRefused):
        read_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, forged, TODAY)


def email_opted_out(engine: Engine) -> list[tuple[str, bool]]:
    with engine.connect() as connection:
        return [
            (value, opted is not None)
            for value, opted in connection.execute(
                select(contacts.c.value, contacts.c.opted_out_at)
                .where(contacts.c.channel == "email")
                .order_by(contacts.c.id)
            )
        ]


def test_an_email_carries_a_working_one_click_unsubscribe_by_default(
    engine: Engine,
    db_url: str,
    one_email_customer: int,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    # No link secret configured: the one `regua init` keeps in the database signs the links.
    with engine.begin() as connection:
        ensure_secret(
            connection, LINK_SIGNING, lambda: "segredo-guardado-no-banco", AT_9_IN_SAO_PAULO
        )
    settings = Settings(
        database_url=db_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_sender=SENDER,
        outbox_dir=tmp_path / "outbox",
        webhook_secret="segredo-do-provedor",
        unsubscribe_base_url="https://cobranca.exemplo.com.br/descadastro",
    )
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    with ChannelRegistry.from_settings(settings, clock=clock) as registry:
        Dispatcher.from_settings(engine, settings, clock=clock, registry=registry).dispatch_due(
            today=MONDAY
        )

    [mail] = smtp_server.handler.received
    header = mail.message["List-Unsubscribe"]
    link = next(part.strip("<> ") for part in header.split(",") if "https://" in part)
    assert link.startswith("https://cobranca.exemplo.com.br/descadastro/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in text_of(mail.message, "plain") and link in text_of(mail.message, "html")
    token = link.rsplit("/", 1)[1]

    with TestClient(create_app(settings, clock=clock)) as client:
        page = client.get(f"/descadastro/{token}")
        assert page.status_code == 200 and "Não quero mais receber e-mails" in page.text
        assert email_opted_out(engine) == [("maria@exemplo.com.br", False)]  # GET changes nothing
        # What a mail client does for one-click (RFC 8058).
        clicked = client.post(
            f"/descadastro/{token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        again = client.post(f"/descadastro/{token}")
        old = client.get("/descadastro/17.Zm9yamFkbw")
    assert clicked.status_code == 200 and "não receberá mais e-mails" in clicked.text
    assert email_opted_out(engine) == [("maria@exemplo.com.br", True)]
    assert again.status_code == 200 and "já tinha pedido" in again.text
    # An old link (id.signature) gets a page a person understands, not an error.
    assert old.status_code == 404 and "Link não reconhecido" in old.text


def test_an_expired_unsubscribe_link_says_so_and_changes_nothing(
    engine: Engine, db_url: str, one_email_customer: int
) -> None:
    settings = Settings(database_url=db_url, link_secret=SECRET)
    token = make_link_token(SECRET, LinkPurpose.UNSUBSCRIBE, 1, TODAY - timedelta(61), 60)
    with TestClient(create_app(settings, clock=FixedClock(AT_9_IN_SAO_PAULO))) as client:
        response = client.post(f"/descadastro/{token}")

    assert response.status_code == 410 and "expirou" in response.text
    assert email_opted_out(engine) == [("maria@exemplo.com.br", False)]
