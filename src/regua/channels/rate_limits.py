"""The rate limits of the channels (REGUA_RATE_LIMITS, messages a second): token buckets kept
in this process, or in Redis and shared by every process that sends on a channel.

A provider limits the installation, not a process: two e-mail workers at 4 a second each would
send 8. `RedisRateLimiter` keeps one bucket per channel in Redis, taken from by an atomic Lua
script on Redis' own clock, so all the workers of all the machines together keep the limit.
`rate_limiter_for` chooses: in distributed mode the Redis of REGUA_RATE_LIMIT_REDIS_URL, else
the broker's when it is Redis; with a RabbitMQ broker and no such URL each worker process keeps
``rate / concurrency`` (a warning says so). In embedded mode (one dispatcher) the buckets are
the process's, unless REGUA_RATE_LIMIT_REDIS_URL is set (several `regua dispatch` at once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

import redis

from regua.config import Settings
from regua.domain.pacing import TokenBucket

log = logging.getLogger(__name__)

KEY_PREFIX = "regua:rate:"

# KEYS[1] the channel's bucket (a hash: tokens, at); ARGV rate (tokens a second) and capacity.
# Returns, as a string (Lua numbers become integers otherwise), 0 when a token was taken, else
# the seconds until one exists. Redis' clock, not the caller's: the workers' clocks may differ.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class RateLimiter(Protocol):
    def wait(self, channel: str, now: float) -> float:
        """Take a token of `channel` at instant `now` (seconds); returns 0, or the seconds to
        wait before trying again (nothing taken then)."""
        ...

    def close(self) -> None: ...


class LocalRateLimiter:
    """Buckets of this process, shared by its threads."""

    def __init__(self, rates: Mapping[str, float]) -> None:
        self.rates = {c: r for c, r in rates.items() if r > 0}
        self._buckets = {c: TokenBucket(r) for c, r in self.rates.items()}
        self._lock = threading.Lock()

    def wait(self, channel: str, now: float) -> float:
        bucket = self._buckets.get(channel)
        if bucket is None:
            return 0.0
        with self._lock:
            return bucket.take(now)

    def close(self) -> None:
        pass


class RedisRateLimiter:
    """One bucket per channel in Redis, shared by every process given the same `prefix`.

    While Redis does not answer, the process paces itself with `fallback` (its share of the
    limit) and says so once in the log, so a Redis outage slows nothing down to zero.
    """

    def __init__(
        self,
        client: redis.Redis,
        rates: Mapping[str, float],
        *,
        prefix: str = "",
        fallback: LocalRateLimiter,
    ) -> None:
        self.client = client
        self.rates = {c: r for c, r in rates.items() if r > 0}
        self.prefix = prefix
        self.fallback = fallback
        self._take = client.register_script(_TAKE)
        self._failing = False

    @classmethod
    def from_url(
        cls, url: str, rates: Mapping[str, float], *, prefix: str, fallback: LocalRateLimiter
    ) -> RedisRateLimiter:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return cls(client, rates, prefix=prefix, fallback=fallback)

    def key(self, channel: str) -> str:
        return f"{self.prefix}{KEY_PREFIX}{channel}"

    def wait(self, channel: str, now: float) -> float:
        rate = self.rates.get(channel)
        if rate is None:
            return 0.0
        try:
            answer = self._take(keys=[self.key(channel)], args=[rate, max(1.0, rate)])
        except redis.RedisError as exc:
            if not self._failing:
                self._failing = True
                log.warning(
                    "shared rate limit unavailable (%s): this process paces %s alone until "
                    "Redis answers",
                    exc,
                    channel,
                )
            return self.fallback.wait(channel, now)
        if self._failing:
            self._failing = False
            log.info("shared rate limit available again")
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    def close(self) -> None:
        self.client.close()


def shared_redis_url(settings: Settings, *, distributed: bool) -> str | None:
    """Where the rate limits are shared: REGUA_RATE_LIMIT_REDIS_URL, else (workers) the broker
    when it is Redis; None: each process keeps its own."""
    if settings.rate_limit_redis_url:
        return settings.rate_limit_redis_url
    if distributed and settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        return settings.broker_url
    return None


def warn_if_unshared(settings: Settings) -> None:
    """A worker's word, at its start, that its rate limits are its own (see the module)."""
    if shared_redis_url(settings, distributed=True) is None:
        log.warning(
            "rate limits are per worker (REGUA_RATE_LIMITS / concurrency in each process): the "
            "broker is not Redis and REGUA_RATE_LIMIT_REDIS_URL is empty; set it to share "
            "them, or divide the limits by the number of workers of each channel"
        )


def rate_limiter_for(settings: Settings, *, distributed: bool, share: int = 1) -> RateLimiter:
    """The rate limiter the settings describe for a process that is one of `share` sending
    processes of a worker (distributed) or the only dispatcher (embedded)."""
    local = LocalRateLimiter({c: r / max(1, share) for c, r in settings.rate_limits.items()})
    url = shared_redis_url(settings, distributed=distributed)
    if url is None:
        return local
    prefix = str(settings.broker_transport_options.get("global_keyprefix", ""))
    return RedisRateLimiter.from_url(url, settings.rate_limits, prefix=prefix, fallback=local)
