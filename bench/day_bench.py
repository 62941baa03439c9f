"""A full day: plan, publish and send every due action to loopback sinks, side by side with
plain lower bounds.

Builds a portfolio of N open invoices over M customers (due dates spread over the past year
and the next month, as in `plan_bench`), with a mix of contacts so that every channel carries
part of the day: e-mail, WhatsApp and SMS to phones, and printed letters for customers with a
postal address. The customers have no state (UF): the régua's window alone applies, and the
régua's window is open day and night, so the run does not depend on the hour. Yesterday is
run first, untimed (`regua run --no-dispatch --inicio recuperar`: every overdue invoice caught
up to its latest step, all marked sent, then the database's overnight maintenance), so today
is the steady state a creditor runs every day, with a year of history behind it.

Rate limits are set to a million messages a second for every channel: the providers' limits
would otherwise set the pace (50 e-mails a second by default), and the bench measures regua.

Sinks (each in a child process, counting what it gets): an aiosmtpd SMTP server for e-mail, a
threaded HTTP server answering the SMS provider API and the WhatsApp Cloud API, and the file
outbox (a folder) for letters, which regua prints to PDF.

On PostgreSQL (distributed mode, as a large creditor runs it):
1. plan: `regua run --no-dispatch` for today, in a child process;
2. publish: what is due goes to the Redis queues of its channels (`regua dispatch
   --distributed`'s service, in this process), while
3. send: `regua worker --concurrency 4` (four processes, started beforehand, consuming every
   channel's queue) sends it; timed from the start of the publish to the last action recorded.

On SQLite (embedded mode): `regua run` for today, plan and inline dispatch in one process; the
send phase is read from the first and last sending time recorded.

Lower bounds, measured in the same run: for the plan, a plain scan of the open invoices (as
`plan_bench`); for the send, one process looping over the same count of messages per channel
to the same sinks, with nothing rendered and nothing recorded (one prepared e-mail sent again
with smtplib, one JSON body posted again with httpx, the bytes of one of regua's letters
written again to a file). Peak memory is each process's own high-water mark (ru_maxrss of the
plan's child process; VmHWM of each worker process just before it stops).

    python bench/day_bench.py --invoices 1000000 --db postgresql
    python bench/day_bench.py --invoices 1000000 --db sqlite
    python bench/day_bench.py --invoices 20000 --db postgresql   # about a minute

Not in `bench.run_all`: a day small enough for CI is a few hundred messages, one task per
channel, and measures process start-ups more than regua (see the comment there).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import redis
from sqlalchemy import Engine, func, select, update

from bench.common import engine_for, fresh_database, record
from bench.dispatch_bench import (
    always_open_policy,
    cpu_seconds,
    machine_busy_seconds,
    process_tree,
    start_sink,
    stop_sink,
)
from bench.plan_bench import overnight_maintenance, plain_scan
from regua.clock import SystemClock, today_in
from regua.config import Settings
from regua.domain.calendar import effective_due_date
from regua.domain.channels import MESSAGE_CHANNELS
from regua.domain.postal import PostalAddress
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.policies import apply_policy_text
from regua.services.publishing import DuePublisher
from regua.services.setup import create_creditor
from regua.store.tables import actions, contacts, customers, invoices
from regua.worker.celery_app import create_celery, publisher

SENDER = "cobranca@exemplo.com.br"
REDIS_URL = os.environ.get("REGUA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ZONE = "America/Sao_Paulo"
PHONE_NUMBER_ID = "1234567890"
UNTHROTTLED = {channel: 1_000_000.0 for channel in MESSAGE_CHANNELS}
FINISHED = ("sent", "failed", "held", "cancelled")

# Contacts by customer number modulo 10: which channels each customer can be reached on.
# The régua's steps prefer WhatsApp or e-mail, then SMS; the bureau notice is a letter first.
CONTACT_MIX = {
    0: ("email", "whatsapp", "sms", "phone", "letter"),
    1: ("email", "whatsapp", "sms", "phone", "letter"),
    2: ("email", "whatsapp", "sms", "phone", "letter"),
    3: ("email", "whatsapp", "sms", "phone", "letter"),
    4: ("email", "letter"),
    5: ("email", "letter"),
    6: ("sms", "phone"),
    7: ("sms", "phone"),
    8: ("whatsapp",),
    9: ("email", "sms"),
}

HTTP_SINK = """
import collections, json, signal, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = collections.Counter()
lock = threading.Lock()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a provider's API does
    # Headers and body go out as two writes: with Nagle's algorithm on, each reply would wait
    # for the client's delayed ACK (40 ms), and the sink would set the pace.
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind = self.path.strip("/").split("/")[0]
        with lock:
            counts[kind] += 1
            n = counts[kind]
        if kind == "wa":
            body = json.dumps({"messages": [{"id": f"wamid.{n}"}]}).encode()
        else:
            body = json.dumps({"id": f"sms-{n}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
signal.sigwait({signal.SIGTERM})
server.shutdown()
print(json.dumps(dict(counts)), flush=True)
"""


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float  # the child's own high-water mark (and its waited-for descendants')
    output: str


def run_regua(args: list[str], env: dict[str, str] | None = None) -> Child:
    """`regua ARGS` in a child process: wall time and that child's own peak resident memory
    (os.wait4 on it; the children's total of `resource` would give the largest child so far)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "regua", *args],
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"regua {' '.join(args)} failed:\n{err.read().decode()}")
        return Child(elapsed, usage.ru_maxrss / 1024, out.read().decode())


def build(url: str, n_invoices: int, n_customers: int, seed: int, today: date) -> None:
    """The portfolio: customers without a state, their contacts (`CONTACT_MIX`), open invoices."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, now)
        apply_policy_text(connection, creditor_id, always_open_policy(), "padrao.yaml", now)
        for first in range(0, n_customers, 20_000):
            block = range(first, min(n_customers, first + 20_000))
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
                        "tags": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in block
                ],
            )
            rows = []
            for i in block:
                phone = f"+55119{i:08d}"
                values = {
                    "email": f"cliente{i}@exemplo.com.br",
                    "whatsapp": phone,
                    "sms": phone,
                    "phone": phone,
                    "letter": PostalAddress(
                        f"Rua das Flores, {i % 2000 + 1}", "Centro", "Campinas", "SP", "13010000"
                    ).block(),
                }
                rows += [
                    {"customer_id": i + 1, "channel": c, "value": values[c], "created_at": now}
                    for c in CONTACT_MIX[i % 10]
                ]
            connection.execute(contacts.insert(), rows)
        effective: dict[date, date] = {}
        batch = []
        for index in range(n_invoices):
            due = today + timedelta(days=rng.randint(-365, 35))
            if due not in effective:
                effective[due] = effective_due_date(due)
            cents = rng.randint(2_000, 300_000)
            batch.append(
                {
                    "id": index + 1,
                    "creditor_id": creditor_id,
                    "customer_id": index % n_customers + 1,
                    "external_id": f"T{index}",
                    "number": str(index),
                    "description": "Mensalidade",
                    "issue_date": due - timedelta(days=20),
                    "due_date": due,
                    "effective_due_date": effective[due],
                    "amount_cents": cents,
                    "balance_cents": cents,
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) == 20_000:
                connection.execute(invoices.insert(), batch)
                batch = []
        if batch:
            connection.execute(invoices.insert(), batch)
        if connection.dialect.name == "postgresql":
            for table in ("customers", "invoices"):
                connection.exec_driver_sql(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"
                )
    engine.dispose()


def mark_sent(url: str, day: date) -> int:
    """Yesterday's actions as sent (its dispatch, not timed): today starts from that state."""
    engine = engine_for(url)
    sent_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)
    with engine.begin() as connection:
        count = connection.execute(
            update(actions)
            .where(actions.c.status == "planned")
            .values(status="sent", sent_at=sent_at)
        ).rowcount
    engine.dispose()
    return int(count)


def due_today(engine: Engine, today: date) -> Counter[str]:
    """Message actions planned for today, by channel."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(actions.c.channel, func.count())
            .where(
                actions.c.planned_for == today,
                actions.c.status == "planned",
                actions.c.channel.in_(MESSAGE_CHANNELS),
            )
            .group_by(actions.c.channel)
        ).all()
    return Counter({channel: int(n) for channel, n in rows})


def finished_today(engine: Engine, today: date) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(actions)
                .where(
                    actions.c.planned_for == today,
                    actions.c.status.in_(FINISHED),
                    actions.c.channel.in_(MESSAGE_CHANNELS),
                )
            ).scalar_one()
        )


@dataclass
class ChannelSpan:
    sent: int
    first: datetime
    last: datetime

    @property
    def seconds(self) -> float:
        return (self.last - self.first).total_seconds()


def sent_spans(engine: Engine, today: date) -> tuple[dict[str, ChannelSpan], Counter[str]]:
    """Per channel: how many of today's actions were sent, and the first and last sending time;
    and today's message actions by final status."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                actions.c.channel,
                func.count(),
                func.min(actions.c.sent_at),
                func.max(actions.c.sent_at),
            )
            .where(
                actions.c.planned_for == today,
                actions.c.status == "sent",
                actions.c.channel.in_(MESSAGE_CHANNELS),
            )
            .group_by(actions.c.channel)
        ).all()
        statuses = connection.execute(
            select(actions.c.status, func.count())
            .where(actions.c.planned_for == today, actions.c.channel.in_(MESSAGE_CHANNELS))
            .group_by(actions.c.status)
        ).all()
    spans = {channel: ChannelSpan(int(n), first, last) for channel, n, first, last in rows}
    return spans, Counter({status: int(n) for status, n in statuses})


