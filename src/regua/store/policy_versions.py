"""Stored régua versions looked up by name and version (the one a batch of actions was planned
with)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from regua.store.tables import policies


def policy_version_source(
    connection: Connection, creditor_id: int, name: str, version: str
) -> Any | None:
    """The row (``name``, ``source``: the YAML text) of one stored régua version, or None."""
    return connection.execute(
        select(policies.c.name, policies.c.source).where(
            policies.c.creditor_id == creditor_id,
            policies.c.name == name,
            policies.c.version == version,
        )
    ).first()
