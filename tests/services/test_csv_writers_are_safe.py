"""Every CSV regua writes, read back as a spreadsheet reads it: no cell starts a formula, and
amounts stay numbers. The rejects file of an import (SQLite and PostgreSQL) and `regua calls
--csv`."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from regua.channels.registry import ChannelRegistry
from regua.cli.main import app
from regua.clock import FixedClock
from regua.config import Settings
from regua.domain.csv_safety import FORMULA_STARTS
from regua.services.daily_cycle import plan
from regua.services.dispatching import Dispatcher
from tests.builders import run_import

MONDAY = date(2026, 11, 23)
AT_9_IN_SAO_PAULO = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example";"pague aqui")'


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def assert_no_live_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            plain_number = cell.lstrip("+-").replace(",", "").replace(".", "").isdigit()
            assert not cell.startswith(FORMULA_STARTS) or plain_number, cell


def test_the_rejects_file_quotes_formulas_and_keeps_negative_amounts(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    source = tmp_path / "titulos.csv"
    source.write_text(
        "id;codigo_cliente;descricao;vencimento;valor\r\n"
        f"T1;C1;{HOSTILE.replace(';', ',')};20/11/2026;-12,50\r\n"
        "T2;@SUM(1);\t=1+1;20/11/2026;-1.234,56\r\n"
        "=cmd|' /C calc'!A0;C1;x;31/02/2026;10,00\r\n",
        encoding="utf-8",
    )
    result = run_import(engine, "invoices", source, creditor_id)

    assert result.rejected == 3
    rows = read_rows(Path(result.reject_file or ""))
    assert_no_live_formula(rows)
    by_line = {row[0]: row for row in rows[1:]}
    assert by_line["2"][3:] == [
        "T1",
        "C1",
        "'" + HOSTILE.replace(";", ","),
        "20/11/2026",
        "-12,50",
    ]
    # "\t=1+1" is read as "=1+1" (cells are trimmed to one line) and written as text.
    assert by_line["3"][3:] == ["T2", "'@SUM(1)", "'\t=1+1", "20/11/2026", "-1.234,56"]
    assert by_line["4"][3] == "'=cmd|' /C calc'!A0"


def test_the_call_list_quotes_a_hostile_name(
    engine: Engine, creditor_id: int, tmp_path: Path, db_url: str
) -> None:
    customers_csv = tmp_path / "clientes.csv"
    customers_csv.write_text(
        "codigo_cliente;nome;cpf_cnpj;celular;uf\r\n"
        "@K1;-2+3+cmd|' /C calc'!A0;529.982.247-25;(92) 99111-2222;AM\r\n",
        encoding="utf-8",
    )
    run_import(engine, "customers", customers_csv, creditor_id)
    invoices_csv = tmp_path / "titulos.csv"
    invoices_csv.write_text(
        "id;codigo_cliente;vencimento;valor\r\n=V1;@K1;06/11/2026;500,00\r\n", encoding="utf-8"
    )
    run_import(engine, "invoices", invoices_csv, creditor_id)
    with engine.begin() as connection:
        planned = plan(
            connection, creditor_id, MONDAY, AT_9_IN_SAO_PAULO, start="recuperar"
        ).actions
    assert [a.channel for a in planned] == ["phone"]
    clock = FixedClock(AT_9_IN_SAO_PAULO)
    registry = ChannelRegistry.from_settings(Settings(outbox_dir=tmp_path / "out"), clock=clock)
    Dispatcher(engine, registry, clock=clock, jitter=lambda: 0.0).dispatch_due(today=MONDAY)

    out = tmp_path / "ligacoes.csv"
    cli = CliRunner().invoke(
        app, ["calls", "--db", db_url, "--date", "2026-11-23", "--csv", str(out)]
    )

    assert cli.exit_code == 0, cli.output
    rows = read_rows(out)
    assert_no_live_formula(rows)
    header, row = rows
    values = dict(zip(header, row, strict=True))
    assert values["cliente"] == "'@K1"
    assert values["nome"] == "'-2+3+cmd|' /C calc'!A0"
    assert values["titulos"] == "'=V1"
    assert values["telefone"] == "+5592991112222"
    assert values["total"] == "512,83"


def test_the_demo_files_hold_no_cell_a_spreadsheet_would_run(tmp_path: Path) -> None:
    # The demo writes its own synthetic data (fixed word lists, formatted phones and amounts),
    # which regua imports back: no cell of it may start a formula either.
    from regua.services.demo_data import generate

    files = generate(tmp_path, customers=300, seed=3, today=MONDAY)
    for path in (files.customers, files.invoices, files.payments, files.future_payments):
        assert_no_live_formula(read_rows(path))
