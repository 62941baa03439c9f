"""Shared pieces of the side-by-side benchmarks: fresh databases, timing, peak memory, and the
record of each measurement that `bench.run_all` reads."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from regua.store import migrate
from regua.store.db import make_engine

PG_ADMIN_URL = os.environ.get("REGUA_BENCH_PG_ADMIN_URL", "postgresql://127.0.0.1:5432/postgres")


# Set by `bench.run_all` to its own suffix: the PostgreSQL server may be shared, and another
# run's databases of the same name must not be dropped under it.
DATABASE_SUFFIX_ENV = "REGUA_BENCH_DB_SUFFIX"


def database_name(name: str) -> str:
    """The PostgreSQL database a benchmark calls `name`, in this run."""
    return name + os.environ.get(DATABASE_SUFFIX_ENV, "")


def fresh_database(kind: str, name: str, folder: Path) -> str:
    """A new, empty, migrated database of `kind` (sqlite or postgresql); returns its URL."""
    name = database_name(name)
    if kind == "sqlite":
        path = folder / f"{name}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        url = f"{base}/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def engine_for(url: str) -> Engine:
    return make_engine(url)


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float
    output: str


def run_cli(args: list[str]) -> Timed:
    """Run `regua ARGS` in a child process; wall time and the child's peak resident memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "regua", *args], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"regua {' '.join(args)} failed:\n{completed.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far (KiB on Linux)
    return Timed(elapsed, max(peak, before) / 1024, completed.stdout)


# Set by `bench.run_all`: each measurement is appended to this file as one JSON line.
RESULTS_ENV = "REGUA_BENCH_RESULTS"


def record(
    benchmark: str, db: str, size: str, ours: float, lower_bound: float | None, goal: float
) -> None:
    """Keep one measurement for `bench.run_all`'s table (nothing when run alone).

    `ours` and `lower_bound` are seconds; the ratio ours / lower bound should stay at most
    `goal`. Without a lower bound, `ours` itself is held to `goal` seconds (a latency).
    """
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    line = {
        "benchmark": benchmark,
        "db": db,
        "size": size,
        "ours": ours,
        "lower_bound": lower_bound,
        "goal": goal,
    }
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def report(
    title: str,
    ours: float,
    baseline: float,
    peak_mb: float | None,
    goal: float,
    *,
    benchmark: str,
    db: str,
    size: str,
) -> None:
    """Print one side-by-side measurement, and `record` it as `benchmark` on `db` at `size`."""
    ratio = ours / baseline if baseline else float("inf")
    print(f"{title}")
    print(f"  regua:     {ours:8.2f} s")
    print(f"  baseline:  {baseline:8.2f} s")
    print(f"  ratio:     {ratio:8.2f}  (goal <= {goal})")
    if peak_mb is not None:
        print(f"  peak RSS:  {peak_mb:8.0f} MB")
    record(benchmark, db, size, ours, baseline, goal)
