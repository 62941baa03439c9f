"""The creditor's régua versions as stored: each with its YAML, one active version per name."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from regua.store.bulk import insert_ignoring_conflicts
from regua.store.tables import policies


class PolicyVersion(NamedTuple):
    """One stored version of one of the creditor's policies."""

    name: str
    version: str
    active: bool
    loaded_at: datetime


def versions(connection: Connection, creditor_id: int) -> list[PolicyVersion]:
    """Every version of the creditor's policies, by name, then in the order they were loaded."""
    return [
        PolicyVersion(*row)
        for row in connection.execute(
            select(policies.c.name, policies.c.version, policies.c.active, policies.c.loaded_at)
            .where(policies.c.creditor_id == creditor_id)
            .order_by(policies.c.name, policies.c.loaded_at)
        )
    ]


# Read by every portal page and payment webhook: built once.
_ACTIVE_SOURCES = (
    select(policies.c.name, policies.c.source)
    .where(policies.c.creditor_id == bindparam("p_creditor"), policies.c.active.is_(True))
    .order_by(policies.c.name)
)


def active_sources(connection: Connection, creditor_id: int) -> list[tuple[str, str]]:
    """(name, YAML text) of the creditor's active policies, by name."""
    return [
        (name, source)
        for name, source in connection.execute(_ACTIVE_SOURCES, {"p_creditor": creditor_id})
    ]


def activate(
    connection: Connection,
    creditor_id: int,
    *,
    name: str,
    version: str,
    text: str,
    priority: int,
    now: datetime,
) -> None:
    """Make (`name`, `version`) the creditor's active version of `name`, storing `text` if that
    version is new; older versions stay for history."""
    connection.execute(
        update(policies)
        .where(policies.c.creditor_id == creditor_id, policies.c.name == name)
        .values(active=False)
    )
    # Two processes activating the packaged régua on first use at once (two schedulers): the
    # second's insert waits for the first's and then does nothing, instead of failing.
    row = {
        "creditor_id": creditor_id,
        "name": name,
        "version": version,
        "source": text,
        "active": True,
        "priority": priority,
        "loaded_at": now,
    }
    insert_ignoring_conflicts(connection, policies, [row], ["creditor_id", "name", "version"])
    connection.execute(
        update(policies)
        .where(
            policies.c.creditor_id == creditor_id,
            policies.c.name == name,
            policies.c.version == version,
        )
        .values(active=True)
    )
