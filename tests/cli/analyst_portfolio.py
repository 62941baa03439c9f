"""A small portfolio, made through the command line as a user would, for the analyst commands'
tests (`regua acoes`, `regua cliente`, `regua resumo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from regua.cli.main import app
from tests.builders import write_csv

runner = CliRunner()
TODAY = "2026-11-23"  # a Monday: at noon every state's contact window is open

CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email;celular;uf;cidade
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;(11) 98765-4321;SP;São Paulo
C2;Padaria Pão Quente Ltda;11.444.777/0001-61;financeiro@paoquente.com.br;(21) 3222-1111;RJ;Niterói
C3;=HYPERLINK("http://x");39053344705;;011 99876-5432;MG;Belo Horizonte
C4;Sem Contato;11144477735;;;SP;Santos
"""
INVOICES = """
id_titulo;numero;codigo_cliente;descricao;vencimento;valor
T1;NF-1;C1;Mensalidade;2026-11-13;150,00
T2;NF-2;C2;Mensalidade;2026-11-13;2.500,00
T3;NF-3;C3;Mensalidade;2026-11-13;80,00
T4;NF-4;C4;Mensalidade;2026-11-13;90,00
T5;NF-5;C4;Mensalidade;2026-11-12;45,50
T6;NF-6;C1;Mensalidade;2026-12-13;150,00
"""


def cli(url: str, *args: str, today: str = TODAY) -> Any:
    result = runner.invoke(app, ["--db", url, "--today", today, *args])
    assert result.exit_code == 0, result.output
    return result


def portfolio(url: str, tmp_path: Path) -> None:
    """Four customers 10 days late on 23/11/2026 (C1 also owes a December invoice); the
    creditor was set up without a PIX key."""
    cli(url, "init", "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23")
    cli(url, "import", "customers", str(write_csv(tmp_path / "clientes.csv", CUSTOMERS)))
    cli(url, "import", "invoices", str(write_csv(tmp_path / "titulos.csv", INVOICES)))
