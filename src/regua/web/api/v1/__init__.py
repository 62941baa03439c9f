"""API version 1 (/api/v1): thin routers that parse, call one service and present."""

from __future__ import annotations

from fastapi import APIRouter

from regua.web.api.v1 import webhooks

router = APIRouter(prefix="/v1")
router.include_router(webhooks.router)
