"""What an operator watches, counted in the database: actions by channel and status, claims
held past their lease (a dispatcher died mid-send), the planner's runs and how long the
latest day's run took."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, func, select

from regua.store.tables import actions, day_runs, plan_runs


class PlanRuns(NamedTuple):
    runs: int
    last_started_at: datetime | None


def actions_by_channel_and_status(connection: Connection) -> dict[tuple[str, str], int]:
    """``{(channel, status): count}`` over every action (channel "none" when there is none)."""
    rows = connection.execute(
        select(actions.c.channel, actions.c.status, func.count()).group_by(
            actions.c.channel, actions.c.status
        )
    )
    return {(channel or "none", status): count for channel, status, count in rows}


def claims_past_lease(connection: Connection, now: datetime, lease: timedelta) -> int:
    """Actions still ``sending`` whose claim is older than `lease`: their dispatcher is gone."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(actions.c.status == "sending", actions.c.claimed_at < now - lease)
        ).scalar_one()
    )


def plan_run_totals(connection: Connection) -> PlanRuns:
    """How many plan runs the database holds, and when the latest started."""
    count, last = connection.execute(select(func.count(), func.max(plan_runs.c.started_at))).one()
    return PlanRuns(int(count), last)


def last_day_run_seconds(connection: Connection) -> float | None:
    """How long the latest finished day's run took (plan stages, without the sending)."""
    row = connection.execute(
        select(day_runs.c.started_at, day_runs.c.finished_at)
        .where(day_runs.c.finished_at.is_not(None))
        .order_by(day_runs.c.finished_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return float((row.finished_at - row.started_at).total_seconds())
