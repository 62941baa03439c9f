"""Health, readiness and metrics: what a load balancer and Prometheus see, with the database up,
down, or behind this version's schema; and every route answering JSON when the database is down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from regua.clock import FixedClock
from regua.config import Settings
from regua.payments.webhooks import sign
from regua.services.operations_status import head_revision
from regua.store import migrate
from regua.store.db import make_engine
from regua.store.tables import actions, plan_runs
from regua.web.app import create_app
from tests.conftest import NOW

DOWN = "postgresql://regua@127.0.0.1:1/regua"  # nothing listens on port 1


@pytest.fixture
def down() -> Iterator[TestClient]:
    settings = Settings(database_url=DOWN, webhook_secret="s")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_healthz_answers_with_the_database_down(down: TestClient) -> None:
    response = down.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_is_503_in_json_with_the_database_down(down: TestClient) -> None:
    response = down.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("banco inacessível")


def test_routes_answer_a_json_503_with_the_database_down(down: TestClient) -> None:
    body = json.dumps({"entry": []}).encode()
    webhook = down.post(
        "/api/v1/inbound/whatsapp",
        content=body,
        headers={"Content-Type": "application/json", "X-Regua-Signature": sign(body, "s")},
    )
    for response in (webhook,):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["code"] == "database_unavailable"
        assert "Traceback" not in response.text


def test_readyz_is_ok_on_a_current_database(db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"] == {"database": "ok", "schema": "ok"}
    assert body["schema"] == {"current": head_revision(), "head": head_revision()}


def test_readyz_names_the_upgrade_on_a_database_behind_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = make_engine(url)
    migrate.upgrade(old, "0003")
    old.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["schema"].startswith(
        "o banco está na versão 0003; rode `regua db upgrade`"
    )


def test_readyz_checks_the_broker_when_one_is_set(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_BROKER_URL", "redis://127.0.0.1:1/0")
    settings = Settings(database_url=db_url, broker_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["broker"].startswith("broker inacessível")


def _action(creditor_id: int, customer: int, channel: str, status: str, **more: object) -> dict:
    return {
        "creditor_id": creditor_id,
        "customer_id": customer,
        "planned_for": date(2026, 11, 23),
        "policy_name": "padrao",
        "policy_version": "1",
        "step_id": "d1",
        "step_offset": 1,
        "channel": channel,
        "status": status,
        "created_at": NOW,
        "claimed_at": None,  # an executemany takes its columns from the first row
        **more,
    }


def test_metrics_count_messages_stale_claims_and_plan_runs(
    engine: Engine, creditor_id: int, db_url: str
) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(actions),
            [
                _action(creditor_id, 1, "email", "sent"),
                _action(creditor_id, 2, "email", "sent"),
                _action(creditor_id, 3, "sms", "failed"),
                # a dispatcher died 20 minutes ago holding this one; the other is fresh
                _action(creditor_id, 4, "email", "sending", claimed_at=NOW - timedelta(minutes=20)),
                _action(creditor_id, 5, "email", "sending", claimed_at=NOW - timedelta(minutes=1)),
            ],
        )
        connection.execute(
            insert(plan_runs),
            [
                {
                    "creditor_id": creditor_id,
                    "planned_for": date(2026, 11, 23),
                    "started_at": NOW,
                    "policies_digest": "x",
                    "examined": 5,
                    "inserted": 5,
                }
            ],
        )
    app = create_app(Settings(database_url=db_url), clock=FixedClock(NOW))
    with TestClient(app) as client:
        text = client.get("/metrics").text
    lines = set(text.splitlines())
    assert 'regua_messages{channel="email",status="sent"} 2.0' in lines
    assert 'regua_messages{channel="sms",status="failed"} 1.0' in lines
    assert 'regua_messages{channel="email",status="sending"} 2.0' in lines
    assert "regua_claims_past_lease 1.0" in lines
    assert "regua_plan_runs_total 1.0" in lines
    assert "regua_last_plan_run_timestamp_seconds 1.7954352e+09" in lines  # NOW in Unix time


def test_docs_are_served_from_the_package_not_a_cdn(db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        page = client.get("/docs")
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        schema = client.get("/openapi.json")
    assert page.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert script.status_code == 200 and len(script.content) > 100_000
    assert schema.status_code == 200


def test_the_web_app_puts_a_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    # The portal commits on every page view: outside WAL each commit waits for the disk and
    # blocks the readers of the other requests.
    url = f"sqlite:///{tmp_path / 'regua.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url), clock=FixedClock(NOW))) as client:
        assert client.get("/readyz").status_code == 200
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
