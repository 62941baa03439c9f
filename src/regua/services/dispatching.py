"""Dispatch: planned actions become messages on their channels. Claim -> render -> send -> record.

`Dispatcher.dispatch_due` (embedded mode: `regua dispatch`, the end of `regua run`) sends every
action due now: planned for today or earlier, its retry time come, and its customer inside the
contact window at this instant (the régua's window narrowed by the customer's state law, in the
state's time zone, closed on national and state holidays). Actions outside the window stay
planned for a later run. Each channel runs in its own thread, paced by a token bucket at
``settings.rate_limits[channel]`` messages a second, with a few sender threads (each with its
own SMTP connection) so that one message is sent or recorded while another waits for the
provider or the database.

`Dispatcher.send_actions` is the same work for a list of action ids (a Celery task's).

Every action goes through three short transactions, so a crash at any instant loses nothing:

1. claim (`store.outbox.claim_due`): planned -> sending, one attempt counted;
2. prepare (`services.messages`): the render context, and the PIX txid stored on the invoices;
   then every message of the batch is rendered;
3. send, then record in one transaction: sent (with the provider's id), back to planned with
   an exponential backoff plus jitter on a transient failure (timeout, HTTP 5xx/429, SMTP 4xx)
   until `max_attempts`, or failed on a permanent one; an invalid recipient flags the contact
   (`contacts.invalid_at`) so the next plan uses another channel.

A dispatcher killed between 1 and 3 leaves the action `sending`; after the lease it is claimed
again and sent with the same idempotency key (``regua-act-<id>``, the e-mail's Message-ID):
only messages that were inside a provider call (one per sender thread) can go out twice, and
the repeat is recognisable.

Every transition lands on the customer's timeline (`interactions`), in pt-BR.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import aliased

from regua.channels.base import (
    Channel,
    ChannelPermanentError,
    ChannelTransientError,
    OutgoingMessage,
    Receipt,
)
from regua.channels.registry import ChannelRegistry
from regua.channels.rendering import TemplateError, TemplateRenderer, default_renderer
from regua.clock import Clock
from regua.config import Settings
from regua.domain.calendar import (
    DEFAULT_CONTACT_WINDOW,
    DEFAULT_TIMEZONE,
    UF_TIMEZONES,
    UFS,
    ContactWindow,
    customer_timezone,
    effective_window,
    format_hours,
    holidays_for,
    is_open_at,
    window_on,
)
from regua.domain.channels import CHANNEL_LABELS, MESSAGE_CHANNELS
from regua.errors import ReguaError
from regua.policies.loader import load_policy_text
from regua.services.messages import (
    NotSendable,
    PortalLinks,
    PreparedMessage,
    local_today,
    prepare_messages,
    store_txids,
)
from regua.store.db import DriverStatement
from regua.store.outbox import (
    OpenScope,
    Scope,
    claim_due,
    count_due,
    due_scopes,
    mark_queued,
    new_claim_token,
    use_write_ahead_log,
    worker_name,
)
from regua.store.tables import actions, contacts, customers, interactions, policies

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=5)  # longer than any provider call (10 s timeouts) can take
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE = timedelta(minutes=1)
DEFAULT_BACKOFF_CAP = timedelta(hours=2)
BACKOFF_JITTER = 0.25  # up to +25 %, so retries of one outage do not all return at once
DEFAULT_BATCH = 200
DEFAULT_SENDERS = 4
# Action ids per worker task (distributed mode). Each task pays a fixed cost (the broker's
# round trips, the claim, the context queries) of about 10 ms of CPU, so with chunks of 20 it
# was a quarter of a worker's time; a task of 100 e-mails lasts about a second. A worker killed
# mid-task leaves its unsent claimed actions for the lease to expire (nothing is lost).
DEFAULT_CHUNK = 100


# --- pacing and backoff ------------------------------------------------------------------


class TokenBucket:
    """At most `rate` messages a second on average, with bursts of up to `burst`.

    Time is given to `take` (seconds, any origin), so the bucket is a plain calculation.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self.tokens = self.capacity
        self._at: float | None = None

    def take(self, at: float) -> float:
        """Take one token at instant `at`; returns 0, or the seconds to wait before one exists
        (nothing is taken then)."""
        if self._at is not None and at > self._at:
            self.tokens = min(self.capacity, self.tokens + (at - self._at) * self.rate)
        self._at = at if self._at is None else max(self._at, at)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def backoff_delay(
    attempt: int,
    *,
    base: timedelta = DEFAULT_BACKOFF_BASE,
    cap: timedelta = DEFAULT_BACKOFF_CAP,
    jitter: float = 0.0,
    retry_after: float | None = None,
) -> timedelta:
    """base * 2^(attempt-1), capped, stretched by `jitter` (0..1 of BACKOFF_JITTER); never sooner
    than the provider's Retry-After."""
    doubled = base * (2 ** max(0, attempt - 1))
    delay = min(cap, doubled) * (1 + BACKOFF_JITTER * jitter)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


