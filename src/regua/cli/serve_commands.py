"""`regua serve`: the web app (API, webhooks, unsubscribe page, debtor portal) in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from regua.cli.context import DbOption, command_app
from regua.cli.output import cli_errors, console
from regua.errors import InputError


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
    db: DbOption = None,
) -> None:
    """Sobe o aplicativo web: API, webhooks, descadastro e o portal do devedor (/p/...)."""
    import uvicorn

    from regua.web.app import web_app

    regua = command_app(ctx, db)
    with regua.uow() as work:  # a database that does not exist is refused before listening
        work.connection.exec_driver_sql("SELECT 1")
    if not host.strip():
        raise InputError("endereço de escuta vazio", field="--host")
    console.print(
        f"regua web em http://{host}:{port}/ (portal do devedor em /p/...); Ctrl+C para parar"
    )
    uvicorn.run(
        web_app(regua),
        host=host,
        port=port,
        proxy_headers=proxy,
        forwarded_allow_ips="127.0.0.1" if proxy else None,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(cli_errors(serve))
