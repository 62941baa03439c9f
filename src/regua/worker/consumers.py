"""Which channel queues have a worker consuming them, as the broker's workers answer it: the
beat publishes only to those, so a queue nobody consumes (no `letter` worker) does not fill up
with the same actions published again every lease.

The workers are asked with Celery's remote control (``inspect().active_queues()``, the same on
Redis and RabbitMQ), at most every `SERVED_TTL_SECONDS`. When nobody answers (the broker is
slow, every worker busy in a single-threaded pool), the answer is "unknown" and every channel
is published, as before: a queue filled for a while is better than actions never sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from celery import Celery

from regua.domain.channels import MESSAGE_CHANNELS
from regua.worker.celery_app import queue_for

log = logging.getLogger(__name__)

SERVED_TTL_SECONDS = 30.0
INSPECT_TIMEOUT_SECONDS = 1.0

AskQueues = Callable[[], set[str] | None]


def queues_consumed(celery: Celery, timeout: float = INSPECT_TIMEOUT_SECONDS) -> set[str] | None:
    """The queue names some live worker consumes, or None when no worker answered in time."""
    try:
        replies = celery.control.inspect(timeout=timeout).active_queues()
    except Exception as exc:  # the broker away: the publish that follows fails the same way
        log.warning("could not ask the workers which queues they consume: %s", exc)
        return None
    if not replies:
        return None
    return {str(queue["name"]) for queues in replies.values() for queue in queues or []}


class ServedChannels:
    """The channels whose queue has a consumer, asked at most every `ttl` seconds; logs once
    (a warning) that a channel has no worker, and again once it has one."""

    def __init__(
        self,
        ask: AskQueues,
        *,
        ttl: float = SERVED_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ask = ask
        self.ttl = ttl
        self.monotonic = monotonic
        self._cached: list[str] | None = None
        self._asked_at: float | None = None
        self._unserved: set[str] = set()
        self._lock = threading.Lock()

    def channels(self) -> list[str] | None:
        """The served channels; None when unknown (publish to every channel)."""
        with self._lock:
            now = self.monotonic()
            if self._asked_at is not None and now - self._asked_at < self.ttl:
                return self._cached
            queues = self.ask()
            self._asked_at = now
            if queues is None:
                self._cached = None
                return None
            served: list[str] = [c for c in MESSAGE_CHANNELS if queue_for(c) in queues]
            for channel in MESSAGE_CHANNELS:
                if channel in served and channel in self._unserved:
                    self._unserved.discard(channel)
                    log.info("channel %s has a worker again", channel)
                elif channel not in served and channel not in self._unserved:
                    self._unserved.add(channel)
                    log.warning(
                        "channel %s has no worker: nothing is published to queue %s until one "
                        "consumes it (its actions wait in the database)",
                        channel,
                        queue_for(channel),
                    )
            self._cached = served
            return served
