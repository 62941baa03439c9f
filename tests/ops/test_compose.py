"""compose.yaml's commands, run as the containers run them, against the machine's PostgreSQL
and Redis (where Docker runs, .ci/image also builds the image): the migration brings an empty
database to the head, the API answers /readyz and its scheduler runs the day, each worker
starts and says it is ready. Skips without PostgreSQL or Redis, unless CI requires them."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text

from regua.services.operations_status import head_revision
from regua.store.db import make_engine
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
READY = re.compile(r'"message": "[^"]+@[^"]+ ready\."')  # Celery's "regua-...@host ready."
CNPJ = ["--nome", "Loja Teste Ltda", "--cnpj", "06.990.590/0001-23"]


def test_the_image_runs_regua_unprivileged_on_a_slim_python() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"python:3\.\d+-slim", base) for base in bases)
    assert re.search(r'^ENTRYPOINT \["regua"\]$', dockerfile, flags=re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv"} <= set(ignored)


def test_compose_runs_the_migration_first_and_one_beat() -> None:
    assert SERVICES["migrate"]["command"] == ["db", "upgrade"]
    for name in ("api", "worker-messages", "worker-letters"):
        needed = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert needed == "service_completed_successfully"
    workers = [s["command"] for s in SERVICES.values() if s.get("command", [""])[0] == "worker"]
    assert sum("--beat" in command for command in workers) == 1
    hostnames = [c[c.index("--hostname") + 1] for c in workers]
    assert len(set(hostnames)) == len(hostnames)


@pytest.fixture
def database() -> Iterator[str]:
    """An empty database of its own on the local PostgreSQL."""
    name = f"regua_compose_{os.getpid()}"
    try:
        admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means "no PostgreSQL here"
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required but unusable at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def environment(service: str, database: str, broker: str, tmp_path: Path) -> dict[str, str]:
    """The service's environment from compose.yaml, with this machine's database, broker and
    folders in place of the containers'."""
    declared = {k: str(v) for k, v in SERVICES[service]["environment"].items()}
    assert declared["REGUA_DATABASE_URL"].startswith("postgresql://")
    assert declared["REGUA_BROKER_URL"].startswith("redis://")
    local = {k: v for k, v in os.environ.items() if not k.startswith("REGUA_")}
    return {
        **local,
        **declared,
        "REGUA_DATABASE_URL": database,
        "REGUA_BROKER_URL": broker,
        # This installation's own keys in the shared test Redis.
        "REGUA_BROKER_TRANSPORT_OPTIONS": json.dumps(
            {"global_keyprefix": f"compose-{uuid.uuid4().hex[:8]}:"}
        ),
        "REGUA_OUTBOX_DIR": str(tmp_path / "caixa"),
        # The day runs as soon as the scheduler starts, whatever the hour of the test.
        "REGUA_DAILY_RUN_AT": "00:00",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path]),
    }


def command(service: str, **replace: str) -> list[str]:
    """`regua <the service's command>` (the image's entrypoint), with some option values
    replaced (the port, the listening address)."""
    args = [str(arg) for arg in SERVICES[service]["command"]]
    for option, value in replace.items():
        args[args.index(option) + 1] = value
    return [sys.executable, "-m", "regua", *args]


class Running:
    """A long-running service: its stderr lines, read as they come."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(
            target=lambda: [self.lines.put(line) for line in self.process.stderr or []]
        )
        self.reader.start()

    def wait_for(self, found: Any, what: str, seconds: float = 120) -> None:
        """Read lines until `found(line)`; fail if the process ends first. The deadline only
        keeps a broken start from hanging the suite."""
        deadline = time.monotonic() + seconds
        while not any(found(line) for line in self.seen):
            assert self.process.poll() is None, f"{what}: ended\n" + "".join(self.seen)
            assert time.monotonic() < deadline, f"{what}: not seen\n" + "".join(self.seen)
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=1))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_compose_services_start_against_postgresql_and_redis(
    database: str, redis_url: str, tmp_path: Path
) -> None:
    env = environment("migrate", database, redis_url, tmp_path)
    migrated = subprocess.run(
        command("migrate"), env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    assert f"Esquema atualizado: vazio -> {head_revision()}" in migrated.stdout
    # The one-time step compose.yaml's header names.
    created = subprocess.run(
        [*command("migrate")[:3], "init", *CNPJ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr

    port = free_port()
    api = Running(
        command("api", **{"--port": str(port), "--host": "127.0.0.1"}),
        environment("api", database, redis_url, tmp_path),
        tmp_path,
    )
    workers = [
        Running(command(name), environment(name, database, redis_url, tmp_path), tmp_path)
        for name in ("worker-messages", "worker-letters")
    ]
    try:
        # The API's scheduler runs the day (in JSON logs, as the image logs).
        api.wait_for(lambda line: '"event": "day_planned"' in line, "the day's run")
        api.wait_for(lambda line: "Uvicorn running on" in line, "the API listening")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            ready = client.get("/readyz")
            metrics = client.get("/metrics").text.splitlines()
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "ok"}
        assert "regua_broker_up 1.0" in metrics
        assert 'regua_queue_messages{channel="email"} 0.0' in metrics
        assert "regua_plan_runs_total 1.0" in metrics
        for worker in workers:
            worker.wait_for(lambda line: READY.search(line) is not None, "a worker's start")
    finally:
        for service in (*workers, api):
            service.stop()
    for service in (api, *workers):
        for line in service.seen:
            if line.strip():
                json.loads(line)  # every line the services log is JSON
