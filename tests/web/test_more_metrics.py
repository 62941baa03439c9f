"""What Prometheus sees beyond the counts: how long the webhooks take to answer, how long the
latest day's run took, and, with a broker, how many messages wait in each channel's queue
(Redis and RabbitMQ, the real servers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from kombu import Connection
from sqlalchemy import Engine, insert

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.store.tables import day_runs
from regua.web.app import create_app
from regua.web.health import QUEUE_PREFIX
from regua.worker.celery_app import queue_for
from tests.conftest import NOW
from tests.worker.test_worker_hostnames import AMQP_URL, REQUIRE_RABBITMQ, rabbitmq_reachable


@pytest.fixture
def amqp_url() -> str:
    if not rabbitmq_reachable():
        if REQUIRE_RABBITMQ:
            pytest.fail("RabbitMQ is required (REGUA_TEST_REQUIRE_RABBITMQ=1) but not reachable")
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672")
    return AMQP_URL


def scrape(db_url: str, **settings: object) -> set[str]:
    app = create_app(Settings(database_url=db_url, **settings), clock=FixedClock(NOW))
    with TestClient(app) as client:
        return set(client.get("/metrics").text.splitlines())


def test_webhook_answers_are_timed_by_webhook_and_status(creditor_id: int, db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, pix_webhook_secret="s"), clock=FixedClock(NOW))
    body = b'{"pix": []}'
    with TestClient(app) as client:
        assert client.post("/api/v1/webhooks/pix", content=body).status_code == 401
        forged = {"X-Regua-Signature": sign(body, "outro")}
        assert client.post("/api/v1/webhooks/pix", content=body, headers=forged).status_code == 401
        signed = {"X-Regua-Signature": sign(body, "s"), "Content-Type": "application/json"}
        assert client.post("/api/v1/webhooks/pix", content=body, headers=signed).status_code == 200
        client.get("/healthz")  # not a webhook: no series
        lines = set(client.get("/metrics").text.splitlines())
    assert 'regua_webhook_duration_seconds_count{status="401",webhook="pix"} 2.0' in lines
    assert 'regua_webhook_duration_seconds_count{status="200",webhook="pix"} 1.0' in lines
    assert 'regua_webhook_duration_seconds_bucket{le="+Inf",status="200",webhook="pix"} 1.0' in (
        lines
    )
    assert not [line for line in lines if "healthz" in line]


def test_the_latest_day_run_duration(engine: Engine, creditor_id: int, db_url: str) -> None:
    assert not [line for line in scrape(db_url) if line.startswith("regua_last_plan_duration ")]
    with engine.begin() as connection:
        connection.execute(
            insert(day_runs),
            [
                {
                    "creditor_id": creditor_id,
                    "day": date(2026, 11, 22),
                    "runner": "serve@a:1",
                    "started_at": NOW - timedelta(days=1),
                    "finished_at": NOW - timedelta(days=1) + timedelta(seconds=90),
                },
                {
                    "creditor_id": creditor_id,
                    "day": date(2026, 11, 23),
                    "runner": "run@b:2",
                    "started_at": NOW,
                    "finished_at": NOW + timedelta(seconds=42.5),
                },
            ],
        )
    assert "regua_last_plan_duration_seconds 42.5" in scrape(db_url)


def test_the_api_counts_the_queues_the_workers_consume() -> None:
    assert [f"{QUEUE_PREFIX}{c}" for c in ("email", "sms")] == [
        queue_for(c) for c in ("email", "sms")
    ]


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """A broker URL and transport options of an installation of its own (its own queues)."""
    if request.param == "redis":
        url, options = (
            request.getfixturevalue("redis_url"),
            {"global_keyprefix": f"teste-{uuid.uuid4().hex[:8]}:"},
        )
        yield url, options
        return
    url = request.getfixturevalue("amqp_url")
    yield url, {}
    with Connection(url) as connection:  # leave the server's queues as they were
        for channel in ("email", "sms"):
            connection.SimpleQueue(queue_for(channel)).queue.delete()


def test_queue_depth_per_channel(
    broker: tuple[str, dict[str, str]], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = broker
    with Connection(url, transport_options=options) as connection:
        for channel in ("email", "sms"):  # empty them first: RabbitMQ's queues outlive a test
            connection.SimpleQueue(queue_for(channel)).clear()
        emails = connection.SimpleQueue(queue_for("email"))
        for number in range(3):
            emails.put({"action_ids": [number]})
        connection.SimpleQueue(queue_for("sms")).put({"action_ids": [9]})
    monkeypatch.setenv("REGUA_BROKER_URL", url)
    lines = scrape(db_url, broker_url=url, broker_transport_options=options)
    assert "regua_broker_up 1.0" in lines
    assert 'regua_queue_messages{channel="email"} 3.0' in lines
    assert 'regua_queue_messages{channel="sms"} 1.0' in lines
    assert 'regua_queue_messages{channel="whatsapp"} 0.0' in lines
    with Connection(url, transport_options=options) as connection:
        for channel in ("email", "sms"):
            connection.SimpleQueue(queue_for(channel)).clear()


def test_a_broker_down_is_a_zero_not_an_error(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGUA_BROKER_URL", "redis://127.0.0.1:1/0")
    lines = scrape(db_url, broker_url="redis://127.0.0.1:1/0")
    assert "regua_broker_up 0.0" in lines
    assert not [line for line in lines if line.startswith("regua_queue_messages{")]
    assert "regua_claims_past_lease 0.0" in lines
