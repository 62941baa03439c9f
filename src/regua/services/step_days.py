"""When the planner looks at each invoice again, kept where updating it every day is cheap.

The planner looks at two kinds of invoices on a day's run:

- those written since its last run (`services.changes`): new, changed by an import, reopened by
  a reversal; on the first run, or under other régua versions than the last run's, every open
  invoice;
- those whose day in `invoice_steps.next_step_on` has come: the first day a later step could
  fall, set at every look. Advancing a few percent of a large portfolio every day rewrites rows
  of this narrow table with two indexes, not of `invoices`, where each changed row costs an
  entry in every one of its indexes.

Invoices that closed (paid, cancelled...) leave the planner's range the first time it meets them
(`forget_closed`); whatever reopens one writes it, so the next run looks at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, update

from regua.store.bulk import chunks, upsert
from regua.store.sql import one_of
from regua.store.tables import NO_MORE_STEPS, invoice_steps

MEMORY = ("last_offset", "last_step_id", "last_planned_for")


def forget_closed(connection: Connection, invoice_ids: Sequence[int]) -> None:
    """Invoices the planner found closed leave its range; their step memory stays."""
    for ids in chunks(invoice_ids, 100_000):
        connection.execute(
            update(invoice_steps)
            .where(one_of(connection, invoice_steps.c.invoice_id, ids))
            .values(next_step_on=None)
        )


def remember_steps(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store the steps just planned with each invoice's next day (invoice_id, next_step_on,
    last_offset, last_step_id, last_planned_for)."""
    upsert(connection, invoice_steps, rows, ("invoice_id",), ("next_step_on", *MEMORY))


def advance(connection: Connection, next_days: Sequence[tuple[int, date | None]]) -> None:
    """Move looked-at invoices to their next day (None: no step left)."""
    for batch in chunks(next_days, 100_000):
        upsert(
            connection,
            invoice_steps,
            [
                {"invoice_id": invoice_id, "next_step_on": day or NO_MORE_STEPS}
                for invoice_id, day in batch
            ],
            ("invoice_id",),
            ("next_step_on",),
        )
