"""Planner benchmark: `regua run` for one date versus a plain scan of the same rows.

Builds a portfolio of N open invoices over M customers (each with an e-mail and a mobile), with
due dates spread over the past year and the next month, then in the same run times:
- `regua run --no-dispatch --date D` in a child process (segment refresh + plan + writes), and
  its peak memory;
- a plain scan reading the same columns of the same open invoices from the same database;
first for the first run on the fresh portfolio (every overdue invoice caught up to its latest
step: a one-off), then for the next day, after that first day's actions were sent (the steady
state, what a creditor runs every day).

    python bench/plan_bench.py --invoices 1000000 --customers 200000 --db sqlite
    python bench/plan_bench.py --invoices 1000000 --customers 200000 --db postgresql
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text, update

from bench.common import engine_for, fresh_database, report, run_cli
from regua.domain.calendar import effective_due_date
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.store.db import make_engine
from regua.store.tables import actions, contacts, customers, invoices

NOW = datetime(2026, 11, 23, tzinfo=UTC)
DAY = date(2026, 11, 24)  # a Tuesday
UFS = ("SP", "SP", "SP", "RJ", "MG", "BA", "PR", "RS", "PE", "CE")


def build(url: str, n_invoices: int, n_customers: int, seed: int) -> None:
    rng = random.Random(seed)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
        batch = []
        for index in range(n_customers):
            batch.append(
                {
                    "creditor_id": creditor_id,
                    "external_id": f"C{index}",
                    "name": f"Cliente {index}",
                    "document": f"{index:011d}",
                    "document_kind": "cpf",
                    "is_consumer": True,
                    "uf": rng.choice(UFS),
                    "tags": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(batch) == 20_000:
                connection.execute(customers.insert(), batch)
                batch = []
        if batch:
            connection.execute(customers.insert(), batch)
        ids = list(connection.execute(select(customers.c.id)).scalars())
        rows = []
        for cid in ids:
            rows.append(
                {
                    "customer_id": cid,
                    "channel": "email",
                    "value": f"c{cid}@ex.com",
                    "created_at": NOW,
                }
            )
            phone = f"+55119{cid:08d}"
            for channel in ("whatsapp", "sms", "phone"):
                rows.append(
                    {"customer_id": cid, "channel": channel, "value": phone, "created_at": NOW}
                )
            if len(rows) >= 40_000:
                connection.execute(contacts.insert(), rows)
                rows = []
        if rows:
            connection.execute(contacts.insert(), rows)
        effective = {}
        batch = []
        for index in range(n_invoices):
            due = DAY + timedelta(days=rng.randint(-365, 35))
            if due not in effective:
                effective[due] = effective_due_date(due)
            cents = rng.randint(2_000, 300_000)
            batch.append(
                {
                    "creditor_id": creditor_id,
                    "customer_id": ids[index % len(ids)],
                    "external_id": f"T{index}",
                    "number": str(index),
                    "description": "Mensalidade",
                    "issue_date": due - timedelta(days=20),
                    "due_date": due,
                    "effective_due_date": effective[due],
                    "amount_cents": cents,
                    "balance_cents": cents,
                    "status": "open",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(batch) == 20_000:
                connection.execute(invoices.insert(), batch)
                batch = []
        if batch:
            connection.execute(invoices.insert(), batch)
    engine.dispose()


def mark_sent(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(
            update(actions)
            .where(actions.c.status == "planned")
            .values(status="sent", sent_at=NOW + timedelta(days=1, hours=12))
        )
    engine.dispose()


def overnight_maintenance(url: str) -> None:
    """What PostgreSQL's autovacuum does in the hours between two daily runs, done at once.

    The first run rewrote a row of most invoices; autovacuum (on by default, off on some
    servers) would have cleaned the dead rows long before the next day. Without it the next
    day's index scans step over a million dead entries, which no production database has.
    """
    if not url.startswith("postgresql"):
        return
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def plain_scan(url: str) -> float:
    engine = engine_for(url)
    start = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                invoices.c.id,
                invoices.c.customer_id,
                invoices.c.due_date,
                invoices.c.balance_cents,
                invoices.c.status,
            ).where(invoices.c.status == "open")
        )
        for _row in rows:
            pass
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="regua-bench-") as tmp:
        url = fresh_database(args.db, "regua_bench_plan", Path(tmp))
        print(
            f"building {args.invoices:,} open invoices over {args.customers:,} customers ...",
            flush=True,
        )
        build(url, args.invoices, args.customers, args.seed)
        size = f"{args.invoices:,} invoices"
        # The first run on a fresh portfolio catches every overdue invoice up to its latest
        # step; the next day's run is the steady state. Both are measured. --no-dispatch: the
        # plan is measured, not sending (which would depend on the hour the bench runs at).
        first = run_cli(
            [
                "run",
                "--no-dispatch",
                "--inicio",
                "recuperar",
                "--date",
                DAY.isoformat(),
                "--db",
                url,
            ]
        )
        first_scan = plain_scan(url)
        report(
            f"first run ({DAY:%d/%m/%Y}, catch-up) over {args.invoices:,} open invoices on "
            f"{args.db}",
            first.seconds,
            first_scan,
            first.peak_rss_mb,
            goal=3,
            benchmark="plan, first run",
            db=args.db,
            size=size,
        )
        # In production the day's actions go out after the plan (the dispatch at the end of
        # `regua run`, or the workers); the next day starts from that state, not from 200,000
        # actions still waiting, and the database's overnight maintenance has run. Not timed.
        mark_sent(url)
        overnight_maintenance(url)
        next_day = DAY + timedelta(days=1)
        steady = run_cli(["run", "--no-dispatch", "--date", next_day.isoformat(), "--db", url])
        steady_scan = plain_scan(url)
        report(
            f"next day ({next_day:%d/%m/%Y}, steady state)",
            steady.seconds,
            steady_scan,
            steady.peak_rss_mb,
            goal=3,
            benchmark="plan, next day",
            db=args.db,
            size=size,
        )


if __name__ == "__main__":
    main()
