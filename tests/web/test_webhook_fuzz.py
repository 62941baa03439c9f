"""The webhooks over HTTP under fuzzed, signed bodies: never a 500 (no traceback), on SQLite and
PostgreSQL. Bounded here; bench/fuzz_night_payments.py runs the same properties for longer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.web.app import create_app
from tests.builders import NOW
from tests.payments.test_fuzz import dumped, json_values, nearly_valid_items, pix_like

SECRET = "segredo-de-fuzz"
EXAMPLES = int(os.environ.get("REGUA_FUZZ_EXAMPLES", "40"))
HTTP_FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def client(db_url: str, creditor_id: int) -> Iterator[TestClient]:
    settings_ = Settings(database_url=db_url, pix_webhook_secret=SECRET, webhook_secret=SECRET)
    with TestClient(create_app(settings_, clock=FixedClock(NOW))) as test_client:
        yield test_client


def post(client: TestClient, url: str, body: bytes) -> Any:
    return client.post(
        url,
        content=body,
        headers={"X-Regua-Signature": sign(body, SECRET), "Content-Type": "application/json"},
    )


@st.composite
def whatsapp_bodies(draw: st.DrawFn) -> Any:
    message = {
        "from": "5511987654321",
        "id": "wamid.x",
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": "SAIR"},
    }
    status = {"id": "wamid.y", "status": "delivered", "timestamp": "1795000000"}
    for part in (message, status):
        for key in draw(st.lists(st.sampled_from(list(part)), max_size=2)):
            part[key] = draw(json_values)
    value: dict[str, Any] = {"messages": [message], "statuses": [status]}
    if draw(st.booleans()):
        value[draw(st.sampled_from(["messages", "statuses"]))] = draw(json_values)
    return {"entry": [{"changes": [{"value": value}]}]}


@st.composite
def sms_bodies(draw: st.DrawFn) -> Any:
    event = {"type": "reply", "id": "in-1", "from": "+5511987654321", "text": "SAIR", "at": 1}
    for key in draw(st.lists(st.sampled_from([*event, "error", "reference"]), max_size=3)):
        event[key] = draw(json_values)
    return {"events": [event]}


@HTTP_FUZZ
@given(body=st.lists(pix_like | nearly_valid_items(), max_size=3).map(lambda i: {"pix": i}))
def test_pix_webhook_never_answers_500(client: TestClient, body: Any) -> None:
    response = post(client, "/api/v1/webhooks/pix", dumped(body))
    assert response.status_code < 500, response.text


@HTTP_FUZZ
@given(
    channel_body=st.one_of(
        st.tuples(st.just("whatsapp"), whatsapp_bodies()),
        st.tuples(st.just("sms"), sms_bodies()),
        st.tuples(st.sampled_from(["whatsapp", "sms"]), json_values),
    )
)
def test_message_webhooks_never_answer_500(
    client: TestClient, channel_body: tuple[str, Any]
) -> None:
    channel, body = channel_body
    response = post(client, f"/api/v1/inbound/{channel}", dumped(body))
    assert response.status_code < 500, response.text


def test_the_fuzz_bodies_are_json() -> None:
    assert json.loads(dumped({"pix": []})) == {"pix": []}
