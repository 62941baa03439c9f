"""Which database errors mean the database is away for a moment (a restart, a session killed by
an administrator, a network cut, SQLite busy past its timeout) rather than a bug in a statement:
worth trying again on a fresh connection, and no reason to keep a claim until its lease ends."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def database_unreachable(exc: BaseException) -> bool:
    """True for a lost connection or an unavailable database; False for anything else (a
    constraint, a syntax error: trying again would fail the same way)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
