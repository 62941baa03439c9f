"""Import benchmark: `regua import invoices` versus a plain executemany of the same rows.

Generates N invoice rows in a Brazilian-format CSV (`;`, `dd/mm/aaaa`, `1.234,56`), imports them
with `regua import` in a child process (wall time and peak memory), then, in the same run, inserts
the same rows with a plain csv reader and one executemany into a fresh database of the same kind.

    python bench/import_bench.py --rows 1000000 --db sqlite
    python bench/import_bench.py --rows 1000000 --db postgresql
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import engine_for, fresh_database, report, run_cli
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.store.tables import customers, invoices

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def write_files(folder: Path, rows: int, customers_count: int, seed: int) -> tuple[Path, Path]:
    from regua.services.demo_data import _cpf  # the demo's valid CPF generator

    rng = random.Random(seed)
    customer_path = folder / "clientes.csv"
    invoice_path = folder / "titulos.csv"
    with customer_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["codigo_cliente", "nome", "cpf_cnpj"])
        for index in range(customers_count):
            writer.writerow([f"C{index}", f"Cliente {index}", _cpf(rng)])
    start = date(2025, 1, 1)
    with invoice_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["id_titulo", "numero", "codigo_cliente", "descricao", "emissao", "vencimento", "valor"]
        )
        for index in range(rows):
            due = start + timedelta(days=rng.randint(0, 700))
            cents = rng.randint(1_000, 500_000)
            amount = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            writer.writerow(
                [
                    f"T{index}",
                    str(100_000 + index),
                    f"C{rng.randrange(customers_count)}",
                    "Mensalidade de serviço",
                    (due - timedelta(days=20)).strftime("%d/%m/%Y"),
                    due.strftime("%d/%m/%Y"),
                    amount,
                ]
            )
    return customer_path, invoice_path


def plain_insert(url: str, customer_path: Path, invoice_path: Path) -> float:
    """Lower bound: read the CSV, convert the minimum, one executemany. Customers pre-loaded."""
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
        with customer_path.open(encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=";")
            next(reader)
            connection.execute(
                customers.insert(),
                [
                    {
                        "creditor_id": creditor_id,
                        "external_id": r[0],
                        "name": r[1],
                        "document": r[2].replace(".", "").replace("-", ""),
                        "document_kind": "cpf",
                        "is_consumer": True,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for r in reader
                ],
            )
        ids = {
            external: cid
            for external, cid in connection.execute(
                customers.select().with_only_columns(customers.c.external_id, customers.c.id)
            )
        }
    start = time.perf_counter()
    with engine.begin() as connection, invoice_path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        batch = []
        for r in reader:
            d, m, y = r[5].split("/")
            di, mi, yi = r[4].split("/")
            cents = int(r[6].replace(".", "").replace(",", ""))
            batch.append(
                {
                    "creditor_id": creditor_id,
                    "customer_id": ids[r[2]],
                    "external_id": r[0],
                    "number": r[1],
                    "description": r[3],
                    "issue_date": date(int(yi), int(mi), int(di)),
                    "due_date": date(int(y), int(m), int(d)),
                    "effective_due_date": date(int(y), int(m), int(d)),
                    "amount_cents": cents,
                    "balance_cents": cents,
                    "status": "open",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(batch) >= 5000:
                connection.execute(invoices.insert(), batch)
                batch = []
        if batch:
            connection.execute(invoices.insert(), batch)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regua-bench-") as tmp:
        folder = Path(tmp)
        print(f"generating {args.rows:,} invoice rows ...", flush=True)
        customer_path, invoice_path = write_files(folder, args.rows, args.customers, args.seed)
        print(f"  {invoice_path.stat().st_size / 1e6:.0f} MB CSV")

        ours_url = fresh_database(args.db, "regua_bench_import", folder)
        creditor = ["--nome", EXAMPLE_CREDITOR.legal_name, "--cnpj", EXAMPLE_CREDITOR.document]
        run_cli(["init", "--db", ours_url, *creditor])
        run_cli(["import", "customers", str(customer_path), "--db", ours_url, "--json"])
        ours = run_cli(["import", "invoices", str(invoice_path), "--db", ours_url, "--json"])

        plain_url = fresh_database(args.db, "regua_bench_plain", folder)
        baseline = plain_insert(plain_url, customer_path, invoice_path)
        report(
            f"import of {args.rows:,} invoices on {args.db}",
            ours.seconds,
            baseline,
            ours.peak_rss_mb,
            goal=3,
            benchmark="import invoices",
            db=args.db,
            size=f"{args.rows:,} rows",
        )


if __name__ == "__main__":
    main()
