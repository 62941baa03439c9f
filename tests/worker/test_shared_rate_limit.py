"""A channel's rate limit holds for the installation, not per worker: two Celery workers
(separate processes, one Redis broker) sharing REGUA_RATE_LIMITS={"email": 4} deliver to the
SMTP server on loopback at about 4 a second together, not 8. The instants are taken at the
server; the checks are loose (a burst of one second's worth is allowed)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.clock import SystemClock
from regua.services.publishing import DuePublisher
from regua.store.tables import actions
from tests.servers import SmtpHandler, SmtpServer, start_smtp
from tests.worker.test_distributed import (
    LEASE_SECONDS,
    Workers,
    count_sent,
    expected_ids,
    pg,
    portfolio,
    received_ids,
    wait_until,
)

__all__ = ["pg"]  # fixture used below

RATE = 4
MESSAGES = 32


@dataclass
class TimedSmtp(SmtpHandler):
    """Notes the instant each message arrives."""

    arrivals: list[float] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.arrivals.append(time.monotonic())
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def timed_smtp() -> Iterator[SmtpServer]:
    server = start_smtp(TimedSmtp())
    yield server
    server.controller.stop()


def most_in_a_window(instants: list[float], seconds: float) -> int:
    """The largest number of `instants` inside any window of `seconds`."""
    ordered = sorted(instants)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_two_workers_share_one_channel_limit(
    pg: Engine, redis_url: str, timed_smtp: SmtpServer, tmp_path: Path
) -> None:
    url = pg.url.render_as_string(hide_password=False)
    workers = Workers(url, timed_smtp.port, tmp_path, broker_url=redis_url)
    workers.env["REGUA_RATE_LIMITS"] = json.dumps({"email": RATE})
    try:
        ids = portfolio(pg, tmp_path, MESSAGES)
        workers.start(concurrency=1)
        workers.start(concurrency=1)
        due = DuePublisher(pg, clock=SystemClock(), lease=timedelta(seconds=LEASE_SECONDS))
        assert due.enqueue_due(workers.publish(), chunk=2).queued["email"] == MESSAGES
        wait_until(lambda: count_sent(pg) == MESSAGES, 60, workers)
    finally:
        workers.stop_all()

    assert set(received_ids(timed_smtp)) == expected_ids(ids)
    with pg.connect() as connection:
        tokens = connection.execute(select(actions.c.claimed_by)).scalars().all()
    senders = {token.split("/")[0] for token in tokens}  # host:pid of the sending process
    assert len(senders) == 2  # both workers sent
    assert isinstance(timed_smtp.handler, TimedSmtp)
    arrivals = timed_smtp.handler.arrivals
    burst = RATE  # a bucket holds one second's worth
    assert most_in_a_window(arrivals, 1.0) <= RATE + burst
    # Each worker alone at 4 a second would put about 8 in every second of it.
    assert most_in_a_window(arrivals, 3.0) <= 3 * RATE + burst + 1
