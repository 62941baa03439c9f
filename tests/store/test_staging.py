"""Staging tables hold exactly the rows of their own block, also when PostgreSQL reuses them;
tuples written straight to a table read back as SQLAlchemy's own writes do."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Date, Engine, func, literal, select

from regua.store.sql import day_of, plain_rows
from regua.store.staging import INT, TEXT, driver_value, insert_tuples, staged, update_tuples
from regua.store.tables import creditors

COLUMNS = [("id", INT), ("name", TEXT)]


def _names(connection, stage) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(connection.execute(select(stage.c.name)).scalars())


def test_each_block_sees_only_its_rows_nested_or_in_turn(engine: Engine) -> None:
    with engine.begin() as connection:
        with staged(connection, "people", COLUMNS, [(1, "Ana"), (2, "Bia")]) as first:
            assert _names(connection, first) == ["Ana", "Bia"]
            with staged(connection, "people", COLUMNS, [(3, "Caio")]) as nested:
                assert nested.name != first.name
                assert _names(connection, nested) == ["Caio"]
            assert _names(connection, first) == ["Ana", "Bia"]
        with staged(connection, "people", COLUMNS, [(4, "Davi")]) as again:
            assert _names(connection, again) == ["Davi"]
    # a later transaction on the same connection starts empty too
    with engine.begin() as connection, staged(connection, "people", COLUMNS, []) as empty:
        assert connection.execute(select(func.count()).select_from(empty)).scalar_one() == 0


def test_a_failed_block_leaves_nothing_for_the_next(engine: Engine) -> None:
    with engine.begin() as connection:
        with (
            pytest.raises(RuntimeError),
            staged(connection, "people", COLUMNS, [(1, "Ana")]),
        ):
            raise RuntimeError("the caller gave up half-way")
        with staged(connection, "people", COLUMNS, [(2, "Bia")]) as next_block:
            assert _names(connection, next_block) == ["Bia"]


def test_tuples_written_straight_read_back_as_sqlalchemy_writes_them(engine: Engine) -> None:
    at = datetime(2026, 11, 23, 12, 30, 15, 250, tzinfo=UTC)
    with engine.begin() as connection:
        insert_tuples(
            connection,
            creditors,
            # not the table's order: the values follow their names
            ("document", "id", "name", "created_at"),
            [
                (
                    f"{i:014d}",
                    i,
                    f"Credor {i}",
                    driver_value(connection, creditors.c.created_at, at),
                )
                for i in (1, 2, 3)
            ],
        )
        update_tuples(
            connection,
            creditors,
            ("id", INT),
            [("name", TEXT), ("uf", TEXT), ("late_fee_bp", INT)],
            [(1, 'Um "1", {a}', "SP", 150), (3, "Três \\ NULL", None, 175)],
        )
        rows = connection.execute(
            select(creditors.c.id, creditors.c.name, creditors.c.uf, creditors.c.late_fee_bp)
            .where(creditors.c.created_at == at)  # the instant compared in SQL
            .order_by(creditors.c.id)
        ).all()
        days = list(
            plain_rows(connection, select(literal(at.date(), Date()), literal(None, Date())))
        )
    assert [tuple(row) for row in rows] == [
        (1, 'Um "1", {a}', "SP", 150),
        (2, "Credor 2", None, 200),
        (3, "Três \\ NULL", None, 175),
    ]
    assert [(day_of(day), day_of(none)) for day, none in days] == [(date(2026, 11, 23), None)]
