"""The FastAPI application: `create_app(settings)` wires the API and maps errors to HTTP once.

Nothing is built at import time: `bootstrap.build_app` makes the App (engine on first use) when
the web app is created, from the settings given. `uvicorn --factory regua.web.app:app_from_env`
builds one from REGUA_* variables.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from regua import __version__
from regua.bootstrap import App, build_app
from regua.clock import Clock
from regua.config import Settings
from regua.errors import ReguaError
from regua.logs import configure_web_logging
from regua.services.operations_status import readiness
from regua.store.transitions import use_write_ahead_log
from regua.web import health, unsubscribe
from regua.web.api import api_router
from regua.web.api.v1 import inbound
from regua.web.api_docs import mount_docs
from regua.web.guards import RequestGuard
from regua.web.portal import routes as portal
from regua.web.webhook_timing import WebhookTimer, webhook_histogram

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """A regua web application over the database of `settings` (and `clock`, for tests)."""
    return web_app(build_app(settings, clock=clock))


def web_app(regua: App) -> FastAPI:
    """The FastAPI application of `regua` (its settings, database and clock)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The schema is checked once at start; the API starts anyway, /readyz reports it.
        status = readiness(regua.uow, None)
        if not status.ready:
            log.error("not ready: %s", "; ".join(f"{k}: {v}" for k, v in status.checks.items()))
        else:
            # The portal commits on every page (the customer's timeline): on SQLite, in WAL
            # mode, a commit does not wait for the disk and readers do not block it. (When the
            # scheduler's first run holds the file, the dispatcher switches it after.)
            use_write_ahead_log(regua.engine)
        yield
        regua.close()

    app = FastAPI(
        title="regua",
        version=__version__,
        description="API da régua de cobrança: webhooks de pagamento (PIX) e consultas.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    mount_docs(app)
    app.include_router(health.router)
    app.state.regua = regua
    app.include_router(api_router)
    app.include_router(inbound.router)
    app.include_router(unsubscribe.router)
    app.include_router(portal.router)
    app.mount(portal.STATIC_PATH, portal.static_files, name="portal-static")
    app.add_exception_handler(ReguaError, _regua_error)  # type: ignore[arg-type]
    app.add_middleware(
        RequestGuard,
        max_body_bytes=regua.settings.max_body_bytes,
        upload_suffix=portal.UPLOAD_SUFFIX,
        # The receipt and the form's other fields, multipart boundaries included.
        max_upload_bytes=regua.settings.receipt_max_bytes + 64 * 1024,
    )
    # Outermost, so the time counts the guard's refusals (too large, database down) too.
    app.state.webhook_latency = webhook_histogram()
    app.add_middleware(WebhookTimer, histogram=app.state.webhook_latency)
    return app


async def _regua_error(_request: Request, exc: ReguaError) -> JSONResponse:
    """Every error regua raises on purpose: its HTTP status and ``{"code", "message"}``."""
    if exc.http_status >= 500:
        log.error("request refused: %s (%s)", exc.code, exc.message)
    return JSONResponse(
        status_code=exc.http_status, content={"code": exc.code, "message": exc.message}
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory regua.web.app:app_from_env`` (settings from REGUA_*)."""
    regua = build_app()
    configure_web_logging(regua.settings)
    return web_app(regua)
