"""What became of a claimed action (see `store.claims`), each transition with its timeline
entry and only while the claim is still this dispatcher's (``status = 'sending' AND
claimed_by = token``): `record_sent`, `record_retry` (back to planned, with the time of the
next attempt), `record_failed` and `record_cancelled`. Each returns False when the claim was
taken over after the lease (a slower dispatcher).

Also the cancellation of the planned actions a newer step speaks for, before a dispatch
(`supersede_stale_actions`), and the SQLite journal mode that makes a commit per message cheap
(`use_write_ahead_log`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Integer,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from regua.store.db import DriverStatement
from regua.store.sender_connections import SenderConnections
from regua.store.tables import actions, interactions


def use_write_ahead_log(engine: Engine) -> None:
    """On SQLite, switch the database file to WAL (write-ahead log) mode, once; a no-op elsewhere.

    The dispatcher commits once per message, so that a crash never loses a record of what was
    sent. In the default rollback-journal mode every commit waits for the disk (about 10 ms);
    in WAL mode with ``synchronous=NORMAL`` it does not, readers no longer block the writer,
    and a killed process still loses no committed transaction. The mode is a property of the
    file: set once, every later connection uses it.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        if str(mode).lower() != "wal":
            # The switch needs the file to itself and fails at once, without waiting, while
            # another process or thread uses it (two schedulers, a portal request): the mode
            # only saves time, so that run goes on in the old mode and a later one switches.
            with contextlib.suppress(OperationalError):
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def supersede_stale_actions(connection: Connection, today: date, now: datetime) -> int:
    """Collection actions of past days still unsent when a newer one exists for the customer
    are cancelled: the newer (more advanced) step speaks for them, never a burst of both."""
    newer = aliased(actions)
    replaced = exists().where(
        and_(
            newer.c.customer_id == actions.c.customer_id,
            newer.c.purpose == actions.c.purpose,
            newer.c.planned_for > actions.c.planned_for,
            newer.c.status.in_(("planned", "sending", "sent")),
        )
    )
    rows = connection.execute(
        update(actions)
        .where(
            actions.c.status == "planned",
            actions.c.purpose == "collection",
            actions.c.planned_for < today,
            replaced,
        )
        .values(status="cancelled", reason="substituída por uma ação mais recente")
        .returning(actions.c.id, actions.c.customer_id, actions.c.channel)
    ).all()
    if rows:
        connection.execute(
            interactions.insert(),
            [
                {
                    "customer_id": customer_id,
                    "action_id": action_id,
                    "at": now,
                    "kind": "cancelled",
                    "channel": channel,
                    "detail": "Mensagem não enviada: substituída por uma etapa mais recente.",
                }
                for action_id, customer_id, channel in rows
            ],
        )
    return len(rows)


@dataclass(frozen=True)
class TimelineEntry:
    """The customer's timeline entry a transition writes (pt-BR `detail`)."""

    customer_id: int
    action_id: int
    channel: str | None
    at: datetime
    kind: str
    detail: str
    data: Mapping[str, Any] | None = None  # None: no data column (SQL NULL)


@dataclass(frozen=True)
class SentRecord:
    """A message the provider accepted, and its timeline entry."""

    action_id: int
    token: str
    customer_id: int
    channel: str
    sent_at: datetime
    provider_message_id: str | None
    at: datetime  # when it was recorded
    detail: str
    data: Mapping[str, Any]
    # What the provider bills, in units of the planned price: an SMS's segments (a 358-character
    # SMS is three), one for every other message. The action's cost is multiplied by it.
    billed_units: int = 1


def claim_attempts(connection: Connection, action_id: int) -> int:
    """How many times the action was claimed so far (the current claim included)."""
    return int(
        connection.execute(select(actions.c.attempts).where(actions.c.id == action_id)).scalar_one()
    )


def record_sent(connections: SenderConnections, sent: SentRecord) -> bool:
    """Sent, with its timeline entry, committed at once: a crash after this loses nothing,
    and one before it repeats only this message. False if the claim was lost.

    The statements are built once (`_sent_statements`); only their parameters change. On
    PostgreSQL the hot path is one statement on the driver, its own transaction on the
    thread's autocommit connection (one round trip): the action moves to sent and its timeline
    entry is written only if this dispatcher still holds the claim. Elsewhere, both
    statements in one transaction on the thread's connection.
    """
    params: dict[str, Any] = {
        "p_action_id": sent.action_id,
        "p_token": sent.token,
        "p_sent_at": sent.sent_at,
        "p_provider_message_id": sent.provider_message_id,
        "p_customer_id": sent.customer_id,
        "p_at": sent.at,
        "p_channel": sent.channel,
        "p_detail": sent.detail,
        "p_data": dict(sent.data),
        "p_units": sent.billed_units,
    }
    if connections.dialect.name == "postgresql":
        params["p_data"] = json.dumps(params["p_data"])
        return bool(_sent_on_driver(connections.dialect).execute(connections.autocommit(), params))
    with connections.transaction() as connection:
        statements = _sent_statements()
        if not connection.execute(statements.move, params).rowcount:
            return False
        connection.execute(statements.timeline, params)
    return True