# --- results -------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    """What one dispatch did, per channel."""

    sent: Counter[str] = field(default_factory=Counter)
    retrying: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    cancelled: Counter[str] = field(default_factory=Counter)
    contacts_flagged: int = 0
    superseded: int = 0
    lost_claims: int = 0  # a slower dispatcher's claim was taken over after the lease
    waiting: int = 0  # due, outside the contact window now (or claimed elsewhere)
    retries_pending: int = 0  # transient failures waiting for their next attempt
    queued: Counter[str] = field(default_factory=Counter)  # distributed: published to queues
    calls: int = 0  # phone actions today: the operators' call list
    destinations: dict[str, str] = field(default_factory=dict)

    def merge(self, other: DispatchResult) -> None:
        self.sent.update(other.sent)
        self.retrying.update(other.retrying)
        self.failed.update(other.failed)
        self.cancelled.update(other.cancelled)
        self.queued.update(other.queued)
        self.contacts_flagged += other.contacts_flagged
        self.superseded += other.superseded
        self.lost_claims += other.lost_claims

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": dict(self.sent),
            "retrying": dict(self.retrying),
            "failed": dict(self.failed),
            "cancelled": dict(self.cancelled),
            "queued": dict(self.queued),
            "contacts_flagged": self.contacts_flagged,
            "superseded": self.superseded,
            "lost_claims": self.lost_claims,
            "waiting": self.waiting,
            "retries_pending": self.retries_pending,
            "calls": self.calls,
            "destinations": dict(self.destinations),
        }


@dataclass(frozen=True)
class DispatchOptions:
    lease: timedelta = DEFAULT_LEASE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: timedelta = DEFAULT_BACKOFF_BASE
    backoff_cap: timedelta = DEFAULT_BACKOFF_CAP
    batch: int = DEFAULT_BATCH
    senders: int = DEFAULT_SENDERS  # concurrent sends per channel within one dispatcher


# --- the dispatcher ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Composed:
    """A claimed action and what becomes of it: its rendered `message` to send, or the
    `failure` to record (a broken template), or neither (`NotSendable`: cancelled)."""

    item: PreparedMessage | NotSendable
    message: OutgoingMessage | None = None
    failure: str | None = None


