"""Channel rate limits kept in the process or shared in Redis (the local server, under a key
prefix of the test's own), and which one a process gets from its settings."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
import redis

from regua.channels.rate_limits import (
    LocalRateLimiter,
    RedisRateLimiter,
    rate_limiter_for,
    shared_redis_url,
)
from regua.config import Settings
from tests.servers import free_port


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"regua-test-{uuid.uuid4().hex[:8]}:"
    yield name
    client = redis.Redis.from_url(redis_url)
    leftovers = list(client.scan_iter(match=f"{name}*"))
    if leftovers:
        client.delete(*leftovers)
    client.close()


def shared(url: str, prefix: str, rate: float) -> RedisRateLimiter:
    return RedisRateLimiter.from_url(
        url, {"email": rate}, prefix=prefix, fallback=LocalRateLimiter({"email": rate})
    )


def test_two_processes_take_from_one_bucket(redis_url: str, prefix: str) -> None:
    first, second = shared(redis_url, prefix, 3), shared(redis_url, prefix, 3)
    try:
        # A bucket of 3: three sends at once between both, then both must wait.
        waits = [first.wait("email", 0), second.wait("email", 0), first.wait("email", 0)]
        assert waits == [0.0, 0.0, 0.0]
        assert 0 < second.wait("email", 0) <= 1 / 3
        assert 0 < first.wait("email", 0) <= 1 / 3
        assert first.wait("sms", 0) == 0.0  # no limit set for SMS
    finally:
        first.close()
        second.close()


def test_without_redis_the_process_paces_alone_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = shared(f"redis://127.0.0.1:{free_port()}/0", "", 2)
    with caplog.at_level(logging.WARNING):
        waits = [gone.wait("email", 100.0) for _ in range(3)]
    assert waits[:2] == [0.0, 0.0] and waits[2] > 0  # its own bucket of 2
    assert sum("shared rate limit unavailable" in r.getMessage() for r in caplog.records) == 1
    gone.close()


def test_where_the_limits_are_shared() -> None:
    on_redis = Settings(broker_url="redis://fila:6379/0")
    on_rabbit = Settings(broker_url="amqp://guest:guest@fila:5672//")
    given = Settings(broker_url="amqp://fila//", rate_limit_redis_url="redis://limites:6379/1")
    assert shared_redis_url(on_redis, distributed=True) == "redis://fila:6379/0"
    assert shared_redis_url(on_redis, distributed=False) is None  # embedded: the process's
    assert shared_redis_url(on_rabbit, distributed=True) is None
    assert shared_redis_url(given, distributed=True) == "redis://limites:6379/1"
    assert shared_redis_url(given, distributed=False) == "redis://limites:6379/1"
    alone = rate_limiter_for(
        Settings(broker_url="amqp://fila//", rate_limits={"email": 8}), distributed=True, share=4
    )
    assert isinstance(alone, LocalRateLimiter) and alone.rates == {"email": 2.0}
