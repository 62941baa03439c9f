"""When the planner looks at each invoice again, kept where updating it every day is cheap.

An invoice's next look lives in two places:

- `invoices.next_step_on` is the invoice asking to be looked at: RECOMPUTE_STEP_DAY when it is
  new or something about it changed (due date, amount, status, a reopening, a new régua);
  NO_MORE_STEPS once the planner has taken it over.
- `invoice_steps.next_step_on` is the planner's own day for the invoices it has looked at: the
  first day a later step could fall, advanced at every look. Advancing a few percent of a large
  portfolio every day rewrites rows of this narrow table with two indexes, not of `invoices`,
  where each changed row costs an entry in every one of its seven indexes.

A day's candidates are the invoices whose day has come in either place. Invoices that closed
(paid, cancelled...) leave the planner's range the first time it meets them (`forget_closed`);
whatever reopens an invoice sets its `invoices.next_step_on` back (`reopened_step_day`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, literal, update

from regua.store.bulk import chunks, upsert
from regua.store.sql import one_of
from regua.store.tables import NO_MORE_STEPS, RECOMPUTE_STEP_DAY, invoice_steps, invoices

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


def advance(
    connection: Connection,
    next_days: Sequence[tuple[int, date | None]],
    taken_over: Sequence[int],
) -> None:
    """Move looked-at invoices to their next day (None: no step left) and take over those that
    asked through `invoices.next_step_on`, so that column is only written again on a change."""
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
    # in slices: a million ids in one parameter is a few hundred megabytes on the way out
    for ids in chunks(taken_over, 100_000):
        connection.execute(
            update(invoices)
            .where(one_of(connection, invoices.c.id, ids))
            .values(next_step_on=NO_MORE_STEPS)
        )


def reopened_step_day(new_status: Any) -> Any:
    """`invoices.next_step_on` for an UPDATE that sets `new_status`: asks for a look at once
    when a closed invoice becomes open again, and is left as it was otherwise."""
    return case(
        (
            (invoices.c.status != "open") & (new_status == "open"),
            literal(RECOMPUTE_STEP_DAY, invoices.c.next_step_on.type),
        ),
        else_=invoices.c.next_step_on,
    )
