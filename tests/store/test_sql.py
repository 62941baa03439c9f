"""store.sql.one_of: the same rows on SQLite and PostgreSQL, whatever the keys hold."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from regua.store.sql import one_of
from regua.store.tables import creditors
from tests.builders import NOW

TRICKY = [
    "plain",
    'with "quotes"',
    "back\\slash",
    "comma,brace{}",
    " spaced ",
    "",
    "NULL",
    "acentuação",
]


@pytest.mark.parametrize("extra", [0, 60])  # a literal list, then one parameter
def test_one_of_finds_exactly_the_given_keys(engine: Engine, extra: int) -> None:
    names = [*TRICKY, *(f"n{i}" for i in range(extra))]
    with engine.begin() as connection:
        for index, name in enumerate([*names, "not wanted"]):
            connection.execute(
                creditors.insert().values(
                    id=index + 1, name=name, document=f"{index:014d}", created_at=NOW
                )
            )
        found = connection.execute(
            select(creditors.c.name).where(one_of(connection, creditors.c.name, names))
        ).scalars()
        assert sorted(found) == sorted(names)
        ids = connection.execute(
            select(creditors.c.id).where(one_of(connection, creditors.c.id, [1, 2, 10_000]))
        ).scalars()
        assert sorted(ids) == [1, 2]
