"""Signed bodies built to hurt: each is refused with a 4xx and a reason, nothing is stored, and
no log line repeats a phone number or a message text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.store.tables import interactions, payments
from regua.web.app import create_app
from tests.builders import NOW

SECRET = "segredo-de-teste"
E2E = "E18236120202611231015000000000001"[:32]
PHONE = "5511987654321"


@pytest.fixture
def client(db_url: str, creditor_id: int) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db_url,
        pix_webhook_secret=SECRET,
        webhook_secret=SECRET,
        max_body_bytes=64 * 1024,
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as test_client:
        yield test_client


def pix_item(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "endToEndId": E2E,
        "txid": "cobranca0000000000000000A1",
        "valor": "10.00",
        "horario": "2026-11-23T10:15:30.000-03:00",
    }
    item.update(changes)
    return item


def whatsapp(messages: list[object] | None = None, statuses: list[object] | None = None) -> object:
    value: dict[str, object] = {}
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"entry": [{"changes": [{"value": value}]}]}


def reply(**changes: object) -> dict[str, object]:
    message: dict[str, object] = {
        "id": "wamid.1",
        "from": PHONE,
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": "quero pagar amanhã"},
    }
    message.update(changes)
    return message


def deep(levels: int) -> bytes:
    return b'{"pix": ' + b"[" * levels + b"]" * levels + b"}"


PIX_BODIES: dict[str, bytes] = {
    "deep-nesting": deep(30_000),
    "nesting-40": deep(40),
    "horario-year-1": json.dumps({"pix": [pix_item(horario="0001-01-01T00:00:00-03:00")]}).encode(),
    "horario-year-9999": json.dumps(
        {"pix": [pix_item(horario="9999-12-31T23:59:59-03:00")]}
    ).encode(),
    "horario-2099": json.dumps({"pix": [pix_item(horario="2099-01-01T10:00:00-03:00")]}).encode(),
    "horario-1999": json.dumps({"pix": [pix_item(horario="1999-12-31T10:00:00-03:00")]}).encode(),
    "nul-in-text": json.dumps({"pix": [pix_item(infoPagador="a\u0000b")]}).encode(),
    "lone-surrogate": b'{"pix": [{"endToEndId": "x", "infoPagador": "\\ud800"}]}',
    "non-dict-item": json.dumps({"pix": [1, "a", None]}).encode(),
    "arabic-digits": json.dumps({"pix": [pix_item(valor="\u0661.00")]}).encode(),
    "nan-valor": b'{"pix": [{"endToEndId": "E", "valor": NaN}]}',
    "infinity": b'{"pix": [{"endToEndId": "E", "valor": Infinity}]}',
    "refund-year-9999": json.dumps(
        {
            "pix": [
                pix_item(
                    devolucoes=[
                        {
                            "id": "D1",
                            "valor": "10.00",
                            "status": "DEVOLVIDO",
                            "horario": {"liquidacao": "9999-12-31T23:00:00+00:00"},
                        }
                    ]
                )
            ]
        }
    ).encode(),
    "non-dict-refund": json.dumps({"pix": [pix_item(devolucoes=[1, [2]])]}).encode(),
}

INBOUND_BODIES: dict[str, tuple[str, bytes]] = {
    "deep-nesting": ("whatsapp", b'{"entry": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"),
    "timestamp-nan": ("sms", b'{"events": [{"type": "reply", "id": "1", "from": "1", "at": NaN}]}'),
    "timestamp-infinity": (
        "sms",
        b'{"events": [{"type": "reply", "id": "1", "from": "1", "at": Infinity}]}',
    ),
    "timestamp-1e20": ("whatsapp", json.dumps(whatsapp([reply(timestamp="1e20")])).encode()),
    "timestamp-1e20-number": (
        "sms",
        json.dumps({"events": [{"type": "reply", "id": "1", "from": PHONE, "at": 1e20}]}).encode(),
    ),
    "timestamp-year-9999": (
        "sms",
        json.dumps(
            {
                "events": [
                    {"type": "reply", "id": "1", "from": PHONE, "at": "9999-12-31T23:59:59-03:00"}
                ]
            }
        ).encode(),
    ),
    "timestamp-year-1": (
        "sms",
        json.dumps(
            {
                "events": [
                    {"type": "reply", "id": "1", "from": PHONE, "at": "0001-01-01T00:00:00+03:00"}
                ]
            }
        ).encode(),
    ),
    "nul-in-reply": (
        "whatsapp",
        json.dumps(whatsapp([reply(text={"body": "SAIR\u0000"})])).encode(),
    ),
    "surrogate-in-reply": (
        "whatsapp",
        b'{"entry": [{"changes": [{"value": {"messages": [{"id": "w", "from": "'
        + PHONE.encode()
        + b'", "timestamp": "1795000000", "type": "text", "text": {"body": "\\udfff"}}]}}]}]}',
    ),
    "non-dict-entry": ("whatsapp", json.dumps({"entry": [1, "x"]}).encode()),
    "non-dict-message": ("whatsapp", json.dumps(whatsapp(["texto", 3])).encode()),
    "non-dict-status": ("whatsapp", json.dumps(whatsapp(statuses=[[1]])).encode()),
    "non-dict-text": ("whatsapp", json.dumps(whatsapp([reply(text="quero pagar")])).encode()),
    "context-not-text": (
        "whatsapp",
        json.dumps(whatsapp([reply(context={"id": {"a": 1}})])).encode(),
    ),
}


def signed(client: TestClient, url: str, body: bytes) -> object:
    return client.post(
        url,
        content=body,
        headers={"X-Regua-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )


def nothing_stored(engine: Engine) -> bool:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(payments)).scalar_one() == 0
            and connection.execute(select(func.count()).select_from(interactions)).scalar_one() == 0
        )


@pytest.mark.parametrize("name", sorted(PIX_BODIES))
def test_a_hostile_pix_body_is_refused_with_a_reason(
    client: TestClient, engine: Engine, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = signed(client, "/api/v1/webhooks/pix", PIX_BODIES[name])

    assert 400 <= response.status_code < 500, response.text  # type: ignore[attr-defined]
    answer = response.json()  # type: ignore[attr-defined]
    assert answer["code"] == "invalid_webhook" and answer["message"]
    assert nothing_stored(engine)


@pytest.mark.parametrize("name", sorted(INBOUND_BODIES))
def test_a_hostile_provider_body_is_refused_without_logging_its_contents(
    client: TestClient, engine: Engine, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel, body = INBOUND_BODIES[name]
    with caplog.at_level(logging.DEBUG):
        response = signed(client, f"/api/v1/inbound/{channel}", body)

    assert 400 <= response.status_code < 500, response.text  # type: ignore[attr-defined]
    assert response.json()["code"] == "invalid_webhook"  # type: ignore[attr-defined]
    assert nothing_stored(engine)
    assert PHONE not in caplog.text and "quero pagar" not in caplog.text


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    body = json.dumps({"pix": [pix_item(infoPagador="x" * 70_000)]}).encode()

    response = signed(client, "/api/v1/webhooks/pix", body)

    assert response.status_code == 413  # type: ignore[attr-defined]
    assert response.json()["code"] == "request_too_large"  # type: ignore[attr-defined]


def test_an_unexpected_error_answers_500_and_logs_no_data(
    client: TestClient, caplog: pytest.LogCaptureFixture, engine: Engine
) -> None:
    # The app's engine gone: whatever fails then is nothing regua raises on purpose.
    client.app.state.regua._lazy["engine"] = None  # type: ignore[attr-defined]
    body = json.dumps({"pix": [pix_item(infoPagador=f"pago por {PHONE}")]}).encode()
    with caplog.at_level(logging.DEBUG):
        response = signed(client, "/api/v1/webhooks/pix", body)

    assert response.status_code == 500  # type: ignore[attr-defined]
    assert response.json()["code"] == "internal_error"  # type: ignore[attr-defined]
    assert "internal error on POST /api/v1/webhooks/pix" in caplog.text
    assert PHONE not in caplog.text
