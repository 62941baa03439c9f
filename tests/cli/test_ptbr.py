"""The command line's own words: usage errors as one pt-BR line, help screens in pt-BR,
``--version``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import regua
from regua.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--foo"], "erro: regua: opção desconhecida: --foo (veja regua --help)"),
        (
            ["fees", "--amount", "1", "--due", "2026-01-01", "--amout", "2"],
            "erro: regua fees: opção desconhecida: --amout (você quis dizer --amount ou --multa?) "
            "(veja regua fees --help)",
        ),
        (
            ["rnu"],
            "erro: regua: comando desconhecido: rnu (você quis dizer 'run'?) (veja regua --help)",
        ),
        (["import"], "erro: regua import: falta o argumento KIND (veja regua import --help)"),
        (["fees", "--due", "2026-01-01"], "erro: regua fees: falta a opção --amount"),
        (
            ["import", "clientes", "x.csv"],
            "erro: regua import: valor inválido para KIND: 'clientes' não é uma das opções: "
            "'customers', 'invoices', 'payments'",
        ),
        (
            ["demo", "--customers", "0"],
            "erro: regua demo: valor inválido para --customers: deve ser pelo menos 1",
        ),
        (
            ["fees", "--amount", "1", "--due", "2026-01-01", "--multa", "dois"],
            "erro: regua fees: valor inválido para --multa: não é um número",
        ),
        (["payments", "--days"], "erro: a opção --days precisa de um valor"),
        (["segments", "a", "b"], "erro: regua segments: argumento a mais: a b"),
    ],
)
def test_usage_errors_are_one_pt_br_line(args: list[str], line: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(line), lines[0]
    for english in ("No such", "Did you mean", "Missing", "Usage", "Try ", "Error", "Input"):
        assert english not in lines[0]


def test_help_screens_are_in_pt_br() -> None:
    for args in (["--help"], ["fees", "--help"], ["policy", "--help"], ["import", "--help"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        text = result.stdout
        assert "Uso: regua" in text
        assert "Mostra esta ajuda e sai." in text
        for english in (
            "Usage:",
            "Options",
            "Commands",
            "Arguments",
            "Show this message",
            "[required]",
            "[default:",
            "[env var:",
        ):
            assert english not in text, (args, english)
    fees = runner.invoke(app, ["fees", "--help"], env={"COLUMNS": "200"}).stdout
    assert "[obrigatório]" in fees
    assert "[padrão: 2.0]" in fees
    assert "Opções" in fees
    root = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert "Comandos" in root
    assert "[variável de ambiente: REGUA_DATABASE_URL]" in root


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"regua {regua.__version__}\n"
