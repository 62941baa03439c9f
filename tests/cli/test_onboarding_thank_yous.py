"""Bringing a creditor in, on SQLite and PostgreSQL: its ERP's last days of receipts (in the
invoice file and in a payments file) are loaded before the first `regua run`; none of that money
is thanked, by the import or by the run. Money that arrives once the régua runs is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.store.tables import actions, customers
from tests.builders import write_csv

runner = CliRunner()
CUSTOMERS = """
codigo_cliente;nome;cpf_cnpj;email;celular;uf
C1;José da Conceição;529.982.247-25;jose@exemplo.com.br;(11) 98765-4321;SP
C2;Maria Souza;390.533.447-05;maria@exemplo.com.br;(21) 99876-5432;RJ
C3;Ana Lima;111.444.777-35;ana@exemplo.com.br;(31) 99876-1234;MG
C4;Paulo Reis;123.456.789-09;paulo@exemplo.com.br;;SP
C5;Rita Dias;987.654.321-00;rita@exemplo.com.br;;SP
"""
# C1 paid on Friday, as the ERP's invoice file says; C4 and C5 still owe.
INVOICES = """
id_titulo;numero;codigo_cliente;vencimento;valor;data_pagamento;valor_pago
T1;1;C1;2026-11-20;100,00;2026-11-20;100,00
T2;2;C2;2026-11-21;200,00;;
T3;3;C3;2026-11-22;50,00;;
T4;4;C4;2026-11-30;70,00;;
T5;5;C5;2026-11-30;90,00;;
"""
# The ERP's receipts of the last days, loaded with the portfolio on Monday 23/11.
HISTORY = """
id_pagamento;titulo;data_pagamento;valor
P2;T2;21/11/2026;200,00
P3;T3;23/11/2026;50,00
"""


def cli(url: str, today: str, *args: str) -> Any:
    result = runner.invoke(app, ["--db", url, "--today", today, *args])
    assert result.exit_code == 0, result.output
    return result


def thanked(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(
            connection.execute(
                select(customers.c.external_id)
                .join(actions, actions.c.customer_id == customers.c.id)
                .where(actions.c.purpose == "thank_you")
            ).scalars()
        )


def test_receipts_loaded_at_onboarding_get_no_thank_you_and_later_money_does(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    monday, tuesday = "2026-11-23", "2026-11-24"
    cli(db_url, monday, "init", "--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23")
    cli(db_url, monday, "import", "customers", str(write_csv(tmp_path / "c.csv", CUSTOMERS)))
    loaded = cli(db_url, monday, "import", "invoices", str(write_csv(tmp_path / "t.csv", INVOICES)))
    assert "1 pagamentos do histórico" in loaded.output
    cli(db_url, monday, "import", "payments", str(write_csv(tmp_path / "p.csv", HISTORY)))
    assert thanked(engine) == []

    cli(db_url, monday, "run")
    assert thanked(engine) == []

    # Tuesday's export: C4 paid today; C5's payment of Saturday reached the ERP late.
    tuesday_file = write_csv(
        tmp_path / "p2.csv",
        "id_pagamento;titulo;data_pagamento;valor\nP4;T4;24/11/2026;70,00\nP5;T5;21/11/2026;90,00",
    )
    cli(db_url, tuesday, "import", "payments", str(tuesday_file))

    assert thanked(engine) == ["C4"]
