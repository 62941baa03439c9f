"""Set-based writes that differ between SQLite and PostgreSQL, behind one function each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Iterable[str],
) -> None:
    """INSERT ... ON CONFLICT (cols) DO NOTHING, executemany over `rows`."""
    if not rows:
        return
    columns = list(conflict_columns)
    if connection.dialect.name == "postgresql":
        pg_statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=columns)
        connection.execute(pg_statement, list(rows))
    else:
        lite_statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=columns)
        connection.execute(lite_statement, list(rows))


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_by_id(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
) -> None:
    """UPDATE table SET columns WHERE id = row["id"], executemany over `rows`.

    Bind names get a prefix because SQLAlchemy reserves the column names for its own SET clause.
    """
    if not rows:
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values({name: bindparam(f"p_{name}") for name in columns})
    )
    connection.execute(
        statement,
        [{"p_id": row["id"], **{f"p_{name}": row[name] for name in columns}} for row in rows],
    )


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update_columns = excluded values."""
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: statement.excluded[name] for name in update_columns},
    )
    connection.execute(statement, list(rows))
