"""Actions inserted in bulk from staged rows, each new one's id returned by customer.

The day's plan and the thank-yous of a return file both write many actions at once. Each is
unique per (customer, day, purpose): an action already there (an earlier run, an earlier file
of the same day) turns the new one away, and only the actions actually inserted come back, so
that their invoices are linked once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import FromClause

from regua.store.sql import plain_rows
from regua.store.tables import actions

UNIQUE_KEY = ("customer_id", "planned_for", "purpose")


def insert_new_actions(
    conn: Connection, source: FromClause, names: Sequence[str], fixed: Mapping[str, Any]
) -> dict[int, int]:
    """``INSERT INTO actions`` the rows of `source` (its columns `names`) with the `fixed`
    values of every row; customer id -> id of each action inserted.

    Inserted in customer order, so ids follow customers whatever order the rows came in.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    query = (
        select(
            *(literal(value, actions.c[name].type) for name, value in fixed.items()),
            *(source.c[name] for name in names),
        )
        .where(true())  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
        .order_by(source.c.customer_id)
    )
    statement = (
        dialect.insert(actions)
        .from_select([*fixed, *names], query)
        .on_conflict_do_nothing(index_elements=list(UNIQUE_KEY))
        .returning(actions.c.customer_id, actions.c.id)
    )
    return dict(plain_rows(conn, statement))
