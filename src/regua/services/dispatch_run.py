"""What a dispatch run is given (`DispatchOptions`) and gives back (`DispatchResult`), in both
modes: sending inline (`services.dispatching`) and publishing to worker queues
(`services.publishing`); and the counts every run ends with (`count_remaining`).

Like the dispatcher and the publisher they serve, `start_run` and `count_remaining` work on the
engine, each in a short transaction of its own, not in a unit of work around the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from regua.domain.calendar import local_date
from regua.domain.channels import MESSAGE_CHANNELS
from regua.domain.retries import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, DEFAULT_MAX_ATTEMPTS
from regua.store.call_list import count_planned_calls
from regua.store.claims import DEFAULT_LEASE, count_due, count_retries_pending
from regua.store.transitions import supersede_stale_actions

DEFAULT_BATCH = 200
DEFAULT_SENDERS = 4
# A record the database refused for being away (a restart, a killed session) is tried again on
# a fresh connection this many times, waiting 0.25 s, 0.5 s, 1 s... (about 8 s in all), so a
# message the provider accepted is recorded sent instead of left `sending` and sent again.
DEFAULT_RECORD_ATTEMPTS = 6
DEFAULT_RECORD_BACKOFF = 0.25

__all__ = [
    "DispatchOptions",
    "DispatchResult",
    "count_remaining",
    "start_run",
]


@dataclass
class DispatchResult:
    """What one dispatch did, per channel."""

    sent: Counter[str] = field(default_factory=Counter)
    retrying: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    cancelled: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)  # the creditor's profile lacks a field
    held_reasons: Counter[str] = field(default_factory=Counter)  # reason -> messages held
    contacts_flagged: int = 0
    superseded: int = 0
    lost_claims: int = 0  # a slower dispatcher's claim was taken over after the lease
    waiting: int = 0  # due, outside the contact window now (or claimed elsewhere)
    retries_pending: int = 0  # transient failures waiting for their next attempt
    queued: Counter[str] = field(default_factory=Counter)  # distributed: published to queues
    calls: int = 0  # phone actions today: the operators' call list
    destinations: dict[str, str] = field(default_factory=dict)

    def merge(self, other: DispatchResult) -> None:
        self.sent.update(other.sent)
        self.retrying.update(other.retrying)
        self.failed.update(other.failed)
        self.cancelled.update(other.cancelled)
        self.held.update(other.held)
        self.held_reasons.update(other.held_reasons)
        self.queued.update(other.queued)
        self.contacts_flagged += other.contacts_flagged
        self.superseded += other.superseded
        self.lost_claims += other.lost_claims

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": dict(self.sent),
            "retrying": dict(self.retrying),
            "failed": dict(self.failed),
            "cancelled": dict(self.cancelled),
            "held": dict(self.held),
            "held_reasons": dict(self.held_reasons),
            "queued": dict(self.queued),
            "contacts_flagged": self.contacts_flagged,
            "superseded": self.superseded,
            "lost_claims": self.lost_claims,
            "waiting": self.waiting,
            "retries_pending": self.retries_pending,
            "calls": self.calls,
            "destinations": dict(self.destinations),
        }


@dataclass(frozen=True)
class DispatchOptions:
    lease: timedelta = DEFAULT_LEASE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: timedelta = DEFAULT_BACKOFF_BASE
    backoff_cap: timedelta = DEFAULT_BACKOFF_CAP
    batch: int = DEFAULT_BATCH
    senders: int = DEFAULT_SENDERS  # concurrent sends per channel within one dispatcher
    record_attempts: int = DEFAULT_RECORD_ATTEMPTS
    record_backoff: float = DEFAULT_RECORD_BACKOFF  # seconds before the second attempt, doubling


@dataclass(frozen=True)
class RunStart:
    """The day a run works for, the channels it covers, and its result so far."""

    day: date
    channels: list[str]
    result: DispatchResult


def start_run(
    engine: Engine,
    *,
    now: datetime,
    timezone: str,
    today: date | None,
    channels: Sequence[str] | None,
) -> RunStart:
    """Begin a run: its day (`today`, or the date at `now` in `timezone`), the sendable ones of
    `channels` (default: all), and the stale actions a newer step speaks for cancelled first."""
    day = today or local_date(now, timezone)
    asked = MESSAGE_CHANNELS if channels is None else channels
    wanted: list[str] = [c for c in asked if c in MESSAGE_CHANNELS]
    result = DispatchResult()
    with engine.begin() as connection:
        result.superseded = supersede_stale_actions(connection, day, now)
    return RunStart(day, wanted, result)


def count_remaining(
    engine: Engine,
    result: DispatchResult,
    *,
    day: date,
    now: datetime,
    lease: timedelta,
    channels: Sequence[str],
    creditor_id: int | None = None,
) -> None:
    """What the run leaves for later, counted into `result`: actions waiting for their window
    (or claimed elsewhere), retries not yet due, and the day's phone calls (of one creditor's
    when `creditor_id` is given)."""
    with engine.connect() as connection:
        result.waiting = count_due(
            connection, today=day, now=now, lease=lease, channels=channels, creditor_id=creditor_id
        )
        result.retries_pending = count_retries_pending(
            connection, today=day, now=now, channels=channels, creditor_id=creditor_id
        )
        result.calls = count_planned_calls(connection, day, creditor_id)
