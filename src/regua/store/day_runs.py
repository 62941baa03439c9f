"""The day's run of each creditor, claimed once: a row per creditor and day whose primary key
is the lock, so two schedulers (or a scheduler and a cron `regua run`) never run a day twice.

A claim is an ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (one row or none, on SQLite
and PostgreSQL); a claim whose run never finished (its process died) is taken over after `lease`
by a conditional UPDATE, which again only one claimant wins.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from regua.store.tables import day_runs


class DayRun(NamedTuple):
    day: date
    runner: str
    started_at: datetime
    finished_at: datetime | None


def claim(
    connection: Connection,
    creditor_id: int,
    day: date,
    runner: str,
    now: datetime,
    *,
    lease: timedelta,
) -> bool:
    """Claim `day` for `runner`: True when this call holds it (a new claim, or one whose
    runner died: unfinished and started more than `lease` ago)."""
    values = {"creditor_id": creditor_id, "day": day, "runner": runner, "started_at": now}
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    inserted = connection.execute(
        dialect.insert(day_runs)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["creditor_id", "day"])
        .returning(day_runs.c.day)
    ).first()
    if inserted is not None:
        return True
    taken = connection.execute(
        update(day_runs)
        .where(
            and_(
                day_runs.c.creditor_id == creditor_id,
                day_runs.c.day == day,
                day_runs.c.finished_at.is_(None),
                day_runs.c.started_at < now - lease,
            )
        )
        .values(runner=runner, started_at=now)
        .returning(day_runs.c.day)
    ).first()
    return taken is not None


def finish(connection: Connection, creditor_id: int, day: date, runner: str, now: datetime) -> None:
    """Mark `runner`'s run of `day` finished (a claim taken over by another stays theirs)."""
    connection.execute(
        update(day_runs)
        .where(
            day_runs.c.creditor_id == creditor_id,
            day_runs.c.day == day,
            day_runs.c.runner == runner,
        )
        .values(finished_at=now)
    )


def get(connection: Connection, creditor_id: int, day: date) -> DayRun | None:
    row = connection.execute(
        select(
            day_runs.c.day, day_runs.c.runner, day_runs.c.started_at, day_runs.c.finished_at
        ).where(day_runs.c.creditor_id == creditor_id, day_runs.c.day == day)
    ).first()
    return None if row is None else DayRun(*row)


def release(
    connection: Connection, runner: str, creditor_id: int | None = None, day: date | None = None
) -> int:
    """Give back `runner`'s unfinished claims (on `day` of `creditor_id`, when given): its run
    failed, or its process is stopping mid-run. How many it gave back."""
    conditions = [day_runs.c.runner == runner, day_runs.c.finished_at.is_(None)]
    if creditor_id is not None:
        conditions.append(day_runs.c.creditor_id == creditor_id)
    if day is not None:
        conditions.append(day_runs.c.day == day)
    return int(connection.execute(delete(day_runs).where(*conditions)).rowcount or 0)
