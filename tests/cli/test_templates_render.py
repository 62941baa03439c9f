"""`regua templates render`: one real customer's message, and whether it would really go out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from regua.cli.main import app
from tests.builders import CUSTOMERS_CSV, write_csv

runner = CliRunner()

INVOICES_CSV = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-11-13;150,00
T2;NF-2;C2;Mensalidade;2026-11-13;2.500,00
"""


def _portfolio(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    # A creditor that never gave its PIX key.
    init = ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    assert runner.invoke(app, init).exit_code == 0
    for kind, text in (("customers", CUSTOMERS_CSV), ("invoices", INVOICES_CSV)):
        path = write_csv(tmp_path / f"{kind}.csv", text)
        imported = runner.invoke(app, ["import", kind, str(path), "--db", url])
        assert imported.exit_code == 0, imported.output
    return url


def test_a_preview_warns_that_the_real_message_would_be_held(tmp_path: Path) -> None:
    url = _portfolio(tmp_path)
    render = ["templates", "render", "atraso-10", "--customer", "C2", "--db", url]
    render += ["--date", "2026-11-23", "--channel", "email"]

    result = runner.invoke(app, render)

    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        "aviso: a mensagem real seria retida, não enviada: falta a chave Pix do credor "
        "(complete com `regua credor editar`)."
    )
    assert "000201" not in result.stdout  # no PIX code without the creditor's key
    shown = json.loads(runner.invoke(app, [*render, "--json"]).stdout)
    assert shown["held"] == "falta a chave Pix do credor"

    edited = runner.invoke(
        app,
        [*("credor", "editar", "--db", url, "--pix", "financeiro@lojateste.com.br"),
         *("--email", "cobranca@lojateste.com.br", "--email-envio", "cobranca@lojateste.com.br")],
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    again = runner.invoke(app, render)
    assert (again.exit_code, again.stderr) == (0, "")
    assert "000201" in again.stdout
