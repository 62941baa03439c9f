"""Staging tables hold exactly the rows of their own block, also when PostgreSQL reuses them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from regua.store.staging import INT, TEXT, staged

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
