"""REGUA_LOG_FORMAT=json: the CLI and the API (with its scheduler) log one JSON object per line,
with time, level, logger, message and the event's fields, and never a customer's name,
document, e-mail or phone, nor a link's token."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from regua.store.tables import actions
from tests.cli.analyst_portfolio import cli, portfolio

# Everything personal the portfolio holds (tests/cli/analyst_portfolio.py), as imported and as
# the store keeps it.
PERSONAL = [
    "José",
    "Conceição",
    "Padaria",
    "Pão Quente",
    "jose@exemplo.com.br",
    "financeiro@paoquente.com.br",
    "529.982.247-25",
    "52998224725",
    "11.444.777/0001-61",
    "11444777000161",
    "39053344705",
    "98765-4321",
    "987654321",
    "3222-1111",
    "Sem Contato",
    "HYPERLINK",
]


def ready_portfolio(db_url: str, tmp_path: Path) -> None:
    portfolio(db_url, tmp_path)
    cli(
        db_url,
        *("credor", "editar", "--pix", "06990590000123", "--telefone", "(11) 3333-4444"),
        *("--endereco", "Rua do Comércio 100, Centro", "--cidade", "Curitiba", "--uf", "PR"),
        *("--cep", "80010-000", "--email-envio", "cobranca@lojateste.com.br"),
    )


def json_env(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGUA_")}
    return {
        **env,
        "REGUA_LOG_FORMAT": "json",
        "REGUA_OUTBOX_DIR": str(tmp_path / "caixa"),
        "REGUA_TODAY": "2026-11-23",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path]),
        **more,
    }


def parsed(lines: list[str]) -> list[dict[str, Any]]:
    """Every non-empty line as a JSON object with the fields every line has."""
    entries = []
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)  # a line that is not JSON fails here
        assert {"time", "level", "logger", "message"} <= set(entry), entry
        entries.append(entry)
    return entries


def assert_nothing_personal(text: str) -> None:
    found = [word for word in PERSONAL if word in text]
    assert not found, found


def test_a_day_run_logs_json_lines_without_personal_data(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "regua", "--db", db_url, "run"],
        env=json_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Plano de 23/11/2026" in done.stdout  # what the operator reads is unchanged
    entries = parsed(done.stderr.splitlines())
    events = {entry.get("event"): entry for entry in entries}
    planned = events["day_planned"]
    assert planned["day"] == "2026-11-23" and planned["new_actions"] > 0
    assert planned["level"] == "info" and planned["logger"] == "regua.services.day_scheduler"
    sent = events["dispatch_finished"]["sent"]
    assert sum(sent.values()) > 0
    assert len(list((tmp_path / "caixa").rglob("*.eml"))) == sent["email"]
    assert_nothing_personal(done.stderr)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_the_day_and_logs_json_without_tokens(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ready_portfolio(db_url, tmp_path)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "regua", "--db", db_url, "serve", "--port", str(port)],
        env=json_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr or []])
    reader.start()
    seen: list[str] = []
    try:
        # The scheduler runs the day at once (noon is past 07:30) and sends (the window is
        # open); wait for its dispatch, however slow the machine.
        deadline = time.monotonic() + 120
        while not any('"dispatch_finished"' in line for line in seen):
            assert server.poll() is None, "".join(seen)
            assert time.monotonic() < deadline, "".join(seen)
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
        token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            # The scheduler may finish before the server listens: wait for it too.
            while True:
                try:
                    health = client.get("/healthz")
                    break
                except httpx.ConnectError:
                    assert server.poll() is None, "".join(seen)
                    assert time.monotonic() < deadline, "".join(seen)
                    time.sleep(0.2)
            assert health.status_code == 200
            client.get(f"/p/{token}")
    finally:
        server.terminate()
        server.wait(timeout=60)
        reader.join(timeout=60)
    while not lines.empty():
        seen.append(lines.get())
    text = "".join(seen)
    entries = parsed(seen)
    access = [e for e in entries if e.get("event") == "http_request"]
    assert {e["path"] for e in access} >= {"/healthz", "/p/***"}
    assert token not in text
    assert next(e for e in entries if e.get("event") == "day_planned")["runner"].startswith(
        "serve@"
    )
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(actions)).scalar_one() > 0
    assert len(list((tmp_path / "caixa").rglob("*.eml"))) > 0
    assert_nothing_personal(text)
