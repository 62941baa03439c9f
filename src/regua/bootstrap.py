"""The one composition root: `build_app` turns settings into the `App` every entry point uses.

The CLI, the web app and the Celery workers each build one `App` and take from it the settings,
the database engine, units of work, channels, the template renderer and the clock. `Settings`
is constructed here and nowhere else; the engine, the renderer and the channels are made on
first use, never at import, so a command that needs none of them starts without them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy import Engine

from regua.clock import Clock, FixedClock, SystemClock, today_in
from regua.config import Settings, config_problem
from regua.store.db import make_engine
from regua.store.uow import UnitOfWork

if TYPE_CHECKING:
    # Channels and templates (Jinja, SMTP, HTTP clients) are imported by what uses them.
    from regua.channels.registry import ChannelRegistry
    from regua.channels.rendering import TemplateRenderer


@dataclass(frozen=True, eq=False)
class App:
    """What an entry point needs, built once per process (per forked worker process)."""

    settings: Settings
    clock: Clock
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def engine(self) -> Engine:
        """The database engine, created on first use and kept (web threads share it)."""
        with self._lock:
            if "engine" not in self._lazy:
                self._lazy["engine"] = make_engine(
                    self.settings.database_url, pool_size=self.settings.db_pool_size
                )
            engine: Engine = self._lazy["engine"]
            return engine

    @property
    def renderer(self) -> TemplateRenderer:
        """The packaged message templates (compiled on first use, shared by the process)."""
        from regua.channels.rendering import default_renderer

        return default_renderer()

    def uow(self) -> UnitOfWork:
        """A unit of work on this app's database: ``with app.uow() as uow: ...; uow.commit()``."""
        return UnitOfWork(self.engine)

    def channels(self) -> ChannelRegistry:
        """The channels the settings describe; the caller opens and closes them."""
        from regua.channels.registry import ChannelRegistry

        return ChannelRegistry.from_settings(self.settings, clock=self.clock)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self, timezone: str | None = None) -> date:
        """Today's date in `timezone` (a creditor's), or in the configured one."""
        return today_in(self.clock, timezone or self.settings.timezone)

    def with_settings(self, **overrides: Any) -> App:
        """This app with some settings replaced (a command's own ``--db``); same clock."""
        changed = {k: v for k, v in overrides.items() if getattr(self.settings, k) != v}
        if not changed:
            return self
        return App(self.settings.model_copy(update=changed), self.clock)

    def close(self) -> None:
        """Give back the engine's connections (at the end of a process or a web app)."""
        with self._lock:
            engine = self._lazy.pop("engine", None)
        if engine is not None:
            engine.dispose()


def build_app(
    settings: Settings | None = None, *, clock: Clock | None = None, **overrides: Any
) -> App:
    """The `App` of `settings` (default: read from REGUA_* variables) with `overrides` applied.

    Without a `clock`, a fixed clock at noon of ``settings.today`` (REGUA_TODAY) when set, else
    the system clock.
    """
    settings = settings or read_settings()
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    if clock is None:
        if settings.today is not None:
            clock = FixedClock.on(settings.today, settings.timezone)
        else:
            clock = SystemClock()
    return App(settings, clock)


def read_settings() -> Settings:
    """The settings of the REGUA_* variables; a bad value is one pt-BR line (`ConfigError`)
    naming the variable and what it accepts, never pydantic's traceback."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise config_problem(exc, dict(os.environ)) from None