class _Senders:
    """What the sender threads of one drain hold: a channel each (a new SMTP connection when
    there are several threads) and a database connection each for the records, so a record
    costs a transaction, not a pool checkout. Closed when the drain ends."""

    def __init__(
        self, engine: Engine, registry: ChannelRegistry, channel: str, *, replicate: bool
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.name = channel
        self.replicate = replicate
        self._local = threading.local()
        self._lock = threading.Lock()
        self._owned: list[Channel] = []
        self._connections: list[Connection] = []

    def channel(self) -> Channel:
        found: Channel | None = getattr(self._local, "channel", None)
        if found is None:
            if self.replicate:
                found, owned = self.registry.replica(self.name)
                if owned:
                    with self._lock:
                        self._owned.append(found)
            else:
                found = self.registry.get(self.name)
            self._local.channel = found
        return found

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
        connection = self._connection("connection")
        with connection.begin():
            yield connection

    def autocommit(self) -> Connection:
        """A connection whose every statement is its own committed transaction (PostgreSQL's
        one-statement record of a sent message: one round trip, no BEGIN and COMMIT)."""
        return self._connection("autocommit", isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
            connections, self._connections = self._connections, []
        for channel in owned:
            closer = getattr(channel, "close", None)
            if callable(closer):
                closer()
        for connection in connections:
            connection.close()


class Dispatcher:
    """Sends due actions through a channel registry (or, without one, only publishes them to
    worker queues). One per process; its state (rate buckets, régua windows) is shared by the
    channel threads and their sender threads under a lock."""

    def __init__(
        self,
        engine: Engine,
        registry: ChannelRegistry | None,
        *,
        clock: Clock,
        renderer: TemplateRenderer | None = None,
        portal: PortalLinks | None = None,
        rate_limits: Mapping[str, float] | None = None,
        options: DispatchOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        worker: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.engine = engine
        self.timezone = timezone  # whose calendar day "today" is, when not given
        self.registry = registry
        self.clock = clock
        self.renderer = renderer or default_renderer()
        self.portal = portal
        self.options = options or DispatchOptions()
        self.sleep = sleep
        self.jitter = jitter
        self.worker = worker or worker_name()
        self._buckets = {
            channel: TokenBucket(rate) for channel, rate in (rate_limits or {}).items() if rate > 0
        }
        self._windows: dict[Scope, tuple[ContactWindow, str]] = {}
        self._lock = threading.Lock()
        self._store_ready = False
        self._sent_statement: DriverStatement | None = None

    def _prepare_store(self) -> None:
        if not self._store_ready:
            use_write_ahead_log(self.engine)
            self._store_ready = True

    def set_rate_limits(self, rate_limits: Mapping[str, float]) -> None:
        """Messages a second per channel, for this dispatcher (a worker process's share)."""
        with self._lock:
            self._buckets = {c: TokenBucket(r) for c, r in rate_limits.items() if r > 0}

    @classmethod
    def from_settings(
        cls,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock,
        registry: ChannelRegistry | None = None,
        **kwargs: Any,
    ) -> Dispatcher:
        """The dispatcher the settings describe: channels, rate limits, portal links, zone.

        The caller opens and closes the registry (``with registry: ...``); without one, a
        registry is built from the settings, and the caller closes ``dispatcher.registry``.
        """
        return cls(
            engine,
            registry or ChannelRegistry.from_settings(settings, clock=clock),
            clock=clock,
            portal=PortalLinks(settings.portal_base_url, settings.webhook_secret),
            rate_limits=settings.rate_limits,
            timezone=settings.timezone,
            **kwargs,
        )

    # -- entry points ---------------------------------------------------------------------

    def dispatch_due(
        self, *, today: date | None = None, channels: Sequence[str] | None = None
    ) -> DispatchResult:
        """Send everything due now on `channels` (default: every sendable channel)."""
        self._prepare_store()
        now = self.clock.now()
        day = today or local_today(now, self.timezone)
        wanted = [c for c in (channels or MESSAGE_CHANNELS) if c in MESSAGE_CHANNELS]
        result = DispatchResult()
        with self.engine.begin() as connection:
            result.superseded = supersede_stale_actions(connection, day, now)
        with self.engine.connect() as connection:
            busy = [
                channel
                for channel in wanted
                if count_due(
                    connection, today=day, now=now, lease=self.options.lease, channels=[channel]
                )
            ]
        if len(busy) > 1:
            # One thread per channel: a slow SMS provider does not hold the e-mails back.
            with ThreadPoolExecutor(max_workers=len(busy), thread_name_prefix="dispatch") as pool:
                for partial in pool.map(lambda c: self._drain(c, day, None), busy):
                    result.merge(partial)
        else:
            for channel in busy:
                result.merge(self._drain(channel, day, None))
        self._finish(result, day, wanted)
        return result

    def send_actions(
        self, action_ids: Sequence[int], *, today: date | None = None
    ) -> DispatchResult:
        """Claim, send and record each of `action_ids` that is still due (a worker's task).

        Actions already sent, claimed by a live worker, or outside their window now are left
        alone, so running this twice for the same ids sends nothing twice.
        """
        self._prepare_store()
        now = self.clock.now()
        day = today or local_today(now, self.timezone)
        with self.engine.connect() as connection:
            by_channel: dict[str, list[int]] = {}
            for action_id, channel in connection.execute(
                select(actions.c.id, actions.c.channel).where(actions.c.id.in_(list(action_ids)))
            ):
                by_channel.setdefault(str(channel), []).append(int(action_id))
        result = DispatchResult()
        for channel, ids in sorted(by_channel.items()):
            if channel in MESSAGE_CHANNELS:
                # A worker killed mid-batch leaves these claimed; after the lease they are
                # claimed again (by the task given back to the broker, or the next enqueue) and
                # only the message that was inside the provider call can go out twice.
                result.merge(self._drain(channel, day, ids))
        return result

    def enqueue_due(
        self,
        publish: Callable[[str, list[int]], None],
        *,
        today: date | None = None,
        channels: Sequence[str] | None = None,
        chunk: int = DEFAULT_CHUNK,
    ) -> DispatchResult:
        """Distributed mode: publish due action ids (window open now) to their channel's queue.

        `publish(channel, ids)` is called after the queued marks are committed; a publish that
        fails leaves the marks, which expire after the lease and are published again.
        """
        now = self.clock.now()
        day = today or local_today(now, self.timezone)
        wanted = [c for c in (channels or MESSAGE_CHANNELS) if c in MESSAGE_CHANNELS]
        result = DispatchResult()
        with self.engine.begin() as connection:
            result.superseded = supersede_stale_actions(connection, day, now)
        for channel in wanted:
            with self.engine.connect() as connection:
                scopes = self._open_scopes(connection, day, now, [channel])
            with self.engine.begin() as connection:
                ids = mark_queued(
                    connection,
                    channel=channel,
                    today=day,
                    now=now,
                    lease=self.options.lease,
                    open_scopes=scopes,
                    limit=1_000_000,
                )
            for start in range(0, len(ids), chunk):
                publish(channel, ids[start : start + chunk])
            result.queued[channel] += len(ids)
        self._finish(result, day, wanted)
        return result

    # -- the loop -------------------------------------------------------------------------

    def _finish(self, result: DispatchResult, day: date, channels: Sequence[str]) -> None:
        now = self.clock.now()
        with self.engine.connect() as connection:
            result.waiting = count_due(
                connection, today=day, now=now, lease=self.options.lease, channels=channels
            )
            result.retries_pending = int(
                connection.execute(
                    select(func.count())
                    .select_from(actions)
                    .where(
                        actions.c.status == "planned",
                        actions.c.planned_for <= day,
                        actions.c.next_attempt_at > now,
                        actions.c.channel.in_(list(channels)),
                    )
                ).scalar_one()
            )
            result.calls = int(
                connection.execute(
                    select(func.count())
                    .select_from(actions)
                    .where(
                        actions.c.channel == "phone",
                        actions.c.status == "planned",
                        actions.c.planned_for == day,
                    )
                ).scalar_one()
            )
        if self.registry is not None:
            result.destinations = self.registry.describe()

    def _drain(self, channel: str, day: date, action_ids: Sequence[int] | None) -> DispatchResult:
        """Claim and send batches of `channel` until nothing is claimable now."""
        result = DispatchResult()
        if self.registry is None:
            raise ValueError("a dispatcher without channels can only enqueue")
        limit = len(action_ids) if action_ids is not None else self.options.batch
        threads = self.options.senders if limit > 1 else 1
        senders = _Senders(self.engine, self.registry, channel, replicate=threads > 1)
        try:
            if threads == 1:
                return self._drain_batches(channel, day, action_ids, limit, senders, None, result)
            # Sends of one batch overlap: while one message waits for the provider (or the
            # database), the next is rendered. Each sender thread has its own connections.
            with ThreadPoolExecutor(threads, thread_name_prefix="send") as pool:
                return self._drain_batches(channel, day, action_ids, limit, senders, pool, result)
        finally:
            senders.close()

    def _drain_batches(
        self,
        channel: str,
        day: date,
        action_ids: Sequence[int] | None,
        limit: int,
        senders: _Senders,
        pool: ThreadPoolExecutor | None,
        result: DispatchResult,
    ) -> DispatchResult:
        while True:
            now = self.clock.now()
            with self.engine.connect() as connection:
                scopes = self._open_scopes(connection, day, now, [channel], action_ids)
            if not scopes:
                return result
            token = new_claim_token(self.worker)
            with self.engine.begin() as connection:
                claimed = claim_due(
                    connection,
                    channel=channel,
                    today=day,
                    now=now,
                    lease=self.options.lease,
                    open_scopes=scopes,
                    token=token,
                    limit=limit,
                    action_ids=action_ids,
                )
            if not claimed:
                return result
            with self.engine.connect() as connection:
                prepared, txids = prepare_messages(connection, claimed, now=now, portal=self.portal)
            if txids:
                with self.engine.begin() as connection:
                    store_txids(connection, txids)
            # The whole batch is rendered before its first send: one after the other, renders
            # cost about a third less CPU than between sends, whose network and database code
            # pushes the templates' code out of the processor's caches.
            ready = [self._compose(prepared[i]) for i in claimed if i in prepared]
            if pool is None or len(ready) < 2:
                for one in ready:
                    self._send_one(senders, one, token, result)
            else:
                for partial in pool.map(self._send_pooled, repeat(senders), ready, repeat(token)):
                    result.merge(partial)
            if action_ids is not None:
                return result

    def _compose(self, item: PreparedMessage | NotSendable) -> _Composed:
        if isinstance(item, NotSendable):
            return _Composed(item)
        try:
            rendered = self.renderer.render(item.template, item.channel, item.context)
        except TemplateError as exc:
            # A broken template does not heal by waiting; a person fixes it and replans.
            return _Composed(item, failure=f"modelo com erro: {exc.message}")
        return _Composed(item, message=item.outgoing(rendered))

    def _send_pooled(self, senders: _Senders, ready: _Composed, token: str) -> DispatchResult:
        result = DispatchResult()
        self._send_one(senders, ready, token, result)
        return result

    def _send_one(
        self, senders: _Senders, ready: _Composed, token: str, result: DispatchResult
    ) -> None:
        item, message = ready.item, ready.message
        if isinstance(item, NotSendable):
            self._record_cancelled(senders, item, token, result)
            return
        if message is None:
            self._record_failed(senders, item, token, ready.failure or "", False, result)
            return
        self._pace(item.channel)
        try:
            receipt = senders.channel().send(message)
        except ChannelTransientError as exc:
            self._record_retry(senders, item, token, exc.message, exc.retry_after, result)
        except ChannelPermanentError as exc:
            self._record_failed(senders, item, token, exc.message, exc.invalid_recipient, result)
        except ReguaError as exc:
            self._record_failed(senders, item, token, exc.message, False, result)
        except Exception:
            # A bug, not a provider answer: keep the stack trace, retry like a transient error
            # so one bad message neither stops the batch nor is lost.
            log.exception("sending action %s failed unexpectedly", item.action_id)
            self._record_retry(senders, item, token, "erro inesperado no envio", None, result)
        else:
            self._record_sent(senders, item, token, receipt, result)

    def _pace(self, channel: str) -> None:
        bucket = self._buckets.get(channel)
        if bucket is None:
            return
        while True:
            with self._lock:
                wait = bucket.take(self.clock.now().timestamp())
            if wait <= 0:
                return
            self.sleep(wait)

    # -- contact windows --------------------------------------------------------------------

    def _open_scopes(
        self,
        connection: Connection,
        day: date,
        now: datetime,
        channels: Sequence[str],
        action_ids: Sequence[int] | None = None,
    ) -> list[OpenScope]:
        scopes = due_scopes(
            connection,
            today=day,
            now=now,
            lease=self.options.lease,
            channels=channels,
            action_ids=action_ids,
        )
        opened = []
        for scope in scopes:
            window, timezone = self._window(connection, scope)
            ufs = tuple(
                uf
                for uf in UFS
                if is_open_at(
                    effective_window(window, uf), now.astimezone(ZoneInfo(UF_TIMEZONES[uf])), uf
                )
            )
            unknown = is_open_at(window, now.astimezone(ZoneInfo(timezone)), None)
            if ufs or unknown:
                opened.append(OpenScope(scope, ufs, unknown))
        return opened

    def _window(self, connection: Connection, scope: Scope) -> tuple[ContactWindow, str]:
        with self._lock:
            cached = self._windows.get(scope)
        if cached is not None:
            return cached
        found = scope_window(connection, scope)
        with self._lock:
            self._windows[scope] = found
        return found

    # -- recording --------------------------------------------------------------------------

    def _transition(
        self,
        connection: Connection,
        action_id: int,
        token: str,
        values: Mapping[str, Any],
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
        return bool(changed)

    def _sent_on_driver(self) -> DriverStatement:
        if self._sent_statement is None:
            self._sent_statement = DriverStatement(_sent_statements().together, self.engine.dialect)
        return self._sent_statement

    def _lost(self, action_id: int, result: DispatchResult) -> None:
        log.warning("claim on action %s was taken over after the lease", action_id)
        result.lost_claims += 1

    def _record_sent(
        self,
        senders: _Senders,
        item: PreparedMessage,
        token: str,
        receipt: Receipt,
        result: DispatchResult,
    ) -> None:
        """Sent, with its timeline entry, committed at once: a crash after this loses nothing,
        and one before it repeats only this message. The statements are built once
        (`_sent_statements`); only their parameters change."""
        params = {
            "p_action_id": item.action_id,
            "p_token": token,
            "p_sent_at": receipt.accepted_at,
            "p_provider_message_id": receipt.provider_message_id,
            "p_customer_id": item.customer_id,
            "p_at": self.clock.now(),
            "p_channel": item.channel,
            "p_detail": _sent_detail(item),
            "p_data": {
                "provider_message_id": receipt.provider_message_id,
                "idempotency_key": item.idempotency_key,
                "template": item.template,
                "step": item.step_id,
            },
        }
        if self.engine.dialect.name == "postgresql":
            # The hot path in one statement, its own transaction (one round trip): the action
            # moves to sent and its timeline entry is written only if this dispatcher still
            # holds the claim.
            params["p_data"] = json.dumps(params["p_data"])
            if not self._sent_on_driver().execute(senders.autocommit(), params):
                self._lost(item.action_id, result)
                return
        else:
            with senders.transaction() as connection:
                statements = _sent_statements()
                if not connection.execute(statements.move, params).rowcount:
                    self._lost(item.action_id, result)
                    return
                connection.execute(statements.timeline, params)
        result.sent[item.channel] += 1

    def _record_retry(
        self,
        senders: _Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        retry_after: float | None,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.transaction() as connection:
            attempts = connection.execute(
                select(actions.c.attempts).where(actions.c.id == item.action_id)
            ).scalar_one()
            if attempts >= self.options.max_attempts:
                self._fail(
                    connection, item, token, now, _exhausted(attempts, reason), False, result
                )
                return
            delay = backoff_delay(
                attempts,
                base=self.options.backoff_base,
                cap=self.options.backoff_cap,
                jitter=self.jitter(),
                retry_after=retry_after,
            )
            if not self._transition(
                connection,
                item.action_id,
                token,
                {
                    "status": "planned",
                    "next_attempt_at": now + delay,
                    "reason": reason[:400],
                    "claimed_by": None,
                    "claimed_at": None,
                },
            ):
                self._lost(item.action_id, result)
                return
            label = CHANNEL_LABELS.get(item.channel, item.channel)
            _timeline(
                connection,
                item,
                now,
                "retry",
                f"Falha temporária no envio por {label} (tentativa {attempts}): {reason} "
                f"Nova tentativa em {_duration_pt(delay)}.",
                {"attempt": attempts, "next_attempt_at": (now + delay).isoformat()},
            )
        result.retrying[item.channel] += 1

    def _record_failed(
        self,
        senders: _Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        invalid_recipient: bool,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.transaction() as connection:
            self._fail(connection, item, token, now, reason, invalid_recipient, result)

    def _fail(
        self,
        connection: Connection,
        item: PreparedMessage,
        token: str,
        now: datetime,
        reason: str,
        invalid_recipient: bool,
        result: DispatchResult,
    ) -> None:
        if not self._transition(
            connection,
            item.action_id,
            token,
            {"status": "failed", "reason": reason[:400], "next_attempt_at": None},
        ):
            self._lost(item.action_id, result)
            return
        label = CHANNEL_LABELS.get(item.channel, item.channel)
        _timeline(
            connection,
            item,
            now,
            "failed",
            f"Envio por {label} para {item.to} não realizado: {reason}",
            {"invalid_recipient": invalid_recipient},
        )
        result.failed[item.channel] += 1
        if invalid_recipient and flag_invalid_contact(
            connection, item.customer_id, item.channel, item.to, now, action_id=item.action_id
        ):
            result.contacts_flagged += 1

    def _record_cancelled(
        self, senders: _Senders, item: NotSendable, token: str, result: DispatchResult
    ) -> None:
        now = self.clock.now()
        with senders.transaction() as connection:
            if not self._transition(
                connection,
                item.action_id,
                token,
                {"status": "cancelled", "reason": item.reason[:400], "next_attempt_at": None},
            ):
                self._lost(item.action_id, result)
                return
            connection.execute(
                interactions.insert().values(
                    customer_id=item.customer_id,
                    action_id=item.action_id,
                    at=now,
                    kind="cancelled",
                    channel=item.channel,
                    detail=f"Mensagem não enviada: {item.reason}.",
                )
            )
        result.cancelled[item.channel or "-"] += 1


def preload(today: date, renderer: TemplateRenderer | None = None) -> None:
    """Load now what every dispatch loads on first use, the same in every process and holding
    no connection: the message templates compiled, and the holiday calendars (national and of
    each state) of this year and the next.

    A Celery worker calls it before its pool forks: the processes inherit all of it instead of
    each spending about a quarter of a second of CPU on its first task.
    """
    (renderer or default_renderer()).compile_messages()
    for uf in (None, *UFS):
        holidays_for(uf, (today.year, today.year + 1))


def scope_window(connection: Connection, scope: Scope) -> tuple[ContactWindow, str]:
    """The contact window and time zone of the régua version the actions were planned with."""
    row = connection.execute(
        select(policies.c.name, policies.c.source).where(
            policies.c.creditor_id == scope.creditor_id,
            policies.c.name == scope.policy_name,
            policies.c.version == scope.policy_version,
        )
    ).first()
    if row is None:
        log.warning(
            "policy %s version %s not stored: using the default contact window",
            scope.policy_name,
            scope.policy_version,
        )
        return DEFAULT_CONTACT_WINDOW, DEFAULT_TIMEZONE
    policy = load_policy_text(row.source, f"{row.name}.yaml")
    return policy.contact_window, policy.timezone


# --- the operators' call list --------------------------------------------------------------


@dataclass(frozen=True)
class CallEntry:
    """One phone action of the day: whom to call, about what, with which script, and when."""

    action_id: int
    planned_for: date
    customer: str  # the creditor's customer code
    name: str
    phone: str
    uf: str | None
    invoices: tuple[str, ...]
    principal_cents: int
    fees_cents: int  # multa + juros at the call date
    total_cents: int
    script: str
    step: str
    hours: str | None  # the customer's contact window that day, local time ("08:00-19:00")
    timezone: str


def call_list(connection: Connection, day: date, now: datetime) -> list[CallEntry]:
    """Phone actions planned for `day` that may still be made, largest amounts first."""
    heads = {
        int(row.id): row
        for row in connection.execute(
            select(
                actions.c.id,
                actions.c.creditor_id,
                actions.c.policy_name,
                actions.c.policy_version,
                customers.c.uf,
            )
            .join(customers, customers.c.id == actions.c.customer_id)
            .where(
                actions.c.channel == "phone",
                actions.c.status == "planned",
                actions.c.planned_for == day,
            )
        )
    }
    prepared, _txids = prepare_messages(connection, list(heads), now=now, on=day)
    windows: dict[Scope, tuple[ContactWindow, str]] = {}
    entries = []
    for action_id, item in prepared.items():
        if isinstance(item, NotSendable):
            continue
        head = heads[action_id]
        scope = Scope(int(head.creditor_id), head.policy_name, head.policy_version)
        if scope not in windows:
            windows[scope] = scope_window(connection, scope)
        window, policy_zone = windows[scope]
        hours = window_on(effective_window(window, head.uf), day, head.uf)
        totals = item.context["totals"]
        entries.append(
            CallEntry(
                action_id=action_id,
                planned_for=day,
                customer=item.context["customer"]["id"],
                name=item.to_name,
                phone=item.to,
                uf=head.uf,
                invoices=tuple(i["number"] for i in item.context["invoices"]),
                principal_cents=totals["balance_cents"],
                fees_cents=totals["late_fee_cents"] + totals["interest_cents"],
                total_cents=totals["total_cents"],
                script=item.template,
                step=item.step_id,
                hours=format_hours(hours) if hours else None,
                timezone=customer_timezone(head.uf, policy_zone),
            )
        )
    entries.sort(key=lambda e: (-e.total_cents, e.customer))
    return entries


# --- shared writes -------------------------------------------------------------------------


def _timeline(
    connection: Connection,
    item: PreparedMessage,
    at: datetime,
    kind: str,
    detail: str,
    data: Mapping[str, Any],
) -> None:
    connection.execute(
        interactions.insert().values(
            customer_id=item.customer_id,
            action_id=item.action_id,
            at=at,
            kind=kind,
            channel=item.channel,
            detail=detail,
            data=dict(data),
        )
    )


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
    """The record of a sent message, built once (parameters ``p_*``, see `_record_sent`).

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


def flag_invalid_contact(
    connection: Connection,
    customer_id: int,
    channel: str,
    value: str,
    at: datetime,
    *,
    action_id: int | None = None,
    why: str = "o provedor informou que o endereço ou número não existe",
) -> bool:
    """Mark the contact invalid so the next plan uses another channel; True if it changed."""
    changed = connection.execute(
        update(contacts)
        .where(
            contacts.c.customer_id == customer_id,
            contacts.c.channel == channel,
            contacts.c.value == value,
            contacts.c.invalid_at.is_(None),
        )
        .values(invalid_at=at)
    ).rowcount
    if changed:
        label = CHANNEL_LABELS.get(channel, channel)
        connection.execute(
            interactions.insert().values(
                customer_id=customer_id,
                action_id=action_id,
                at=at,
                kind="contact_invalid",
                channel=channel,
                detail=f"Contato de {label} {value} marcado como inválido: {why}. "
                "Os próximos contatos usam outro canal.",
            )
        )
    return bool(changed)


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


def _sent_detail(item: PreparedMessage) -> str:
    where = f"(etapa {item.step_id}, modelo {item.template})"
    if item.channel == "letter":
        return f"Carta gerada para impressão e envio a {item.to} {where}."
    label = CHANNEL_LABELS.get(item.channel, item.channel)
    return f"Mensagem enviada por {label} para {item.to} {where}."


def _exhausted(attempts: int, reason: str) -> str:
    return f"{attempts} tentativas sem sucesso; a última: {reason}"


def _duration_pt(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h".replace(".", ",")


def dispatch_due(
    engine: Engine,
    registry: ChannelRegistry,
    *,
    clock: Clock,
    today: date | None = None,
    channels: Iterable[str] | None = None,
    rate_limits: Mapping[str, float] | None = None,
    portal: PortalLinks | None = None,
    options: DispatchOptions | None = None,
    renderer: TemplateRenderer | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DispatchResult:
    """Embedded mode in one call: a `Dispatcher` for this run, everything due sent now."""
    dispatcher = Dispatcher(
        engine,
        registry,
        clock=clock,
        renderer=renderer,
        portal=portal,
        rate_limits=rate_limits,
        options=options,
        sleep=sleep,
    )
    return dispatcher.dispatch_due(today=today, channels=list(channels) if channels else None)
