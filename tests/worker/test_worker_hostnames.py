"""Several `regua worker` processes on one host, on RabbitMQ: each takes a name of its own, so
none is refused the control queue (RESOURCE_LOCKED on ``celery@host.celery.pidbox``) and all
answer a ping. Skips when RabbitMQ is not reachable, unless REGUA_TEST_REQUIRE_RABBITMQ=1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from typer.testing import CliRunner

from regua.cli.main import app

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


@pytest.fixture
def amqp_url() -> str:
    if not rabbitmq_reachable():
        if REQUIRE_RABBITMQ:
            pytest.fail("RabbitMQ is required (REGUA_TEST_REQUIRE_RABBITMQ=1) but not reachable")
        pytest.skip("RabbitMQ not reachable on 127.0.0.1:5672")
    return AMQP_URL


def start_worker(db_url: str, amqp_url: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    # The letter queue only: no other test publishes there, so nothing else is consumed.
    return subprocess.Popen(
        [*WORKER, "--db", db_url, *extra],
        env={**os.environ, "REGUA_BROKER_URL": amqp_url, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_three_workers_on_one_host_all_answer(amqp_url: str, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'regua.db'}"
    init = CliRunner().invoke(
        app,
        ["init", "--db", db_url, "--nome", "Comercial Ipê Distribuidora Ltda", *CNPJ],
    )
    assert init.exit_code == 0, init.output
    named = f"regua-letras-{os.getpid()}@{socket.gethostname()}"
    workers = [
        start_worker(db_url, amqp_url, tmp_path / "a.log"),
        start_worker(db_url, amqp_url, tmp_path / "b.log"),
        start_worker(db_url, amqp_url, tmp_path / "c.log", "--hostname", named),
    ]
    control = Celery(broker=amqp_url)
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
