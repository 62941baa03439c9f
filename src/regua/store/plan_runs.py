"""The planner's runs: when each started and under which régua versions, so the next run reads
only the invoices written since (`services.changes`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Connection, func, insert, select

from regua.store.bulk import refresh_statistics
from regua.store.tables import action_invoices, actions, invoice_steps, invoices, plan_runs

LARGE_CHANGE = 50_000  # invoices examined from which the tables' statistics are refreshed


class LastRun(NamedTuple):
    started_at: datetime
    policies_digest: str
    starts_on: date | None  # the first day of the régua in force; None: it catches up


def last_run(connection: Connection, creditor_id: int) -> LastRun | None:
    """The creditor's latest plan run, if any."""
    row = connection.execute(
        select(plan_runs.c.started_at, plan_runs.c.policies_digest, plan_runs.c.starts_on)
        .where(plan_runs.c.creditor_id == creditor_id)
        .order_by(plan_runs.c.started_at.desc(), plan_runs.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else LastRun(row.started_at, row.policies_digest, row.starts_on)


def first_day(connection: Connection, creditor_id: int) -> date | None:
    """The day of the creditor's first plan run: when the régua began to collect; None: never
    run."""
    found = connection.execute(
        select(func.min(plan_runs.c.planned_for)).where(plan_runs.c.creditor_id == creditor_id)
    ).scalar()
    if found is None or isinstance(found, date):
        return found
    return date.fromisoformat(str(found))


def record_run(
    connection: Connection,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    policies_digest: str,
    examined: int,
    inserted: int,
    starts_on: date | None = None,
) -> None:
    """Record a run; one that examined many invoices refreshes the planner's tables' statistics
    first (`refresh_statistics`: autovacuum would analyse them only a while later)."""
    if examined >= LARGE_CHANGE:
        refresh_statistics(connection, invoices, actions, action_invoices, invoice_steps)
    connection.execute(
        insert(plan_runs).values(
            creditor_id=creditor_id,
            planned_for=day,
            started_at=now,
            policies_digest=policies_digest,
            examined=examined,
            inserted=inserted,
            starts_on=starts_on,
        )
    )
