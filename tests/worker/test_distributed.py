"""Distributed mode with real Celery workers (subprocesses) on the local Redis, PostgreSQL as the
store and an aiosmtpd server on loopback: every action is delivered, and a worker killed in the
middle of a batch duplicates at most the message it had in flight, with the same Message-ID.
So do the database sessions of the workers killed mid-batch (pg_terminate_backend) and a broker
killed and restarted empty (a private redis-server)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select, text

from regua.clock import SystemClock, today_in
from regua.config import Settings
from regua.policies.loader import packaged_policy_text
from regua.services.daily_cycle import plan
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.policies import apply_policy_text
from regua.services.publishing import DuePublisher
from regua.services.setup import create_creditor
from regua.store.tables import actions, interactions, metadata
from regua.worker.celery_app import create_celery, publisher
from tests.builders import run_import, write_csv
from tests.conftest import REDIS_URL
from tests.servers import SmtpHandler, SmtpServer, start_smtp

SENDER = "cobranca@exemplo.com.br"
LEASE_SECONDS = 2.0
VISIBILITY_TIMEOUT = 3
# A régua open day and night, every day: the workers run on the real clock, whatever the hour.
ALWAYS_OPEN = """contact_window:
  weekdays: "00:00-24:00"
  saturday: "00:00-24:00"
  sunday: "00:00-24:00"
  holidays: open
  carnival: open
"""


def always_open_policy() -> str:
    text_ = packaged_policy_text("padrao")
    start = text_.index("contact_window:")
    end = text_.index("\n# per_customer_per_week")
    return text_[:start] + ALWAYS_OPEN + text_[end:]


@pytest.fixture
def pg(postgres_engine: Engine) -> Engine:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with postgres_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return postgres_engine


def portfolio(engine: Engine, tmp_path: Path, count: int) -> list[int]:
    """`count` customers without a state (the régua's window alone applies), each with one
    invoice three days late today: one e-mail action each, planned for today."""
    now = SystemClock().now()
    today = today_in(SystemClock(), "America/Sao_Paulo")
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, now)
        apply_policy_text(connection, creditor_id, always_open_policy(), "padrao.yaml", now)
    people = ["codigo_cliente;nome;cpf_cnpj;email"]
    bills = ["id;codigo_cliente;descricao;vencimento;valor"]
    due = today - timedelta(days=3)
    for n in range(count):
        people.append(f"C{n:03d};Cliente {n};{cpf(200_000_000 + n)};c{n:03d}@exemplo.com.br")
        bills.append(f"T{n:03d};C{n:03d};Mensalidade;{due:%d/%m/%Y};{10 + n},00")
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", "\n".join(people)), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", "\n".join(bills)), creditor_id)
    with engine.begin() as connection:
        planned = plan(connection, creditor_id, today, now).actions
    assert [(a.status, a.channel) for a in planned] == [("planned", "email")] * count
    with engine.connect() as connection:
        return list(connection.execute(select(actions.c.id).order_by(actions.c.id)).scalars())


def cpf(n: int) -> str:
    digits = [int(d) for d in f"{n:09d}"]
    for size in (9, 10):
        total = sum(d * (size + 1 - i) for i, d in enumerate(digits[:size]))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


class Workers:
    """Celery worker subprocesses sharing one broker namespace, stopped at the end."""

    def __init__(
        self, db_url: str, smtp_port: int, log_dir: Path, broker_url: str = REDIS_URL
    ) -> None:
        self.broker_url = broker_url
        prefix = f"regua-test-{uuid.uuid4().hex[:8]}:"
        self.transport = {
            "global_keyprefix": prefix,
            "unacked_restore_throttle": 1,  # look for lost tasks at every poll, not every 10th
        }
        self.env = {
            **os.environ,
            "REGUA_DATABASE_URL": db_url,
            "REGUA_BROKER_URL": broker_url,
            "REGUA_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "REGUA_BROKER_TRANSPORT_OPTIONS": json.dumps(self.transport),
            "REGUA_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
            "REGUA_SMTP_HOST": "127.0.0.1",
            "REGUA_SMTP_PORT": str(smtp_port),
            "REGUA_SMTP_SECURITY": "none",
            "REGUA_SMTP_SENDER": SENDER,
            "REGUA_RATE_LIMITS": json.dumps({"email": 1000}),
            "REGUA_OUTBOX_DIR": str(log_dir / "outbox"),
        }
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, concurrency: int, queues: str = "regua.email", *, beat: bool = False
    ) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker{len(self.processes)}.log").open("wb")
        schedule = ["--beat", "--schedule", str(self.log_dir / "beat-schedule")] if beat else []
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "regua.worker.celery_app",
                "worker",
                "--queues",
                queues,
                "--concurrency",
                str(concurrency),
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "--hostname",
                f"test{len(self.processes)}-{uuid.uuid4().hex[:6]}@%h",
                *schedule,
            ],
            env={**self.env, "REGUA_WORKER_CONCURRENCY": str(concurrency)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill it with its children
        )
        self.processes.append(process)
        return process

    def publish(self) -> Callable[[str, list[int]], None]:
        settings = Settings(
            broker_url=self.broker_url,
            broker_visibility_timeout=VISIBILITY_TIMEOUT,
            broker_transport_options=self.transport,
        )
        return publisher(create_celery(settings))

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        broker = redis.Redis.from_url(self.broker_url)
        try:
            leftovers = list(broker.scan_iter(match=f"{self.transport['global_keyprefix']}*"))
        except redis.RedisError:  # a private broker already stopped
            leftovers = []
        if leftovers:
            broker.delete(*leftovers)
        broker.close()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))


@pytest.fixture
def slow_smtp() -> Iterator[SmtpServer]:
    # Each message is held 0.3 s before the 250 reply: sends are in flight when a worker dies.
    server = start_smtp(SmtpHandler(data_delay=0.3))
    yield server
    server.controller.stop()


@pytest.fixture
def workers(redis_url: str, pg: Engine, slow_smtp: SmtpServer, tmp_path: Path) -> Iterator[Workers]:
    url = pg.url.render_as_string(hide_password=False)
    group = Workers(url, slow_smtp.port, tmp_path)
    yield group
    group.stop_all()


def enqueue(engine: Engine, workers: Workers) -> int:
    due = DuePublisher(  # publishing only: the workers hold the channels
        engine, clock=SystemClock(), lease=timedelta(seconds=LEASE_SECONDS)
    )
    return due.enqueue_due(workers.publish(), chunk=4).queued["email"]


def wait_until(condition: Callable[[], bool], timeout: float, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"workers did not finish in {timeout:.0f} s; logs:\n{workers.logs()}")
        time.sleep(0.1)


def count_sent(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(actions).where(actions.c.status == "sent")
            ).scalar_one()
        )


def received_ids(server: SmtpServer) -> Counter[str]:
    return Counter(str(mail.message["Message-ID"]) for mail in list(server.handler.received))


def expected_ids(ids: list[int]) -> set[str]:
    return {f"<regua-act-{i}@exemplo.com.br>" for i in ids}


def sent_entries(engine: Engine) -> Counter[int]:
    with engine.connect() as connection:
        return Counter(
            connection.execute(
                select(interactions.c.action_id).where(interactions.c.kind == "sent")
            ).scalars()
        )


def test_workers_send_every_queued_action_once(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    slow_smtp.handler.data_delay = 0.0
    ids = portfolio(pg, tmp_path, 12)
    workers.start(concurrency=2)

    assert enqueue(pg, workers) == 12
    wait_until(lambda: count_sent(pg) == 12, 60, workers)

    assert received_ids(slow_smtp) == Counter(expected_ids(ids))
    assert sent_entries(pg) == Counter(ids)
    assert enqueue(pg, workers) == 0  # nothing is due any more


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_the_one_in_flight(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    ids = portfolio(pg, tmp_path, 16)
    first = workers.start(concurrency=1)
    assert enqueue(pg, workers) == 16

    wait_until(lambda: len(slow_smtp.handler.received) >= 5, 60, workers)
    workers.kill(first)  # the 5th message is inside the SMTP transaction: no reply yet
    in_flight = str(slow_smtp.handler.received[-1].message["Message-ID"])
    workers.start(concurrency=1)
    wait_until(lambda: count_sent(pg) == 16, 60, workers)

    received = received_ids(slow_smtp)
    assert set(received) == expected_ids(ids)  # none lost
    duplicated = {message_id for message_id, n in received.items() if n > 1}
    assert duplicated <= {in_flight}  # only the message that was in flight
    for message_id in duplicated:
        copies = [
            m.message for m in slow_smtp.handler.received if m.message["Message-ID"] == message_id
        ]
        assert {c["X-Regua-Key"] for c in copies} == {message_id[1:].split("@")[0]}
        assert len({c.get_body(preferencelist=("plain",)).get_content() for c in copies}) == 1
    assert sent_entries(pg) == Counter(ids)  # one "sent" on each timeline


def terminate_worker_sessions(engine: Engine) -> int:
    """pg_terminate_backend on every other session of the test database: the workers'."""
    with engine.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
        ).scalar_one()
    engine.dispose()  # the test's own pooled sessions were among them
    return int(killed)


