"""What load balancers and monitoring ask: `/healthz` (the process answers; no database
touched), `/readyz` (database reachable, schema at this version's head, broker reachable when
REGUA_BROKER_URL is set) and `/metrics` (Prometheus text: counted in the database and, with a
broker, its queues at each scrape; the webhooks' answer times kept by this process).

The broker is checked only when REGUA_BROKER_URL is set in the environment: its default
(a local Redis) is a setting of distributed mode, which an API alone does not need.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from regua import __version__
from regua.bootstrap import App
from regua.domain.channels import MESSAGE_CHANNELS
from regua.services.dispatch_run import DispatchOptions
from regua.services.operations_status import operations_counts_now, queue_depths, readiness
from regua.web.deps import AppDep

router = APIRouter(include_in_schema=False)
# The workers' queues are `regua.<channel>` (`worker.celery_app.queue_for`; the API does not
# import the workers: a test holds the two equal).
QUEUE_PREFIX = "regua."


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(regua: AppDep) -> JSONResponse:
    broker = regua.settings.broker_url if os.environ.get("REGUA_BROKER_URL") else None
    result = await run_in_threadpool(readiness, regua.uow, broker)
    body = {
        "status": "ok" if result.ready else "unavailable",
        "checks": result.checks,
        "schema": {"current": result.revision, "head": result.head},
    }
    return JSONResponse(status_code=200 if result.ready else 503, content=body)


@router.get("/metrics")
async def metrics(regua: AppDep, request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(regua))
    registry.register(request.app.state.webhook_latency)
    if os.environ.get("REGUA_BROKER_URL"):
        registry.register(_QueueCollector(regua))
    text = await run_in_threadpool(generate_latest, registry)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


class _DatabaseCollector(Collector):
    """Reads the counts at each scrape: several API processes report the same numbers."""

    def __init__(self, regua: App) -> None:
        self.regua = regua

    def collect(self) -> list[Metric]:
        lease = self.regua.settings.lease or DispatchOptions().lease
        counts = operations_counts_now(self.regua.uow, self.regua.now(), lease)
        messages = GaugeMetricFamily(
            "regua_messages", "Actions by channel and status.", labels=["channel", "status"]
        )
        for (channel, status), count in sorted(counts.messages.items()):
            messages.add_metric([channel, status], count)
        stale = GaugeMetricFamily(
            "regua_claims_past_lease",
            "Actions still sending after the claim lease (their dispatcher died).",
            value=counts.claims_past_lease,
        )
        runs = CounterMetricFamily(
            "regua_plan_runs", "Runs of the daily plan.", value=counts.plan_runs.runs
        )
        last = GaugeMetricFamily(
            "regua_last_plan_run_timestamp_seconds",
            "When the latest plan run started (Unix time; 0: never).",
            value=_unix(counts.plan_runs.last_started_at),
        )
        duration = GaugeMetricFamily(
            "regua_last_plan_duration_seconds",
            "How long the latest day's run took (sweep, segments, plan; not the sending).",
        )
        if counts.last_day_run_seconds is not None:
            duration.add_metric([], counts.last_day_run_seconds)
        return [messages, stale, runs, last, duration]


class _QueueCollector(Collector):
    """Messages waiting in each channel's queue of the broker (distributed mode)."""

    def __init__(self, regua: App) -> None:
        self.regua = regua

    def collect(self) -> list[Metric]:
        settings = self.regua.settings
        depths = queue_depths(
            settings.broker_url,
            {channel: f"{QUEUE_PREFIX}{channel}" for channel in MESSAGE_CHANNELS},
            settings.broker_transport_options,
        )
        up = GaugeMetricFamily(
            "regua_broker_up", "1 when the broker answered this scrape.", value=depths is not None
        )
        queued = GaugeMetricFamily(
            "regua_queue_messages",
            "Messages waiting in a channel's queue (not yet taken by a worker).",
            labels=["channel"],
        )
        for channel, depth in sorted((depths or {}).items()):
            queued.add_metric([channel], depth)
        return [up, queued]


def _unix(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
