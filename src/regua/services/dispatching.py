"""Dispatch: planned actions become messages on their channels. Claim -> compose -> send -> record.

`Dispatcher.dispatch_due` (embedded mode: `regua dispatch`, the end of `regua run`) sends every
action due now: planned for today or earlier, its retry time come, and its customer inside the
contact window at this instant (`services.contact_windows`: the régua's window narrowed by the
customer's state law, in the state's time zone, closed on national and state holidays). Actions
outside the window stay planned for a later run. Each channel runs in its own thread, paced by
a token bucket (`domain.pacing`) at ``settings.rate_limits[channel]`` messages a second, with a
few sender threads (`services.senders`: each with its own SMTP connection) so that one message
is sent or recorded while another waits for the provider or the database.

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
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Engine

from regua.channels.base import (
    ChannelPermanentError,
    ChannelTransientError,
    OutgoingMessage,
    Receipt,
)
from regua.channels.registry import ChannelRegistry
from regua.channels.rendering import TemplateError, TemplateRenderer, default_renderer
from regua.clock import Clock
from regua.config import Settings
from regua.domain.calendar import DEFAULT_TIMEZONE, UFS, holidays_for, local_date
from regua.domain.channels import MESSAGE_CHANNELS, channel_label
from regua.domain.pacing import TokenBucket
from regua.domain.retries import attempts_exhausted, backoff_delay
from regua.errors import ReguaError
from regua.services.contact_flags import flag_invalid_contact
from regua.services.contact_windows import ContactWindows
from regua.services.customer_links import portal_links
from regua.services.dispatch_run import (
    DispatchOptions,
    DispatchResult,
    count_remaining,
    start_run,
)
from regua.services.message_context import PortalLinks
from regua.services.messages import NotSendable, PreparedMessage, prepare_messages
from regua.services.senders import Senders, thread_pool
from regua.store.claims import channels_of, claim_due, count_due, new_claim_token, worker_name
from regua.store.message_context import store_txids
from regua.store.sender_connections import SenderConnections, pool_capacity
from regua.store.transitions import (
    SentRecord,
    TimelineEntry,
    claim_attempts,
    record_cancelled,
    record_failed,
    record_held,
    record_retry,
    record_sent,
    use_write_ahead_log,
)
from regua.store.uow import UnitOfWork

log = logging.getLogger(__name__)


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
        self._windows = ContactWindows()
        self._lock = threading.Lock()
        self._store_ready = False

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
            portal=portal_links(lambda: UnitOfWork(engine), settings),
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
        run = start_run(
            self.engine, now=now, timezone=self.timezone, today=today, channels=channels
        )
        day, wanted, result = run.day, run.channels, run.result
        with self.engine.connect() as connection:
            busy = [
                channel
                for channel in wanted
                if count_due(
                    connection, today=day, now=now, lease=self.options.lease, channels=[channel]
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
                    self._send_one(senders, one, token, result)
            else:
                for partial in pool.map(self._send_pooled, repeat(senders), ready, repeat(token)):
                    result.merge(partial)
            if action_ids is not None:
                return result

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

    def _send_pooled(self, senders: Senders, ready: _Composed, token: str) -> DispatchResult:
        result = DispatchResult()
        self._send_one(senders, ready, token, result)
        return result

    def _send_one(
        self, senders: Senders, ready: _Composed, token: str, result: DispatchResult
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
            self._record_sent(senders, item, token, receipt, result, ready.billed_units)

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

    # -- recording, through the store -------------------------------------------------------

    def _lost(self, action_id: int, result: DispatchResult) -> None:
        log.warning("claim on action %s was taken over after the lease", action_id)
        result.lost_claims += 1

    def _record_sent(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        receipt: Receipt,
        result: DispatchResult,
        billed_units: int = 1,
    ) -> None:
        sent = SentRecord(
            action_id=item.action_id,
            token=token,
            customer_id=item.customer_id,
            channel=item.channel,
            sent_at=receipt.accepted_at,
            provider_message_id=receipt.provider_message_id,
            at=self.clock.now(),
            detail=_sent_detail(item),
            data={
                "provider_message_id": receipt.provider_message_id,
                "idempotency_key": item.idempotency_key,
                "template": item.template,
                "step": item.step_id,
            },
            billed_units=billed_units,
        )
        if not record_sent(senders.connections, sent):
            self._lost(item.action_id, result)
            return
        result.sent[item.channel] += 1

    def _record_retry(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        retry_after: float | None,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.connections.transaction() as connection:
            attempts = claim_attempts(connection, item.action_id)
            if attempts_exhausted(attempts, self.options.max_attempts):
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
            label = channel_label(item.channel)
            entry = _entry(
                item,
                now,
                "retry",
                f"Falha temporária no envio por {label} (tentativa {attempts}): {reason} "
                f"Nova tentativa em {_duration_pt(delay)}.",
                {"attempt": attempts, "next_attempt_at": (now + delay).isoformat()},
            )
            if not record_retry(
                connection,
                item.action_id,
                token,
                next_attempt_at=now + delay,
                reason=reason,
                entry=entry,
            ):
                self._lost(item.action_id, result)
                return
        result.retrying[item.channel] += 1

    def _record_failed(
        self,
        senders: Senders,
        item: PreparedMessage,
        token: str,
        reason: str,
        invalid_recipient: bool,
        result: DispatchResult,
    ) -> None:
        now = self.clock.now()
        with senders.connections.transaction() as connection:
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
        label = channel_label(item.channel)
        entry = _entry(
            item,
            now,
            "failed",
            f"Envio por {label} para {item.to} não realizado: {reason}",
            {"invalid_recipient": invalid_recipient},
        )
        if not record_failed(connection, item.action_id, token, reason=reason, entry=entry):
            self._lost(item.action_id, result)
            return
        result.failed[item.channel] += 1
        if invalid_recipient and flag_invalid_contact(
            connection, item.customer_id, item.channel, item.to, now, action_id=item.action_id
        ):
            result.contacts_flagged += 1

    def _record_cancelled(
        self, senders: Senders, item: NotSendable, token: str, result: DispatchResult
    ) -> None:
        entry = TimelineEntry(
            customer_id=item.customer_id,
            action_id=item.action_id,
            channel=item.channel,
            at=self.clock.now(),
            kind="held" if item.held else "cancelled",
            detail=(
                f"Mensagem retida: {item.reason} (complete com `regua credor editar`)."
                if item.held
                else f"Mensagem não enviada: {item.reason}."
            ),
        )
        record = record_held if item.held else record_cancelled
        with senders.connections.transaction() as connection:
            if not record(connection, item.action_id, token, reason=item.reason, entry=entry):
                self._lost(item.action_id, result)
                return
        if item.held:
            result.held[item.channel or "-"] += 1
            result.held_reasons[item.reason] += 1
        else:
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


# --- what the timeline says ----------------------------------------------------------------


def _entry(
    item: PreparedMessage, at: datetime, kind: str, detail: str, data: Mapping[str, Any]
) -> TimelineEntry:
    return TimelineEntry(
        customer_id=item.customer_id,
        action_id=item.action_id,
        channel=item.channel,
        at=at,
        kind=kind,
        detail=detail,
        data=data,
    )


def _sent_detail(item: PreparedMessage) -> str:
    where = f"(etapa {item.step_id}, modelo {item.template})"
    if item.channel == "letter":
        return f"Carta gerada para impressão e envio a {item.to} {where}."
    label = channel_label(item.channel)
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
