"""What every command shares: the console, JSON output and one-line errors.

`cli_errors` is the one place where what went wrong becomes what a person reads: regua's own
errors, a file that cannot be read, a database that cannot be reached, each as one pt-BR line on
stderr and exit code 2. Nothing else in `cli/` catches errors to reword them.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar, cast

import typer
from pydantic import ValidationError
from rich.console import Console, ConsoleDimensions
from sqlalchemy.exc import DBAPIError
from typer.exceptions import TyperException

from regua.error_codes import ErrorCode
from regua.errors import ReguaError

# Output that is not a terminal (a pipe, a file, a program) is not wrapped: a PIX code, a phone
# number or a table row must reach it whole, as one line. COLUMNS still sets a width.
UNWRAPPED_WIDTH = 10_000


class _Console(Console):
    """A Rich console as wide as the terminal, and unbounded when writing to anything else."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if options.get("width") is None:
            self._width = None  # Rich fixes COLUMNS at creation; read it when printing instead

    @property
    def size(self) -> ConsoleDimensions:
        if self._width is None and not self.is_terminal and "COLUMNS" not in self._environ:
            return ConsoleDimensions(UNWRAPPED_WIDTH, super().size.height)
        return super().size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        width, height = new_size
        self._width = width
        self._height = height


console = _Console(highlight=False)
error_console = _Console(stderr=True, highlight=False)

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


def fail(
    message: str,
    code: int = 2,
    *,
    error_code: ErrorCode = ErrorCode.REGUA_ERROR,
    as_json: bool = False,
) -> typer.Exit:
    """Report an error: one pt-BR line on stderr; with `--json`, also the error as JSON on
    stdout (`{"error": {"code": ..., "message": ...}}`) for the program reading it."""
    if as_json:
        print_json({"error": {"code": error_code, "message": message}})
    error_console.print(f"erro: {message}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def _file_problem(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else "?"
    if isinstance(exc, FileNotFoundError):
        parent = Path(str(name)).parent
        if not parent.exists():
            return f"{name}: a pasta {parent} não existe"
        return f"{name}: arquivo não encontrado"
    if isinstance(exc, IsADirectoryError):
        return f"{name}: é uma pasta, não um arquivo"
    if isinstance(exc, NotADirectoryError):
        return f"{name}: o caminho passa por algo que não é uma pasta"
    if isinstance(exc, PermissionError):
        return f"{name}: sem permissão de acesso"
    return f"{name}: não foi possível ler ou gravar o arquivo ({exc.strerror or exc})"


def _current_database() -> str:
    """The database URL the running command uses (its own --db, else the root's), no password."""
    from regua.bootstrap import App
    from regua.cli.context import shown_url

    ctx = click_context()
    if ctx is None:
        return "?"
    db = ctx.params.get("db")
    if isinstance(db, str) and db:
        return shown_url(db)
    root = ctx.find_root().obj
    return shown_url(root.settings.database_url) if isinstance(root, App) else "?"


def click_context() -> typer.Context | None:
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    return cast(typer.Context, ctx) if ctx is not None else None


def database_problem(exc: DBAPIError) -> str:
    """A database error in pt-BR, naming the database; the driver's words only when unknown."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
    lowered = reason.lower()
    where = _current_database()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"o banco {where} não tem as tabelas do regua (crie com regua init)"
    if "unable to open database file" in lowered:
        return f"não foi possível abrir o arquivo do banco {where} (a pasta existe? há permissão?)"
    if "connection refused" in lowered or "could not connect" in lowered:
        return (
            f"não foi possível conectar ao banco {where}: conexão recusada "
            "(o servidor está rodando?)"
        )
    if "database" in lowered and "does not exist" in lowered:
        return f"o banco {where} não existe no servidor (crie-o e rode regua init)"
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return f"o servidor do banco {where} recusou o usuário ou a senha"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return f"servidor do banco desconhecido: {where}"
    if "database is locked" in lowered:
        return f"o banco {where} está em uso por outro processo; tente de novo"
    if "file is not a database" in lowered:
        return f"{where} não é um banco SQLite"
    if "readonly database" in lowered or "read-only" in lowered:
        return f"o banco {where} está somente para leitura"
    return f"erro no banco {where}: {reason}"


def _named_files(kwargs: dict[str, Any]) -> str:
    paths = [str(value) for value in kwargs.values() if isinstance(value, Path)]
    return ", ".join(paths) or "o arquivo"


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn every error into one pt-BR line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = kwargs.get("json_output") is True
        report = functools.partial(fail, as_json=as_json)
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # Typer's own control flow: usage errors are worded by the command group
        except ReguaError as exc:
            raise report(exc.message, error_code=exc.code) from None
        except ValidationError as exc:
            # A REGUA_* variable that does not parse (REGUA_TODAY=amanhã, a bad port...).
            problems = "; ".join(
                f"REGUA_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
                for error in exc.errors()
            )
            raise report(
                f"configuração inválida: {problems}", error_code=ErrorCode.INVALID_CONFIG
            ) from None
        except DBAPIError as exc:
            raise report(database_problem(exc), error_code=ErrorCode.DATABASE_ERROR) from None
        except UnicodeDecodeError:
            raise report(
                f"{_named_files(kwargs)}: não é um arquivo de texto legível "
                "(CSV em UTF-8 ou Windows-1252, ou uma planilha XLSX)",
                error_code=ErrorCode.FILE_ERROR,
            ) from None
        except OSError as exc:
            raise report(_file_problem(exc), error_code=ErrorCode.FILE_ERROR) from None
        except Exception as exc:  # a defect: still one line, never a traceback
            raise report(
                f"erro inesperado ({type(exc).__name__}: {exc}); por favor, relate este defeito",
                code=1,
                error_code=ErrorCode.UNEXPECTED_ERROR,
            ) from None

    return wrapper
