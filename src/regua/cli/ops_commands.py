"""`regua config` (the settings in force, secrets masked) and `regua doctor` (is this
installation configured to work: database, schema, broker, SMTP, providers, secrets)."""

from __future__ import annotations

import json
import os
from typing import Any

import typer

from regua.cli.context import DbOption, command_app
from regua.cli.output import JsonOption, cli_errors, console, print_json
from regua.config import effective_settings


def config(ctx: typer.Context, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Mostra a configuração em vigor (variáveis REGUA_*), com segredos mascarados."""
    shown = effective_settings(command_app(ctx, db).settings)
    if json_output:
        print_json(shown)
        return
    for name, value in shown.items():
        console.print(f"{name}={_env_value(value)}", markup=False, soft_wrap=True)


def doctor(ctx: typer.Context, db: DbOption = None, json_output: JsonOption = False) -> None:
    """Verifica banco, esquema, broker, SMTP, provedores e segredos; sai com 1 se algo falha."""
    from regua.services.doctor import diagnose

    regua = command_app(ctx, db)
    checks = diagnose(
        regua.uow, regua.settings, broker_set=bool(os.environ.get("REGUA_BROKER_URL"))
    )
    failed = [check for check in checks if not check.ok]
    if json_output:
        print_json(
            {
                "ok": not failed,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
            }
        )
    else:
        for check in checks:
            mark = "ok   " if check.ok else "falha"
            console.print(f"{mark}  {check.name}: {check.detail}", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def _env_value(value: Any) -> str:
    """A value as it would be written in the environment (JSON for mappings, empty for none)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def register(app: typer.Typer) -> None:
    for command in (config, doctor):
        app.command(command.__name__)(cli_errors(command))
