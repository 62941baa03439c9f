"""What every command shares: the console, JSON output and one-line errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError

from regua.errors import ReguaError

console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")

JsonOption = Annotated[bool, typer.Option("--json", help="Saída em JSON, para programas.")]


def _default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def fail(message: str, code: int = 2) -> typer.Exit:
    error_console.print(f"erro: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn regua's errors into one line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ReguaError as exc:
            raise fail(exc.message) from None
        except ValidationError as exc:
            # A REGUA_* variable that does not parse (REGUA_TODAY=amanhã, a bad port...).
            problems = "; ".join(
                f"REGUA_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
                for error in exc.errors()
            )
            raise fail(f"configuração inválida: {problems}") from None
        except (OperationalError, ProgrammingError) as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            if "no such table" in reason or "does not exist" in reason:
                reason += " (o banco não foi criado: rode `regua init`)"
            raise fail(f"banco de dados: {reason}") from None

    return wrapper
