"""Build what entry points need (settings, engine, clock) in one place: cli, web and worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from regua.clock import Clock, SystemClock
from regua.config import Settings
from regua.store.db import make_engine


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)


def build_context(settings: Settings | None = None, *, clock: Clock | None = None) -> AppContext:
    settings = settings or Settings()
    return AppContext(
        settings=settings,
        engine=make_engine(settings.database_url),
        clock=clock or SystemClock(),
    )
