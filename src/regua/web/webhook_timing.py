"""How long the webhooks take to answer (payments, provider replies): a Prometheus histogram
per webhook and status, kept in the API process and exposed by `/metrics`.

Pure ASGI middleware, like `guards.RequestGuard`: it times the whole answer, errors included.
"""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The webhooks by path; the label is the name, so a scanner's made-up paths add no series.
WEBHOOKS = {
    "/api/v1/webhooks/pix": "pix",
    "/api/v1/webhooks/pix/pix": "pix",
    "/api/v1/inbound/whatsapp": "whatsapp",
    "/api/v1/inbound/sms": "sms",
}


def webhook_histogram() -> Histogram:
    """A histogram in no registry: `/metrics` adds it to the registry of each scrape."""
    return Histogram(
        "regua_webhook_duration_seconds",
        "Time to answer a webhook (payment or provider), by webhook and HTTP status.",
        labelnames=["webhook", "status"],
        registry=None,
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )


class WebhookTimer:
    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = WEBHOOKS.get(scope.get("path", "").rstrip("/")) if scope["type"] == "http" else None
        if name is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        status = 500  # an answer never started is a failure
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.histogram.labels(name, str(status)).observe(time.perf_counter() - started)
