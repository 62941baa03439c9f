"""What every HTTP provider channel shares: one pooled, bearer-authenticated httpx client that
opens no connection until the first send, closed by `close()` or `with`."""

from __future__ import annotations

import httpx

from regua.channels.base import Connected
from regua.clock import Clock, SystemClock

DEFAULT_TIMEOUT = 10.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; the caller's backoff applies


class HttpProviderChannel(Connected):
    def __init__(
        self,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self._client = httpx.Client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "regua"},
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()
