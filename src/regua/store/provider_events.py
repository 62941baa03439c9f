"""What providers report after sending, as stored: each event once on the timeline (under its
unique ``event_key``), the action a report is about, the action's delivered / read / failed
marks."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import ColumnElement

from regua.store.claims import action_id_from_key
from regua.store.tables import actions, interactions

EVENT_KEY_SIZE = 240  # the column's width


def event_key(key: str) -> str:
    """`key` as stored: whole when it fits, else its head and a SHA-256 of all of it.

    Cutting it would lose its tail, which is what tells events apart (the customer id after a
    long provider message id): two customers sharing a phone would get one key, and the second
    one's opt-out would be taken for a duplicate. Keys that fit are kept as they always were.
    """
    if len(key) <= EVENT_KEY_SIZE:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: EVENT_KEY_SIZE - len(digest) - 1]}#{digest}"


def record_event_once(
    connection: Connection,
    *,
    key: str,
    customer_id: int,
    action_id: int | None,
    at: datetime,
    kind: str,
    channel: str,
    detail: str,
    data: dict[str, Any],
) -> bool:
    """Insert a timeline entry under `key`; False if that event was recorded before."""
    row = {
        "customer_id": customer_id,
        "action_id": action_id,
        "at": at,
        "kind": kind,
        "channel": channel,
        "detail": detail,
        "data": data,
        "event_key": event_key(key),
    }
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(interactions)
        .values(row)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(interactions.c.id)
    )
    return connection.execute(statement).first() is not None


def find_reported_action(
    connection: Connection, channel: str, reference: str | None, provider_message_id: str | None
) -> Any | None:
    """The action (``id``, ``customer_id``, ``status``, ``contact_value``,
    ``idempotency_key``) a report is about: by the idempotency key it echoes (`reference`),
    else by the provider's message id; None when regua does not know it."""
    columns = (
        actions.c.id,
        actions.c.customer_id,
        actions.c.status,
        actions.c.contact_value,
        actions.c.idempotency_key,
    )
    by_key = action_id_from_key(reference)
    if by_key is not None:
        row = connection.execute(
            select(*columns).where(
                actions.c.id == by_key,
                actions.c.channel == channel,
                actions.c.idempotency_key == reference,
            )
        ).first()
        if row is not None:
            return row
    if not provider_message_id:
        return None
    return _by_provider_id(connection, channel, provider_message_id, columns)


def find_answered_action(
    connection: Connection, channel: str, provider_message_id: str
) -> Any | None:
    """The action (``id``, ``customer_id``, ``creditor_id``) whose message a reply answers, or
    None."""
    columns = (actions.c.id, actions.c.customer_id, actions.c.creditor_id)
    return _by_provider_id(connection, channel, provider_message_id, columns)


def _by_provider_id(
    connection: Connection,
    channel: str,
    provider_message_id: str,
    columns: tuple[ColumnElement[Any], ...],
) -> Any | None:
    return connection.execute(
        select(*columns).where(
            actions.c.provider_message_id == provider_message_id,
            actions.c.channel == channel,
        )
    ).first()


def mark_delivered(connection: Connection, action_id: int, at: datetime) -> None:
    """Delivered at `at`, unless an earlier delivery was recorded."""
    connection.execute(
        update(actions)
        .where(actions.c.id == action_id)
        .values(delivered_at=func.coalesce(actions.c.delivered_at, at))
    )


def mark_read(connection: Connection, action_id: int, at: datetime) -> None:
    """Read at `at` (and so delivered), unless earlier marks were recorded."""
    connection.execute(
        update(actions)
        .where(actions.c.id == action_id)
        .values(
            delivered_at=func.coalesce(actions.c.delivered_at, at),
            read_at=func.coalesce(actions.c.read_at, at),
        )
    )


def mark_undelivered(connection: Connection, action_id: int, reason: str) -> None:
    """Failed after the provider accepted it (a sent or sending action), with `reason`."""
    connection.execute(
        update(actions)
        .where(actions.c.id == action_id, actions.c.status.in_(("sent", "sending")))
        .values(status="failed", reason=reason[:400])
    )
