"""`regua serve`: the web app (API, webhooks, unsubscribe page, debtor portal) in one process,
or in N uvicorn worker processes (``--workers``), with the day's scheduler beside it
(`services.day_scheduler`, in this process only) unless turned off.

The workers are new interpreters (uvicorn spawns them): each builds its App from REGUA_*
variables (`web.app.app_from_env`), so this process exports the settings it resolved, the ones
that came from options (``--db``, ``--today``, ``--credor``) included."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Annotated

import typer

from regua.bootstrap import App
from regua.cli.context import DbOption, command_app, creditor_given
from regua.cli.output import cli_errors, console
from regua.config import settings_environment
from regua.errors import InputError
from regua.logs import uvicorn_log_config
from regua.services.day_scheduler import DayScheduler


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Endereço de escuta (0.0.0.0 para toda a rede).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Porta.")] = 8000,
    proxy: Annotated[
        bool,
        typer.Option(
            "--proxy-headers/--sem-proxy-headers",
            help="Confia em X-Forwarded-For/Proto (atrás de um proxy HTTPS na mesma máquina).",
        ),
    ] = True,
    scheduler: Annotated[
        bool | None,
        typer.Option(
            "--agendador/--sem-agendador",
            help="Roda o dia no horário REGUA_DAILY_RUN_AT e envia durante a janela de "
            "contato. Padrão: REGUA_SCHEDULER (ligado).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processos do aplicativo web (padrão: REGUA_WEB_WORKERS, 1). Mais de 1 é para "
            "o PostgreSQL: no SQLite os processos esperam a vez de escrever no mesmo arquivo.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Sobe o aplicativo web: API, webhooks, descadastro e o portal do devedor (/p/...); e o
    agendador do dia, a menos que desligado."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from regua.web.app import web_app

    regua = command_app(ctx, db)
    with regua.uow() as work:  # a database that does not exist is refused before listening
        work.connection.exec_driver_sql("SELECT 1")
    if not host.strip():
        raise InputError("endereço de escuta vazio", field="--host")
    stop = threading.Event()
    scheduling = regua.settings.scheduler if scheduler is None else scheduler
    day_scheduler = _scheduler(regua) if scheduling else None
    thread = None
    if day_scheduler is not None:
        poll = min(30.0, regua.settings.scheduler_dispatch_every_seconds)
        thread = threading.Thread(
            target=day_scheduler.run_until, args=(stop, poll), name="regua-scheduler", daemon=True
        )
        thread.start()
    processes = workers or regua.settings.web_workers
    shown = "" if processes == 1 else f", {processes} processos"
    console.print(
        f"regua web em http://{host}:{port}/ (portal do devedor em /p/...{shown}); "
        "Ctrl+C para parar"
    )
    if thread is not None:
        console.print(
            f"agendador: o dia roda às {regua.settings.daily_run_at:%H:%M} (fuso do credor)"
        )
    options = {
        "host": host,
        "port": port,
        "proxy_headers": proxy,
        "forwarded_allow_ips": "127.0.0.1" if proxy else None,
        "log_level": "info",
        "log_config": uvicorn_log_config(regua.settings) or LOGGING_CONFIG,
    }
    try:
        if processes == 1:
            uvicorn.run(web_app(regua), **options)  # type: ignore[arg-type]
        else:
            settings = regua.settings.model_copy(
                update={"creditor": creditor_given(ctx), "web_workers": processes}
            )
            with _exported(settings_environment(settings)):
                uvicorn.run(
                    "regua.web.app:app_from_env",
                    factory=True,
                    workers=processes,
                    **options,  # type: ignore[arg-type]
                )
    finally:
        stop.set()
        if thread is not None and day_scheduler is not None:
            thread.join(timeout=20)
            if thread.is_alive():  # stopped mid-run: the next start runs the day
                day_scheduler.give_back()


@contextmanager
def _exported(variables: dict[str, str]) -> Iterator[None]:
    """`variables` in this process's environment while uvicorn spawns its workers (they inherit
    it), then the environment as it was."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _scheduler(regua: App) -> DayScheduler:
    from regua.cli.dispatch_commands import dispatch_embedded

    # Distributed mode: the worker with --beat publishes what is due; here only the day runs.
    distributed = bool(os.environ.get("REGUA_BROKER_URL"))
    return DayScheduler(
        regua.uow,
        regua.clock,
        regua.settings.daily_run_at,
        dispatch=None if distributed else partial(dispatch_embedded, regua),
        dispatch_every=timedelta(seconds=regua.settings.scheduler_dispatch_every_seconds),
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(cli_errors(serve))
