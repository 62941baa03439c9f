"""The message webhooks over HTTP: signed, idempotent, and SAIR stops the channel at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.store.tables import contacts, customers
from regua.web.app import create_app
from tests.servers import HttpProvider, http_provider
from tests.services.test_dispatching import (
    AT_9_IN_SAO_PAULO,
    MONDAY,
    action_rows,
    dispatcher,
    http_registry,
    load,
    plan_day,
    timeline,
)
from tests.services.test_inbound import PHONE, whatsapp_reply

__all__ = ["http_provider"]

SECRET = "segredo-dos-webhooks"
VERIFY_TOKEN = "token-de-verificacao-da-meta"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db_url, webhook_secret=SECRET, whatsapp_verify_token=VERIFY_TOKEN
    )
    with TestClient(create_app(settings, clock=FixedClock(AT_9_IN_SAO_PAULO))) as test_client:
        yield test_client


def post(client: TestClient, path: str, payload: object, secret: str = SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    return client.post(
        f"/api/v1/inbound/{path}",
        content=body,
        headers={"Content-Type": "application/json", "X-Regua-Signature": sign(body, secret)},
    )


def test_sair_by_webhook_cancels_the_planned_whatsapp_message(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    client: TestClient,
    http_provider: HttpProvider,
) -> None:
    load(
        engine,
        creditor_id,
        tmp_path,
        [("W1", "João Pereira", "", "(11) 98765-4321", "SP")],
        [("X1", "W1", "20/11/2026", "120,00")],
    )
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    assert [a.channel for a in plan_day(engine, creditor_id, MONDAY, clock.instant)] == ["whatsapp"]

    response = post(client, "whatsapp", whatsapp_reply("wamid.IN9", "PARE", clock.instant))
    registry = http_registry(http_provider, tmp_path, clock)
    with registry:
        result = dispatcher(engine, clock, registry).dispatch_due(today=MONDAY)

    assert response.status_code == 200
    assert response.json() == {
        "events": 1,
        "duplicates": 0,
        "delivered": 0,
        "read": 0,
        "failed": 0,
        "replies": 1,
        "opted_out": 1,
        "contacts_flagged": 0,
        "unmatched": 0,
    }
    assert (result.sent, result.cancelled) == ({}, {"whatsapp": 1})
    assert http_provider.requests == []
    assert [r.status for r in action_rows(engine)] == ["cancelled"]
    assert [(kind, channel) for kind, channel, _d in timeline(engine, "W1")] == [
        ("replied", "whatsapp"),
        ("opted_out", "whatsapp"),
        ("cancelled", "whatsapp"),
    ]
    assert timeline(engine, "W1")[-1][2] == (
        "Mensagem não enviada: o cliente pediu para não receber mensagens neste canal "
        "(descadastrado)."
    )
    assert PHONE in timeline(engine, "W1")[1][2]


def test_a_wrong_signature_is_refused_and_changes_nothing(
    engine: Engine, creditor_id: int, client: TestClient
) -> None:
    response = post(client, "sms", {"events": []}, secret="outro")

    assert response.status_code == 401
    assert response.json() == {
        "code": "webhook_signature_invalid",
        "message": "assinatura do webhook inválida",
    }


def test_meta_subscription_check_echoes_the_challenge_only_with_the_verify_token(
    client: TestClient,
) -> None:
    def check(token: str) -> httpx.Response:
        return client.get(
            "/api/v1/inbound/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158"},
        )

    ok, refused, signing_key = check(VERIFY_TOKEN), check("x"), check(SECRET)

    assert (ok.status_code, ok.text) == (200, "1158")
    assert refused.status_code == 401
    # The providers' signing key is not the verify token: one secret per purpose.
    assert signing_key.status_code == 401


def test_a_long_provider_message_id_still_opts_out_every_customer_sharing_the_phone(
    engine: Engine, creditor_id: int, tmp_path: Path, client: TestClient
) -> None:
    # Two customers of one household share the phone; the provider's message id is long.
    load(
        engine,
        creditor_id,
        tmp_path,
        [
            ("W1", "João Pereira", "", "(11) 98765-4321", "SP"),
            ("W2", "Ana Pereira", "", "(11) 98765-4321", "SP"),
        ],
        [("X1", "W1", "20/11/2026", "120,00"), ("X2", "W2", "20/11/2026", "80,00")],
    )
    message_id = "wamid." + "HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjBDNzM" * 8
    assert len(message_id) > 300
    body = whatsapp_reply(message_id, "SAIR", AT_9_IN_SAO_PAULO)

    first = post(client, "whatsapp", body)
    again = post(client, "whatsapp", body)

    assert (first.json()["replies"], first.json()["opted_out"]) == (1, 2)
    assert (again.json()["duplicates"], again.json()["opted_out"]) == (1, 0)
    with engine.connect() as connection:
        opted = connection.execute(
            select(customers.c.external_id)
            .join(contacts, contacts.c.customer_id == customers.c.id)
            .where(contacts.c.channel == "whatsapp", contacts.c.opted_out_at.is_not(None))
            .order_by(customers.c.external_id)
        ).scalars()
        assert list(opted) == ["W1", "W2"]
