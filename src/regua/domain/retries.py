"""When a message that failed for a passing reason is tried again, and when it stops.

A transient failure (timeout, HTTP 5xx/429, SMTP 4xx) is retried with an exponential backoff
plus jitter, never sooner than the provider's Retry-After, until `max_attempts` claims; then
the action fails.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE = timedelta(minutes=1)
DEFAULT_BACKOFF_CAP = timedelta(hours=2)
BACKOFF_JITTER = 0.25  # up to +25 %, so retries of one outage do not all return at once


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


def attempts_exhausted(attempts: int, max_attempts: int) -> bool:
    """True when the claim just made was the last one allowed: the action fails instead."""
    return attempts >= max_attempts
