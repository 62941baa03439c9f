"""Portal benchmark: the debt page for random customers of an N-customer portfolio, served by
the real app (uvicorn, loopback, one process or N), against a bare FastAPI endpoint returning the
same page as fixed bytes, with the same concurrent clients, in the same run.

Builds a portfolio of N customers (one to three invoices each, most overdue, e-mail and WhatsApp),
starts `regua`'s web app in a child process (with ``--workers N``, in N uvicorn worker processes,
as `regua serve --workers N` runs it), signs in a sample of random customers through the
identity check (GET the link, POST the first five digits of the CPF, keep the session cookie),
then has C concurrent clients (httpx, asyncio) fetch the debt page of a random signed-in customer
R times: each page reads the customer, the debt today and the offers, builds the PIX code and
writes the view on the customer's timeline (the QR code is an image of its own, drawn when the
debtor opens it, and not fetched here). The bare endpoint (another child process, the same
uvicorn, with as many worker processes) answers one of those pages as fixed bytes; it is
measured before and after regua's run and the two are averaged. Printed: requests per second
of each, their ratio (goal: regua at least half the bare endpoint's), and regua's p50/p99
latency (goal: p99 under 100 ms).

For `bench.run_all`, whose ratios are "ours / lower bound, at most the goal", the throughput is
recorded as seconds per request (1 / rps): the recorded ratio is bare rps / regua rps, goal <= 2.

    python bench/portal_bench.py --customers 200000 --db sqlite
    python bench/portal_bench.py --customers 200000 --db postgresql
    python bench/portal_bench.py --customers 200000 --db postgresql --workers 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import select

from bench.common import engine_for, fresh_database, record
from regua.domain.calendar import effective_due_date
from regua.domain.customer_links import LinkPurpose, make_link_token
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.policies import active_policies
from regua.services.setup import create_creditor
from regua.store.bulk import refresh_statistics
from regua.store.tables import contacts, customers, invoices

if TYPE_CHECKING:
    from fastapi import FastAPI

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
TODAY = NOW.date()
# Worker processes build the app from REGUA_* variables: REGUA_TODAY stops their clock at noon
# of TODAY in this zone, which is NOW (`serve_regua` checks), so they serve the same pages.
ZONE = "America/Sao_Paulo"
PAGE_VARIABLE = "REGUA_BENCH_PAGE"
SECRET = "segredo-do-benchmark-do-portal"
BATCH = 20_000
RPS_GOAL = 2.0  # bare rps / regua rps: regua serves at least half as many pages
P99_GOAL = 0.1  # seconds
WARM_UP = 40  # pages fetched before each measurement (connections, caches of SQLAlchemy)


def build(url: str, n_customers: int, seed: int) -> None:
    """N customers with one to three invoices each (most overdue), an e-mail and a WhatsApp."""
    rng = random.Random(seed)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
        # The packaged régua made active, as the first `regua run` of an installation does.
        active_policies(connection, creditor_id, NOW)
        batch = []
        for index in range(n_customers):
            batch.append(
                {
                    "creditor_id": creditor_id,
                    "external_id": f"C{index}",
                    "name": f"Cliente {index}",
                    "document": f"{rng.randrange(10**11):011d}",
                    "document_kind": "cpf",
                    "is_consumer": True,
                    "uf": "SP",
                    "tags": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if len(batch) == BATCH:
                connection.execute(customers.insert(), batch)
                batch = []
        if batch:
            connection.execute(customers.insert(), batch)
        ids = list(connection.execute(select(customers.c.id).order_by(customers.c.id)).scalars())
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
            rows.append(
                {
                    "customer_id": cid,
                    "channel": "whatsapp",
                    "value": f"+55119{cid:08d}",
                    "created_at": NOW,
                }
            )
            if len(rows) >= BATCH:
                connection.execute(contacts.insert(), rows)
                rows = []
        if rows:
            connection.execute(contacts.insert(), rows)
        effective: dict[date, date] = {}
        batch = []
        number = 0
        for cid in ids:
            for _ in range(rng.choice((1, 1, 2, 3))):
                number += 1
                due = TODAY + timedelta(days=rng.randint(-200, 20))
                if due not in effective:
                    effective[due] = effective_due_date(due)
                cents = rng.randint(5_000, 300_000)
                batch.append(
                    {
                        "creditor_id": creditor_id,
                        "customer_id": cid,
                        "external_id": f"T{number}",
                        "number": str(number),
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
                if len(batch) == BATCH:
                    connection.execute(invoices.insert(), batch)
                    batch = []
        if batch:
            connection.execute(invoices.insert(), batch)
        # As `regua import` leaves them: it analyses the tables it writes (store.bulk). Without
        # statistics PostgreSQL reads a customer's invoices by intersecting the index of every
        # open invoice with the customer's (16 ms a query at 200,000 customers, not 0.1).
        refresh_statistics(connection, customers, contacts, invoices)
    engine.dispose()


def sample(url: str, count: int, seed: int) -> list[tuple[int, str]]:
    """`count` random customers: (id, the five digits the identity check asks)."""
    engine = engine_for(url)
    with engine.connect() as connection:
        rows = connection.execute(select(customers.c.id, customers.c.document)).all()
    engine.dispose()
    chosen = random.Random(seed + 1).sample(rows, min(count, len(rows)))
    return [(int(row.id), str(row.document)[:5]) for row in chosen]


# --- the servers (child processes) ---------------------------------------------------------


def serve_regua(url: str, port: int, workers: int) -> None:
    import uvicorn

    from regua.clock import FixedClock
    from regua.config import Settings
    from regua.web.app import create_app

    if workers == 1:
        settings = Settings(database_url=url, link_secret=SECRET)
        app = create_app(settings, clock=FixedClock(NOW))
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    if FixedClock.on(TODAY, ZONE).now() != NOW:
        raise SystemExit(f"REGUA_TODAY={TODAY} in {ZONE} is not {NOW}: the pages would differ")
    os.environ.update(
        {
            "REGUA_DATABASE_URL": url,
            "REGUA_LINK_SECRET": SECRET,
            "REGUA_TODAY": TODAY.isoformat(),
            "REGUA_TIMEZONE": ZONE,
        }
    )
    uvicorn.run(
        "regua.web.app:app_from_env",
        factory=True,
        workers=workers,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def bare_app(html: bytes) -> FastAPI:
    """The bare endpoint: any portal path answers `html`, as fixed bytes."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI()

    @app.get("/p/{token}")
    async def fixed(token: str) -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    return app


