"""The actions table as a work queue: which actions are due, and claiming them safely.

A dispatcher (the embedded loop or a Celery task) claims actions before sending them: one short
transaction flips ``planned`` to ``sending`` and stamps ``claimed_by``/``claimed_at``, so no
other dispatcher sends the same action. On PostgreSQL the candidates are locked with
``FOR UPDATE SKIP LOCKED``, so parallel workers take different rows without waiting for each
other. On SQLite the claim is one ``UPDATE ... WHERE id IN (SELECT ...)`` as the first statement
of its transaction: SQLite takes the write lock for the whole statement (a single writer, as
``BEGIN IMMEDIATE`` would), so the rows it reads cannot be claimed by anyone in between.

A ``sending`` claim older than the lease belongs to a dispatcher that died in the middle of a
send (a killed worker): it is claimable again, and the message goes out again with the same
idempotency key, so the provider (or the reader, by the Message-ID) can recognise the repeat.
Every claim counts as an attempt, so a message that kills its worker every time still ends.

The contact window is applied here as a filter the service computes (`OpenScope`): which
(régua version, customer state) pairs may be contacted at this instant.

Every later transition of a claimed action lives here too, each with its timeline entry and
only while the claim is still this dispatcher's (``status = 'sending' AND claimed_by = token``):
`record_sent`, `record_retry` (back to planned, with the time of the next attempt),
`record_failed` and `record_cancelled`. Each returns False when the claim was taken over after
the lease (a slower dispatcher). `supersede_stale_actions` cancels the planned actions a newer
step speaks for, before a dispatch.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    String,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from regua.domain.channels import MESSAGE_CHANNELS
from regua.store.db import DriverStatement
from regua.store.sender_connections import SenderConnections
from regua.store.tables import actions, customers, interactions

IDEMPOTENCY_PREFIX = "regua-act-"
DEFAULT_LEASE = timedelta(minutes=5)  # longer than any provider call (10 s timeouts) can take
# `claimed_by` of a planned action already published to a worker queue (distributed mode), so
# the next enqueue does not publish it again while it waits in the queue.
QUEUED_MARK = "queued"


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
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def idempotency_key_for(action_id: int) -> str:
    """The key every attempt of one action carries: ``regua-act-123``."""
    return f"{IDEMPOTENCY_PREFIX}{action_id}"


def action_id_from_key(key: str | None) -> int | None:
    """``regua-act-123`` -> 123; anything else -> None."""
    if not key or not key.startswith(IDEMPOTENCY_PREFIX):
        return None
    digits = key[len(IDEMPOTENCY_PREFIX) :]
    return int(digits) if digits.isdigit() else None


def worker_name() -> str:
    """``host:pid``, what `claimed_by` shows a person looking for the process holding a claim."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_claim_token(worker: str) -> str:
    """A value of `claimed_by` unique to one claim, so a dispatcher reads back only its rows."""
    return f"{worker[:60]}/{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Scope:
    """The actions of one régua version of one creditor (they share a contact window)."""

    creditor_id: int
    policy_name: str
    policy_version: str


@dataclass(frozen=True)
class OpenScope:
    """Customer states (UFs) whose contact window is open now, for one `Scope`."""

    scope: Scope
    ufs: tuple[str, ...]
    unknown_uf_open: bool  # customers without a state, judged by the régua's own time zone


def _due(
    today: date, now: datetime, lease: timedelta, *, by_id: bool = False
) -> ColumnElement[bool]:
    """Due now: planned for today or earlier with its retry time come, or claimed by a
    dispatcher that died.

    `by_id` (SQLite only): the rows are already picked by primary key (a worker's task), and
    without statistics SQLite prefers the status index, reading every planned row; a unary +
    on the column, its documented way to keep a term off an index, leaves the value as it is.
    (PostgreSQL chooses by statistics, and has no unary + for text.)"""
    status: ColumnElement[Any] = actions.c.status
    if by_id:
        status = UnaryExpression(actions.c.status, operator=custom_op("+"), type_=String())
    planned = and_(
        status == "planned",
        actions.c.planned_for <= today,
        or_(actions.c.next_attempt_at.is_(None), actions.c.next_attempt_at <= now),
    )
    abandoned = and_(status == "sending", actions.c.claimed_at < now - lease)
    return or_(planned, abandoned)


