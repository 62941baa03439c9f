"""`regua segments` as a collections user reads it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from regua.cli.main import app

runner = CliRunner()


def test_segments_right_after_an_import_say_that_a_run_classifies_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'regua.db'}"
    init = ["--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    assert runner.invoke(app, ["init", "--db", url, *init]).exit_code == 0
    customers = tmp_path / "clientes.csv"
    customers.write_text(
        "codigo_cliente;nome;cpf_cnpj\nC1;Maria;52998224725\nC2;João;11144477735\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", "customers", str(customers), "--db", url]).exit_code == 0
    result = runner.invoke(app, ["segments", "--db", url])
    assert result.exit_code == 0, result.output
    assert "2 clientes ainda não têm segmento: os segmentos são calculados por" in result.output
