"""`regua serve --workers N`: the web app in N uvicorn worker processes, each built from the
settings the command resolved (options included), accepting connections on one port, and all
gone when the command is stopped (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from datetime import time as clock_time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from regua.config import Settings, env_name, settings_environment
from regua.domain.customer_links import LinkPurpose, make_link_token
from regua.store import customers as customer_store
from tests.builders import CUSTOMERS_CSV, run_import, write_csv
from tests.cli.test_json_logs import free_port

SECRET = "segredo-dos-workers-de-teste"
# A day the system clock is long past: a link made for it has expired unless the workers run
# with the command's --today.
DAY = date(2026, 3, 2)
SRC = Path(__file__).parents[2] / "src"


def test_every_setting_reaches_a_worker_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("REGUA_"):
            monkeypatch.delenv(name)
    given = {
        "database_url": "postgresql://eu:senha@servidor/banco",
        "timezone": "America/Manaus",
        "outbox_dir": Path("/tmp/caixa"),
        "broker_url": "amqp://fila",
        "link_secret": "segredo",
        "link_valid_days": 7,
        "rate_limits": {"email": 5.5},
        "today": DAY,
        "creditor": "loja-beta",
        "claim_lease_seconds": 12.5,
        "broker_transport_options": {"global_keyprefix": "loja1:"},
        "scheduler": False,
        "daily_run_at": clock_time(6, 15),
        "web_workers": 3,
        "log_format": "json",
    }
    settings = Settings().model_copy(update=given)
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings


def test_a_default_setting_is_not_exported() -> None:
    # REGUA_BROKER_URL present means distributed mode: its default must not turn it on.
    exported = settings_environment(Settings(database_url="sqlite:///x.db"))
    assert exported == {env_name("database_url"): "sqlite:///x.db"}


def _worker_pids(parent: int) -> list[int]:
    """The uvicorn workers (multiprocessing spawn children) of `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def _connection_holders(pids: list[int], port: int) -> set[int]:
    """Which of `pids` hold an established TCP connection on `port` (loopback, IPv4)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":
            established.add(fields[9])  # the socket's inode
    holders = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if any(link[len("socket:[") : -1] in established for link in links if "socket:" in link):
            holders.add(pid)
    return holders


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_with_two_workers_answers_from_the_database_of_its_options(
    engine: Engine, db_url: str, creditor_id: int, tmp_path: Path, stop: signal.Signals
) -> None:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    with engine.connect() as connection:
        customer = customer_store.id_by_external(connection, creditor_id, "C1")
    assert customer is not None
    token = make_link_token(SECRET, LinkPurpose.PORTAL, customer, DAY)
    # The database and the day only as options: no REGUA_DATABASE_URL, no REGUA_TODAY, and a
    # working directory without the default sqlite:///regua.db.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGUA_")}
    env |= {
        "REGUA_LINK_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path]),
    }
    elsewhere = tmp_path / "outro"
    elsewhere.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "regua", "--db", db_url, "--today", DAY.isoformat()),
            *("serve", "--workers", "2", "--port", str(port), "--sem-agendador"),
        ],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    workers: list[int] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        # Both workers accept on the one port: many connections held open at once land on
        # both (the kernel hands each to whichever worker accepts first; try a few rounds).
        workers = _worker_pids(server.pid)
        assert len(workers) == 2
        holders: set[int] = set()
        while holders != set(workers) and time.monotonic() < deadline:
            clients = [httpx.Client(base_url=base, timeout=30) for _ in range(24)]
            try:
                for client in clients:
                    assert client.get("/readyz").status_code == 200  # database at the head
                holders |= _connection_holders(workers, port)
            finally:
                for client in clients:
                    client.close()
        assert holders == set(workers)
        # Each worker reads the customer from --db, on the clock of --today: the link made
        # for that day opens the identity check, where the system clock would call it expired.
        for _ in range(6):
            page = httpx.get(f"{base}/p/{token}", timeout=30)
            assert page.status_code == 200, page.text
            assert 'name="csrf"' in page.text and "expirou" not in page.text
    finally:
        server.send_signal(stop)
        output, _ = server.communicate(timeout=60)
    assert server.returncode is not None, output
    assert "2 processos" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), output