def test_database_sessions_killed_mid_batch_lose_nothing_and_repeat_at_most_one_each(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    ids = portfolio(pg, tmp_path, 16)
    workers.start(concurrency=1)
    assert enqueue(pg, workers) == 16

    kills = 0
    for threshold in (4, 9):
        wait_until(lambda n=threshold: len(slow_smtp.handler.received) >= n, 60, workers)
        assert terminate_worker_sessions(pg) >= 1
        kills += 1

    def all_sent() -> bool:
        # What the beat does every minute: publish what is due again, stale claims included.
        enqueue(pg, workers)
        return count_sent(pg) == 16

    wait_until(all_sent, 90, workers)

    received = received_ids(slow_smtp)
    assert set(received) == expected_ids(ids)  # none lost
    repeats = sum(n - 1 for n in received.values())
    assert repeats <= kills  # at most the message in flight at each kill, same Message-ID
    assert sent_entries(pg) == Counter(ids)


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence, that the test may
    kill -9 and start again (the shared one is left alone)."""

    def __init__(self, log_dir: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=(self.log_dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_a_broker_killed_and_restarted_mid_batch_loses_nothing(
    pg: Engine, private_redis: PrivateRedis, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    url = pg.url.render_as_string(hide_password=False)
    group = Workers(url, slow_smtp.port, tmp_path, broker_url=private_redis.url)
    try:
        ids = portfolio(pg, tmp_path, 16)
        group.start(concurrency=1)
        assert enqueue(pg, group) == 16
        wait_until(lambda: len(slow_smtp.handler.received) >= 5, 60, group)

        private_redis.kill()  # every queued task is gone with it (no persistence)
        private_redis.start()

        def all_sent() -> bool:
            # The beat publishes what is due again, stale claims included, once a minute.
            # The publisher may still be reconnecting: the beat would try again next minute.
            with contextlib.suppress(Exception):
                enqueue(pg, group)
            return count_sent(pg) == 16

        wait_until(all_sent, 120, group)
    finally:
        group.stop_all()

    received = received_ids(slow_smtp)
    assert set(received) == expected_ids(ids)  # none lost
    assert sum(n - 1 for n in received.values()) <= 1  # at most the one in flight, same id
    assert sent_entries(pg) == Counter(ids)
