"""The command line's own words in pt-BR: help screens and usage errors, once for every command.

Typer (and the Click it carries) writes "Usage:", "Options", "[required]", "No such option" and
"Did you mean" in English. `install` puts the help screens' words in pt-BR; `ReguaGroup`, the
root group's class, prints a usage error as one pt-BR line on stderr with exit code 2 (the
README's promise for every error), instead of a usage line, a hint and a boxed panel.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from typer import rich_utils
from typer._click import core as click_core
from typer._click import exceptions as click_exceptions
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup
from typer.exceptions import Abort

from regua.cli.context import hoist_creditor
from regua.cli.output import fail
from regua.error_codes import ErrorCode

HELP_OPTION_TEXT = "Mostra esta ajuda e sai."

# Typer's rich help screens read these module constants when they draw a screen.
RICH_WORDS = {
    "DEPRECATED_STRING": "(obsoleto) ",
    "DEFAULT_STRING": "[padrão: {}]",
    "ENVVAR_STRING": "[variável de ambiente: {}]",
    "REQUIRED_LONG_STRING": "[obrigatório]",
    "ARGUMENTS_PANEL_TITLE": "Argumentos",
    "OPTIONS_PANEL_TITLE": "Opções",
    "COMMANDS_PANEL_TITLE": "Comandos",
    "ERRORS_PANEL_TITLE": "Erro",
    "ABORTED_TEXT": "Interrompido.",
    "RICH_HELP": "Veja [blue]'{command_path} {help_option}'[/] para ajuda.",
}

PATH_KIND = "(?i:file|directory|dir|path)"
# The English of the parameter types' checks, in the order tried: (pattern, pt-BR).
VALUE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"^Input should be a valid integer.*$", "não é um número inteiro"),
        (r"^Input should be a valid (number|decimal).*$", "não é um número"),
        (r"^Input should be a valid boolean.*$", "não é sim/não (true ou false)"),
        (r"^Input should be greater than or equal to (?P<n>.+)$", r"deve ser pelo menos \g<n>"),
        (r"^Input should be greater than (?P<n>.+)$", r"deve ser maior que \g<n>"),
        (r"^Input should be less than or equal to (?P<n>.+)$", r"deve ser no máximo \g<n>"),
        (r"^Input should be less than (?P<n>.+)$", r"deve ser menor que \g<n>"),
        (r"^Input should be (?P<c>.+)$", r"deve ser \g<c>"),
        (r"^(?P<v>.+) is not a valid integer.*$", r"\g<v> não é um número inteiro"),
        (r"^(?P<v>.+) is not a valid float.*$", r"\g<v> não é um número"),
        (r"^(?P<v>.+) is not one of (?P<c>.+)\.$", r"\g<v> não é uma das opções: \g<c>"),
        (r"^(?P<v>.+) is not in the range (?P<r>.+)\.$", r"\g<v> está fora do intervalo \g<r>"),
        (rf"^{PATH_KIND} (?P<p>.+) does not exist\.$", r"\g<p> não existe"),
        (rf"^{PATH_KIND} (?P<p>.+) is a directory\.$", r"\g<p> é uma pasta"),
        (rf"^{PATH_KIND} (?P<p>.+) is a file\.$", r"\g<p> é um arquivo"),
        (rf"^{PATH_KIND} (?P<p>.+) is not readable\.$", r"\g<p> não pode ser lido"),
        (rf"^{PATH_KIND} (?P<p>.+) is not writable\.$", r"\g<p> não pode ser gravado"),
    )
)

USAGE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            r"^No such command '(?P<c>[^']*)'\. Did you mean (?P<s>.+)\?$",
            r"comando desconhecido: \g<c> (você quis dizer \g<s>?)",
        ),
        (r"^No such command '(?P<c>[^']*)'\.$", r"comando desconhecido: \g<c>"),
        (r"^Missing command\.$", "falta o comando"),
        (r"^Got unexpected extra argument(s|\(s\))? \((?P<a>.*)\)$", r"argumento a mais: \g<a>"),
        (r"^Option '(?P<o>[^']*)' requires an argument\.$", r"a opção \g<o> precisa de um valor"),
        (
            r"^Option '(?P<o>[^']*)' requires (?P<n>\d+) arguments\.$",
            r"a opção \g<o> precisa de \g<n> valores",
        ),
        (r"^Option '(?P<o>[^']*)' does not take a value\.$", r"a opção \g<o> não leva valor"),
    )
)


def _words(message: str, table: Sequence[tuple[re.Pattern[str], str]]) -> str:
    message = message.removeprefix("Value error, ")
    for pattern, words in table:
        if pattern.match(message):
            return pattern.sub(words, message)
    return message


def _hint(exc: click_exceptions.BadParameter) -> str:
    if exc.param_hint is not None:
        hint = exc.param_hint
        return " / ".join(hint) if isinstance(hint, list | tuple) else str(hint)
    if exc.param is not None:
        if exc.param.param_type_name == "argument":
            return (exc.param.name or "").upper()
        return " / ".join(exc.param.opts)
    return ""


def usage_message(exc: click_exceptions.ClickException) -> str:
    """A Click usage error in pt-BR, on one line."""
    if isinstance(exc, click_exceptions.NoSuchOption):
        message = f"opção desconhecida: {exc.option_name}"
        options = sorted(exc.possibilities or ())
        if options:
            return f"{message} (você quis dizer {' ou '.join(options)}?)"
        return message
    if isinstance(exc, click_exceptions.MissingParameter):
        hint = _hint(exc)
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        if kind == "argument":
            return f"falta o argumento {hint}"
        if kind == "option":
            return f"falta a opção {hint}"
        return f"falta o parâmetro {hint}"
    if isinstance(exc, click_exceptions.BadParameter):
        return f"valor inválido para {_hint(exc)}: {_words(exc.message, VALUE_WORDS)}"
    if isinstance(exc, click_exceptions.FileError):
        return f"não foi possível abrir o arquivo {exc.ui_filename}: {exc.message}"
    return _words(" ".join(exc.format_message().split()), USAGE_WORDS)


def _one_line(exc: click_exceptions.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None else ""
    help_hint = f" (veja {ctx.command_path} --help)" if ctx is not None else ""
    return f"{where}{usage_message(exc)}{help_hint}"


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asked for `--json` (before a ``--``): a usage error is then
    reported as JSON on stdout too, like every other error of the command."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


class ReguaGroup(TyperGroup):
    """The root group: a usage error anywhere below it becomes one pt-BR line, exit code 2.

    Its ``--credor`` is taken after the command too (`context.hoist_creditor`).
    """

    def parse_args(self, ctx: click_core.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_creditor(args))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except click_exceptions.NoArgsIsHelpError as exc:  # the help screen, already shown
            if not standalone_mode:
                raise
            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except click_exceptions.ClickException as exc:
            if not standalone_mode:
                raise
            error = fail(
                _one_line(exc),
                code=exc.exit_code,
                error_code=ErrorCode.USAGE_ERROR,
                as_json=wants_json(sys.argv[1:] if args is None else args),
            )
            sys.exit(error.exit_code)
        except Abort:
            if not standalone_mode:
                raise
            fail("interrompido", code=1)
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _help_option(self: click_core.Command, ctx: click_core.Context) -> Any:
    option = _english_help_option(self, ctx)
    if option is not None:
        option.help = HELP_OPTION_TEXT
    return option


def _format_usage(
    self: click_core.Command, ctx: click_core.Context, formatter: HelpFormatter
) -> None:
    pieces = " ".join(self.collect_usage_pieces(ctx))
    pieces = pieces.replace("[OPTIONS]", "[OPÇÕES]").replace("COMMAND [ARGS]...", "COMANDO ...")
    formatter.write_usage(ctx.command_path, pieces, prefix="Uso: ")


_english_help_option = click_core.Command.get_help_option


def install() -> None:
    """Put the help screens' words in pt-BR (idempotent; done when `cli.main` is imported)."""
    for name, words in RICH_WORDS.items():
        setattr(rich_utils, name, words)
    click_core.Command.get_help_option = _help_option  # type: ignore[method-assign]
    click_core.Command.format_usage = _format_usage  # type: ignore[method-assign]
