"""How a command gets its `App`: the root's ``--db``/``--today``, a command's own ``--db`` and
``--date``.

The root callback (`cli.main`) builds the App once and keeps it in the Typer context; a
command asks `command_app` for it, with its own ``--db`` when given (the README documents
``regua run --db URL``), and `command_day` for the day it works on.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, cast

import typer

from regua.bootstrap import App, build_app
from regua.errors import InputError

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="REGUA_DATABASE_URL",
        help="URL do banco (SQLAlchemy). Padrão: sqlite:///regua.db",
        show_default=False,
    ),
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="Dia (AAAA-MM-DD). Padrão: hoje.", show_default=False)
]
TodayOption = Annotated[
    str | None,
    typer.Option(
        "--today",
        envvar="REGUA_TODAY",
        help="Roda como se hoje fosse esta data (AAAA-MM-DD): relógio parado ao meio-dia.",
        show_default=False,
    ),
]


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"data inválida: {value} (use AAAA-MM-DD)", field=field) from None


def root_app(ctx: typer.Context, db: str | None = None, today: str | None = None) -> App:
    """Build the process's App once, for the root callback, and keep it in the context."""
    app = build_app(database_url=db, today=parse_day(today, "--today") if today else None)
    ctx.obj = app
    ctx.call_on_close(app.close)
    return app


def command_app(ctx: typer.Context, db: str | None = None) -> App:
    """The App a command runs with: the root's, on the command's own ``--db`` when given.

    A command mounted on another Typer app (the tests mount command groups alone) has no root
    App: one is built from the environment then, once for that invocation.
    """
    root = ctx.find_root()
    app = root.obj if isinstance(root.obj, App) else root_app(cast(typer.Context, root))
    if db:
        other = app.with_settings(database_url=db)
        if other is not app:
            ctx.call_on_close(other.close)
        return other
    return app


def command_day(app: App, value: str | None, *, timezone: str | None = None) -> date:
    """The ``--date`` a command was given, else today (in `timezone`, default the settings')."""
    if value is None:
        return app.today(timezone)
    return parse_day(value, "--date")
