"""One writer at a time on an SQLite file, queued in the process instead of by SQLite's sleeps.

SQLite lets one connection write at a time; a connection that finds the file's write lock
taken retries in its busy handler, which sleeps 1, 2, 5, 10, ... up to 100 ms between tries
and wakes no sooner when the lock is freed. With the web app's threads writing short
transactions (every portal page goes on the customer's timeline), those sleeps, not the
writes, made the slowest pages: 250 ms at the 99th percentile for 3 ms of work.

So the threads of a process take a lock of their own before the statement that starts a write
transaction, and give it back as soon as that transaction ends: a waiting thread is woken the
moment the writer commits. The lock is per database file (engines of one process on the same
file share it); other processes still meet SQLite's own lock and its busy timeout, as before.

The statements gated are the ones the sqlite3 module opens a transaction for (INSERT, UPDATE,
DELETE, REPLACE, when the connection is not in autocommit mode and no transaction is open):
exactly those take the file's write lock and keep it until the commit or rollback. Holding the
lock longer than the busy timeout fails like SQLite would, "database is locked".
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError

WAIT_SECONDS = 30.0  # the busy_timeout set on every connection (store.db)
_STARTS_A_WRITE = ("insert", "update", "delete", "replace")

_gates: dict[str, _WriteGate] = {}
_gates_lock = threading.Lock()


class _WriteGate:
    """The lock of one database file, and the driver connection holding it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holder: int | None = None  # id() of the sqlite3 connection in its write

    def enter(self, driver: Any, statement: str) -> None:
        if self.holder == id(driver):
            return
        if not self.lock.acquire(timeout=WAIT_SECONDS):
            raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))
        self.holder = id(driver)

    def leave(self, driver: Any) -> None:
        if self.holder == id(driver):
            self.holder = None
            self.lock.release()


def _gate_for(path: str) -> _WriteGate:
    with _gates_lock:
        return _gates.setdefault(path, _WriteGate())


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def queue_writes_in_process(engine: Engine) -> None:
    """Gate the write transactions of `engine` (an SQLite file) by the file's in-process lock."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return  # each in-memory connection is a database of its own: nothing to share
    gate = _gate_for(path)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(
        connection: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        driver = _driver(connection)
        if driver.isolation_level is None or driver.in_transaction:
            return  # autocommit, or a write already under way (this thread holds the gate)
        if statement.lstrip()[:7].lower().startswith(_STARTS_A_WRITE):
            gate.enter(driver, statement)

    # The engine's commit and rollback events come before the driver's own call: end the
    # transaction on the driver here, then free the gate (the engine's call is then a no-op).
    @event.listens_for(engine, "commit")
    def _on_commit(connection: Connection) -> None:
        driver = _driver(connection)
        try:
            driver.commit()
        except sqlite3.Error as error:
            raise OperationalError("COMMIT", None, error) from error
        finally:
            gate.leave(driver)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Connection) -> None:
        driver = _driver(connection)
        try:
            driver.rollback()
        finally:
            gate.leave(driver)

    # A connection given back, reset or dropped by the pool without either (an error, a
    # garbage-collected connection) frees the gate too.
    @event.listens_for(engine, "reset")
    def _on_reset(driver: Any, _record: Any, _state: Any) -> None:
        gate.leave(driver)

    @event.listens_for(engine, "close")
    def _on_close(driver: Any, _record: Any) -> None:
        gate.leave(driver)
