"""Staging tables: many rows sent to the database in one go, then used by set-based statements.

Sending 100,000 rows through a Core executemany costs more in Python (a parameter dict per row,
each value processed by its type) than the database spends writing them. A staging table is a
temporary table loaded with plain tuples, the fastest way each driver has: ``COPY ... FROM
STDIN`` on PostgreSQL, a raw ``executemany`` on SQLite. The real tables are then written with a
handful of ``INSERT ... SELECT`` and ``UPDATE ... FROM`` statements in which the values that
need processing (instants, constants) are bound once.

Values are plain Python: int, str, bool, None, and dates as ISO text (``YYYY-MM-DD``), which is
how SQLite stores a `Date` and what PostgreSQL reads for a ``date`` column. A `JSON` column takes
the JSON text. `staged_like` takes dict rows shaped like a real table's instead, with any of its
column types, for the generic bulk writes of `store.bulk`.

New rows that need nothing computed in SQL skip the staging table: `insert_tuples` writes the
same plain tuples straight into the real table, and `update_tuples` updates rows by key.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count, islice
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    insert,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.types import TypeEngine

_names = count(1)
ANALYZE_FROM = 1_000  # rows; below this the default guess of a temporary table's size is fine

# Column kinds a staging table holds; dates travel as ISO text, JSON as its text.
INT = "int"
TEXT = "text"
DATE = "date"
JSON_TEXT = "json"
INSTANT = "instant"  # a timezone-aware datetime, in the driver's form (`driver_value`)

_TYPES: dict[str, TypeEngine[Any]] = {
    INT: BigInteger(),
    TEXT: Text(),
    DATE: Date(),
    JSON_TEXT: JSON(),
    INSTANT: DateTime(timezone=True),
}


def columns_like(table: Table, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(name, kind) pairs for the named columns of `table`, as `staged` takes them."""
    kinds = []
    for name in names:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            kind = JSON_TEXT
        elif isinstance(column_type, DateTime):
            kind = INSTANT
        elif isinstance(column_type, Date):
            kind = DATE
        elif isinstance(column_type, Integer):
            kind = INT
        else:
            kind = TEXT
        kinds.append((name, kind))
    return tuple(kinds)


@contextmanager
def staged(
    conn: Connection,
    prefix: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    joined: bool = True,
) -> Iterator[Table]:
    """A temporary table named after `prefix` holding `rows`, for the length of the block.

    Args:
        columns: (name, kind) pairs, kind one of INT, TEXT, DATE, JSON_TEXT; the rows are
            tuples in that order.
        joined: whether the table is joined to others (then analysed on PostgreSQL, so the
            planner knows its size); an INSERT ... SELECT of all its rows needs no plan.

    On PostgreSQL the table stays with the session, emptied after use, and the next block with
    the same prefix and columns reuses it: creating and dropping four temporary tables was most
    of a webhook call that settles one invoice (catalog rows written and removed each time).
    A block nested inside another with the same prefix gets a table of its own.
    """
    sqlite = conn.dialect.name == "sqlite"
    in_use: set[str] = conn.info.setdefault("regua_stages_in_use", set())
    name = f"stage_{prefix}_{zlib.crc32(repr(columns).encode()):08x}"
    reuse = not sqlite and name not in in_use
    if not reuse:
        name = f"{name}_{next(_names)}"
    table = Table(
        name,
        MetaData(),
        *(
            # SQLite would give a column declared JSON numeric affinity: keep the text as text.
            Column(column, Text() if sqlite and kind == JSON_TEXT else _TYPES[kind])
            for column, kind in columns
        ),
        prefixes=["TEMPORARY"],
        # ON COMMIT DELETE ROWS: a rolled-back or failed block leaves nothing for the next one.
        postgresql_on_commit="DELETE ROWS" if reuse else None,
    )
    table.create(conn, checkfirst=reuse)
    in_use.add(name)
    if not reuse:
        try:
            if rows:
                _load(conn, table, rows, analyse=joined)
            yield table
        finally:
            in_use.discard(name)
            table.drop(conn)
        return
    if rows:
        _load(conn, table, rows, analyse=joined)
    yield table
    # Emptied for the next block. Had the block failed, the name stays taken on this
    # connection, so a caller that goes on in the same transaction never reads its rows.
    conn.execute(table.delete())
    in_use.discard(name)


