"""Distributed mode recovering without a person, with real Celery workers (subprocesses) on the
local Redis, PostgreSQL and an aiosmtpd server on loopback: database sessions killed mid-batch
under a 5-minute claim lease, retries whose time came, and a beat that publishes only to the
queues a worker consumes."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy import Engine, create_engine, select, text, update
from sqlalchemy.pool import NullPool

from regua.clock import SystemClock
from regua.services.publishing import DuePublisher
from regua.store.tables import actions
from tests.servers import SmtpServer
from tests.worker.test_distributed import (
    Workers,
    count_sent,
    expected_ids,
    pg,
    portfolio,
    received_ids,
    sent_entries,
    slow_smtp,
    terminate_worker_sessions,
    wait_until,
    workers,
)

__all__ = ["pg", "slow_smtp", "workers"]  # fixtures used below

LONG_LEASE = 300.0


def test_killed_database_sessions_are_recovered_long_before_the_claim_lease(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    workers.env["REGUA_CLAIM_LEASE_SECONDS"] = str(LONG_LEASE)
    ids = portfolio(pg, tmp_path, 16)
    workers.start(concurrency=1)
    due = DuePublisher(pg, clock=SystemClock(), lease=timedelta(seconds=LONG_LEASE))
    assert due.enqueue_due(workers.publish(), chunk=4).queued["email"] == 16

    kills = 0
    for threshold in (4, 9):
        wait_until(lambda n=threshold: len(slow_smtp.handler.received) >= n, 60, workers)
        assert terminate_worker_sessions(pg) >= 1
        kills += 1
    # Nothing is published again (no beat): the workers recover by themselves, within a
    # minute, where the lease would have kept the claims for five.
    wait_until(lambda: count_sent(pg) == 16, 60, workers)

    received = received_ids(slow_smtp)
    assert set(received) == expected_ids(ids)
    assert sum(n - 1 for n in received.values()) <= kills
    assert sent_entries(pg) == Counter(ids)


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def test_the_beat_publishes_due_retries_and_only_to_queues_a_worker_consumes(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    slow_smtp.handler.data_delay = 0.0
    workers.env["REGUA_ENQUEUE_EVERY_SECONDS"] = "1"
    ids = portfolio(pg, tmp_path, 8)
    letters, retries, due_now = ids[:2], ids[2:4], ids[4:]
    retry_at = datetime.now(UTC) + timedelta(seconds=4)
    with pg.begin() as connection:
        connection.execute(
            update(actions).where(actions.c.id.in_(letters)).values(channel="letter")
        )
        # Two e-mails failed for a moment a while ago; their next attempt is in 4 seconds.
        connection.execute(
            update(actions)
            .where(actions.c.id.in_(retries))
            .values(attempts=1, next_attempt_at=retry_at, reason="451 tente mais tarde")
        )
    beat = workers.start(concurrency=1, queues="regua.email,regua.dispatch", beat=True)
    log_path = tmp_path / "worker0.log"

    def beats() -> int:
        return log_path.read_text(errors="replace").count("Task regua.enqueue_due")

    wait_until(lambda: count_sent(pg) == 6, 60, workers)
    done = beats()
    wait_until(lambda: beats() >= done + 4, 60, workers)  # a few more beats, nothing new

    assert received_ids(slow_smtp) == Counter(expected_ids(retries + due_now))
    with pg.connect() as connection:
        rows = connection.execute(
            select(actions.c.id, actions.c.status, actions.c.sent_at, actions.c.claimed_by)
        ).all()
    by_id = {row.id: row for row in rows}
    assert all(as_utc(by_id[i].sent_at) >= retry_at for i in retries)  # not before their time
    # No letter worker: the letters were never published, and wait in the database.
    assert {(by_id[i].status, by_id[i].claimed_by) for i in letters} == {("planned", None)}
    broker = redis.Redis.from_url(workers.broker_url)
    prefix = workers.transport["global_keyprefix"]
    assert broker.llen(f"{prefix}regua.letter") == 0
    log = log_path.read_text(errors="replace")
    assert log.count("channel letter has no worker") == 1  # said once, not at every beat

    # A letter worker starts: the next beats publish the letters to it.
    workers.start(concurrency=1, queues="regua.letter")
    wait_until(lambda: not (set(letters) & planned(pg)), 60, workers)
    assert beat.poll() is None
    broker.close()


def planned(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        return set(
            connection.execute(select(actions.c.id).where(actions.c.status == "planned")).scalars()
        )


def test_a_database_outage_gives_the_unsent_claims_back_and_the_task_comes_again(
    pg: Engine, workers: Workers, slow_smtp: SmtpServer, tmp_path: Path
) -> None:
    workers.env["REGUA_CLAIM_LEASE_SECONDS"] = str(LONG_LEASE)
    ids = portfolio(pg, tmp_path, 12)
    workers.start(concurrency=1)
    due = DuePublisher(pg, clock=SystemClock(), lease=timedelta(seconds=LONG_LEASE))
    assert due.enqueue_due(workers.publish(), chunk=12).queued["email"] == 12

    wait_until(lambda: len(slow_smtp.handler.received) >= 3, 60, workers)
    # The database refuses every connection for 10 s: longer than a record is tried again.
    database = pg.url.database
    admin = create_engine(
        pg.url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        try:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND backend_type = 'client backend'"
                ),
                {"name": database},
            )
            time.sleep(10)
        finally:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    admin.dispose()
    pg.dispose()

    # The message in the SMTP server at the outage was accepted, its record never taken: it
    # waits for the lease. Every other one goes out, once, without anything published again.
    wait_until(lambda: count_sent(pg) == 11, 60, workers)
    received = received_ids(slow_smtp)
    assert received == Counter(expected_ids(ids))
    with pg.connect() as connection:
        left = (
            connection.execute(select(actions.c.id).where(actions.c.status == "sending"))
            .scalars()
            .all()
        )
    assert len(left) == 1
    logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("worker*.log"))
    assert "email actions given back to be sent again" in logs
