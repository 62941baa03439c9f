"""Secrets of the installation kept in its database (see `tables.installation_secrets`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from regua.store.tables import installation_secrets

LINK_SIGNING = "link_signing"


def read_secret(conn: Connection, name: str) -> str | None:
    value = conn.execute(
        select(installation_secrets.c.value).where(installation_secrets.c.name == name)
    ).scalar_one_or_none()
    return str(value) if value else None


def ensure_secret(conn: Connection, name: str, make: Callable[[], str], now: datetime) -> str:
    """The stored secret `name`, made with `make` and stored first if there is none."""
    found = read_secret(conn, name)
    if found:
        return found
    value = make()
    conn.execute(installation_secrets.insert().values(name=name, value=value, created_at=now))
    return value
