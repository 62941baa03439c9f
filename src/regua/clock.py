"""Where "now" comes from. Only services and entry points ask a clock; the domain gets `today`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved; for tests and simulated days."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    @classmethod
    def on(cls, day: date, timezone: str) -> FixedClock:
        """Noon of `day` in `timezone`: inside every Brazilian time zone's same calendar day,
        and inside the usual contact windows, for a run "as if it were" that day."""
        return cls(datetime.combine(day, time(12), ZoneInfo(timezone)).astimezone(UTC))


def today_in(clock: Clock, timezone: str) -> date:
    """The calendar date at `clock.now()` in the given IANA time zone."""
    return clock.now().astimezone(ZoneInfo(timezone)).date()
