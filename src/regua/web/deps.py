"""Typed dependencies of the routes: the application context and the raw request body."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from regua.bootstrap import AppContext


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: signatures are computed over these bytes, not parsed JSON."""
    return await request.body()


ContextDep = Annotated[AppContext, Depends(get_context)]
RawBody = Annotated[bytes, Depends(raw_body)]
