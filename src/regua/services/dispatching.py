"""Dispatch: planned actions become messages on their channels. Claim -> compose -> send -> record.

`Dispatcher.dispatch_due` (embedded mode: `regua dispatch`, the end of `regua run`) sends every
action due now: planned for today or earlier, its retry time come, and its customer inside the
contact window at this instant (`services.contact_windows`: the régua's window narrowed by the
customer's state law, in the state's time zone, closed on national and state holidays). Actions
outside the window stay planned for a later run. Each channel runs in its own thread, paced by
a token bucket at ``settings.rate_limits[channel]`` messages a second (`channels.rate_limits`:
this process's, or one shared in Redis by every dispatcher and worker), with a few sender
threads (`services.senders`: each with its own SMTP connection) so that one message is sent or
recorded while another waits for the provider or the database.

`Dispatcher.send_actions` is the same work for a list of action ids (a Celery task's); the ids
are published by `services.publishing`.

Every action goes through three short transactions, so a crash at any instant loses nothing:

1. claim (`store.claims.claim_due`): planned -> sending, one attempt counted;
2. prepare (`services.messages`): the render context, and the PIX txid stored on the invoices;
   then every message of the batch is rendered;
3. send, then record in one transaction (`store.transitions.record_*`): sent (with the provider's
   id), back to planned with an exponential backoff plus jitter (`domain.retries`) on a
   transient failure (timeout, HTTP 5xx/429, SMTP 4xx) until `max_attempts`, or failed on a
   permanent one; an invalid recipient flags the contact (`contacts.invalid_at`) so the next
   plan uses another channel.

A dispatcher killed between 1 and 3 leaves the action `sending`; after the lease it is claimed
again and sent with the same idempotency key (``regua-act-<id>``, the e-mail's Message-ID):
only messages that were inside a provider call (one per sender thread) can go out twice, and
the repeat is recognisable.

A dispatcher whose database goes away does not wait for the lease: its records are tried
again, and the claims of a batch it cannot finish are given back at once
(`services.dispatch_recovery`); the error is raised for the caller (a Celery task) to retry.

Every transition lands on the customer's timeline (`interactions`), in pt-BR.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from itertools import repeat
from typing import Any, TypeVar

from sqlalchemy import Engine

from regua.channels.base import (
    ChannelPermanentError,
    ChannelTransientError,
    OutgoingMessage,
    Receipt,
)
from regua.channels.rate_limits import LocalRateLimiter, RateLimiter, rate_limiter_for
from regua.channels.registry import ChannelRegistry
from regua.channels.rendering import TemplateError, TemplateRenderer, default_renderer
from regua.clock import Clock
from regua.config import Settings
from regua.domain.calendar import DEFAULT_TIMEZONE, UFS, holidays_for, local_date
from regua.domain.channels import MESSAGE_CHANNELS
from regua.errors import ReguaError
from regua.services.contact_windows import ContactWindows
from regua.services.customer_links import portal_links
from regua.services.dispatch_records import Recorder
from regua.services.dispatch_recovery import ClaimBatch, durably, give_back
from regua.services.dispatch_run import (
    DispatchOptions,
    DispatchResult,
    count_remaining,
    start_run,
)
from regua.services.message_context import PortalLinks
from regua.services.messages import NotSendable, PreparedMessage, prepare_messages
from regua.services.senders import Senders, thread_pool
from regua.store.claims import (
    OpenScope,
    channels_of,
    claim_due,
    count_due,
    new_claim_token,
    worker_name,
)
from regua.store.message_context import store_txids
from regua.store.outages import database_unreachable
from regua.store.sender_connections import SenderConnections, pool_capacity
from regua.store.transitions import (
    use_write_ahead_log,
)
from regua.store.uow import UnitOfWork

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class _Composed:
    """A claimed action and what becomes of it: its rendered `message` to send, or the
    `failure` to record (a broken template), or neither (`NotSendable`: cancelled)."""

    item: PreparedMessage | NotSendable
    message: OutgoingMessage | None = None
    failure: str | None = None
    billed_units: int = 1  # an SMS's segments: the provider bills each one


class Dispatcher:
    """Sends due actions through a channel registry. One per process; its state (rate
    buckets, régua windows) is shared by the channel threads and their sender threads under a
    lock.

    It works on the engine, not through a unit of work: every claim and every record is a
    short transaction committed at once, on a connection of its sender thread, so a message
    sent is recorded even when a later one fails, and a dispatcher killed at any instant
    loses nothing (see the module docstring). One unit of work around a run would hold every
    claim uncommitted until the end and send before anything is durable.
    """

    def __init__(
        self,
        engine: Engine,
        registry: ChannelRegistry,
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
        creditor_id: int | None = None,
    ) -> None:
        self.engine = engine
        self.creditor_id = creditor_id  # one creditor's actions only (its run); None: all
        self.timezone = timezone  # whose calendar day "today" is, when not given
        self.registry = registry
        self.clock = clock
        self.renderer = renderer or default_renderer()
        self.portal = portal
        self.options = options or DispatchOptions()
        self.sleep = sleep
        self.jitter = jitter
        self.records = Recorder(clock, self.options, jitter)
        self.worker = worker or worker_name()
        self._limiter: RateLimiter = LocalRateLimiter(rate_limits or {})
        self._windows = ContactWindows()
        self._lock = threading.Lock()
        self._store_ready = False

    def _prepare_store(self) -> None:
        if not self._store_ready:
            use_write_ahead_log(self.engine)
            self._store_ready = True

    def set_rate_limiter(self, limiter: RateLimiter) -> None:
        """Who paces the sends: this process's buckets, or buckets shared in Redis."""
        with self._lock:
            previous, self._limiter = self._limiter, limiter
        previous.close()

    def close(self) -> None:
        """Close what pacing holds (a Redis connection); the registry is the caller's."""
        self._limiter.close()

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
        dispatcher = cls(
            engine,
            registry or ChannelRegistry.from_settings(settings, clock=clock),
            clock=clock,
            portal=portal_links(lambda: UnitOfWork(engine), settings),
            rate_limits=settings.rate_limits,
            timezone=settings.timezone,
            **kwargs,
        )
        if settings.rate_limit_redis_url:  # several dispatchers share the limits
            dispatcher.set_rate_limiter(rate_limiter_for(settings, distributed=False))
        return dispatcher

    # -- entry points ---------------------------------------------------------------------

    def dispatch_due(
        self, *, today: date | None = None, channels: Sequence[str] | None = None
    ) -> DispatchResult:
        """Send everything due now on `channels` (default: every sendable channel)."""
        self._prepare_store()
        now = self.clock.now()
        run = start_run(
            self.engine, now=now, timezone=self.timezone, today=today, channels=channels
        )
        day, wanted, result = run.day, run.channels, run.result
        with self.engine.connect() as connection:
            busy = [
                channel
                for channel in wanted
                if count_due(
                    connection,
                    today=day,
                    now=now,
                    lease=self.options.lease,
                    channels=[channel],
                    creditor_id=self.creditor_id,
                )
            ]
        # One thread per channel: a slow SMS provider does not hold the e-mails back; as many
        # at once, with as many sender threads each, as the engine's pool has connections for.
        drains, senders = self._concurrency(len(busy))
        with thread_pool(drains, "dispatch") as pool:
            if pool is None:
                for channel in busy:
                    result.merge(self._drain(channel, day, None, senders))
            else:
                for partial in pool.map(lambda c: self._drain(c, day, None, senders), busy):
                    result.merge(partial)
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
        day = today or local_date(now, self.timezone)
        with self.engine.connect() as connection:
            by_channel = channels_of(connection, action_ids)
        result = DispatchResult()
        for channel, ids in sorted(by_channel.items()):
            if channel in MESSAGE_CHANNELS:
                # A worker killed mid-batch leaves these claimed; after the lease they are
                # claimed again (by the task given back to the broker, or the next enqueue) and
                # only the message that was inside the provider call can go out twice.
                result.merge(self._drain(channel, day, ids, self._concurrency(1)[1]))
        return result

    def _concurrency(self, channels: int) -> tuple[int, int]:
        """(channels drained at once, sender threads per drain) for `channels` busy channels,
        within the engine's pool: a drain keeps `SenderConnections.kept_per_thread` connections
        for each sender thread and takes one more for its claims. Four channels of four senders
        each wanted 20 connections on SQLite (37 on PostgreSQL) from a pool of 15: the day's
        dispatch of a million-invoice portfolio waited 30 s for one and failed."""
        senders = self.options.senders
        capacity = pool_capacity(self.engine)
        if capacity is None or (channels <= 1 and senders <= 1):
            return max(1, channels), senders
        kept = SenderConnections.kept_per_thread(self.engine)
        drains = max(1, min(channels, capacity // (kept + 1)))
        return drains, max(1, min(senders, (capacity // drains - 1) // kept))

    # -- the loop -------------------------------------------------------------------------

    def _finish(self, result: DispatchResult, day: date, channels: Sequence[str]) -> None:
        count_remaining(
            self.engine,
            result,
            day=day,
            now=self.clock.now(),
            lease=self.options.lease,
            channels=channels,
            creditor_id=self.creditor_id,
        )
        result.destinations = self.registry.describe()

    def _drain(
        self, channel: str, day: date, action_ids: Sequence[int] | None, senders_wanted: int
    ) -> DispatchResult:
        """Claim and send batches of `channel` until nothing is claimable now, with up to
        `senders_wanted` sender threads."""
        result = DispatchResult()
        limit = len(action_ids) if action_ids is not None else self.options.batch
        threads = senders_wanted if limit > 1 else 1
        senders = Senders(self.engine, self.registry, channel, replicate=threads > 1)
        try:
            # Sends of one batch overlap: while one message waits for the provider (or the
            # database), the next is rendered. Each sender thread has its own connections.
            with thread_pool(threads, "send") as pool:
                return self._drain_batches(channel, day, action_ids, limit, senders, pool, result)
        finally:
            senders.close()

    def _drain_batches(
        self,
        channel: str,
        day: date,
        action_ids: Sequence[int] | None,
        limit: int,
        senders: Senders,
        pool: ThreadPoolExecutor | None,
        result: DispatchResult,
    ) -> DispatchResult:
        while True:
            now = self.clock.now()
            with self.engine.connect() as connection:
                scopes = self._windows.open_scopes(
                    connection,
                    day=day,
                    now=now,
                    lease=self.options.lease,
                    channels=[channel],
                    action_ids=action_ids,
                )
            if self.creditor_id is not None:
                scopes = [s for s in scopes if s.scope.creditor_id == self.creditor_id]
            if not scopes:
                return result
            batch = ClaimBatch(new_claim_token(self.worker))
            try:
                done = self._claim_and_send(
                    channel, day, now, scopes, action_ids, limit, senders, pool, batch, result
                )
            except Exception as exc:
                if database_unreachable(exc):
                    give_back(self.engine, channel, batch, durably=self._durably)
                raise
            if done:
                return result

    def _claim_and_send(
        self,
        channel: str,
        day: date,
        now: datetime,
        scopes: Sequence[OpenScope],
        action_ids: Sequence[int] | None,
        limit: int,
        senders: Senders,
        pool: ThreadPoolExecutor | None,
        batch: ClaimBatch,
        result: DispatchResult,
    ) -> bool:
        """Claim one batch and send it; True when nothing more is to be claimed now."""
        with self.engine.begin() as connection:
            claimed = claim_due(
                connection,
                channel=channel,
                today=day,
                now=now,
                lease=self.options.lease,
                open_scopes=scopes,
                token=batch.token,
                limit=limit,
                action_ids=action_ids,
            )
        if not claimed:
            return True
        with self.engine.connect() as connection:
            prepared, txids = prepare_messages(
                connection,
                claimed,
                now=now,
                portal=self.portal,
                default_sender=self._default_sender(),
            )
        if txids:
            with self.engine.begin() as connection:
                store_txids(connection, txids)
        # The whole batch is rendered before its first send: one after the other, renders
        # cost about a third less CPU than between sends, whose network and database code
        # pushes the templates' code out of the processor's caches.
        ready = [self._compose(prepared[i]) for i in claimed if i in prepared]
        if pool is None or len(ready) < 2:
            for one in ready:
                self._send_one(senders, one, batch, result)
        else:
            for partial in pool.map(self._send_pooled, repeat(senders), ready, repeat(batch)):
                result.merge(partial)
        return action_ids is not None

    def _durably(self, work: Callable[[bool], T]) -> T:
        return durably(
            work,
            attempts=self.options.record_attempts,
            backoff=self.options.record_backoff,
            sleep=self.sleep,
        )

    def _record(self, result: DispatchResult, work: Callable[[DispatchResult, bool], None]) -> None:
        """One record, durably: counted into `result` only once it is committed."""

        def attempt(retried: bool) -> DispatchResult:
            part = DispatchResult()
            work(part, retried)
            return part

        result.merge(self._durably(attempt))

    def _default_sender(self) -> str | None:
        """The From the e-mail channel gives a creditor without its own ("" none; None: no
        e-mail channel, or one that does not say)."""
        try:
            channel = self.registry.get("email")
        except ChannelPermanentError:
            return None
        sender = getattr(channel, "sender", None)
        return None if sender is None else str(sender)

    def _compose(self, item: PreparedMessage | NotSendable) -> _Composed:
        if isinstance(item, NotSendable):
            return _Composed(item)
        try:
            rendered = self.renderer.render(item.template, item.channel, item.context)
        except TemplateError as exc:
            # A broken template does not heal by waiting; a person fixes it and replans.
            return _Composed(item, failure=f"modelo com erro: {exc.message}")
        return _Composed(
            item, message=item.outgoing(rendered), billed_units=rendered.sms_segments or 1
        )

    def _send_pooled(self, senders: Senders, ready: _Composed, batch: ClaimBatch) -> DispatchResult:
        result = DispatchResult()
        self._send_one(senders, ready, batch, result)
        return result

    def _send_one(
        self, senders: Senders, ready: _Composed, batch: ClaimBatch, result: DispatchResult
    ) -> None:
        item, message, token = ready.item, ready.message, batch.token
        if not batch.proceed(item.action_id, send=message is not None):
            return  # the batch stopped: this claim is given back
        settle: Callable[[DispatchResult], None]
        if isinstance(item, NotSendable):
            settle = partial(self.records.cancelled, senders, item, token)
        elif message is None:
            settle = partial(self.records.failed, senders, item, token, ready.failure or "", False)
        else:
            self._pace(item.channel)
            try:
                receipt = senders.channel().send(message)
            except ChannelTransientError as exc:
                settle = partial(
                    self.records.retry, senders, item, token, exc.message, exc.retry_after
                )
            except ChannelPermanentError as exc:
                invalid = exc.invalid_recipient
                settle = partial(self.records.failed, senders, item, token, exc.message, invalid)
            except ReguaError as exc:
                settle = partial(self.records.failed, senders, item, token, exc.message, False)
            except Exception:
                # A bug, not a provider answer: keep the stack trace, retry like a transient
                # error so one bad message neither stops the batch nor is lost.
                log.exception("sending action %s failed unexpectedly", item.action_id)
                reason = "erro inesperado no envio"
                settle = partial(self.records.retry, senders, item, token, reason, None)
            else:
                self._record_accepted(senders, item, token, receipt, ready.billed_units, result)
                return
        self._record(result, lambda part, _retried: settle(part))

    def _record_accepted(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        receipt: Receipt,
        units: int,
        result: DispatchResult,
    ) -> None:
        try:
            self._record(
                result,
                lambda part, retried: self.records.sent(
                    senders, item, token, receipt, part, units, retried=retried
                ),
            )
        except Exception as exc:
            if database_unreachable(exc):
                log.error(
                    "action %s was accepted by the provider (%s) but the database did not take "
                    "its record; it stays sending until the claim lease ends",
                    item.action_id,
                    receipt.provider_message_id,
                )
            raise

    def _pace(self, channel: str) -> None:
        while True:
            wait = self._limiter.wait(channel, self.clock.now().timestamp())
            if wait <= 0:
                return
            self.sleep(wait)


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
