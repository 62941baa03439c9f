"""`regua resumo`: the creditor's own portfolio and its aging, on screen, in JSON and as a typed
spreadsheet. On SQLite and PostgreSQL: the figures are SQL aggregates."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import Engine

from tests.cli.analyst_portfolio import cli, portfolio


def test_resumo_counts_the_portfolio_and_ages_it(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    portfolio(db_url, tmp_path)
    data = json.loads(cli(db_url, "resumo", "--json").output)
    assert data["today"] == "2026-11-23"
    assert (data["customers"], data["open_invoices"], data["open_cents"]) == (4, 6, 301550)
    # NF-6 is due in December: open, not overdue.
    assert (data["overdue_invoices"], data["overdue_cents"]) == (5, 286550)
    aging = {b["bucket"]: (b["invoices"], b["balance_cents"]) for b in data["aging"]}
    assert aging == {
        "a vencer": (1, 15000),
        "1-30": (5, 286550),
        "31-60": (0, 0),
        "61-90": (0, 0),
        "90+": (0, 0),
    }
    later = json.loads(cli(db_url, "resumo", "--json", "--date", "2027-01-20").output)
    assert {b["bucket"]: b["invoices"] for b in later["aging"]}["61-90"] == 5

    shown = cli(db_url, "resumo").output
    assert "Títulos em aberto: 6 (R$ 3.015,50)" in shown
    assert "Vencido: 5 títulos, R$ 2.865,50" in shown


def test_resumo_xlsx_holds_numbers_dates_and_percentages(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    portfolio(db_url, tmp_path)
    path = tmp_path / "resumo.xlsx"
    assert "Planilha gravada" in cli(db_url, "resumo", "--xlsx", str(path)).output
    book = load_workbook(path)
    assert book.sheetnames == ["Resumo", "Aging"]
    summary = [cell for cell in book["Resumo"][2]]
    assert summary[0].value == datetime(2026, 11, 23)
    assert summary[0].number_format == "dd/mm/yyyy"
    assert [c.value for c in summary[1:3]] == [4, 6]
    assert summary[3].data_type == "n"
    assert Decimal(str(summary[3].value)) == Decimal("3015.50")
    assert summary[3].number_format == '"R$ "#,##0.00'
    aging = {row[0].value: row for row in book["Aging"].iter_rows(min_row=2)}
    late = aging["1-30"]
    assert late[1].value == 5
    assert Decimal(str(late[2].value)) == Decimal("2865.50")
    assert late[3].number_format == "0.0%"
    assert round(late[3].value, 4) == round(286550 / 301550, 4)
