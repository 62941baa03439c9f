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

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import islice

from sqlalchemy import Connection, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from regua.store.bulk import chunks
from regua.store.sql import one_of
from regua.store.staging import columns_like, staged
from regua.store.tables import NO_MORE_STEPS, invoice_steps

MEMORY = ("last_offset", "last_step_id", "last_planned_for")
# (invoice id, next step day or None, the step just planned as (offset, step id, day) or None)
StepDay = tuple[int, date | None, tuple[int, str, date] | None]


def forget_closed(connection: Connection, invoice_ids: Sequence[int]) -> None:
    """Invoices the planner found closed leave its range; their step memory stays."""
    for ids in chunks(invoice_ids, 100_000):
        connection.execute(
            update(invoice_steps)
            .where(one_of(connection, invoice_steps.c.invoice_id, ids))
            .values(next_step_on=None)
        )


_STEP_DAY_ROW = columns_like(invoice_steps, ("invoice_id", "next_step_on", *MEMORY))


def remember(connection: Connection, looked_at: Iterable[StepDay]) -> None:
    """Store each looked-at invoice's next day and, where a step was just planned, that step.

    `looked_at` holds (invoice_id, next day or None when no step is left, the planned step as
    (offset, step id, day) or None). One statement per slice of invoices: the step memory of an
    invoice without a new step is kept as it was.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    names = [name for name, _kind in _STEP_DAY_ROW]
    source = iter(looked_at)
    while batch := list(islice(source, 100_000)):
        # one row per invoice: a statement may not update a row twice
        rows = {
            invoice_id: (
                invoice_id,
                (day or NO_MORE_STEPS).isoformat(),
                *((step[0], step[1], step[2].isoformat()) if step else (None, None, None)),
            )
            for invoice_id, day, step in batch
        }
        with staged(
            connection, "step_days", _STEP_DAY_ROW, list(rows.values()), joined=False
        ) as given:
            statement = dialect.insert(invoice_steps).from_select(
                names,
                # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
                select(*(given.c[name] for name in names)).where(true()),
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["invoice_id"],
                    set_={
                        "next_step_on": statement.excluded.next_step_on,
                        **{
                            name: func.coalesce(statement.excluded[name], invoice_steps.c[name])
                            for name in MEMORY
                        },
                    },
                )
            )