def _open(open_scopes: Sequence[OpenScope]) -> ColumnElement[bool]:
    terms: list[ColumnElement[bool]] = []
    for item in open_scopes:
        states: list[ColumnElement[bool]] = []
        if item.ufs:
            states.append(customers.c.uf.in_(item.ufs))
        if item.unknown_uf_open:
            states.append(customers.c.uf.is_(None))
        if not states:
            continue
        terms.append(
            and_(
                actions.c.creditor_id == item.scope.creditor_id,
                actions.c.policy_name == item.scope.policy_name,
                actions.c.policy_version == item.scope.policy_version,
                or_(*states),
            )
        )
    return or_(*terms) if terms else false()


def due_scopes(
    connection: Connection,
    *,
    today: date,
    now: datetime,
    lease: timedelta,
    channels: Sequence[str] = MESSAGE_CHANNELS,
    action_ids: Sequence[int] | None = None,
) -> list[Scope]:
    """The régua versions that have actions due now on `channels` (to compute their windows),
    among `action_ids` when given (a worker's task)."""
    sqlite = connection.dialect.name == "sqlite"
    query = (
        select(actions.c.creditor_id, actions.c.policy_name, actions.c.policy_version)
        .where(
            _due(today, now, lease, by_id=sqlite and action_ids is not None),
            actions.c.channel.in_(list(channels)),
        )
        .distinct()
    )
    if action_ids is not None:
        query = query.where(actions.c.id.in_(list(action_ids)))
    rows = connection.execute(query)
    return [Scope(int(c), str(n), str(v)) for c, n, v in rows]


def _candidates(
    *,
    channel: str,
    today: date,
    now: datetime,
    lease: timedelta,
    open_scopes: Sequence[OpenScope],
    action_ids: Sequence[int] | None,
    limit: int,
    postgres: bool,
    sqlite: bool = False,
) -> Any:
    query = (
        select(actions.c.id)
        .select_from(actions.join(customers, customers.c.id == actions.c.customer_id))
        .where(
            actions.c.channel == channel,
            _due(today, now, lease, by_id=sqlite and action_ids is not None),
            _open(open_scopes),
        )
        .order_by(actions.c.planned_for, actions.c.id)
        .limit(limit)
    )
    if action_ids is not None:
        query = query.where(actions.c.id.in_(list(action_ids)))
    if postgres:
        # Rows another worker is claiming right now are skipped, not waited for.
        query = query.with_for_update(of=actions, skip_locked=True)
    return query


def claim_due(
    connection: Connection,
    *,
    channel: str,
    today: date,
    now: datetime,
    lease: timedelta,
    open_scopes: Sequence[OpenScope],
    token: str,
    limit: int,
    action_ids: Sequence[int] | None = None,
) -> list[int]:
    """Claim up to `limit` due actions of `channel` whose window is open; returns their ids.

    Must be the first statement of its transaction (see the module docstring); commit right
    after it. `action_ids` restricts the claim to those actions (a worker's task).
    """
    postgres = connection.dialect.name == "postgresql"
    sqlite = connection.dialect.name == "sqlite"
    candidates = _candidates(
        channel=channel,
        today=today,
        now=now,
        lease=lease,
        open_scopes=open_scopes,
        action_ids=action_ids,
        limit=limit,
        postgres=postgres,
        sqlite=sqlite,
    )
    key = func.coalesce(
        actions.c.idempotency_key,
        literal(IDEMPOTENCY_PREFIX) + cast(actions.c.id, String),
    )
    by_id = sqlite and action_ids is not None
    statement = (
        update(actions)
        .where(
            actions.c.id.in_(candidates.scalar_subquery()),
            _due(today, now, lease, by_id=by_id),
        )
        .values(
            status="sending",
            claimed_by=token,
            claimed_at=now,
            attempts=actions.c.attempts + 1,
            idempotency_key=key,
        )
        .returning(actions.c.id)
    )
    return sorted(int(row[0]) for row in connection.execute(statement))