def record_retry(
    connection: Connection,
    action_id: int,
    token: str,
    *,
    next_attempt_at: datetime,
    reason: str,
    entry: TimelineEntry,
) -> bool:
    """Back to planned after a transient failure, tried again at `next_attempt_at`."""
    return _transition(
        connection,
        action_id,
        token,
        {
            "status": "planned",
            "next_attempt_at": next_attempt_at,
            "reason": reason[:400],
            "claimed_by": None,
            "claimed_at": None,
        },
        entry,
    )


def record_failed(
    connection: Connection, action_id: int, token: str, *, reason: str, entry: TimelineEntry
) -> bool:
    """Failed for good (a permanent failure, a broken template, attempts exhausted)."""
    return _close(connection, action_id, token, "failed", reason, entry)


def record_cancelled(
    connection: Connection, action_id: int, token: str, *, reason: str, entry: TimelineEntry
) -> bool:
    """Cancelled: the message must not go out any more (invoices paid, customer opted out...)."""
    return _close(connection, action_id, token, "cancelled", reason, entry)


def record_held(
    connection: Connection, action_id: int, token: str, *, reason: str, entry: TimelineEntry
) -> bool:
    """Held: not sent because the creditor's profile lacks what the message needs."""
    return _close(connection, action_id, token, "held", reason, entry)


def _close(
    connection: Connection,
    action_id: int,
    token: str,
    status: str,
    reason: str,
    entry: TimelineEntry,
) -> bool:
    values = {"status": status, "reason": reason[:400], "next_attempt_at": None}
    return _transition(connection, action_id, token, values, entry)


def _transition(
    connection: Connection,
    action_id: int,
    token: str,
    values: Mapping[str, Any],
    entry: TimelineEntry,
) -> bool:
    statement = _transition_statement(tuple(sorted(values)))
    changed = connection.execute(
        statement,
        {
            "p_action_id": action_id,
            "p_token": token,
            **{f"p_{k}": v for k, v in values.items()},
        },
    ).rowcount
    if not changed:
        return False
    row: dict[str, Any] = {
        "customer_id": entry.customer_id,
        "action_id": entry.action_id,
        "at": entry.at,
        "kind": entry.kind,
        "channel": entry.channel,
        "detail": entry.detail,
    }
    if entry.data is not None:
        row["data"] = dict(entry.data)
    connection.execute(interactions.insert().values(**row))
    return True


def _still_claimed() -> tuple[ColumnElement[bool], ...]:
    """The action ``p_action_id`` while its claim is still ``p_token``'s (see the module
    docstring): a transition of a claim taken over changes nothing."""
    return (
        actions.c.id == bindparam("p_action_id"),
        actions.c.status == "sending",
        actions.c.claimed_by == bindparam("p_token"),
    )


@lru_cache(maxsize=32)
def _transition_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE actions SET <columns> WHERE id = :p_action_id AND status = 'sending' AND
    claimed_by = :p_token``, built once per set of columns (values are ``p_<column>``)."""
    return (
        update(actions)
        .where(*_still_claimed())
        .values({name: bindparam(f"p_{name}", type_=actions.c[name].type) for name in columns})
    )


@dataclass(frozen=True)
class _SentStatements:
    move: Any  # the claimed action -> sent
    timeline: Any  # its timeline entry
    together: Any  # PostgreSQL: both in one statement, run on the driver (`DriverStatement`)


@lru_cache(maxsize=1)
def _sent_statements() -> _SentStatements:
    """The record of a sent message, built once (parameters ``p_*``, see `record_sent`).

    ``together`` is ``WITH moved AS (UPDATE actions ... RETURNING) INSERT INTO interactions
    SELECT ... FROM moved``: the transition and its timeline entry as one statement, which
    inserts one row while the dispatcher holds the claim and none after it lost it.
    """
    move = (
        update(actions)
        .where(*_still_claimed())
        .values(
            status="sent",
            sent_at=bindparam("p_sent_at", type_=actions.c.sent_at.type),
            provider_message_id=bindparam(
                "p_provider_message_id", type_=actions.c.provider_message_id.type
            ),
            reason=None,
            next_attempt_at=None,
            cost_cents=actions.c.cost_cents * bindparam("p_units", type_=Integer()),
        )
    )
    entry = {
        "at": bindparam("p_at", type_=interactions.c.at.type),
        "kind": literal("sent", type_=interactions.c.kind.type),
        "channel": bindparam("p_channel", type_=interactions.c.channel.type),
        "detail": bindparam("p_detail", type_=interactions.c.detail.type),
        "data": bindparam("p_data", type_=interactions.c.data.type),
    }
    timeline = insert(interactions).values(
        customer_id=bindparam("p_customer_id", type_=interactions.c.customer_id.type),
        action_id=bindparam("p_action_id", type_=interactions.c.action_id.type),
        **entry,
    )
    moved = move.returning(actions.c.id, actions.c.customer_id).cte("moved")
    columns = ("customer_id", "action_id", "at", "kind", "channel", "detail", "data")
    source = select(moved.c.customer_id, moved.c.id, *entry.values())
    together = insert(interactions).from_select(list(columns), source).add_cte(moved)
    return _SentStatements(move, timeline, together)


@lru_cache(maxsize=4)
def _sent_on_driver(dialect: Dialect) -> DriverStatement:
    """`_sent_statements().together` compiled once per engine's dialect, for the driver."""
    return DriverStatement(_sent_statements().together, dialect)
