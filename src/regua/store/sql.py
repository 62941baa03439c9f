"""Portable SQL expressions that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


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
