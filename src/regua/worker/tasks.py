"""Thin Celery tasks: action ids in, the dispatch service, counts out. Safe to run twice.

Each worker process takes its `App` from `bootstrap.build_app` (through
`celery_app.worker_app`) and builds on it, once, on its first task and after the fork, what
sending keeps open (channels with a kept SMTP connection, the dispatcher); it closes them when
the process ends. What needs no connection and is the same everywhere (compiled templates,
holiday calendars) is loaded by the worker's main process before the fork. The provider rate
limit of a channel is shared by every worker process through Redis (`channels.rate_limits`);
without Redis each process paces itself at ``rate / concurrency``.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from regua.bootstrap import App
from regua.channels.rate_limits import rate_limiter_for, warn_if_unshared
from regua.channels.registry import ChannelRegistry
from regua.errors import ReguaError
from regua.services.dispatching import Dispatcher, preload
from regua.services.operations_status import require_current_schema
from regua.services.publishing import DuePublisher
from regua.store.outages import database_unreachable
from regua.worker.celery_app import (
    ENQUEUE_TASK,
    SEND_TASK,
    app,
    dispatch_options,
    forget_worker_app,
    publisher,
    worker_app,
)
from regua.worker.consumers import SERVED_TTL_SECONDS, ServedChannels, queues_consumed

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    """What a worker process keeps between tasks: its App, open channels and dispatcher."""

    app: App
    registry: ChannelRegistry
    dispatcher: Dispatcher
    due: DuePublisher
    served: ServedChannels  # the channels whose queue a worker consumes (the beat's concern)

    def close(self) -> None:
        self.dispatcher.close()
        self.registry.close()
        self.app.close()


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def build_worker_context(regua: App) -> WorkerContext:
    settings = regua.settings
    registry = regua.channels()
    registry.open()
    share = max(1, settings.worker_concurrency)
    dispatcher = Dispatcher.from_settings(
        regua.engine,
        settings,
        clock=regua.clock,
        registry=registry,
        # One send at a time per process: the worker's processes are the concurrency, and a
        # killed process has at most one message inside a provider call.
        options=dispatch_options(settings, senders=1),
    )
    # The channel's limit is shared by every worker process through Redis (the broker's, or
    # REGUA_RATE_LIMIT_REDIS_URL's); without Redis each process keeps its share.
    dispatcher.set_rate_limiter(rate_limiter_for(settings, distributed=True, share=share))
    due = DuePublisher.from_settings(regua.engine, settings, clock=regua.clock)
    served = ServedChannels(
        lambda: queues_consumed(app), ttl=min(SERVED_TTL_SECONDS, settings.enqueue_every_seconds)
    )
    return WorkerContext(regua, registry, dispatcher, due, served)


def worker_context() -> WorkerContext:
    """This process's context, built on first use."""
    global _context
    with _context_lock:
        if _context is None:
            _context = build_worker_context(worker_app())
        return _context


@worker_init.connect
def _preload(**_kwargs: Any) -> None:
    # In the worker's main process, before the pool forks: what every process would load on
    # its first task (templates, holiday calendars) is loaded once and shared. Then everything
    # loaded so far is set aside from the garbage collector: a full collection in a process
    # would otherwise walk all these lasting objects (tens of milliseconds each time) and
    # touch their memory, which the fork shares until it is written.
    regua = worker_app()
    # A worker without its database would say "ready" and fail every task: it refuses to
    # start instead (exit 2), whoever started it (`regua worker` checks first, `celery -A` here).
    try:
        require_current_schema(regua.uow)
    except ReguaError as exc:
        print(f"erro: o worker não inicia: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
    warn_if_unshared(regua.settings)
    preload(regua.today(), regua.renderer)
    gc.freeze()


@worker_process_init.connect
def _forget_parent_context(**_kwargs: Any) -> None:
    # A forked child must not reuse the parent's sockets (database pool, SMTP connection).
    global _context
    _context = None
    forget_worker_app()


@worker_process_shutdown.connect
def _close_context(**_kwargs: Any) -> None:
    global _context
    if _context is not None:
        _context.close()
        _context = None


# A task whose database went away gave its claims back (`Dispatcher`); it is published again
# after 2, 4, 8... seconds (at most a minute) so they go out without waiting for the beat.
DATABASE_RETRIES = 6
DATABASE_RETRY_CAP = 60


@app.task(bind=True, name=SEND_TASK, acks_late=True, reject_on_worker_lost=True)
def send_actions(self: Task, action_ids: list[int]) -> dict[str, Any]:
    """Claim, send and record each action still due; already sent or claimed ones are skipped."""
    try:
        result = worker_context().dispatcher.send_actions([int(i) for i in action_ids])
    except Exception as exc:
        if not database_unreachable(exc) or self.request.retries >= DATABASE_RETRIES:
            raise
        countdown = min(DATABASE_RETRY_CAP, 2 ** (self.request.retries + 1))
        log.warning(
            "database unreachable; %d actions published again in %d s", len(action_ids), countdown
        )
        queue = (self.request.delivery_info or {}).get("routing_key")
        raise self.retry(
            exc=exc, countdown=countdown, queue=queue, max_retries=DATABASE_RETRIES
        ) from exc
    return result.to_dict()


@app.task(name=ENQUEUE_TASK, acks_late=True)
def enqueue_due() -> dict[str, Any]:
    """The periodic step of distributed mode: publish due actions (and due retries) to the
    queues some worker consumes."""
    context = worker_context()
    result = context.due.enqueue_due(publisher(app), channels=context.served.channels())
    return result.to_dict()
