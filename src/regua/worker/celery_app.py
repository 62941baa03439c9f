"""The Celery application of distributed mode: one queue per channel, on Redis or RabbitMQ.

Start workers with ``regua worker`` (or ``celery -A regua.worker.celery_app worker``); the
broker is REGUA_BROKER_URL (``redis://...`` or ``amqp://...``). ``regua dispatch
--distributed`` (or the beat schedule, ``regua worker --beat``) publishes due action ids to the
queue of their channel, ``regua.email``, ``regua.sms``, ``regua.whatsapp``, ``regua.letter``
(the beat only to the queues some worker consumes: `worker.consumers`). The workers of a
channel share its rate limit through Redis (`channels.rate_limits`).

Delivery is at least once and the tasks are idempotent (the action's claim in the database
decides who sends): tasks are acknowledged after they ran (``acks_late``), a task whose worker
process died is given back to the broker (``reject_on_worker_lost``), and each process
reserves one message at a time (prefetch 1), so a killed worker strands at most the message it
was sending, which goes out again, with the same idempotency key, once its claim's lease ends.

Configuration is read when Celery first needs it, never at import: `worker_app` is the
process's `App` (from `bootstrap.build_app`), built on first use and again in each forked
process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from celery import Celery

from regua.bootstrap import App, build_app
from regua.config import Settings
from regua.domain.channels import MESSAGE_CHANNELS
from regua.services.dispatch_run import DispatchOptions

SEND_TASK = "regua.send_actions"
ENQUEUE_TASK = "regua.enqueue_due"
QUEUE_PREFIX = "regua."
CONTROL_QUEUE = "regua.dispatch"  # the periodic enqueue task; every `regua worker` consumes it

_process_app: App | None = None
_app_lock = threading.Lock()


def worker_app() -> App:
    """This process's App, built from the environment on first use."""
    global _process_app
    with _app_lock:
        if _process_app is None:
            _process_app = build_app()
        return _process_app


def forget_worker_app() -> App | None:
    """Drop this process's App (a forked child must build its own); returns the dropped one."""
    global _process_app
    with _app_lock:
        dropped, _process_app = _process_app, None
        return dropped


def dispatch_options(settings: Settings, **overrides: Any) -> DispatchOptions:
    """The dispatcher's options in distributed mode: the claim lease of the settings, if set."""
    if settings.lease is not None:
        overrides.setdefault("lease", settings.lease)
    return DispatchOptions(**overrides)


def queue_for(channel: str) -> str:
    """``email`` -> ``regua.email``."""
    return f"{QUEUE_PREFIX}{channel}"


def celery_config(settings: Settings) -> dict[str, Any]:
    names = [queue_for(channel) for channel in MESSAGE_CHANNELS] + [CONTROL_QUEUE]
    queues = {name: {"exchange": name, "routing_key": name} for name in names}
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": settings.broker_visibility_timeout,
            **settings.broker_transport_options,
        },
        "task_queues": queues,
        "task_default_queue": CONTROL_QUEUE,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "beat_schedule": {
            "regua-enqueue-due": {
                "task": ENQUEUE_TASK,
                "schedule": settings.enqueue_every_seconds,
                "options": {"queue": CONTROL_QUEUE},
            }
        },
    }


def publisher(celery: Celery) -> Callable[[str, list[int]], None]:
    """`publish(channel, action_ids)` for `Dispatcher.enqueue_due`: one task on the channel's
    queue per batch of ids."""

    def publish(channel: str, action_ids: list[int]) -> None:
        celery.send_task(SEND_TASK, args=[action_ids], queue=queue_for(channel))

    return publish


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app for `settings` (default: the worker App's, read on first use)."""
    celery = Celery("regua", include=["regua.worker.tasks"])
    if settings is not None:
        celery.conf.update(celery_config(settings))
    else:
        celery.add_defaults(lambda: celery_config(worker_app().settings))
    return celery


app = create_celery()
