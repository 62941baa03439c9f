"""The work queue's queries: a worker's task reads its actions by primary key."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event

from regua.store.claims import OpenScope, Scope, claim_due, due_scopes
from regua.store.db import make_engine

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OPEN = [OpenScope(Scope(1, "padrao", "v1"), ("SP", "RJ"), True)]


def _plans(connection: Connection, statements: list[tuple[str, Any]]) -> list[str]:
    found = []
    for sql, params in statements:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        found.append(" / ".join(str(row[-1]) for row in rows))
    return found


def test_a_tasks_claim_on_sqlite_reads_its_ids_not_every_planned_row(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "regua.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    options: dict[str, Any] = {"today": date(2026, 11, 23), "now": NOW, "lease": timedelta(5)}
    with engine.begin() as connection:
        due_scopes(connection, channels=["email"], action_ids=[1, 2, 3], **options)
        claim_due(
            connection,
            channel="email",
            open_scopes=OPEN,
            token="t",
            limit=3,
            action_ids=[1, 2, 3],
            **options,
        )
    event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as connection:
        plans = _plans(connection, seen)
    engine.dispose()

    assert len(plans) == 2
    for plan in plans:
        assert "ix_actions_status_day" not in plan, plan
        assert "INTEGER PRIMARY KEY" in plan, plan