def count_due(
    connection: Connection,
    *,
    today: date,
    now: datetime,
    lease: timedelta,
    channels: Sequence[str] = MESSAGE_CHANNELS,
) -> int:
    """Actions due now on `channels`, whether or not their window is open."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(_due(today, now, lease), actions.c.channel.in_(list(channels)))
        ).scalar_one()
    )


def mark_queued(
    connection: Connection,
    *,
    channel: str,
    today: date,
    now: datetime,
    lease: timedelta,
    open_scopes: Sequence[OpenScope],
    limit: int,
) -> list[int]:
    """Planned actions of `channel` to publish to the worker queue, marked as queued.

    An action published less than a lease ago is left alone (it waits in the queue); after a
    lease it is published again, in case the broker lost it. Workers claim by status, so a
    queued mark never stops them.
    """
    postgres = connection.dialect.name == "postgresql"
    not_queued_recently = or_(
        actions.c.claimed_by.is_(None),
        actions.c.claimed_by != QUEUED_MARK,
        actions.c.claimed_at < now - lease,
    )
    candidates = _candidates(
        channel=channel,
        today=today,
        now=now,
        lease=lease,
        open_scopes=open_scopes,
        action_ids=None,
        limit=limit,
        postgres=postgres,
    ).where(or_(actions.c.status == "sending", not_queued_recently))
    statement = (
        update(actions)
        .where(actions.c.id.in_(candidates.scalar_subquery()), actions.c.status == "planned")
        .values(claimed_by=QUEUED_MARK, claimed_at=now)
        .returning(actions.c.id)
    )
    marked = {int(row[0]) for row in connection.execute(statement)}
    # Abandoned claims (a worker died mid-send) go back to a queue too; their status stays
    # `sending` until a worker claims them again.
    abandoned = connection.execute(
        _candidates(
            channel=channel,
            today=today,
            now=now,
            lease=lease,
            open_scopes=open_scopes,
            action_ids=None,
            limit=limit,
            postgres=False,
        ).where(actions.c.status == "sending")
    ).scalars()
    return sorted(marked | {int(i) for i in abandoned})


def channels_of(connection: Connection, action_ids: Sequence[int]) -> dict[str, list[int]]:
    """`action_ids` grouped by their action's channel (a worker's task, claimed per channel)."""
    by_channel: dict[str, list[int]] = {}
    for action_id, channel in connection.execute(
        select(actions.c.id, actions.c.channel).where(actions.c.id.in_(list(action_ids)))
    ):
        by_channel.setdefault(str(channel), []).append(int(action_id))
    return by_channel


def count_retries_pending(
    connection: Connection, *, today: date, now: datetime, channels: Sequence[str]
) -> int:
    """Actions of `channels` back to planned after a transient failure, waiting for their next
    attempt."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(
                actions.c.status == "planned",
                actions.c.planned_for <= today,
                actions.c.next_attempt_at > now,
                actions.c.channel.in_(list(channels)),
            )
        ).scalar_one()
    )


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


# --- what became of a claimed action ---------------------------------------------------------


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


@lru_cache(maxsize=32)
def _transition_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE actions SET <columns> WHERE id = :p_action_id AND status = 'sending' AND
    claimed_by = :p_token``, built once per set of columns (values are ``p_<column>``)."""
    return (
        update(actions)
        .where(
            actions.c.id == bindparam("p_action_id"),
            actions.c.status == "sending",
            actions.c.claimed_by == bindparam("p_token"),
        )
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
        .where(
            actions.c.id == bindparam("p_action_id"),
            actions.c.status == "sending",
            actions.c.claimed_by == bindparam("p_token"),
        )
        .values(
            status="sent",
            sent_at=bindparam("p_sent_at", type_=actions.c.sent_at.type),
            provider_message_id=bindparam(
                "p_provider_message_id", type_=actions.c.provider_message_id.type
            ),
            reason=None,
            next_attempt_at=None,
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