@contextmanager
def given_rows(
    conn: Connection,
    prefix: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> Iterator[FromClause]:
    """`rows` as something to select from, with the columns of `staged`, for an INSERT ... SELECT.

    PostgreSQL reads them from array parameters (``unnest``): no table to fill, analyse and
    empty. The planner takes an unnest for about a hundred rows, so join it only by key. SQLite
    stages them (`staged`).
    """
    if conn.dialect.name == "postgresql":
        yield _unnested(columns, rows)
        return
    with staged(conn, prefix, columns, rows) as stage:
        yield stage


def _unnested(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> FromClause:
    """``unnest(array, array, ...) AS anon(name, name, ...)``: one array parameter per column."""
    arrays = [
        sql_cast(
            bindparam(None, _array_text(kind, list(values)), type_=Text()), ARRAY(_TYPES[kind])
        )
        for (_name, kind), values in zip(
            columns, zip(*rows, strict=True) if rows else [()] * len(columns), strict=True
        )
    ]
    return func.unnest(*arrays).table_valued(*(name for name, _kind in columns)).render_derived()


def _load(conn: Connection, table: Table, rows: Sequence[Sequence[Any]], *, analyse: bool) -> None:
    names = [column.name for column in table.columns]
    if conn.dialect.name == "postgresql":
        copied = copy_rows(conn, table, names, rows)
        if analyse:
            analyse_if_large(conn, table, copied)
        return
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
        rows if isinstance(rows, list) else list(rows),
    )


def copy_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """``COPY table (names) FROM STDIN`` of plain tuples, on PostgreSQL; how many rows."""
    raw: Any = conn.connection.dbapi_connection  # psycopg 3
    columns = ", ".join(f'"{name}"' for name in names)
    count = 0
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def insert_tuples(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Plain tuples straight into a real table: COPY on PostgreSQL, a raw executemany on SQLite.

    For new rows that need nothing computed in SQL: no staging table to fill, read and empty.
    Values as `staged` takes them, except instants, which must already be in the form the
    driver receives (`driver_value`).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, names, rows)
        return
    statement = insert(table).values({name: bindparam(name) for name in names})
    _executemany(conn, statement.compile(dialect=conn.dialect), names, rows)


def update_tuples(
    conn: Connection,
    table: Table,
    key: tuple[str, str],
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """``UPDATE table SET columns WHERE key`` for each row: (key value, column values...).

    PostgreSQL gets one ``UPDATE ... FROM unnest(arrays)``: an array parameter per column,
    joined to the table by its key index, with no staging table to fill, analyse and empty.
    (Staged and analysed, 100,000 balances were joined by hash to a scan of all 1,000,000
    invoices.) SQLite runs a raw executemany by key, which its ``UPDATE ... FROM`` (a join
    materialised first) is slower than. `key` and `columns` are (name, kind) pairs, kinds INT,
    TEXT, DATE or INSTANT.
    """
    if not rows:
        return
    key_name = key[0]
    names = [name for name, _kind in columns]
    if conn.dialect.name == "postgresql":
        given = _unnested((key, *columns), rows)
        conn.execute(
            update(table)
            .where(table.c[key_name] == given.c[key_name])
            .values({name: given.c[name] for name in names})
        )
        return
    statement = (
        update(table)
        .where(table.c[key_name] == bindparam(f"p_{key_name}"))
        .values({name: bindparam(f"p_{name}") for name in names})
    )
    # The SET values come before the key in the statement: rows are reordered once, here.
    reordered = [(*row[1:], row[0]) for row in rows]
    _executemany(
        conn,
        statement.compile(dialect=conn.dialect),
        [f"p_{name}" for name in (*names, key_name)],
        reordered,
    )


def _array_text(kind: str, values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of `values`, None as NULL: numbers bare, the rest quoted."""
    if kind == INT:
        items = ["NULL" if value is None else str(int(value)) for value in values]
    elif kind in (TEXT, DATE, INSTANT, JSON_TEXT):
        # A column repeats a few values (a status, a day, the instant): each is quoted once.
        quoted: dict[Any, str] = {None: "NULL"}
        items = []
        for value in values:
            item = quoted.get(value)
            if item is None:
                text = str(value).replace("\\", "\\\\").replace('"', '\\"')
                item = quoted[value] = f'"{text}"'
            items.append(item)
    else:
        raise ValueError(f"no array form for {kind!r} columns")
    return "{" + ",".join(items) + "}"


def _executemany(
    conn: Connection, compiled: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    # SQLAlchemy compiled the statement (names quoted, positional marks); the driver takes the
    # rows as they are, without a parameter dict per row.
    order = list(compiled.positiontup)
    if order != list(names):
        # The statement lists the columns in the table's order: rows given in another follow.
        where = [list(names).index(name) for name in order]
        rows = [tuple(row[i] for i in where) for row in rows]
    conn.exec_driver_sql(str(compiled), rows if isinstance(rows, list) else list(rows))


def driver_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """`value` as SQLAlchemy hands it to the driver for `column`, for rows that bypass it.

    SQLite stores an instant as text in SQLAlchemy's own format; psycopg adapts Python values.
    """
    processor = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor(value) if processor is not None else value


def analyse_if_large(conn: Connection, table: Table, rows: int) -> None:
    if rows >= ANALYZE_FROM:
        # A temporary table has no statistics until analysed: without them the planner guesses
        # its size and may scan a whole table instead of using its key, or loop over it.
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')


@contextmanager
def staged_like(
    conn: Connection,
    like: Table,
    names: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    joined: bool = False,
) -> Iterator[Table]:
    """A temporary table with the named columns of `like`, holding `rows` given as dicts.

    For rows shaped like a real table's, with any of its column types: on SQLite SQLAlchemy
    turns the values into what the column stores (in slices, so a million rows never sit in
    memory twice); on PostgreSQL they go by COPY, JSON values as their text, and the table is
    analysed when it is to be `joined` (an INSERT ... SELECT of all its rows needs no plan).
    """
    stage = Table(
        f"stage_{like.name}_{next(_names)}",
        MetaData(),
        *(Column(name, like.c[name].type) for name in names),
        prefixes=["TEMPORARY"],
    )
    stage.create(conn)
    try:
        if conn.dialect.name == "postgresql":
            copied = copy_rows(conn, stage, names, as_tuples(like, names, rows))
            if joined:
                analyse_if_large(conn, stage, copied)
        else:
            source = iter(rows)
            while batch := list(islice(source, 10_000)):
                conn.execute(stage.insert(), batch)
        yield stage
    finally:
        stage.drop(conn)


def as_tuples(
    like: Table, names: Sequence[str], rows: Iterable[dict[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    """Dict rows as COPY tuples, JSON columns as their text (psycopg adapts the rest)."""
    # itemgetter builds each tuple in C: a generator per row cost more than the COPY itself
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    as_json = [i for i, name in enumerate(names) if isinstance(like.c[name].type, JSON)]
    if not as_json:
        yield from map(pick, rows)
        return
    for row in rows:
        values = list(pick(row))
        for i in as_json:
            if values[i] is not None:
                values[i] = json.dumps(values[i])
        yield tuple(values)
