"""The database connections of a drain's sender threads: one kept per thread, so recording
what became of a message costs a transaction, not a pool checkout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.pool import QueuePool


def pool_capacity(engine: Engine) -> int | None:
    """How many connections `engine` hands out at once (SQLAlchemy's default: 5 kept plus 10
    more on demand); None: no limit."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    overflow: int = pool._max_overflow  # no public accessor; -1 means no limit
    return None if overflow < 0 else pool.size() + overflow


class SenderConnections:
    """Per-thread connections of one engine, closed together when the drain ends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Connection] = []

    @staticmethod
    def kept_per_thread(engine: Engine) -> int:
        """Connections one sender thread may keep: on PostgreSQL a sent message is recorded on
        an autocommit connection and the rest in transactions, on another."""
        return 2 if engine.dialect.name == "postgresql" else 1

    @property
    def dialect(self) -> Dialect:
        return self.engine.dialect

    def _connection(self, slot: str, **options: Any) -> Connection:
        connection: Connection | None = getattr(self._local, slot, None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect()
            if options:
                connection = connection.execution_options(**options)
            setattr(self._local, slot, connection)
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """This thread's connection, in a transaction committed when the block ends."""
        connection = self._connection("connection")
        with connection.begin():
            yield connection

    def autocommit(self) -> Connection:
        """A connection whose every statement is its own committed transaction (PostgreSQL's
        one-statement record of a sent message: one round trip, no BEGIN and COMMIT)."""
        return self._connection("autocommit", isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
