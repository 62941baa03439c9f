"""Reconciliation benchmark: `regua cnab` versus one plain bulk UPDATE, then PIX webhook latency.

Builds a portfolio of N open invoices with nosso números (inserted directly, executemany),
writes a CNAB 240 return file of M settlements with the codec's writer, and times
`regua cnab FILE` in a child process: parse, match, record the payments, settle the invoices,
cancel their planned actions, plan the thank-you messages. In the same run, on a copy of the
same data, it applies the same settlements with one plain executemany UPDATE of the balances
(reading the file with bare slicing). Both times and their ratio are printed (goal <= 3).
On SQLite it also times, on a third copy, the writes any such import must make as bare driver
statements (settled balances, payments, timeline entries, thank-yous), to read the import's
ratio against.

Then it starts uvicorn on 127.0.0.1 in a child process and posts K signed PIX webhook calls,
one after another, each settling one invoice that has a planned collection action. The answer
comes after the commit, so the request latency is the time from the request to the moment the
invoice is settled and its actions cancelled; p50 and p99 are printed (goal: p99 < 1 s).

    python bench/reconcile_bench.py --db sqlite --invoices 20000 --settlements 2000   # quick
    python bench/reconcile_bench.py --db sqlite                                       # full
    python bench/reconcile_bench.py --db postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import bindparam, func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PG_ADMIN_URL,
    database_name,
    engine_for,
    fresh_database,
    record,
    report,
    run_cli,
)
from regua.domain.fees import FeeTerms, charges
from regua.payments.cnab import SettlementLine, cnab240
from regua.payments.webhooks import sign
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.policies import active_policies
from regua.services.setup import create_creditor
from regua.store.db import make_engine
from regua.store.tables import (
    action_invoices,
    actions,
    contacts,
    customers,
    invoices,
)

NOW = datetime.now(UTC)
TODAY = NOW.astimezone(ZoneInfo("America/Sao_Paulo")).date()
CONVENIO = "1234567"  # Banco do Brasil style: 7-digit convênio + 10-digit sequence
SECRET = "bench-secret-" + "0" * 20
BATCH = 20_000


def nosso_numero(index: int) -> str:
    return f"{CONVENIO}{index:010d}"


def txid(index: int) -> str:
    return f"regua{index:026d}"


def populate(url: str, n_invoices: int, n_customers: int, n_webhooks: int, seed: int) -> int:
    """Creditor, customers with contacts, open invoices; the last `n_webhooks` carry a txid."""
    rng = random.Random(seed)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
        for start in range(0, n_customers, BATCH):
            ids = range(start, min(start + BATCH, n_customers))
            connection.execute(
                customers.insert(),
                [
                    {
                        "id": i + 1,
                        "creditor_id": creditor_id,
                        "external_id": f"C{i}",
                        "name": f"Cliente {i}",
                        "document": f"{i:011d}",
                        "document_kind": "cpf",
                        "is_consumer": True,
                        "uf": "SP",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                contacts.insert(),
                [
                    {
                        "customer_id": i + 1,
                        "channel": channel,
                        "value": value,
                        "created_at": NOW,
                    }
                    for i in ids
                    for channel, value in (
                        ("whatsapp", f"+55119{i:08d}"),
                        ("email", f"cliente{i}@exemplo.com.br"),
                    )
                ],
            )
        first_txid = n_invoices - n_webhooks
        rows = []
        for i in range(n_invoices):
            due = TODAY + timedelta(days=rng.randint(-30, 60))
            cents = rng.randint(1_000, 500_000)
            rows.append(
                {
                    "id": i + 1,
                    "creditor_id": creditor_id,
                    "customer_id": 1 + i % n_customers,
                    "external_id": f"T{i}",
                    "number": str(100_000 + i),
                    "description": "Mensalidade",
                    "due_date": due,
                    "effective_due_date": due,
                    "amount_cents": cents,
                    "balance_cents": cents,
                    "status": "open",
                    "nosso_numero": nosso_numero(i),
                    "pix_txid": txid(i) if i >= first_txid else None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(rows) >= BATCH:
                connection.execute(invoices.insert(), rows)
                rows = []
        if rows:
            connection.execute(invoices.insert(), rows)
        if connection.dialect.name == "postgresql":
            # Explicit ids were inserted: move the sequences past them.
            for table in ("customers", "invoices"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        # A creditor in production has its régua stored already; install it before timing.
        active_policies(connection, creditor_id, NOW)
    engine.dispose()
    return creditor_id


def plan_actions(url: str, creditor_id: int, invoice_ids: list[int]) -> None:
    """A planned collection action today for each given invoice (one per customer)."""
    engine = engine_for(url)
    with engine.begin() as connection:
        owners = dict(
            connection.execute(
                select(invoices.c.customer_id, invoices.c.id).where(invoices.c.id.in_(invoice_ids))
            ).all()
        )
        rows = [
            {
                "creditor_id": creditor_id,
                "customer_id": customer_id,
                "purpose": "collection",
                "planned_for": TODAY,
                "policy_name": "padrao",
                "policy_version": "bench",
                "step_id": "vence-hoje",
                "step_offset": 0,
                "channel": "whatsapp",
                "template": "vence_hoje",
                "status": "planned",
                "created_at": NOW,
            }
            for customer_id in owners
        ]
        for start in range(0, len(rows), BATCH):
            connection.execute(actions.insert(), rows[start : start + BATCH])
        ids = dict(
            connection.execute(
                select(actions.c.customer_id, actions.c.id).where(actions.c.planned_for == TODAY)
            ).all()
        )
        links = [
            {"action_id": ids[customer_id], "invoice_id": invoice_id, "step_id": "vence-hoje"}
            for customer_id, invoice_id in owners.items()
        ]
        for start in range(0, len(links), BATCH):
            connection.execute(action_invoices.insert(), links[start : start + BATCH])
    engine.dispose()


def write_return_file(
    url: str, path: Path, n_settlements: int, n_candidates: int, seed: int
) -> list[int]:
    """A CNAB 240 file settling `n_settlements` random invoices among the first candidates.

    Nine in ten pay the whole amount, one in ten half of it. Returns the settled invoice ids.
    """
    rng = random.Random(seed + 1)
    chosen = sorted(rng.sample(range(n_candidates), n_settlements))
    engine = engine_for(url)
    with engine.connect() as connection:
        facts = {
            row.id: row
            for start in range(0, len(chosen), BATCH)
            for row in connection.execute(
                select(invoices.c.id, invoices.c.due_date, invoices.c.amount_cents).where(
                    invoices.c.id.in_([i + 1 for i in chosen[start : start + BATCH]])
                )
            )
        }
    engine.dispose()
    paid_on = TODAY - timedelta(days=1)
    lines = []
    for index in chosen:
        row = facts[index + 1]
        cents = row.amount_cents if rng.random() < 0.9 else row.amount_cents // 2
        lines.append(
            SettlementLine(
                nosso_numero=nosso_numero(index),
                seu_numero=str(100_000 + index),
                due_date=row.due_date,
                face_cents=row.amount_cents,
                paid_cents=cents,
                paid_on=min(paid_on, row.due_date),  # on time: no fees to split
                credited_on=TODAY,
            )
        )
    path.write_bytes(
        cnab240.write_return(
            bank_code="001",
            company_document="11444777000161",
            company_name="Empresa de Bench Ltda",
            generated_on=TODAY,
            records=lines,
        )
    )
    return [index + 1 for index in chosen]


def analyze(url: str) -> None:
    """PostgreSQL statistics for the freshly loaded tables.

    In production autovacuum analyses a table within a minute of a bulk load; a benchmark that
    starts right after the load would otherwise time plans made for empty tables. SQLite is
    left as regua leaves it, without statistics.
    """
    engine = engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def copy_database(
    kind: str, url: str, folder: Path, name: str = "regua_bench_reconcile_plain"
) -> str:
    """A copy of the populated database, for the baseline to run on the same data."""
    if kind == "sqlite":
        source = Path(url.removeprefix("sqlite:///"))
        target = folder / f"{name}.db"
        shutil.copy(source, target)
        return f"sqlite:///{target}"
    name, template = database_name(name), database_name("regua_bench_reconcile")
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def settle_io(url: str) -> None:
    """Let the writes of building and copying the databases reach the disk before timing.

    Copying a 400 MB SQLite file (or CREATE DATABASE ... TEMPLATE, which PostgreSQL writes
    through its WAL) leaves the kernel and the server flushing for seconds afterwards; whichever
    side ran first would pay for it. Both sides start from a flushed disk instead.
    """
    os.sync()
    engine = engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
    engine.dispose()


def sliced_settlements(path: Path) -> list[tuple[str, int]]:
    """(nosso número, valor pago) of each T/U pair, sliced out of the lines, nothing checked."""
    settlements = []
    nosso = ""
    for line in path.read_bytes().decode("latin-1").split("\r\n"):
        if len(line) < 240 or line[7] != "3":
            continue
        if line[13] == "T":
            nosso = line[37:57].strip()
        elif line[13] == "U":
            settlements.append((nosso, int(line[77:92])))
    return settlements


def plain_update(url: str, path: Path) -> float:
    """Lower bound: slice nosso número and valor pago out of each T/U pair, one executemany."""
    engine = engine_for(url)
    start = time.perf_counter()
    rows = [{"nn": nosso, "paid": paid} for nosso, paid in sliced_settlements(path)]
    with engine.begin() as connection:
        connection.execute(
            update(invoices)
            .where(invoices.c.nosso_numero == bindparam("nn"))
            .values(balance_cents=invoices.c.balance_cents - bindparam("paid")),
            rows,
        )
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def sqlite_writes_alone(url: str, path: Path, creditor_id: int) -> float:
    """SQLite only: the writes an import must make, as bare driver statements, and nothing else.

    Reads the file as the baseline does, finds each invoice by nosso número, then settles the
    invoices (balance, status, settled_on, updated_at, in key order), inserts a payment and a
    timeline entry per settlement and one thank-you action per customer paid in full with its
    links, and commits. No checks, no fees, no text worth reading: a floor under any import that
    keeps a payment, a timeline and thank-yous, against which to read the import's own time.
    """
    engine = engine_for(url)  # regua's connection settings (pragmas)
    with engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        start = time.perf_counter()
        paid = dict(sliced_settlements(path))
        cursor = raw.cursor()
        found = sorted(
            (invoice_id, customer_id, number, balance)
            for number, invoice_id, customer_id, balance in cursor.execute(
                "SELECT nosso_numero, id, customer_id, balance_cents FROM invoices "
                "WHERE nosso_numero IN (SELECT value FROM json_each(?))",
                (json.dumps(list(paid)),),
            )
        )
        now = NOW.isoformat(sep=" ")
        today = TODAY.isoformat()
        settled = [(i, c, n, b - paid[n]) for i, c, n, b in found]
        cursor.executemany(
            "UPDATE invoices SET balance_cents = ?, status = ?, settled_on = ?, updated_at = ? "
            "WHERE id = ?",
            [
                (max(left, 0), "paid" if left <= 0 else "open", today, now, i)
                for i, _c, _n, left in settled
            ],
        )
        cursor.executemany(
            "INSERT INTO payments (creditor_id, external_id, source, invoice_id, customer_id, "
            "amount_cents, applied_cents, paid_on, status, received_at) "
            "VALUES (?, ?, 'cnab', ?, ?, ?, ?, ?, 'applied', ?)",
            [(creditor_id, n, i, c, paid[n], paid[n], today, now) for i, c, n, _left in settled],
        )
        cursor.executemany(
            "INSERT INTO interactions (customer_id, invoice_id, at, kind, detail, data) "
            "VALUES (?, ?, ?, 'paid', ?, ?)",
            [
                (
                    c,
                    i,
                    now,
                    f"Pagamento de {paid[n]} centavos, título {n}",
                    f'{{"paid": {paid[n]}}}',
                )
                for i, c, n, _left in settled
            ],
        )
        thanked = sorted({c for _i, c, _n, left in settled if left <= 0})
        cursor.executemany(
            "INSERT INTO actions (creditor_id, customer_id, purpose, planned_for, policy_name, "
            "policy_version, step_id, step_offset, status, created_at) "
            "VALUES (?, ?, 'thank_you', ?, 'padrao', '1', 'agradecimento', 0, 'planned', ?)",
            [(creditor_id, c, today, now) for c in thanked],
        )
        action_of = dict(
            cursor.execute(
                "SELECT customer_id, id FROM actions "
                "WHERE purpose = 'thank_you' AND planned_for = ?",
                (today,),
            )
        )
        cursor.executemany(
            "INSERT INTO action_invoices (action_id, invoice_id, step_id) "
            "VALUES (?, ?, 'agradecimento')",
            [(action_of[c], i) for i, c, _n, left in settled if left <= 0],
        )
        raw.commit()
        elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_latencies(url: str, first: int, count: int) -> list[float]:
    """Start uvicorn on loopback, post `count` signed Pix one by one, return the latencies."""
    port = free_port()
    env = {**os.environ, "REGUA_DATABASE_URL": url, "REGUA_PIX_WEBHOOK_SECRET": SECRET}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "regua.web.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):  # up to 30 s for the server to start
                try:
                    client.get("/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("uvicorn did not start")
            engine = engine_for(url)
            with engine.connect() as connection:
                # What settles each invoice today: the balance plus multa and juros if late.
                amounts = {
                    invoice_id: charges(balance, due, TODAY, FeeTerms()).total_cents
                    for invoice_id, balance, due in connection.execute(
                        select(invoices.c.id, invoices.c.balance_cents, invoices.c.due_date).where(
                            invoices.c.id.between(first + 1, first + count)
                        )
                    )
                }
            engine.dispose()
            paid_at = NOW.astimezone(ZoneInfo("America/Sao_Paulo")).isoformat(timespec="seconds")
            for n in range(count):
                index = first + n
                cents = amounts[index + 1]
                body = json.dumps(
                    {
                        "pix": [
                            {
                                "endToEndId": f"E18236120{TODAY:%Y%m%d}1015{n:011d}",
                                "txid": txid(index),
                                "valor": f"{cents // 100}.{cents % 100:02d}",
                                "horario": paid_at,
                            }
                        ]
                    }
                ).encode()
                headers = {"X-Regua-Signature": sign(body, SECRET)}
                start = time.perf_counter()
                response = client.post("/api/v1/webhooks/pix/pix", content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200 or response.json()["applied"][0][
                    "invoice_status"
                ] != ("paid"):
                    raise SystemExit(f"webhook {n} failed: {response.status_code} {response.text}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return latencies


def check_webhooks(url: str, first: int, count: int) -> tuple[int, int]:
    """(invoices paid, collection actions still planned) among the webhook invoices."""
    engine = engine_for(url)
    with engine.connect() as connection:
        paid = connection.execute(
            select(func.count())
            .select_from(invoices)
            .where(invoices.c.id.between(first + 1, first + count), invoices.c.status == "paid")
        ).scalar_one()
        planned = connection.execute(
            select(func.count())
            .select_from(actions.join(action_invoices, action_invoices.c.action_id == actions.c.id))
            .where(
                action_invoices.c.invoice_id.between(first + 1, first + count),
                actions.c.status == "planned",
                actions.c.purpose == "collection",
            )
        ).scalar_one()
    engine.dispose()
    return int(paid), int(planned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--settlements", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=1_000)
    parser.add_argument("--customers", type=int, default=None, help="default: invoices / 5")
    parser.add_argument(
        "--planned-share",
        type=float,
        default=0.2,
        help="share of the settled invoices with a planned collection action",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.settlements + args.webhooks > args.invoices:
        raise SystemExit("--settlements + --webhooks must not exceed --invoices")
    n_customers = args.customers or max(1, args.invoices // 5)
    first_webhook = args.invoices - args.webhooks
    with tempfile.TemporaryDirectory(prefix="regua-bench-") as tmp:
        folder = Path(tmp)
        print(f"portfolio: {args.invoices:,} open invoices, {n_customers:,} customers", flush=True)
        started = time.perf_counter()
        ours_url = fresh_database(args.db, "regua_bench_reconcile", folder)
        creditor_id = populate(ours_url, args.invoices, n_customers, args.webhooks, args.seed)
        return_path = folder / "retorno.ret"
        settled = write_return_file(
            ours_url, return_path, args.settlements, first_webhook, args.seed
        )
        with_actions = random.Random(args.seed + 2).sample(
            settled, int(len(settled) * args.planned_share)
        )
        webhook_ids = list(range(first_webhook + 1, args.invoices + 1))
        plan_actions(ours_url, creditor_id, sorted({*with_actions, *webhook_ids}))
        analyze(ours_url)
        print(
            f"  built in {time.perf_counter() - started:.0f} s; return file "
            f"{return_path.stat().st_size / 1e6:.0f} MB ({args.settlements:,} settlements, "
            f"{len(with_actions):,} with a planned action)",
            flush=True,
        )
        plain_url = copy_database(args.db, ours_url, folder)
        floor_url = (
            copy_database(args.db, ours_url, folder, "regua_bench_reconcile_floor")
            if args.db == "sqlite"
            else None
        )

        settle_io(ours_url)
        ours = run_cli(["cnab", str(return_path), "--db", ours_url, "--json"])
        outcome = json.loads(ours.output)
        settle_io(plain_url)
        baseline = plain_update(plain_url, return_path)
        report(
            f"CNAB 240 import of {args.settlements:,} settlements into {args.invoices:,} "
            f"invoices on {args.db}",
            ours.seconds,
            baseline,
            ours.peak_rss_mb,
            goal=3,
            benchmark="CNAB return",
            db=args.db,
            size=f"{args.settlements:,} of {args.invoices:,}",
        )
        if floor_url is not None:
            settle_io(floor_url)
            floor = sqlite_writes_alone(floor_url, return_path, creditor_id)
            print(
                f"  the writes alone: {floor:8.2f} s = {floor / baseline:.2f} x baseline "
                "(bare statements: no checks, fees or texts; see sqlite_writes_alone)"
            )
        print(
            f"  applied {outcome['applied']:,}, settled {outcome['settled']:,}, partial "
            f"{outcome['partial']:,}, unmatched {len(outcome['unmatched']):,}, actions cancelled "
            f"{outcome['cancelled_actions']:,}, thank-you planned {outcome['thank_you_actions']:,}"
        )
        if outcome["applied"] != args.settlements:
            raise SystemExit("not every settlement was applied")

        if args.webhooks:
            latencies = webhook_latencies(ours_url, first_webhook, args.webhooks)
            paid, still_planned = check_webhooks(ours_url, first_webhook, args.webhooks)
            cuts = statistics.quantiles(latencies, n=100, method="inclusive")
            print(f"PIX webhook on loopback: {len(latencies):,} calls, one at a time, {args.db}")
            print(f"  p50:       {cuts[49] * 1000:8.1f} ms")
            print(f"  p99:       {cuts[98] * 1000:8.1f} ms  (goal < 1000)")
            print(f"  max:       {max(latencies) * 1000:8.1f} ms")
            record("PIX webhook p99", args.db, f"{args.webhooks:,} calls", cuts[98], None, 1.0)
            print(
                f"  invoices settled {paid:,} of {args.webhooks:,}; actions still planned "
                f"{still_planned}"
            )


if __name__ == "__main__":
    main()