class Sinks:
    """The loopback SMTP and HTTP servers (child processes) and the outbox folder."""

    def __init__(self, folder: Path) -> None:
        self.outbox = folder / "outbox"
        self.outbox.mkdir(parents=True)
        self.smtp, self.smtp_port = start_sink()
        self.http = subprocess.Popen(
            [sys.executable, "-c", HTTP_SINK],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.http.stdout is not None
        self.http_port = int(self.http.stdout.readline())

    @property
    def sms_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sms"

    @property
    def whatsapp_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/wa"

    def env(self) -> dict[str, str]:
        """The REGUA_* settings that send every channel to these sinks, unthrottled."""
        return {
            "REGUA_SMTP_HOST": "127.0.0.1",
            "REGUA_SMTP_PORT": str(self.smtp_port),
            "REGUA_SMTP_SECURITY": "none",
            "REGUA_SMTP_SENDER": SENDER,
            "REGUA_SMS_BASE_URL": self.sms_url,
            "REGUA_SMS_TOKEN": "bench",
            "REGUA_WHATSAPP_BASE_URL": self.whatsapp_url,
            "REGUA_WHATSAPP_TOKEN": "bench",
            "REGUA_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "REGUA_OUTBOX_DIR": str(self.outbox),
            "REGUA_RATE_LIMITS": json.dumps(UNTHROTTLED),
        }

    def letters(self) -> list[Path]:
        return sorted(self.outbox.rglob("*.pdf"))

    def stop(self) -> Counter[str]:
        """Stop the servers; what each received (e-mail, sms, whatsapp) and the letters."""
        got: Counter[str] = Counter()
        got["email"] = stop_sink(self.smtp)
        self.http.send_signal(signal.SIGTERM)
        out, _ = self.http.communicate(timeout=30)
        http = json.loads(out.strip().splitlines()[-1])
        got["sms"] = http.get("sms", 0)
        got["whatsapp"] = http.get("wa", 0)
        got["letter"] = len(self.letters())
        return got


def bare_loop(sinks: Sinks, counts: Counter[str], folder: Path) -> dict[str, float]:
    """Seconds per channel for one process sending `counts` prepared messages to the sinks."""
    seconds: dict[str, float] = {}
    email = EmailMessage()
    email["From"] = f"Empresa Exemplo Ltda <{SENDER}>"
    email["To"] = "Cliente <cliente@exemplo.com.br>"
    email["Subject"] = "Sua fatura venceu há 3 dias"
    email.set_content("Olá, Cliente.\n\n" + "Texto da mensagem de cobrança.\n" * 40)
    email.add_alternative("<p>" + "Texto da mensagem de cobrança.\n" * 40 + "</p>", subtype="html")
    payload = email.as_bytes(policy=SMTP)
    with smtplib.SMTP("127.0.0.1", sinks.smtp_port) as smtp:
        start = time.perf_counter()
        for _ in range(counts["email"]):
            smtp.sendmail(SENDER, ["cliente@exemplo.com.br"], payload)
        seconds["email"] = time.perf_counter() - start
    text = "Exemplo: sua fatura de R$ 99,90 venceu em 01/12. Pague pelo Pix: https://x.y/p/abc"
    with httpx.Client(headers={"Authorization": "Bearer bench"}) as client:
        start = time.perf_counter()
        for n in range(counts["sms"]):
            client.post(
                f"{sinks.sms_url}/messages",
                json={"to": "+5511900000000", "from": "regua", "text": text, "reference": str(n)},
            ).raise_for_status()
        seconds["sms"] = time.perf_counter() - start
        url = f"{sinks.whatsapp_url}/v21.0/{PHONE_NUMBER_ID}/messages"
        body = {
            "messaging_product": "whatsapp",
            "to": "5511900000000",
            "type": "template",
            "template": {"name": "atraso_amigavel", "language": {"code": "pt_BR"}},
        }
        start = time.perf_counter()
        for _ in range(counts["whatsapp"]):
            client.post(url, json=body).raise_for_status()
        seconds["whatsapp"] = time.perf_counter() - start
    letters = sinks.letters()
    pdf = letters[0].read_bytes() if letters else b"%PDF-1.4\n" + b"0" * 40_000
    bare = folder / "bare-letters"
    bare.mkdir()
    start = time.perf_counter()
    for n in range(counts["letter"]):
        (bare / f"carta-{n}.pdf").write_bytes(pdf)
    seconds["letter"] = time.perf_counter() - start
    return seconds


def peak_rss_mb(pid: int) -> float:
    """A live process's high-water resident memory (VmHWM), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


@dataclass
class Distributed:
    publish_seconds: float
    send_seconds: float  # from the start of the publish to the last action finished
    queued: Counter[str]
    worker_main_mb: float
    worker_children_mb: list[float]
    worker_cpu: float
    machine_cpu: float


def distributed_day(
    url: str, sinks: Sinks, today: date, processes: int, folder: Path
) -> Distributed:
    """Workers up first (as they always are), then publish today's due actions and wait for the
    last one; returns the timings, the workers' peak memory and CPU."""
    transport = {"global_keyprefix": f"regua-bench-{uuid.uuid4().hex[:8]}:"}
    env = {
        **os.environ,
        **sinks.env(),
        "REGUA_DATABASE_URL": url,
        "REGUA_BROKER_URL": REDIS_URL,
        "REGUA_BROKER_TRANSPORT_OPTIONS": json.dumps(transport),
    }
    log_path = folder / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "regua", "worker", "--concurrency", str(processes), "--db", url],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    watch = engine_for(url)
    engine = engine_for(url)
    try:
        deadline = time.monotonic() + 120
        while " ready." not in log_path.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start; see {log_path}")
            time.sleep(0.2)
        tree = process_tree(worker.pid)
        publish = publisher(
            create_celery(Settings(broker_url=REDIS_URL, broker_transport_options=transport))
        )
        due = DuePublisher(engine, clock=SystemClock())
        cpu_before = sum(cpu_seconds(pid) for pid in tree)
        machine_before = machine_busy_seconds()
        start = time.perf_counter()
        queued = due.enqueue_due(publish).queued
        publish_seconds = time.perf_counter() - start
        total = sum(queued.values())
        done = finished_today(watch, today)
        while done < total:
            waited = time.perf_counter() - start
            if waited > 3 * 3_600:
                raise SystemExit(f"workers too slow ({done} of {total}); see {log_path}")
            # Polling every 50 ms would take CPU from the workers; a quarter of the expected
            # rest keeps the polls few and sees the end within 50 ms to a second.
            rest = waited * (total - done) / done if done else 1.0
            time.sleep(min(1.0, max(0.05, rest / 4)))
            done = finished_today(watch, today)
        send_seconds = time.perf_counter() - start
        tree = process_tree(worker.pid)
        worker_cpu = sum(cpu_seconds(pid) for pid in tree) - cpu_before
        machine_cpu = machine_busy_seconds() - machine_before
        children = [peak_rss_mb(pid) for pid in tree if pid != worker.pid]
        return Distributed(
            publish_seconds,
            send_seconds,
            Counter(queued),
            peak_rss_mb(worker.pid),
            children,
            worker_cpu,
            machine_cpu,
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        watch.dispose()
        engine.dispose()
        broker = redis.Redis.from_url(REDIS_URL)
        leftovers = list(broker.scan_iter(match=f"{transport['global_keyprefix']}*"))
        if leftovers:
            broker.delete(*leftovers)
        broker.close()


def per_channel_lines(
    spans: dict[str, ChannelSpan], bare: dict[str, float], counts: Counter[str]
) -> list[str]:
    lines = []
    for channel in MESSAGE_CHANNELS:
        span = spans.get(channel)
        if span is None:
            continue
        rate = span.sent / span.seconds if span.seconds > 0 else float("inf")
        loop = counts[channel] / bare[channel] if bare.get(channel) else float("inf")
        lines.append(
            f"  {channel:9} {span.sent:8,} sent in {span.seconds:7.2f} s  {rate:8.0f} msgs/s"
            f"   (bare loop {loop:8.0f} msgs/s)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=0, help="default: invoices / 5")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--processes", type=int, default=4, help="worker processes (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n_customers = args.customers or max(1, args.invoices // 5)
    today = today_in(SystemClock(), ZONE)
    yesterday = today - timedelta(days=1)
    size = f"{args.invoices:,} invoices"
    mode = (
        f"distributed, {args.processes} worker processes" if args.db == "postgresql" else "embedded"
    )

    with tempfile.TemporaryDirectory(prefix="regua-bench-day-") as tmp:
        folder = Path(tmp)
        url = fresh_database(args.db, "regua_bench_day", folder)
        print(
            f"building {args.invoices:,} open invoices over {n_customers:,} customers ...",
            flush=True,
        )
        began = time.perf_counter()
        build(url, args.invoices, n_customers, args.seed, today)
        # `regua import` refreshes the statistics of what it writes (`store.bulk`); this bulk
        # seeding leaves them as an import of long ago would have: analysed.
        overnight_maintenance(url)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)
        # Yesterday, untimed: the history a steady-state day plans against.
        history = run_regua(
            [
                "run",
                "--no-dispatch",
                "--inicio",
                "recuperar",
                "--date",
                yesterday.isoformat(),
                "--db",
                url,
            ]
        )
        marked = mark_sent(url, yesterday)
        overnight_maintenance(url)
        print(
            f"  yesterday ({yesterday:%d/%m/%Y}, catch-up): {marked:,} actions in "
            f"{history.seconds:.0f} s, marked sent",
            flush=True,
        )
        scan = plain_scan(url)
        sinks = Sinks(folder)
        engine = engine_for(url)
        try:
            if args.db == "postgresql":
                plan = run_regua(["run", "--no-dispatch", "--date", today.isoformat(), "--db", url])
                due = due_today(engine, today)
                day = distributed_day(url, sinks, today, args.processes, folder)
                total_seconds = plan.seconds + day.send_seconds
            else:
                plan = run_regua(["run", "--date", today.isoformat(), "--db", url], env=sinks.env())
                day = None
                due = Counter()
                total_seconds = plan.seconds
            spans, statuses = sent_spans(engine, today)
            counts = Counter({channel: span.sent for channel, span in spans.items()})
        finally:
            received = sinks.stop()
            engine.dispose()
        bare_sinks = Sinks(folder / "bare")
        try:
            bare = bare_loop(bare_sinks, counts, folder)
        finally:
            bare_sinks.stop()

    sent = sum(counts.values())
    bare_total = sum(bare.values())
    print()
    print(f"A day of {size} over {n_customers:,} customers on {args.db} ({mode}), {today:%d/%m/%Y}")
    if due:
        print(f"  due after the plan: {dict(sorted(due.items()))}")
    print(f"  today's message actions by status: {dict(sorted(statuses.items()))}")
    print(f"  sinks received: {dict(received)}")
    if sum(received.values()) != sent:
        print("  WARNING: the sinks received a different count than the actions recorded sent")
    if day is not None:
        send_phase = day.send_seconds
        print(
            row(
                "plan (regua run --no-dispatch)",
                plan.seconds,
                f"peak RSS {plan.peak_rss_mb:.0f} MB",
            )
        )
        print(row("plain scan of the open invoices", scan, f"ratio {plan.seconds / scan:.2f}"))
        print(row(f"publish ({sum(day.queued.values()):,} ids to Redis)", day.publish_seconds))
        print(row("send (publish start to last)", send_phase, f"{sent / send_phase:.0f} msgs/s"))
        print(row("bare loop, one process", bare_total, f"ratio {send_phase / bare_total:.2f}"))
        print(
            f"  workers' peak RSS: main {day.worker_main_mb:.0f} MB, processes "
            + ", ".join(f"{mb:.0f}" for mb in day.worker_children_mb)
            + f" MB (sum {day.worker_main_mb + sum(day.worker_children_mb):.0f} MB)"
        )
        print(
            f"  CPU while sending: workers {day.worker_cpu:.1f} s "
            f"({day.worker_cpu / max(sent, 1) * 1000:.2f} ms/msg), whole machine "
            f"{day.machine_cpu:.1f} s of {send_phase * (os.cpu_count() or 1):.1f} available"
        )
        print(row("whole cycle (plan + send)", total_seconds))
        record("day, plan", args.db, size, plan.seconds, scan, 3)
        record(f"day, send ({args.processes} processes)", args.db, size, send_phase, bare_total, 3)
    else:
        first = min(span.first for span in spans.values())
        last = max(span.last for span in spans.values())
        send_phase = (last - first).total_seconds()
        bound = scan + bare_total
        print(
            row(
                "regua run (plan + inline send)",
                total_seconds,
                f"peak RSS {plan.peak_rss_mb:.0f} MB",
            )
        )
        print(
            row("  of which sending (first to last)", send_phase, f"{sent / send_phase:.0f} msgs/s")
        )
        print(row("  so the plan took about", total_seconds - send_phase))
        print(row("plain scan + bare loop", bound, f"ratio {total_seconds / bound:.2f}"))
        print(
            row("bare loop, one process", bare_total, f"send ratio {send_phase / bare_total:.2f}")
        )
        record("day, regua run", args.db, size, total_seconds, bound, 3)
    print("  per channel (rate over the channel's first to last send):")
    for line in per_channel_lines(spans, bare, counts):
        print(line)


def row(label: str, seconds: float, note: str = "") -> str:
    return f"  {label:<36}{seconds:8.2f} s   {note}"


if __name__ == "__main__":
    main()
