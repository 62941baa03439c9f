"""Unit of work: one connection, one transaction; rollback unless `commit()` was called.

Entry points give a service the factory `App.uow` (see `regua.bootstrap`); the service owns
its transaction: ``with uow() as work: ...; work.commit()``, handing `work.connection` to the
store. A preview is a unit of work that is never committed. Side effects that must not happen
for a rolled-back change (sending a message, publishing to the broker, a webhook out) are
registered with `on_commit` and run only after the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine


class UnitOfWork:
    """One transaction on `engine`, rolled back at the end of ``with`` unless committed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._after_commit: list[Callable[[], None]] = []
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("UnitOfWork used outside `with`")
        return self._connection

    def __enter__(self) -> Self:
        self._connection = self.engine.connect()
        self._connection.begin()
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        self.connection.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
        self.connection.begin()

    def rollback(self) -> None:
        self.connection.rollback()
        self._after_commit = []
        self.connection.begin()

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


# What a service that owns its transactions is given: `App.uow`, or `partial(UnitOfWork, engine)`.
UnitOfWorkFactory = Callable[[], UnitOfWork]