def bare_from_env() -> FastAPI:
    """Factory for the bare endpoint's worker processes: the page named by REGUA_BENCH_PAGE."""
    return bare_app(Path(os.environ[PAGE_VARIABLE]).read_bytes())


def serve_bare(page: Path, port: int, workers: int) -> None:
    import uvicorn

    if workers == 1:
        app = bare_app(page.read_bytes())
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    os.environ[PAGE_VARIABLE] = str(page)
    uvicorn.run(
        "bench.portal_bench:bare_from_env",
        factory=True,
        workers=workers,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Child:
    """This script in a child process, serving on a loopback port until closed."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        command = [sys.executable, __file__, *args, "--port", str(self.port)]
        self.process = subprocess.Popen(command)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"server {args[:2]} did not start") from None
                time.sleep(0.1)
        self.base = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(20)


# --- the clients ---------------------------------------------------------------------------

COOKIE = "regua_portal"


def _session_cookie(response: httpx.Response) -> str:
    for header in response.headers.get_list("set-cookie"):
        found = re.match(rf"{COOKIE}=([^;]+)", header)
        if found:
            return found.group(1)
    raise SystemExit(f"no session cookie: {response.status_code} {response.text[:200]}")


def sign_in(base: str, people: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """Each customer through the identity check: (link path, session cookie)."""
    sessions = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for customer_id, answer in people:
            token = make_link_token(SECRET, LinkPurpose.PORTAL, customer_id, TODAY)
            path = f"/p/{token}"
            client.cookies.clear()
            first = client.get(path)
            found = re.search(r'name="csrf" value="([^"]+)"', first.text)
            if first.status_code != 200 or not found:
                raise SystemExit(f"identity page: {first.status_code} {first.text[:200]}")
            client.cookies.clear()
            answered = client.post(
                f"{path}/identidade",
                data={"csrf": found.group(1), "documento": answer},
                headers={"Cookie": f"{COOKIE}={_session_cookie(first)}"},
            )
            if answered.status_code != 303:
                raise SystemExit(f"identity check refused: {answered.status_code}")
            sessions.append((path, _session_cookie(answered)))
    return sessions


async def _load(
    base: str, sessions: list[tuple[str, str]], clients: int
) -> tuple[float, list[float]]:
    order = list(reversed(sessions))
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while order:
                path, cookie = order.pop()
                began = time.perf_counter()
                response = await client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"})
                latencies.append(time.perf_counter() - began)
                if response.status_code != 200 or "Total hoje" not in response.text:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return time.perf_counter() - started, latencies


def load(base: str, sessions: list[tuple[str, str]], clients: int) -> tuple[float, float, float]:
    """One page for each session (each a different customer), by `clients` concurrent
    clients, after a warm-up on the first ones: (pages/s, p50 s, p99 s)."""
    warm, measured = sessions[:WARM_UP], sessions[WARM_UP:]
    asyncio.run(_load(base, warm, clients))
    seconds, latencies = asyncio.run(_load(base, measured, clients))
    cuts = statistics.quantiles(latencies, n=100)
    return len(measured) / seconds, cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--requests", type=int, default=2_000, help="pages, each of a different customer"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes of each server"
    )
    parser.add_argument("--serve", choices=("regua", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers: at least 1")
    if args.serve == "regua":
        return serve_regua(args.target, args.port, args.workers)
    if args.serve == "bare":
        return serve_bare(Path(args.target), args.port, args.workers)

    folder = Path(tempfile.mkdtemp(prefix="regua-portal-bench-"))
    url = fresh_database(args.db, "regua_bench_portal", folder)
    started = time.perf_counter()
    build(url, args.customers, args.seed)
    print(f"portfolio: {args.customers:,} customers in {time.perf_counter() - started:.1f} s")
    people = sample(url, args.requests + WARM_UP, args.seed)

    workers = ("--workers", str(args.workers))
    regua = Child("--serve", "regua", "--target", url, *workers)
    try:
        began = time.perf_counter()
        sessions = sign_in(regua.base, people)
        print(f"signed in: {len(sessions):,} customers in {time.perf_counter() - began:.1f} s")
        path, cookie = sessions[0]
        page = folder / "page.html"
        page_bytes = page.write_bytes(
            httpx.get(regua.base + path, headers={"Cookie": f"{COOKIE}={cookie}"}).content
        )
        bare = Child("--serve", "bare", "--target", str(page), *workers)
        try:
            bare_before, _, _ = load(bare.base, sessions, args.clients)
            ours, p50, p99 = load(regua.base, sessions, args.clients)
            bare_after, _, bare_p99 = load(bare.base, sessions, args.clients)
        finally:
            bare.close()
    finally:
        regua.close()
        shutil.rmtree(folder, ignore_errors=True)
    bare_rps = (bare_before + bare_after) / 2
    size = (
        f"{args.customers:,} customers, {args.requests:,} pages, {args.clients} clients, "
        f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    )
    print(f"Portal debt page on {args.db} ({size}, {page_bytes:,} bytes a page)")
    print(f"  regua:     {ours:8.0f} pages/s   p50 {p50 * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms")
    print(f"  bare:      {bare_rps:8.0f} pages/s   p99 {bare_p99 * 1000:6.1f} ms")
    print(f"  rps ratio: {ours / bare_rps:8.2f}  (goal >= {1 / RPS_GOAL:g})")
    print(f"  p99:       {p99 * 1000:8.1f} ms (goal < {P99_GOAL * 1000:g} ms)")
    record("portal / debt page, s per page", args.db, size, 1 / ours, 1 / bare_rps, RPS_GOAL)
    record("portal / debt page p99", args.db, size, p99, None, P99_GOAL)


if __name__ == "__main__":
    main()
