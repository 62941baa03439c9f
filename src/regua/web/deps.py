"""Typed dependencies of the routes: the regua App and the raw request body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from regua.bootstrap import App


async def get_app(request: Request) -> App:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a hop for one attribute
    regua: App = request.app.state.regua
    return regua


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: signatures are computed over these bytes, not parsed JSON."""
    return await request.body()


AppDep = Annotated[App, Depends(get_app)]
RawBody = Annotated[bytes, Depends(raw_body)]
