"""Dispatch benchmark: N rendered e-mails to a local SMTP sink through regua, against plain loops.

Builds N e-mail actions due now (N customers, one overdue invoice each, a régua whose contact
window is always open so the run does not depend on the hour), starts an aiosmtpd sink in a
child process (accepts and discards), then in the same run measures:

1. regua embedded: `Dispatcher.dispatch_due` on one kept SMTP connection, everything included:
   claim, context from the store, rendering (subject, text and HTML), PIX code, MIME message,
   SMTP, and one committed record (sent + timeline) per message;
2. the same messages, pre-rendered, with a plain sequential smtplib loop on one connection,
   two ways: building each MIME message from the rendered parts (`send_message`, as an
   application does), and sending the finished bytes (`sendmail`, the wire alone);
3. regua distributed: Celery workers with four processes on the local Redis, from the enqueue
   to the last record.

Rates are messages per second; ratios are regua / plain loop. On Linux each run also shows its
CPU time per message by process group (read from /proc): regua (the bench process, or the Celery
worker and its children), its PostgreSQL backends, the SMTP sink and Redis, and the whole
machine's busy time (which includes anything else running). On a shared machine the rates move
with the neighbours' load; the CPU figures much less.

    python bench/dispatch_bench.py --messages 10000 --db postgresql
    python bench/dispatch_bench.py --messages 2000 --db sqlite --no-celery
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from sqlalchemy import Engine, delete, func, select, text, update

from bench.common import engine_for, fresh_database, record
from regua.channels.base import OutgoingMessage
from regua.channels.registry import ChannelRegistry
from regua.channels.rendering import default_renderer
from regua.channels.smtp import SmtpChannel, build_email_message
from regua.clock import SystemClock, today_in
from regua.config import Settings
from regua.domain.calendar import effective_due_date
from regua.policies.loader import packaged_policy_text
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.dispatching import Dispatcher
from regua.services.messages import PreparedMessage, prepare_messages
from regua.services.policies import apply_policy_text
from regua.services.publishing import DuePublisher
from regua.services.setup import create_creditor
from regua.store.tables import action_invoices, actions, contacts, customers, interactions, invoices
from regua.worker.celery_app import create_celery, publisher

SENDER = "cobranca@exemplo.com.br"
SENDER_NAME = "Empresa Exemplo Ltda"
REDIS_URL = os.environ.get("REGUA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ALWAYS_OPEN = """contact_window:
  weekdays: "00:00-24:00"
  saturday: "00:00-24:00"
  sunday: "00:00-24:00"
  holidays: open
  carnival: open
"""

SINK = """
import signal, socket
from aiosmtpd.controller import Controller

class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 2.0.0 Ok"

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
signal.sigwait({signal.SIGTERM})
controller.stop()
print(Sink.count, flush=True)
"""


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one live process (all its threads), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(root: int) -> list[int]:
    """`root` and its live descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(parents.get(pid, []))
    return found


def machine_busy_seconds() -> float:
    """CPU time of every core not idle (nor waiting for I/O), since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(f) for f in fields[:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def database_backends(engine: Engine) -> list[int]:
    """PostgreSQL backend pids connected to the bench database, but for the asker's own."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalars()
        )


