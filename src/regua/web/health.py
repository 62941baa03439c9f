"""What load balancers and monitoring ask: `/healthz` (the process answers; no database
touched), `/readyz` (database reachable, schema at this version's head, broker reachable when
REGUA_BROKER_URL is set) and `/metrics` (Prometheus text, counted in the database per scrape).

The broker is checked only when REGUA_BROKER_URL is set in the environment: its default
(a local Redis) is a setting of distributed mode, which an API alone does not need.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from regua import __version__
from regua.bootstrap import App
from regua.services.dispatch_run import DispatchOptions
from regua.services.operations_status import operations_counts_now, readiness
from regua.web.deps import AppDep

router = APIRouter(include_in_schema=False)


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
async def metrics(regua: AppDep) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector(regua))
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
        return [messages, stale, runs, last]


def _unix(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
