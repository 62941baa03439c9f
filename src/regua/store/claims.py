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
(régua version, customer state) pairs may be contacted at this instant. In distributed mode the
due actions are marked queued (`mark_queued`) before their ids go to a worker queue.

What becomes of a claimed action afterwards is recorded by `store.transitions`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from regua.domain.channels import MESSAGE_CHANNELS
from regua.store.tables import actions, customers

IDEMPOTENCY_PREFIX = "regua-act-"
DEFAULT_LEASE = timedelta(minutes=5)  # longer than any provider call (10 s timeouts) can take
# `claimed_by` of a planned action already published to a worker queue (distributed mode), so
# the next enqueue does not publish it again while it waits in the queue.
QUEUED_MARK = "queued"


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
    creditor_id: int | None = None,
) -> int:
    """Actions due now on `channels` (of one creditor's when `creditor_id` is given), whether
    or not their window is open."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(
                _due(today, now, lease),
                actions.c.channel.in_(list(channels)),
                *_of_creditor(creditor_id),
            )
        ).scalar_one()
    )


def _of_creditor(creditor_id: int | None) -> list[ColumnElement[bool]]:
    return [] if creditor_id is None else [actions.c.creditor_id == creditor_id]


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

    def candidates(*, postgres: bool) -> Any:
        return _candidates(
            channel=channel,
            today=today,
            now=now,
            lease=lease,
            open_scopes=open_scopes,
            action_ids=None,
            limit=limit,
            postgres=postgres,
        )

    not_queued_recently = or_(
        actions.c.claimed_by.is_(None),
        actions.c.claimed_by != QUEUED_MARK,
        actions.c.claimed_at < now - lease,
    )
    planned = candidates(postgres=connection.dialect.name == "postgresql").where(
        or_(actions.c.status == "sending", not_queued_recently)
    )
    statement = (
        update(actions)
        .where(actions.c.id.in_(planned.scalar_subquery()), actions.c.status == "planned")
        .values(claimed_by=QUEUED_MARK, claimed_at=now)
        .returning(actions.c.id)
    )
    marked = {int(row[0]) for row in connection.execute(statement)}
    # Abandoned claims (a worker died mid-send) go back to a queue too; their status stays
    # `sending` until a worker claims them again.
    abandoned = connection.execute(
        candidates(postgres=False).where(actions.c.status == "sending")
    ).scalars()
    return sorted(marked | {int(i) for i in abandoned})


def release_claims(connection: Connection, token: str, *, keep: Sequence[int] = ()) -> list[int]:
    """Give the actions still claimed under `token` back at once (planned, their attempt not
    counted), except `keep`: the messages already handed to a provider, which only a record
    can settle. What a dispatcher does when the database failed under it, instead of leaving
    its claims for the lease to expire; returns the ids released."""
    statement = (
        update(actions)
        .where(actions.c.claimed_by == token, actions.c.status == "sending")
        .values(
            status="planned",
            claimed_by=None,
            claimed_at=None,
            attempts=func.max(actions.c.attempts - 1, 0)
            if connection.dialect.name == "sqlite"
            else func.greatest(actions.c.attempts - 1, 0),
        )
        .returning(actions.c.id)
    )
    if keep:
        statement = statement.where(actions.c.id.not_in(list(keep)))
    return sorted(int(row[0]) for row in connection.execute(statement))


def recorded_sent(connection: Connection, action_id: int, token: str) -> bool:
    """Whether the action is recorded sent under `token`: a record whose commit went through
    although its answer was lost with the connection."""
    found = connection.execute(
        select(actions.c.id).where(
            actions.c.id == action_id,
            actions.c.status == "sent",
            actions.c.claimed_by == token,
        )
    ).first()
    return found is not None


def channels_of(connection: Connection, action_ids: Sequence[int]) -> dict[str, list[int]]:
    """`action_ids` grouped by their action's channel (a worker's task, claimed per channel)."""
    by_channel: dict[str, list[int]] = {}
    for action_id, channel in connection.execute(
        select(actions.c.id, actions.c.channel).where(actions.c.id.in_(list(action_ids)))
    ):
        by_channel.setdefault(str(channel), []).append(int(action_id))
    return by_channel


def count_retries_pending(
    connection: Connection,
    *,
    today: date,
    now: datetime,
    channels: Sequence[str],
    creditor_id: int | None = None,
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
                *_of_creditor(creditor_id),
            )
        ).scalar_one()
    )