class CpuMeter:
    """CPU seconds per group of processes between `start` and `stop`; a group's pids are asked
    again at `stop`, so processes started in between count from zero."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self.available = Path("/proc/stat").exists()
        self._start: dict[int, float] = {}
        self._machine = 0.0
        self.seconds: dict[str, float] = {}

    def start(self) -> None:
        if not self.available:
            return
        self._start = {pid: cpu_seconds(pid) for find in self.groups.values() for pid in find()}
        self._machine = machine_busy_seconds()

    def stop(self) -> None:
        if not self.available:
            return
        for name, find in self.groups.items():
            self.seconds[name] = sum(
                cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in set(find())
            )
        self.seconds["machine"] = machine_busy_seconds() - self._machine

    def line(self, count: int) -> str:
        """``regua 1.21, PostgreSQL 0.50, ... ms a message``."""
        if not self.seconds:
            return "(no /proc: CPU not measured)"
        own = sum(v for k, v in self.seconds.items() if k != "machine")
        parts = [f"{k} {v / count * 1000:.2f}" for k, v in self.seconds.items() if k != "machine"]
        return (
            f"CPU ms/msg: {', '.join(parts)}; sum {own / count * 1000:.2f}; "
            f"machine {self.seconds['machine'] / count * 1000:.2f}"
        )


def redis_server() -> list[int]:
    pids = subprocess.run(["pidof", "redis-server"], capture_output=True, text=True).stdout
    return [int(p) for p in pids.split()]


def start_sink() -> tuple[subprocess.Popen[str], int]:
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert sink.stdout is not None
    return sink, int(sink.stdout.readline())


def stop_sink(sink: subprocess.Popen[str]) -> int:
    sink.send_signal(signal.SIGTERM)
    out, _ = sink.communicate(timeout=30)
    return int(out.strip().splitlines()[-1])


def always_open_policy() -> str:
    text = packaged_policy_text("padrao")
    start = text.index("contact_window:")
    end = text.index("\n# per_customer_per_week")
    return text[:start] + ALWAYS_OPEN + text[end:]


def build(url: str, count: int) -> None:
    """`count` customers without a state (the régua's window alone applies), each with an
    e-mail and one invoice three days late, and one planned e-mail action each."""
    import random

    from regua.services.demo_data import _cpf  # the demo's valid CPF generator

    rng = random.Random(7)
    now = SystemClock().now()
    today = today_in(SystemClock(), "America/Sao_Paulo")
    due = today - timedelta(days=3)
    engine = engine_for(url)
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, now)
        policy = apply_policy_text(
            connection, creditor_id, always_open_policy(), "padrao.yaml", now
        )
        for start in range(0, count, 5_000):
            block = range(start, min(count, start + 5_000))
            connection.execute(
                customers.insert(),
                [
                    {
                        "id": i + 1,
                        "creditor_id": creditor_id,
                        "external_id": f"C{i}",
                        "name": f"Cliente Número {i}",
                        "document": _cpf(rng),
                        "document_kind": "cpf",
                        "is_consumer": True,
                        "tags": "",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in block
                ],
            )
            connection.execute(
                contacts.insert(),
                [
                    {
                        "customer_id": i + 1,
                        "channel": "email",
                        "value": f"cliente{i}@exemplo.com.br",
                        "created_at": now,
                    }
                    for i in block
                ],
            )
            connection.execute(
                invoices.insert(),
                [
                    {
                        "id": i + 1,
                        "creditor_id": creditor_id,
                        "customer_id": i + 1,
                        "external_id": f"T{i}",
                        "number": f"{100_000 + i}",
                        "description": "Plano Internet Fibra 300 Mega",
                        "due_date": due,
                        "effective_due_date": effective_due_date(due),
                        "amount_cents": 9_990 + i % 1_000,
                        "balance_cents": 9_990 + i % 1_000,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in block
                ],
            )
            connection.execute(
                actions.insert(),
                [
                    {
                        "id": i + 1,
                        "creditor_id": creditor_id,
                        "customer_id": i + 1,
                        "planned_for": today,
                        "policy_name": policy.name,
                        "policy_version": policy.version,
                        "step_id": "atraso-3",
                        "step_offset": 3,
                        "channel": "email",
                        "contact_value": f"cliente{i}@exemplo.com.br",
                        "template": "atraso_amigavel",
                        "status": "planned",
                        "created_at": now,
                    }
                    for i in block
                ],
            )
            connection.execute(
                action_invoices.insert(),
                [{"action_id": i + 1, "invoice_id": i + 1, "step_id": "atraso-3"} for i in block],
            )
        if connection.dialect.name == "postgresql":
            for table in ("customers", "invoices", "actions"):
                connection.exec_driver_sql(
                    f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"
                )
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def reset(url: str) -> None:
    """Every action planned again, as before the first run (a new txid-free start)."""
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(delete(interactions))
        connection.execute(
            update(actions).values(
                status="planned",
                attempts=0,
                claimed_by=None,
                claimed_at=None,
                sent_at=None,
                provider_message_id=None,
                next_attempt_at=None,
            )
        )
    engine.dispose()


def sent(url: str, engine: Engine | None = None) -> int:
    """Actions recorded as sent; with `engine`, on its pooled connection (the Celery run polls
    this, and a new engine each time would open a new database connection)."""
    own = engine is None
    engine = engine or engine_for(url)
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(actions).where(actions.c.status == "sent")
        ).scalar_one()
    if own:
        engine.dispose()
    return int(count)


def embedded(url: str, port: int, meter: CpuMeter) -> float:
    engine = engine_for(url)
    channel = SmtpChannel("127.0.0.1", port, security="none", sender=SENDER)
    with ChannelRegistry({"email": channel}) as registry:
        dispatcher = Dispatcher(engine, registry, clock=SystemClock())
        meter.start()
        start = time.perf_counter()
        result = dispatcher.dispatch_due(channels=["email"])
        elapsed = time.perf_counter() - start
        meter.stop()
    engine.dispose()
    if result.retrying or result.failed:
        raise SystemExit(f"embedded dispatch did not send everything: {result.to_dict()}")
    return elapsed


def prerendered(url: str) -> list[OutgoingMessage]:
    """The same messages, rendered from the store beforehand (not timed)."""
    engine = engine_for(url)
    renderer = default_renderer()
    with engine.connect() as connection:
        ids = list(connection.execute(select(actions.c.id).order_by(actions.c.id)).scalars())
        prepared, _txids = prepare_messages(connection, ids, now=datetime.now(UTC))
    engine.dispose()
    out = []
    for action_id in ids:
        item = prepared[action_id]
        assert isinstance(item, PreparedMessage)
        out.append(item.outgoing(renderer.render(item.template, item.channel, item.context)))
    return out


def plain_send_message(port: int, messages: list[OutgoingMessage], meter: CpuMeter) -> float:
    """What an application writes: an EmailMessage per rendered message, send_message."""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        meter.start()
        start = time.perf_counter()
        for m in messages:
            email = EmailMessage()
            email["From"] = f"{SENDER_NAME} <{SENDER}>"
            email["To"] = f"{m.to_name} <{m.to}>"
            email["Subject"] = m.subject or ""
            email["Message-ID"] = f"<{m.idempotency_key}@exemplo.com.br>"
            email.set_content(m.text)
            email.add_alternative(m.html or "", subtype="html")
            smtp.send_message(email)
        elapsed = time.perf_counter() - start
        meter.stop()
        return elapsed


def plain_sendmail(port: int, messages: list[OutgoingMessage], meter: CpuMeter) -> float:
    """The wire alone: the finished bytes of each message, sendmail."""
    payloads = [
        (
            m.to,
            build_email_message(m, sender=SENDER, sender_name=SENDER_NAME).as_bytes(policy=SMTP),
        )
        for m in messages
    ]
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        meter.start()
        start = time.perf_counter()
        for to, payload in payloads:
            smtp.sendmail(SENDER, [to], payload)
        elapsed = time.perf_counter() - start
        meter.stop()
        return elapsed


def distributed(
    url: str,
    port: int,
    count: int,
    processes: int,
    folder: Path,
    watch: Engine,
    meter_for: Callable[[int], CpuMeter],
) -> tuple[float, CpuMeter]:
    """Seconds from the enqueue to the last record, and the CPU meter of that span
    (`meter_for(worker_pid)`); `watch` polls the count (its backend is not measured)."""
    transport = {"global_keyprefix": f"regua-bench-{uuid.uuid4().hex[:8]}:"}
    env = {
        **os.environ,
        "REGUA_DATABASE_URL": url,
        "REGUA_BROKER_URL": REDIS_URL,
        "REGUA_BROKER_TRANSPORT_OPTIONS": json.dumps(transport),
        "REGUA_SMTP_HOST": "127.0.0.1",
        "REGUA_SMTP_PORT": str(port),
        "REGUA_SMTP_SECURITY": "none",
        "REGUA_SMTP_SENDER": SENDER,
        "REGUA_RATE_LIMITS": json.dumps({"email": 1_000_000}),
        "REGUA_WORKER_CONCURRENCY": str(processes),
    }
    log_path = folder / "celery.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "regua.worker.celery_app",
                "worker",
                "--queues",
                "regua.email",
                "--concurrency",
                str(processes),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        publish = publisher(
            create_celery(Settings(broker_url=REDIS_URL, broker_transport_options=transport))
        )
        # Warm up: each process builds its context (engine, SMTP connection) on its first task.
        engine = engine_for(url)
        due = DuePublisher(engine, clock=SystemClock())
        time.sleep(3)
        meter = meter_for(worker.pid)
        meter.start()
        start = time.perf_counter()
        queued = due.enqueue_due(publish).queued["email"]  # regua's default chunk
        if queued != count:
            raise SystemExit(f"queued {queued} of {count}")
        # The count reads the status index and, for rows updated since the last vacuum, the
        # table (several ms for 10,000 rows): polled every 50 ms it took a tenth of a core from
        # the workers. Waiting a quarter of the time the rest should take keeps the polls few
        # and the end seen within 50 ms.
        done = sent(url, watch)
        while done < count:
            waited = time.perf_counter() - start
            if waited > 3_600:
                raise SystemExit(f"workers too slow; see {log_path}")
            rest = waited * (count - done) / done if done else 1.0
            time.sleep(min(1.0, max(0.05, rest / 4)))
            done = sent(url, watch)
        elapsed = time.perf_counter() - start
        meter.stop()
        engine.dispose()
        return elapsed, meter
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        broker = redis.Redis.from_url(REDIS_URL)
        leftovers = list(broker.scan_iter(match=f"{transport['global_keyprefix']}*"))
        if leftovers:
            broker.delete(*leftovers)
        broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--processes", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--no-celery", action="store_true")
    args = parser.parse_args()
    count = args.messages

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = fresh_database(args.db, "regua_dispatch_bench", folder)
        build(url, count)
        sink, port = start_sink()
        try:
            watch = engine_for(url)
            backends = partial(database_backends, watch)
            this = partial(list, [os.getpid()])
            sink_pid = partial(list, [sink.pid])
            database = {"postgres": backends} if args.db == "postgresql" else {}
            cpu_embedded = CpuMeter({"regua": this, **database, "sink": sink_pid})
            ours = embedded(url, port, cpu_embedded)
            assert sent(url) == count
            messages = prerendered(url)
            cpu_build = CpuMeter({"loop": this, "sink": sink_pid})
            loop_build = plain_send_message(port, messages, cpu_build)
            cpu_bytes = CpuMeter({"loop": this, "sink": sink_pid})
            loop_bytes = plain_sendmail(port, messages, cpu_bytes)
            celery: tuple[float, CpuMeter] | None = None
            if not args.no_celery:
                reset(url)
                celery = distributed(
                    url,
                    port,
                    count,
                    args.processes,
                    folder,
                    watch,
                    lambda pid: CpuMeter(
                        {
                            "workers": partial(process_tree, pid),
                            **database,
                            "sink": sink_pid,
                            "redis": redis_server,
                        }
                    ),
                )
            watch.dispose()
        finally:
            received = stop_sink(sink)

    rate = count / ours
    build_rate = count / loop_build
    bytes_rate = count / loop_bytes
    print(f"Dispatch of {count} e-mails to a local SMTP sink ({args.db}); sink got {received}")
    print(f"  regua embedded:                        {rate:8.0f} msgs/s  ({ours:.2f} s)")
    print(f"      {cpu_embedded.line(count)}")
    print(
        f"  plain smtplib loop, send_message:      {build_rate:8.0f} msgs/s  ({loop_build:.2f} s)"
    )
    print(f"      {cpu_build.line(count)}")
    print(
        f"  plain smtplib loop, sendmail of bytes: {bytes_rate:8.0f} msgs/s  ({loop_bytes:.2f} s)"
    )
    print(f"      {cpu_bytes.line(count)}")
    print(f"  ratio embedded / send_message loop:    {rate / build_rate:8.2f}  (goal >= 0.7)")
    # As times: regua's seconds against the loop's, at most 1 / 0.7 of them.
    record("dispatch e-mail", args.db, f"{count:,} messages", ours, loop_build, round(1 / 0.7, 2))
    print(f"  ratio embedded / sendmail loop:        {rate / bytes_rate:8.2f}")
    if celery is not None:
        celery_seconds, cpu_celery = celery
        celery_rate = count / celery_seconds
        print(
            f"  regua Celery, {args.processes} processes:            "
            f"{celery_rate:8.0f} msgs/s  ({celery_seconds:.2f} s)"
        )
        print(f"      {cpu_celery.line(count)}")
        print(
            f"  ratio Celery / send_message loop:      {celery_rate / build_rate:8.2f}  (goal >= 2)"
        )
        record(
            f"dispatch Celery ({args.processes} processes)",
            args.db,
            f"{count:,} messages",
            celery_seconds,
            loop_build,
            0.5,
        )
        print(f"  ratio Celery / sendmail loop:          {celery_rate / bytes_rate:8.2f}")


if __name__ == "__main__":
    main()
