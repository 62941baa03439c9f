"""Property tests of the importer with files made to break it (`tests/fuzz_files.py`), on SQLite
and PostgreSQL, at a bounded number of examples: no traceback, and a refused file, strict or
not, leaves the database exactly as it was. The long run is bench/fuzz_night.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from regua.services.importing import ImportKind
from tests.builders import CUSTOMERS_CSV, run_import, write_csv
from tests.fuzz_files import check_import, csv_files, write_sheet, xlsx_sheets

# The engine fixture is one database for all examples: each example checks what it changed.
FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _with_customers(engine: Engine, creditor_id: int, folder: Path) -> None:
    run_import(engine, "customers", write_csv(folder / "c.csv", CUSTOMERS_CSV), creditor_id)


@FUZZ
@given(file=csv_files(), strict=...)
def test_any_csv_is_imported_or_refused_cleanly(
    engine: Engine, creditor_id: int, tmp_path: Path, file: tuple[ImportKind, bytes], strict: bool
) -> None:
    if not (tmp_path / "c.csv").exists():
        _with_customers(engine, creditor_id, tmp_path)
    kind, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "arquivo.csv"
        path.write_bytes(data)
        check_import(engine, creditor_id, kind, path, strict)


@settings(FUZZ, max_examples=60)
@given(sheet=xlsx_sheets(), strict=...)
def test_any_xlsx_is_imported_or_refused_cleanly(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    sheet: tuple[ImportKind, list[list[object]], str | None],
    strict: bool,
) -> None:
    if not (tmp_path / "c.csv").exists():
        _with_customers(engine, creditor_id, tmp_path)
    if engine.dialect.name != "sqlite":
        return  # the sheet reader is what is fuzzed here; the CSV test writes to both databases
    kind, rows, far = sheet
    with tempfile.TemporaryDirectory() as folder:
        path = write_sheet(Path(folder) / "planilha.xlsx", rows, far)
        check_import(engine, creditor_id, kind, path, strict)


@settings(FUZZ, max_examples=50)
@given(data=...)
def test_random_bytes_named_xlsx_are_refused_in_one_line(
    engine: Engine, creditor_id: int, data: bytes
) -> None:
    if engine.dialect.name != "sqlite":
        return  # refused before any database work, whichever database
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "planilha.xlsx"
        path.write_bytes(b"PK\x03\x04" + data)
        check_import(engine, creditor_id, "invoices", path, strict=True)
