"""With `--json`, a usage error (an unknown option, a missing argument, a bad value) is JSON on
stdout too, like every other error, for the program that asked for JSON; the person still reads
one pt-BR line on stderr."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from regua.cli.main import app
from regua.cli.ptbr import wants_json

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["acoes", "--json", "--bogus"], "opção desconhecida: --bogus"),
        (["cliente", "--json"], "falta o argumento CLIENTE"),
        (["run", "--json", "--date"], "a opção --date precisa de um valor"),
        (["fees", "--json", "--due", "2026-01-05"], "falta a opção --amount"),
        (["demo", "--json", "--customers", "0"], "valor inválido para --customers"),
        (["payments", "--json", "--days", "abc"], "--days"),
        (["nao-existe", "--json"], "comando desconhecido: nao-existe"),
    ],
)
def test_a_usage_error_with_json_is_json(args: list[str], words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage_error"
    assert words in error["message"]
    [line] = result.stderr.splitlines()
    assert line.startswith("erro: ") and words in line


def test_without_json_a_usage_error_is_only_the_line() -> None:
    result = runner.invoke(app, ["acoes", "--bogus"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "opção desconhecida: --bogus" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--json"], True),
        (["run"], False),
        (["templates", "render", "x", "--", "--json"], False),
    ],
)
def test_wants_json(args: list[str], expected: bool) -> None:
    assert wants_json(args) is expected
