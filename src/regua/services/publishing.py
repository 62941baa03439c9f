"""Distributed mode: due action ids published to their channel's worker queue.

`DuePublisher.enqueue_due` (``regua dispatch --distributed``, the beat's periodic task) marks
the actions due now whose customer is inside the contact window as queued, commits, then hands
their ids, in chunks, to `publish(channel, ids)` (a Celery task per chunk on the channel's
queue). The workers claim, send and record them (`services.dispatching.Dispatcher.send_actions`).
A publish that fails leaves the marks, which expire after the lease and are published again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlalchemy import Engine

from regua.clock import Clock
from regua.config import Settings
from regua.domain.calendar import DEFAULT_TIMEZONE
from regua.services.contact_windows import ContactWindows
from regua.services.dispatch_run import DispatchResult, count_remaining, start_run
from regua.store.claims import DEFAULT_LEASE, mark_queued

# Action ids per worker task. Each task pays a fixed cost (the broker's round trips, the claim,
# the context queries) of about 10 ms of CPU, so with chunks of 20 it was a quarter of a
# worker's time; a task of 100 e-mails lasts about a second. A worker killed mid-task leaves
# its unsent claimed actions for the lease to expire (nothing is lost).
DEFAULT_CHUNK = 100

Publish = Callable[[str, list[int]], None]


class DuePublisher:
    """Publishes due actions to worker queues; holds no channel (the workers do).

    It works on the engine, not through a unit of work: the queued marks are committed before
    anything is published and each channel's marks in a transaction of their own, so a broker
    that fails mid-run leaves committed marks that expire after the lease (never ids published
    for marks a rollback undid), and one slow channel holds no lock over the others.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        lease: timedelta = DEFAULT_LEASE,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.lease = lease
        self.timezone = timezone  # whose calendar day "today" is, when not given
        self.windows = ContactWindows()

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings, *, clock: Clock) -> DuePublisher:
        """The publisher the settings describe: their claim lease (default `DEFAULT_LEASE`)
        and time zone."""
        return cls(
            engine, clock=clock, lease=settings.lease or DEFAULT_LEASE, timezone=settings.timezone
        )

    def enqueue_due(
        self,
        publish: Publish,
        *,
        today: date | None = None,
        channels: Sequence[str] | None = None,
        chunk: int = DEFAULT_CHUNK,
    ) -> DispatchResult:
        """Publish due action ids (window open now) to their channel's queue.

        `publish(channel, ids)` is called after the queued marks are committed; a publish that
        fails leaves the marks, which expire after the lease and are published again.
        """
        now = self.clock.now()
        run = start_run(
            self.engine, now=now, timezone=self.timezone, today=today, channels=channels
        )
        day, wanted, result = run.day, run.channels, run.result
        for channel in wanted:
            with self.engine.connect() as connection:
                scopes = self.windows.open_scopes(
                    connection, day=day, now=now, lease=self.lease, channels=[channel]
                )
            with self.engine.begin() as connection:
                ids = mark_queued(
                    connection,
                    channel=channel,
                    today=day,
                    now=now,
                    lease=self.lease,
                    open_scopes=scopes,
                    limit=1_000_000,
                )
            for start in range(0, len(ids), chunk):
                publish(channel, ids[start : start + chunk])
            result.queued[channel] += len(ids)
        count_remaining(
            self.engine, result, day=day, now=self.clock.now(), lease=self.lease, channels=wanted
        )
        return result
