"""Files built to hurt the importer, on SQLite and PostgreSQL: each is a rejected row with its
reason in pt-BR or a file refused in one line, never a traceback, and a refused file changes
nothing in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from regua.cli.main import app
from regua.errors import InputError
from regua.services.importing import StrictImportRefused
from regua.store.tables import customers, invoices, metadata
from tests.builders import CUSTOMERS_CSV, run_import, write_csv, write_xlsx

INVOICE_HEADER = "id;codigo_cliente;vencimento;valor\r\n"


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


@pytest.fixture
def loaded(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    return creditor_id


def invoices_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "titulos.csv"
    path.write_text(INVOICE_HEADER + "".join(row + "\r\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("99999999999999999999,00", "valor acima do limite de R$ 100.000.000,00"),  # > int64
        ("92.000.000.000.000,00", "valor acima do limite de R$ 100.000.000,00"),
        ("9" * 1000, "valor com dígitos demais"),
        ("100.000.000,01", "valor acima do limite de R$ 100.000.000,00"),
    ],
)
def test_absurd_amounts_are_rejected_rows(
    engine: Engine, loaded: int, tmp_path: Path, amount: str, reason: str
) -> None:
    path = invoices_file(tmp_path, f"T1;C1;20/11/2026;{amount}", "T2;C1;20/11/2026;100.000.000,00")

    result = run_import(engine, "invoices", path, loaded)

    assert result.inserted == 1  # the ceiling itself is accepted
    [error] = result.errors
    assert (error.row, error.field) == (2, "valor")
    assert error.message.startswith(reason)


def test_the_ceiling_is_a_setting(engine: Engine, loaded: int, tmp_path: Path) -> None:
    path = invoices_file(tmp_path, "T1;C1;20/11/2026;10,00", "T2;C1;20/11/2026;10,01")

    result = run_import(engine, "invoices", path, loaded, max_amount_cents=1000)

    assert result.inserted == 1
    assert [e.message for e in result.errors] == ["valor acima do limite de R$ 10,00"]


def test_an_xlsx_1e300_and_a_year_9999_are_rejected_rows(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path / "titulos.xlsx",
        [
            ["id", "codigo_cliente", "vencimento", "valor"],
            ["T1", "C1", "20/11/2026", 1e300],
            ["T2", "C1", "31/12/9999", 10.0],
            ["T3", "C1", "20/11/2026", 10.5],
        ],
    )

    result = run_import(engine, "invoices", path, loaded)

    assert result.inserted == 1
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "valor", "valor acima do limite de R$ 100.000.000,00"),
        (3, "vencimento", "data fora do intervalo aceito (anos 1900 a 2199): 31/12/9999"),
    ]


def test_a_strict_import_of_absurd_rows_changes_nothing(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    before = snapshot(engine)
    path = invoices_file(tmp_path, "T1;C1;20/11/2026;10,00", "T2;C1;31/12/9999;10,00")

    with pytest.raises(StrictImportRefused, match="linha 3: vencimento: data fora do intervalo"):
        run_import(engine, "invoices", path, loaded, strict=True)

    assert snapshot(engine) == before


def test_undefined_windows_1252_bytes_refuse_the_file(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    before = snapshot(engine)
    path = tmp_path / "clientes.csv"
    path.write_bytes(
        "codigo_cliente;nome;cpf_cnpj\r\nC9;José ".encode("cp1252")
        + b"\x81\x8d\x8f\x90\x9d;529.982.247-25\r\n"
    )

    with pytest.raises(InputError, match="não é um arquivo de texto legível"):
        run_import(engine, "customers", path, loaded)

    assert snapshot(engine) == before


def test_a_field_over_the_csv_limit_refuses_the_file_naming_the_line(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    before = snapshot(engine)
    path = invoices_file(tmp_path, "T1;C1;20/11/2026;10,00", "T2;" + "A" * 140_000 + ";x;1")

    with pytest.raises(InputError, match=r"^titulos.csv:3: um campo passa de 131.072 caracteres"):
        run_import(engine, "invoices", path, loaded)

    assert snapshot(engine) == before


def test_a_nul_byte_in_a_text_field_is_a_space(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    path = tmp_path / "clientes.csv"
    path.write_bytes(
        b"codigo_cliente;nome;cpf_cnpj;cidade\r\n"
        b"C\x001;Maria\x00Silva;529.982.247-25;S\x00o Paulo\r\n"
    )

    result = run_import(engine, "customers", path, creditor_id)

    assert (result.inserted, result.rejected) == (1, 0)
    with engine.connect() as connection:
        row = connection.execute(
            select(customers.c.external_id, customers.c.name, customers.c.city)
        ).one()
    assert tuple(row) == ("C 1", "Maria Silva", "S o Paulo")


def test_one_cell_at_xfd1048576_does_not_make_the_sheet_that_big(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["id", "codigo_cliente", "vencimento", "valor"])
    sheet.append(["T1", "C1", "20/11/2026", "10,00"])
    sheet["XFD1048576"] = "x"
    path = tmp_path / "titulos.xlsx"
    workbook.save(path)
    assert path.stat().st_size < 10_000

    # Before, openpyxl padded every row to 16,384 cells and read 1,048,576 rows: minutes.
    result = run_import(engine, "invoices", path, loaded)

    assert (result.inserted, result.rejected) == (1, 0)


def test_a_header_wider_than_any_export_is_refused(
    engine: Engine, loaded: int, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "largo.xlsx", [[f"c{n}" for n in range(2000)]])

    with pytest.raises(InputError, match=r"o cabeçalho tem 2\.000 colunas; o máximo é 1\.000"):
        run_import(engine, "invoices", path, loaded)


def test_the_command_line_says_one_line_and_no_row_data(
    engine: Engine, loaded: int, tmp_path: Path, db_url: str
) -> None:
    path = invoices_file(tmp_path, "T1;C1;20/11/2026;10,00", "T2;" + "A" * 140_000 + ";x;1")

    result = CliRunner().invoke(app, ["import", "invoices", str(path), "--db", db_url])

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "erro: titulos.csv:3: um campo passa de 131.072 caracteres"
    ]
    with engine.connect() as connection:
        assert connection.execute(select(invoices.c.id)).all() == []
