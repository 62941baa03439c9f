"""What a dispatcher does when its database goes away under a batch (a restart, a session
killed by an administrator, a network cut), so that nobody has to step in:

- every record is tried again on a fresh connection, with backoff (`durably`), so a message the
  provider accepted is recorded sent rather than left `sending` and sent again after the lease;
- when the database stays away, the batch stops (`ClaimBatch.stop`: nothing more is sent) and
  the claims of its messages not yet handed to a provider are given back at once
  (`give_back`), instead of waiting for the claim lease.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine

from regua.store.claims import release_claims
from regua.store.outages import database_unreachable

log = logging.getLogger(__name__)

T = TypeVar("T")


class ClaimBatch:
    """One claim's batch: which of its messages were handed to a provider, and whether it was
    stopped (the database failed under it), after which none of the rest is sent or recorded:
    their claims are given back."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._handed: set[int] = set()
        self._stopped = False
        self._lock = threading.Lock()

    def proceed(self, action_id: int, *, send: bool) -> bool:
        """False once the batch is stopped; else go on, noting a message about to be sent."""
        with self._lock:
            if self._stopped:
                return False
            if send:
                self._handed.add(action_id)
            return True

    def stop(self) -> list[int]:
        """Stop the batch; returns the messages handed to a provider (their claims are kept)."""
        with self._lock:
            self._stopped = True
            return sorted(self._handed)


def durably(
    work: Callable[[bool], T], *, attempts: int, backoff: float, sleep: Callable[[float], None]
) -> T:
    """`work(retried)`, tried again while the database is away, waiting `backoff` seconds and
    doubling, up to `attempts` times in all; the last error (or any other) is raised."""
    delay = backoff
    attempts = max(1, attempts)
    for attempt in range(attempts):
        try:
            return work(attempt > 0)
        except Exception as exc:
            if attempt + 1 >= attempts or not database_unreachable(exc):
                raise
            log.warning(
                "database unreachable (%s); trying again in %.2f s", type(exc).__name__, delay
            )
            sleep(delay)
            delay *= 2
    raise AssertionError("the loop returns or raises")


Durably = Callable[[Callable[[bool], list[int]]], list[int]]


def give_back(engine: Engine, channel: str, batch: ClaimBatch, *, durably: Durably) -> None:
    """The database failed under `batch`: stop it and give back, at once, the claims of its
    messages not handed to a provider (else they would wait for the lease)."""
    keep = batch.stop()

    def release(_retried: bool) -> list[int]:
        with engine.begin() as connection:
            return release_claims(connection, batch.token, keep=keep)

    try:
        released = durably(release)
    except Exception as exc:
        if not database_unreachable(exc):
            raise
        log.error(
            "database unreachable: the %s actions claimed as %s stay sending until the claim "
            "lease ends",
            channel,
            batch.token,
        )
        return
    if released:
        log.warning(
            "database error mid-batch: %d %s actions given back to be sent again",
            len(released),
            channel,
        )
