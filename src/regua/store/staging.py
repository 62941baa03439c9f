"""Staging tables: many rows sent to the database in one go, then used by set-based statements.

Sending 100,000 rows through a Core executemany costs more in Python (a parameter dict per row,
each value processed by its type) than the database spends writing them. A staging table is a
temporary table loaded with plain tuples, the fastest way each driver has: ``COPY ... FROM
STDIN`` on PostgreSQL, a raw ``executemany`` on SQLite. The real tables are then written with a
handful of ``INSERT ... SELECT`` and ``UPDATE ... FROM`` statements in which the values that
need processing (instants, constants) are bound once.

Values are plain Python: int, str, bool, None, and dates as ISO text (``YYYY-MM-DD``), which is
how SQLite stores a `Date` and what PostgreSQL reads for a ``date`` column. A `JSON` column takes
the JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Date,
    MetaData,
    Table,
    Text,
    literal_column,
    true,
)
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import Function
from sqlalchemy.types import TypeEngine

_names = count(1)
ANALYZE_FROM = 1_000  # rows; below this the default guess of a temporary table's size is fine

# Column kinds a staging table holds; dates travel as ISO text, JSON as its text.
INT = "int"
TEXT = "text"
DATE = "date"
JSON_TEXT = "json"

_TYPES: dict[str, TypeEngine[Any]] = {
    INT: BigInteger(),
    TEXT: Text(),
    DATE: Date(),
    JSON_TEXT: JSON(),
}


@contextmanager
def staged(
    conn: Connection,
    prefix: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> Iterator[Table]:
    """A temporary table named after `prefix` holding `rows`; dropped when the block ends.

    Args:
        columns: (name, kind) pairs, kind one of INT, TEXT, DATE, JSON_TEXT; the rows are
            tuples in that order.
    """
    name = f"stage_{prefix}_{next(_names)}"
    sqlite = conn.dialect.name == "sqlite"
    table = Table(
        name,
        MetaData(),
        *(
            # SQLite would give a column declared JSON numeric affinity: keep the text as text.
            Column(column, Text() if sqlite and kind == JSON_TEXT else _TYPES[kind])
            for column, kind in columns
        ),
        prefixes=["TEMPORARY"],
    )
    table.create(conn)
    try:
        if rows:
            _load(conn, table, rows)
        yield table
    finally:
        table.drop(conn)


def _load(conn: Connection, table: Table, rows: Sequence[Sequence[Any]]) -> None:
    names = [column.name for column in table.columns]
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection  # psycopg 3
        with raw.cursor() as cursor:
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            if len(rows) >= ANALYZE_FROM:
                # A temporary table has no statistics until analysed: without them the planner
                # guesses its size and may scan a whole table instead of using its key.
                cursor.execute(f"ANALYZE {table.name}")
        return
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
        rows if isinstance(rows, list) else list(rows),
    )


def json_object(conn: Connection, fields: dict[str, ColumnElement[Any]]) -> Function[Any]:
    """A JSON object built in SQL from column expressions, keys in the given order.

    The keys are written into the statement (they are this module's callers' constants, never
    user input); the values are expressions over a staging table.
    """
    name = "json_build_object" if conn.dialect.name == "postgresql" else "json_object"
    args: list[Any] = []
    for key, value in fields.items():
        if not key.replace("_", "").isalnum():
            raise ValueError(f"not a plain JSON key: {key!r}")
        args.append(literal_column(f"'{key}'"))
        args.append(value)
    return Function(name, *args, type_=JSON())


def always() -> ColumnElement[bool]:
    """``WHERE true``: SQLite needs a WHERE before ON CONFLICT in ``INSERT ... SELECT``."""
    return true()
