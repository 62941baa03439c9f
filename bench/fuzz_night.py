"""The importer's property tests, for the night: the same files and checks as
tests/services/test_import_fuzz.py (tests/fuzz_files.py), with many more examples. (The BR Code
decoder and the webhook bodies run long with bench/fuzz_night_payments.py.)

    python bench/fuzz_night.py --examples 20000 --db sqlite
    python bench/fuzz_night.py --examples 5000 --db postgresql --seed 7

Prints how many files of each sort were tried and the first failure, with the file kept in the
working folder, and exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from tests.builders import CUSTOMERS_CSV, run_import, write_csv
from tests.fuzz_files import NOW, check_import, csv_files, write_sheet, xlsx_sheets

from bench.common import engine_for, fresh_database
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.importing import ImportKind
from regua.services.setup import create_creditor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000, help="files of each sort")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regua-fuzz-"))
    engine = engine_for(fresh_database(options.db, "regua_fuzz_night", folder))
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
    run_import(engine, "customers", write_csv(folder / "c.csv", CUSTOMERS_CSV), creditor_id)
    tried: Counter[str] = Counter()
    night = settings(
        max_examples=options.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    @seed(options.seed)
    @night
    @given(file=csv_files(), strict=st.booleans())
    def csv_run(file: tuple[ImportKind, bytes], strict: bool) -> None:
        kind, data = file
        path = folder / "arquivo.csv"
        path.write_bytes(data)
        tried["csv"] += 1
        check_import(engine, creditor_id, kind, path, strict)

    @seed(options.seed)
    @night
    @given(sheet=xlsx_sheets(), strict=st.booleans())
    def xlsx_run(sheet: tuple[ImportKind, list[list[Any]], str | None], strict: bool) -> None:
        kind, rows, far = sheet
        path = write_sheet(folder / "planilha.xlsx", rows, far)
        tried["xlsx"] += 1
        check_import(engine, creditor_id, kind, path, strict)

    started = time.perf_counter()
    try:
        csv_run()
        xlsx_run()
    except Exception as exc:  # the failing example, shrunk by hypothesis, is in the report
        print(f"FALHA depois de {dict(tried)} arquivos: {type(exc).__name__}: {exc}")
        print(f"arquivos da falha em {folder}")
        return 1
    finally:
        engine.dispose()
    print(
        f"{sum(tried.values())} arquivos importados ou recusados sem erro "
        f"({dict(tried)}) em {time.perf_counter() - started:.0f} s, banco {options.db}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
