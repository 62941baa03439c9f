"""Rate pacing: how long a sender waits so a channel keeps its provider's rate limit."""

from __future__ import annotations


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
