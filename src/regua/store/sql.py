"""Portable SQL expressions that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Text,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, Executable, Select, UnaryExpression
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.operators import custom_op


class days_between(FunctionElement[int]):
    """Whole days from the second date to the first: ``days_between(a, b) = a - b``."""

    type = Integer()
    inherit_cache = True

    def __init__(self, later: ColumnElement[Any] | Any, earlier: ColumnElement[Any] | Any):
        super().__init__(later, earlier)


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


class add_days(FunctionElement[Any]):
    """``date + n days`` for a whole number of days known when the statement is built."""

    inherit_cache = False

    def __init__(self, day: ColumnElement[Any], days: int):
        super().__init__(day)
        self.days = int(days)
        self.type = day.type


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '{element.days:+d} days')"


@compiles(add_days, "postgresql")
def _add_days_postgresql(element: add_days, compiler: Any, **kw: Any) -> str:
    (day,) = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {element.days:d})"


SHORT_LIST = 50  # up to this many keys an IN list is cheaper than one json_each parameter


def one_of(
    conn: Connection, column: Any, values: Sequence[Any], *, sized: bool = False
) -> ColumnElement[bool]:
    """``column IN values`` with the values sent as ONE parameter.

    Both databases spend more on an IN list of thousands of parameters (SQLAlchemy expanding
    them, the server parsing and planning them) than on the index lookups themselves: for
    100,000 nosso números PostgreSQL took 6.5 s against 0.9 s with ``= ANY(:array)``, SQLite
    0.57 s against 0.39 s reading them with ``json_each(:json)``. A short list (a webhook's
    one invoice) stays literal on SQLite, where the subquery costs more than it saves; so does
    a ``sized`` one, where the planner must see how few values there are to prefer the key.
    """
    if conn.dialect.name == "postgresql":
        listed_values = list(values)
        literal_text = _array_literal(listed_values)
        array = (
            sql_cast(bindparam(None, literal_text, type_=Text()), ARRAY(column.type))
            if literal_text is not None
            else bindparam(None, listed_values, type_=ARRAY(column.type))
        )
        # IN (SELECT unnest(...)), not = ANY(...): a cast array is no constant to the planner,
        # so `= ANY` over a table without fresh statistics is planned as a scan that searches
        # the whole array for every row (200,000 keys against 800,000 rows ran for minutes);
        # a set of keys is joined by index or hash, whatever the statistics say.
        return cast("ColumnElement[bool]", column.in_(select(func.unnest(array))))
    if sized or len(values) <= SHORT_LIST:
        return cast("ColumnElement[bool]", column.in_(list(values)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values)), type_=String()))
    )
    return cast("ColumnElement[bool]", column.in_(listed))


def _array_literal(values: Sequence[Any]) -> str | None:
    """A PostgreSQL array literal (``{1,2}``, ``{"a","b"}``) for ints or strings, else None.

    psycopg adapts a list element by element in Python, checking each string for characters to
    quote; for 100,000 keys that costs more than the query. Written here in one join: every
    string element is quoted, with backslash and double quote escaped as the array syntax asks.
    """
    if not values:
        return None
    first = values[0]
    if type(first) is int and all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"
    if isinstance(first, str) and all(isinstance(v, str) for v in values):
        return '{"' + '","'.join(v.replace("\\", "\\\\").replace('"', '\\"') for v in values) + '"}'
    return None


def unindexed(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column, kept off its indexes on SQLite: a unary +, SQLite's documented way.

    SQLite plans without statistics: given ``creditor_id = ?`` it walks the creditor's unique
    key (every invoice of a one-creditor database) rather than the range of an index that
    reads a few rows, such as the invoices written since yesterday. PostgreSQL chooses by its
    statistics, and has no unary + for text.
    """
    if conn.dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


PARTITION = 20_000  # rows taken from the driver at a time


def plain_rows(conn: Connection, statement: Executable) -> Iterator[tuple[Any, ...]]:
    """The rows of `statement` as the driver returns them: plain tuples, fetched in partitions.

    For reads of many thousand rows, where SQLAlchemy's Row object and type processing per row
    cost more than the query. Values are the driver's own: SQLite gives a date as ISO text
    (`day_of` reads both forms) and a boolean as 0 or 1.
    """
    result = conn.execute(statement)
    cursor = result.cursor
    try:
        while rows := cursor.fetchmany(PARTITION):
            yield from rows
    finally:
        result.close()


def day_of(value: date | str | None) -> date | None:
    """A date column's value from `plain_rows`, whichever database it came from."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
