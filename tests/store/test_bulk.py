"""Bulk writes behave the same on SQLite and PostgreSQL, below and above the staging size."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import Engine, select, text

from regua.store.bulk import (
    STAGE_FROM,
    insert_ignoring_conflicts,
    refresh_stale_statistics,
    refresh_statistics,
    update_by_id,
    upsert,
)
from regua.store.tables import actions, customers, invoice_steps, invoices
from tests.conftest import NOW

SIZES = [3, STAGE_FROM + 7]


def _portfolio(engine: Engine, creditor_id: int, count: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            customers.insert(),
            [
                {
                    "id": i,
                    "creditor_id": creditor_id,
                    "external_id": f"C{i}",
                    "name": f"Cliente {i}",
                    "document": f"{i:011d}",
                    "document_kind": "cpf",
                    "is_consumer": True,
                    "tags": "",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, count + 1)
            ],
        )
        connection.execute(
            invoices.insert(),
            [
                {
                    "id": i,
                    "creditor_id": creditor_id,
                    "customer_id": i,
                    "external_id": f"T{i}",
                    "number": str(i),
                    "due_date": date(2026, 11, 1),
                    "effective_due_date": date(2026, 11, 3),
                    "amount_cents": 10_000 + i,
                    "balance_cents": 10_000 + i,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, count + 1)
            ],
        )


@pytest.mark.parametrize("count", SIZES)
def test_upsert_updates_existing_rows_and_the_last_duplicate_wins(
    engine: Engine, creditor_id: int, count: int
) -> None:
    _portfolio(engine, creditor_id, count)
    first = [
        {
            "invoice_id": i,
            "last_offset": 1,
            "last_step_id": "d1",
            "last_planned_for": date(2026, 11, 2),
        }
        for i in range(1, count + 1)
    ]
    # every invoice again (an update), the first twice: the later row is the one kept
    second = [
        {
            "invoice_id": 1,
            "last_offset": 3,
            "last_step_id": "d3",
            "last_planned_for": date(2026, 11, 4),
        },
        *(
            {
                "invoice_id": i,
                "last_offset": 5,
                "last_step_id": "d5",
                "last_planned_for": date(2026, 11, 6),
            }
            for i in range(1, count + 1)
        ),
    ]
    with engine.begin() as connection:
        keys, updates = ("invoice_id",), ("last_offset", "last_step_id", "last_planned_for")
        upsert(connection, invoice_steps, first, keys, updates)
        upsert(connection, invoice_steps, second, keys, updates)
    with engine.connect() as connection:
        rows = connection.execute(
            select(invoice_steps.c.last_offset, invoice_steps.c.last_step_id)
        ).all()
    assert len(rows) == count
    assert {tuple(row) for row in rows} == {(5, "d5")}


@pytest.mark.parametrize("count", SIZES)
def test_insert_ignoring_conflicts_keeps_the_first_row_and_json_survives(
    engine: Engine, creditor_id: int, count: int
) -> None:
    _portfolio(engine, creditor_id, count)

    def action(customer_id: int, step: str) -> dict[str, object]:
        return {
            "creditor_id": creditor_id,
            "customer_id": customer_id,
            "purpose": "collection",
            "planned_for": date(2026, 11, 24),
            "policy_name": "padrao",
            "policy_version": "v1",
            "step_id": step,
            "step_offset": 3,
            "status": "planned",
            "evidence": {"janela": "08:00-20:00", "contatos_semana": 1, "uf": "SP"},
            "created_at": NOW,
        }

    conflict = ("customer_id", "planned_for", "purpose")
    with engine.begin() as connection:
        insert_ignoring_conflicts(
            connection, actions, [action(i, "first") for i in range(1, count + 1)], conflict
        )
        insert_ignoring_conflicts(
            connection, actions, [action(i, "second") for i in range(1, count + 1)], conflict
        )
    with engine.connect() as connection:
        rows = connection.execute(select(actions.c.step_id, actions.c.evidence)).all()
    assert len(rows) == count
    assert {row.step_id for row in rows} == {"first"}
    assert rows[0].evidence == {"janela": "08:00-20:00", "contatos_semana": 1, "uf": "SP"}


@pytest.mark.parametrize("count", SIZES)
def test_update_by_id_sets_each_row_its_own_values(
    engine: Engine, creditor_id: int, count: int
) -> None:
    _portfolio(engine, creditor_id, count)
    with engine.begin() as connection:
        update_by_id(
            connection,
            customers,
            [_segment(i) for i in range(1, count + 1)],
            ("segment", "segment_since"),
        )
    with engine.connect() as connection:
        rows = connection.execute(
            select(customers.c.id, customers.c.segment, customers.c.segment_since)
        ).all()
    assert sorted(tuple(row) for row in rows) == [
        tuple(_segment(i).values()) for i in range(1, count + 1)
    ]


def _segment(i: int) -> dict[str, object]:
    return {
        "id": i,
        "segment": "risco" if i % 2 else "novo",
        "segment_since": date(2026, 11, i % 28 + 1),
    }


def _analysed_rows(engine: Engine) -> float:
    with engine.connect() as connection:
        return float(
            connection.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = 'invoices'::regclass")
            ).scalar_one()
        )


def test_a_table_grown_past_its_last_analysis_is_analysed_again(
    engine: Engine, creditor_id: int
) -> None:
    with engine.begin() as connection:
        refresh_statistics(connection, invoices)  # analysed empty
    _portfolio(engine, creditor_id, 40)
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            refresh_stale_statistics(connection, invoices)  # nothing to do on SQLite
        return
    with engine.connect() as connection:
        # The writer's counts reach the statistics when its session is idle (PostgreSQL flushes
        # an idle session's counts within about ten seconds): wait for them.
        for _ in range(300):
            changed = connection.execute(
                text(
                    "SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                    "WHERE relid = 'invoices'::regclass"
                )
            ).scalar_one()
            if changed >= 40:
                break
            connection.rollback()
            time.sleep(0.1)
    assert _analysed_rows(engine) == 0

    with engine.begin() as connection:
        refresh_stale_statistics(connection, invoices)

    assert _analysed_rows(engine) == 40
