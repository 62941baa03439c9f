"""The demo's simulated days: payments arrive on their dates under the creditor's fee terms,
then the daily cycle runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.services.simulation import simulate
from tests.builders import CUSTOMERS_CSV, NOW, invoice_row, run_import, units, write_csv

MONDAY = date(2026, 11, 23)


def test_payments_arriving_in_the_simulation_use_the_creditors_fee_terms(
    engine: Engine, tmp_path: Path
) -> None:
    # A creditor that charges no late fee nor interest: the principal paid 13 days late settles
    # the invoice. Under the default terms (2% + 1% a month) the same money would leave fees
    # owed and the invoice open.
    with engine.begin() as connection:
        creditor_id = create_creditor(
            connection, replace(EXAMPLE_CREDITOR, late_fee_bp=0, interest_monthly_bp=0), NOW
        )
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    invoices = """
    id;codigo_cliente;descricao;vencimento;valor
    X;C1;Mensalidade;10/11/2026;100,00
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", invoices), creditor_id)
    arriving = write_csv(
        tmp_path / "futuros.csv",
        """
        id_pagamento;id_titulo;data_pagamento;valor;forma
        P1;X;23/11/2026;100,00;pix
        """,
    )

    days = simulate(units(engine), creditor_id, MONDAY, 1, arriving)

    assert (days[0].payments, days[0].paid_cents) == (1, 10_000)
    row = invoice_row(engine, "X")
    assert (row.status, row.balance_cents) == ("paid", 0)
    assert days[0].planned == {}  # nothing left to collect
