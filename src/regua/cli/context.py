"""How a command gets its `App`: the root's ``--db``/``--today``, a command's own ``--db`` and
``--date``; and the creditor it works on: the root's ``--credor``, which the root group also
takes after the command (`hoist_creditor`), so no command repeats the option.

The root callback (`cli.main`) builds the App once and keeps it in the Typer context; a
command asks `command_app` for it, with its own ``--db`` when given (the README documents
``regua run --db URL``), and `command_day` for the day it works on.

A database URL is checked here, once, before anything uses it: one that does not parse or names
a database without a driver is refused in one line. A SQLite file that does not exist is never
created by a command that needs an existing database (only `regua init` creates one): the first
connection refuses, naming the file, and nothing is left on disk.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from regua.bootstrap import App, build_app
from regua.error_codes import ErrorCode
from regua.errors import InputError, ReguaError
from regua.services.operations_status import check_revision
from regua.services.setup import default_creditor_id

CREDITOR_VARIABLE = "REGUA_CREDITOR"
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

CreditorOption = Annotated[
    str | None,
    typer.Option(
        "--credor",
        "--creditor",
        envvar=CREDITOR_VARIABLE,
        help="Credor em que o comando atua (id, CNPJ ou nome), quando o banco tem mais de um. "
        "Vale antes ou depois do comando: regua run --credor loja-beta.",
        show_default=False,
    ),
]
CREDITOR_FLAGS = ("--credor", "--creditor")
_CREDITOR_KEY = "regua.creditor"


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"data inválida: {value} (use AAAA-MM-DD)", field=field) from None


# The commands that make a database from nothing (the demo its own); the others need it to exist.
CREATING_COMMANDS = frozenset({"init", "demo"})
# The commands that work on a database at any schema version: they bring it to the head
# (`regua db upgrade`, `regua init`, `regua demo`) or report its version (`regua doctor`).
ANY_SCHEMA_COMMANDS = frozenset({"init", "demo", "upgrade", "doctor", "config"})
DRIVERS_SHIPPED = frozenset({"postgresql", "postgres"})  # psycopg, installed with regua


def shown_url(url: str) -> str:
    """A database URL as a person may see it: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Not a URL SQLAlchemy reads, but it may still carry "user:password@".
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def check_database_url(url: str) -> None:
    """Refuse, in pt-BR, a URL that does not parse or whose database has no driver here."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise InputError(
            f"endereço de banco inválido: {shown_url(url)!r} "
            "(use sqlite:///arquivo.db ou postgresql://usuario@servidor/banco)",
            field="--db",
            code=ErrorCode.INVALID_DATABASE_URL,
        ) from None
    if parsed.drivername in DRIVERS_SHIPPED:
        return
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise InputError(
            f"banco não suportado: {shown_url(url)} "
            "(regua usa SQLite, sqlite:///arquivo.db, ou PostgreSQL, postgresql://...)",
            field="--db",
            code=ErrorCode.INVALID_DATABASE_URL,
        ) from None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # a SQLite URI: its own mode says what to do
        return None
    return Path(parsed.database)


def _refuse_missing_file(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> None:
    """SQLite creates a missing file on connect: refuse before it does."""
    name = cargs[0] if cargs else cparams.get("database")
    in_memory = name in ("", ":memory:") or str(name).startswith("file:")
    if isinstance(name, str) and not in_memory and not Path(name).exists():
        raise ReguaError(
            f"banco de dados não encontrado: {name} (crie com regua init)",
            code=ErrorCode.DATABASE_NOT_FOUND,
            path=name,
        )


def _refuse_other_schema(dbapi_connection: Any, _record: Any) -> None:
    """On the first connection: the schema must be at this version's head (one query).

    Read with the driver's own cursor, before SQLAlchemy hands the connection out, so a
    database behind the head is refused with `regua db upgrade`, never a SQL error later.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
        row = cursor.fetchone()
    except Exception:  # no alembic_version table: no regua tables; the command says so later
        row = None
    finally:
        cursor.close()
        dbapi_connection.rollback()  # PostgreSQL: leave no transaction (or failed one) open
    check_revision(row[0] if row else None)


def _existing_database_only(ctx: typer.Context, app: App) -> App:
    """`app`, whose SQLite database must already exist unless the command creates it, and whose
    schema must be current unless the command upgrades or inspects it."""
    if ctx.command.name not in ANY_SCHEMA_COMMANDS and not event.contains(
        app.engine, "connect", _refuse_other_schema
    ):
        event.listen(app.engine, "connect", _refuse_other_schema, once=True)
    if ctx.command.name in CREATING_COMMANDS or sqlite_file(app.settings.database_url) is None:
        return app
    if not event.contains(app.engine, "do_connect", _refuse_missing_file):
        event.listen(app.engine, "do_connect", _refuse_missing_file)
    return app


def root_app(
    ctx: typer.Context,
    db: str | None = None,
    today: str | None = None,
    creditor: str | None = None,
) -> App:
    """Build the process's App once, for the root callback, and keep it in the context."""
    app = build_app(database_url=db, today=parse_day(today, "--today") if today else None)
    check_database_url(app.settings.database_url)
    ctx.obj = app
    ctx.meta[_CREDITOR_KEY] = creditor
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
        check_database_url(db)
        other = app.with_settings(database_url=db)
        if other is not app:
            ctx.call_on_close(other.close)
        return _existing_database_only(ctx, other)
    return _existing_database_only(ctx, app)


def command_creditor(ctx: typer.Context, app: App) -> int:
    """The id of the creditor the command works on: the one ``--credor`` (or REGUA_CREDITOR)
    names, else the installation's only one; several and none named is an error listing them."""
    return default_creditor_id(app.uow, creditor_given(ctx))


def creditor_given(ctx: typer.Context) -> str | None:
    """What ``--credor`` (or REGUA_CREDITOR) says, if anything (for a command that can tell the
    creditor from its input, a return file's header)."""
    # A command group mounted alone (the tests do) has no root option: the settings' then.
    root = ctx.find_root()
    app = root.obj if isinstance(root.obj, App) else None
    return root.meta.get(_CREDITOR_KEY) or (app.settings.creditor if app else None) or None


def hoist_creditor(args: list[str]) -> list[str]:
    """``regua run --credor X`` as ``regua --credor X run``: the root's one option, accepted
    after any command too (nothing after a ``--`` is touched)."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name, equals, _value = arg.partition("=")
        if name in CREDITOR_FLAGS:
            taken = 1 if equals else 2
            front.extend(args[index : index + taken])
            index += taken
            continue
        rest.append(arg)
        index += 1
    return front + rest


def command_day(app: App, value: str | None, *, timezone: str | None = None) -> date:
    """The ``--date`` a command was given, else today (in `timezone`, default the settings')."""
    if value is None:
        return app.today(timezone)
    return parse_day(value, "--date")
