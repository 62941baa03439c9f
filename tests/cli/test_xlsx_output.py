"""`--xlsx FILE`: typed cells (dates as dates, money as numbers in reais with the R$ format,
counts as integers) that a spreadsheet can sum and sort, and text that is never a formula.

Each file is read back with openpyxl, and its XML is searched for formulas."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from regua.cli.xlsx_output import MONEY_FORMAT, Column, Sheet, money, write_xlsx
from tests.builders import write_csv
from tests.cli.analyst_portfolio import cli, portfolio

DANGEROUS = ("=1+1", "+5511987654321", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")')


def formulas_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)
        ]


def test_cells_are_typed_and_text_is_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    columns = (
        Column("Texto"),
        Column("Data", "date"),
        Column("Valor", "money"),
        Column("Qtd", "int"),
        Column("Parte", "percent"),
    )
    rows = [(text, date(2026, 11, 23), 123456, 7, 0.25) for text in DANGEROUS]
    rows.append(("nome\x00com\x07controle", None, None, None, None))
    rows.append(("centavo", "2026-01-05", 1, 0, 0))
    assert write_xlsx(path, [Sheet("Teste: [1]", columns, rows)]) == len(rows)

    assert formulas_in(path) == []
    book = load_workbook(path)
    assert book.sheetnames == ["Teste 1"]
    sheet = book["Teste 1"]
    assert [c.value for c in sheet[1]] == ["Texto", "Data", "Valor", "Qtd", "Parte"]
    for index, text in enumerate(DANGEROUS, start=2):
        cell, day, value, count, part = sheet[index]
        assert (cell.value, cell.data_type) == (text, "s")
        assert day.is_date and day.value == datetime(2026, 11, 23)
        assert day.number_format == "dd/mm/yyyy"
        assert value.data_type == "n" and Decimal(str(value.value)) == Decimal("1234.56")
        assert value.number_format == MONEY_FORMAT
        assert (count.value, count.data_type) == (7, "n")
        assert part.value == 0.25 and part.number_format == "0.0%"
    blank = sheet[len(DANGEROUS) + 2]
    assert blank[0].value == "nomecomcontrole"
    assert [c.value for c in blank[1:]] == [None, None, None, None]
    last = sheet[len(DANGEROUS) + 3]
    assert last[1].value == datetime(2026, 1, 5)
    assert Decimal(str(last[2].value)) == Decimal("0.01")


@pytest.mark.parametrize(("cents", "reais"), [(0, "0"), (1, "0.01"), (-1050, "-10.50")])
def test_money_is_exact_reais(cents: int, reais: str) -> None:
    assert money(cents) == Decimal(reais)


def test_segments_payments_and_calls_write_typed_sheets(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGUA_OUTBOX_DIR", str(tmp_path / "caixa"))
    portfolio(db_url, tmp_path)
    cli(db_url, "run", "--no-dispatch")

    segments = tmp_path / "segmentos.xlsx"
    cli(db_url, "segments", "--xlsx", str(segments))
    [row] = list(load_workbook(segments)["Segmentos"].iter_rows(min_row=2, values_only=True))
    assert row[:2] == ("Novo", 4)
    assert Decimal(str(row[2])) == Decimal("3015.50")  # NF-6 open, not yet due
    assert Decimal(str(row[3])) == Decimal("2865.50")

    payments_file = write_csv(
        tmp_path / "pagamentos.csv",
        "id_pagamento;titulo;data_pagamento;valor\nP1;T2;24/11/2026;2.553,33\n",
    )
    cli(db_url, "import", "payments", str(payments_file), today="2026-11-24")
    sheet_path = tmp_path / "pagamentos.xlsx"
    shown = cli(db_url, "payments", "--xlsx", str(sheet_path), today="2026-11-24")
    assert "Planilha gravada" in shown.output
    sheet = load_workbook(sheet_path)["Pagamentos"]
    [payment] = list(sheet.iter_rows(min_row=2))
    assert payment[0].value == datetime(2026, 11, 24)
    assert payment[2].value == "NF-2"
    assert payment[5].value == "C2"
    assert Decimal(str(payment[7].value)) == Decimal("2553.33")
    assert payment[7].number_format == MONEY_FORMAT
    # 11 days late on R$ 2.500,00 (a company): multa 2 % = 50,00, juros 11 days = 9,17.
    assert Decimal(str(payment[9].value)) == Decimal("59.17")

    cli(db_url, "run", "--no-dispatch", today="2026-11-30")  # D+17: the call step
    calls = tmp_path / "ligacoes.xlsx"
    cli(db_url, "calls", "--xlsx", str(calls), today="2026-11-30")
    assert formulas_in(calls) == []
    rows = list(load_workbook(calls)["Ligações"].iter_rows(min_row=2))
    by_customer = {r[1].value: r for r in rows}
    assert set(by_customer) >= {"C1"}
    c1 = by_customer["C1"]
    assert c1[0].value == datetime(2026, 11, 30)
    assert (c1[3].value, c1[3].data_type) == ("+5511987654321", "s")
    assert c1[5].value == "NF-1"
    assert Decimal(str(c1[6].value)) == Decimal("150.00")
    assert c1[13].data_type == "n"
