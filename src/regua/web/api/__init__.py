"""The JSON API, versioned under /api."""

from __future__ import annotations

from fastapi import APIRouter

from regua.web.api.v1 import router as v1_router

api_router = APIRouter(prefix="/api")
api_router.include_router(v1_router)
