"""The day's schedule inside a long-running process (`regua serve`): the daily cycle at the
configured time in the creditor's time zone, then the periodic dispatch while the contact
window is open.

The day is claimed in the database before it runs (`store.day_runs`): two `regua serve`
processes, or one beside a cron `regua run`, run a day once; a restart after the day ran does
not run it again. A run whose process died is taken over after `DAY_LEASE`. Sending twice is
prevented elsewhere (each message is claimed before it is sent), so the periodic dispatch
needs no lock of its own.

`DayScheduler.tick` does what is due at one instant and returns what it did: the loop
(`run_until`) calls it every `poll` seconds; the tests call it with the instants they choose.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time as clocks
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from regua.clock import Clock
from regua.domain.planning import StartChoice
from regua.errors import NotFound, ReguaError
from regua.services import daily_cycle, setup
from regua.store import day_runs
from regua.store.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from regua.services.dispatch_run import DispatchResult

log = logging.getLogger(__name__)

# Longer than any day's run on a large portfolio: a claim older than this, unfinished, belonged
# to a process that died, and another may take the day over.
DAY_LEASE = timedelta(hours=2)


class DayBusy(Exception):
    """The day is being run by another process right now."""

    def __init__(self, day: date, runner: str, since: datetime) -> None:
        super().__init__(f"{day} running in {runner} since {since.isoformat()}")
        self.day, self.runner, self.since = day, runner, since


def runner_name(kind: str) -> str:
    """Who holds a claim, as the database keeps it: ``serve@host:pid``."""
    return f"{kind}@{socket.gethostname()}:{os.getpid()}"[:120]


def run_claimed_day(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    day: date,
    clock: Clock,
    runner: str,
    *,
    by_hand: bool = False,
    dispatch: daily_cycle.Dispatch | None = None,
    start: StartChoice | None = None,
) -> daily_cycle.DayRun | None:
    """Claim `day` and run it (`daily_cycle.run_day`); None when it was already claimed.

    `by_hand` (`regua run`): a day that already ran is run again (idempotent, the operator
    asked), but one still running elsewhere raises `DayBusy` rather than run beside it.
    """
    started, timer = clock.now(), clocks.perf_counter()
    with uow() as work:
        claimed = day_runs.claim(
            work.connection, creditor_id, day, runner, started, lease=DAY_LEASE
        )
        existing = None if claimed else day_runs.get(work.connection, creditor_id, day)
        work.commit()
    if not claimed:
        if not by_hand:
            return None
        if existing is not None and existing.finished_at is None:
            raise DayBusy(day, existing.runner, existing.started_at)
    try:
        ran = daily_cycle.run_day(uow, creditor_id, day, clock.now(), start=start)
    except BaseException:
        if claimed:  # give the day back: the next tick (or `regua run`) tries again
            with uow() as work:
                day_runs.release(work.connection, runner, creditor_id, day)
                work.commit()
        raise
    finished = clock.now()
    if claimed:
        with uow() as work:
            day_runs.finish(work.connection, creditor_id, day, runner, finished)
            work.commit()
    log.info(
        "day planned",
        extra={
            "event": "day_planned",
            "creditor_id": creditor_id,
            "day": day.isoformat(),
            "runner": runner,
            "new_actions": ran.plan.inserted,
            "already_planned": ran.plan.existing,
            "cancelled": ran.plan.cancelled,
            "duration_seconds": round(clocks.perf_counter() - timer, 3),
        },
    )
    if dispatch is None:
        return ran
    return daily_cycle.DayRun(ran.plan, dispatch(), ran.agreements)


@dataclass
class Tick:
    """What one tick did."""

    ran_day: date | None = None  # the day this tick ran
    dispatched: DispatchResult | None = None


@dataclass
class DayScheduler:
    """The day's run at `run_at` (creditor's local time) and, when `dispatch` is given, a
    dispatch every `dispatch_every` while the contact window is open."""

    uow: UnitOfWorkFactory
    clock: Clock
    run_at: time
    dispatch: Callable[[], DispatchResult] | None = None
    dispatch_every: timedelta = timedelta(minutes=5)
    runner: str = field(default_factory=lambda: runner_name("serve"))
    _last_dispatch: datetime | None = field(default=None, init=False)

    def tick(self) -> Tick:
        """Run the day of every creditor whose `run_at` has come (each in its own time zone),
        then dispatch when some creditor's contact window is open."""
        now = self.clock.now()
        creditors = setup.creditor_names(self.uow)
        if not creditors:
            raise NotFound("banco sem credor: rode `regua init` primeiro")
        done = Tick()
        window_open = False
        for creditor in creditors:
            zone = ZoneInfo(setup.creditor_timezone(self.uow, creditor.id))
            local = now.astimezone(zone)
            if local.time() >= self.run_at:
                ran = run_claimed_day(self.uow, creditor.id, local.date(), self.clock, self.runner)
                if ran is not None:
                    done.ran_day = local.date()
            opens = daily_cycle.window_opens(self.uow, creditor.id, now)
            window_open = window_open or (opens is not None and opens <= now)
        if self.dispatch is not None and window_open and self._dispatch_due(now):
            self._last_dispatch = now
            done.dispatched = self.dispatch()
        return done

    def _dispatch_due(self, now: datetime) -> bool:
        return self._last_dispatch is None or now - self._last_dispatch >= self.dispatch_every

    def give_back(self) -> None:
        """At the process's stop: a day this scheduler is still running is given back, so the
        next start (or `regua run`) runs it rather than wait out `DAY_LEASE`. Its plan, cut
        short, was rolled back with the process's connection."""
        with self.uow() as work:
            day_runs.release(work.connection, self.runner)
            work.commit()

    def run_until(self, stop: threading.Event, poll: float = 30.0) -> None:
        """Tick every `poll` seconds until `stop` is set; a failing tick (database down) is
        logged and the next one tries again."""
        log.info(
            "scheduler started",
            extra={"event": "scheduler_started", "run_at": self.run_at.isoformat("minutes")},
        )
        while not stop.is_set():
            try:
                self.tick()
            except ReguaError as exc:  # no creditor yet (`regua init`), database down
                log.warning(
                    "scheduler waiting: %s", exc.message, extra={"event": "scheduler_waiting"}
                )
            except Exception:
                log.exception("scheduler tick failed", extra={"event": "scheduler_failed"})
            stop.wait(poll)
