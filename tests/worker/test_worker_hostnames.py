"""Several `regua worker` processes on one host, on RabbitMQ and on Redis: each takes a name of
its own, so none is refused the control queue (RabbitMQ: RESOURCE_LOCKED on
``celery@host.celery.pidbox``) nor answers for another (Redis); all answer a ping, and the
beat's question of which queues they consume. The RabbitMQ case skips when it is not
reachable, unless REGUA_TEST_REQUIRE_RABBITMQ=1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from typer.testing import CliRunner

from regua.cli.main import app
from regua.worker.consumers import queues_consumed

AMQP_URL = os.environ.get("REGUA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
REQUIRE_RABBITMQ = os.environ.get("REGUA_TEST_REQUIRE_RABBITMQ") == "1"
WORKER = [sys.executable, "-m", "regua", "worker", "--queues", "letter", "--concurrency", "1"]
CNPJ = ["--cnpj", "06.990.590/0001-23"]


def rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Broker:
    url: str
    transport: dict[str, Any]


@pytest.fixture(params=["rabbitmq", "redis"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    if request.param == "redis":
        # A key prefix of the test's own: its workers and pings meet no other test's.
        redis_url = request.getfixturevalue("redis_url")
        yield Broker(redis_url, {"global_keyprefix": f"regua-names-{uuid.uuid4().hex[:8]}:"})
        return
    if not rabbitmq_reachable():
        if REQUIRE_RABBITMQ:
            pytest.fail("RabbitMQ is required (REGUA_TEST_REQUIRE_RABBITMQ=1) but not reachable")
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672")
    yield Broker(AMQP_URL, {})


def start_worker(db_url: str, broker: Broker, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    # The letter queue only: no other test publishes there, so nothing else is consumed.
    return subprocess.Popen(
        [*WORKER, "--db", db_url, *extra],
        env={
            **os.environ,
            "REGUA_BROKER_URL": broker.url,
            "REGUA_BROKER_TRANSPORT_OPTIONS": json.dumps(broker.transport),
            "PYTHONPATH": os.pathsep.join(sys.path),
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_three_workers_on_one_host_all_answer(broker: Broker, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'regua.db'}"
    init = CliRunner().invoke(
        app,
        ["init", "--db", db_url, "--nome", "Comercial Ipê Distribuidora Ltda", *CNPJ],
    )
    assert init.exit_code == 0, init.output
    named = f"regua-letras-{os.getpid()}@{socket.gethostname()}"
    workers = [
        start_worker(db_url, broker, tmp_path / "a.log"),
        start_worker(db_url, broker, tmp_path / "b.log"),
        start_worker(db_url, broker, tmp_path / "c.log", "--hostname", named),
    ]
    control = Celery(broker=broker.url)
    control.conf.broker_transport_options = broker.transport
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(names) < 3:
            replies = control.control.ping(timeout=1.0) or []
            names = {name for reply in replies for name in reply}
            names = {n for n in names if n == named or n.startswith("regua-letter-")}
        logs = "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("*.log")))
        assert len(names) == 3, (names, logs)
        assert named in names
        assert all(worker.poll() is None for worker in workers), logs
        assert "RESOURCE_LOCKED" not in logs
        # What the beat asks before publishing: the queues these workers consume.
        assert queues_consumed(control) == {"regua.letter", "regua.dispatch"}
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        control.close()
