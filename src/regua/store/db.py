"""Engines for SQLite (embedded default) and PostgreSQL, created on request, never at import; and
the few hot statements run straight on the driver (`DriverStatement`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from regua.store.sqlite_writes import queue_writes_in_process


def normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3, the driver regua installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        queue_writes_in_process(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Concurrent readers (web, dispatch) while the planner writes; one writer at a time.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def settings_for_batch_work(connection: Connection) -> None:
    """Session settings for one large batch transaction (the daily plan), on PostgreSQL.

    The default 4 MB of work memory makes the plan's hash joins and aggregates over a million
    invoices spill to disk in batches; and JIT compilation costs more on these one-off queries
    than it saves. SET LOCAL ends with the transaction, so other work keeps the defaults.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    connection.exec_driver_sql("SET LOCAL jit = off")


class DriverStatement:
    """A statement compiled once for PostgreSQL and run on psycopg's own connection as a
    server-side prepared statement, for the few one-row statements run once per message.

    For such a statement SQLAlchemy's work on each execution (the cache key of the statement,
    an execution context, a result object) costs the client about as much CPU as the database
    spends running it. Parameters named ``p_<name>`` are given to `execute`; the statement's
    other values were fixed when it was built. Values are handed to the driver as they are
    (no SQLAlchemy type processing: serialise JSON with `json.dumps`, the statement casts it).
    Driver errors are raised as SQLAlchemy's, and a lost connection is invalidated, as
    `Connection.execute` would.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect, prefix: str = "p_") -> None:
        if dialect.driver != "psycopg":
            raise ValueError(f"statements on the driver need psycopg, not {dialect.driver}")
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and not compiled.positional
        names = [name for name in compiled.binds if name.startswith(prefix)]
        self.sql = compiled.string
        self.fixed = {
            name: value
            for name, value in compiled.construct_params(dict.fromkeys(names)).items()
            if not name.startswith(prefix)
        }
        self.dialect = dialect

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run with `params` on `connection` (in autocommit mode: the statement is its own
        transaction); returns the number of rows it changed."""
        pooled = connection.connection
        driver = pooled.driver_connection
        assert driver is not None, "a live connection has its driver's"
        values = {**self.fixed, **params}
        try:
            cursor = driver.cursor()
            try:
                cursor.execute(self.sql, values, prepare=True)
                return int(cursor.rowcount)
            finally:
                cursor.close()
        except self.dialect.loaded_dbapi.Error as exc:
            lost = self.dialect.is_disconnect(exc, pooled, None)
            if lost:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                self.sql,
                values,
                exc,
                self.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=self.dialect,
            ) from exc
