"""`regua offers`, `regua acordo ...`, `regua promessa ...` end to end on a real database."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from regua.cli.main import app
from tests.builders import write_csv

runner = CliRunner()
CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email
C1;=HYPERLINK("http://x","clique");529.982.247-25;jose@exemplo.com.br
C3;Maria Antônia;39053344705;maria@exemplo.com.br
"""
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor
9001;NF-9001;C1;Mensalidade;20/09/2026;500,00
9002;NF-9002;C1;Mensalidade;20/10/2026;300,00
9003;NF-9003;C3;Parcela;10/11/2026;200,00
"""
TODAY = ["--today", "2026-11-23"]


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner.invoke(
        app, ["init", "--db", url, "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]
    )
    for kind, text in (("customers", CUSTOMERS), ("invoices", INVOICES)):
        done = runner.invoke(
            app, ["import", kind, str(write_csv(tmp_path / f"{kind}.csv", text)), "--db", url]
        )
        assert done.exit_code == 0, done.output
    return url


def _run(url: str, *args: str) -> str:
    result = runner.invoke(app, [*TODAY, *args, "--db", url])
    assert result.exit_code == 0, result.output
    return result.output


def test_offers_agreement_sheet_and_promises(tmp_path: Path) -> None:
    url = _database(tmp_path)
    offers = json.loads(_run(url, "offers", "--customer", "C1", "--json"))["offers"]
    assert offers[0]["total_cents"] == 76_000
    assert offers[0]["total_without_agreement_cents"] == 83_007
    assert offers[2]["description"].startswith("entrada de R$ 80,00 + 3x de R$ ")
    text = _run(url, "offers", "--customer", "C1")
    assert "Dívida hoje: R$ 830,07" in text and "À vista: R$ 760,00" in text

    made = json.loads(_run(url, "acordo", "criar", "--customer", "C1", "--offer", "3", "--json"))
    assert made["held_invoices"] == ["NF-9001", "NF-9002"]
    assert len(made["installments"]) == 4
    assert made["offer"]["total_cents"] == offers[2]["total_cents"]
    _run(url, "acordo", "criar", "--customer", "C3", "--offer", "1", "--por", "bruno")
    cancelled = _run(url, "acordo", "cancelar", "--acordo", "2", "--motivo", "desistiu")
    assert "voltam à cobrança com R$ 200,00" in " ".join(cancelled.split())

    sheet = tmp_path / "acordos.xlsx"
    _run(url, "acordo", "listar", "--xlsx", str(sheet))
    rows = list(load_workbook(sheet).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("Acordo", "Cliente", "Nome", "Feito em", "Situação")
    first, second = rows[1], rows[2]
    assert first[0] == 1 and first[1] == "C1"
    assert first[2] == '=HYPERLINK("http://x","clique")'  # a name, never a formula
    cell = load_workbook(sheet).active["C2"]
    assert cell.data_type == "s"
    assert first[3] == datetime(2026, 11, 23)  # a date cell
    assert first[4] == "ativo" and second[4] == "cancelado"
    assert first[5] == 800 and isinstance(first[5], int | float)  # reais, as a number
    assert load_workbook(sheet).active["F2"].number_format == '"R$" #,##0.00'
    listed = json.loads(_run(url, "acordo", "listar", "--status", "ativo", "--json"))
    assert [line["agreement_id"] for line in listed] == [1]

    again = runner.invoke(
        app, [*TODAY, "acordo", "criar", "--customer", "C1", "--offer", "1", "--db", url]
    )
    assert again.exit_code == 2
    assert "não tem títulos vencidos em aberto para negociar" in again.output

    _run(url, "promessa", "criar", "--customer", "C3", "--valor", "200,00", "--data", "2026-11-30")
    promised = json.loads(_run(url, "promessa", "listar", "--json"))
    assert [(p["customer"], p["amount_cents"], p["status"]) for p in promised] == [
        ("C3", 20_000, "open")
    ]
    counter = json.loads(
        _run(url, "offers", "--customer", "C3", "--valor-parcela", "70,00", "--json")
    )
    assert counter["offer"]["installments"][-1]["number"] == 3
