"""The unit of work the entry points get from `App.uow()`: rolled back unless committed, side
effects only after the commit, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from regua.bootstrap import build_app
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.store.tables import creditors
from regua.store.uow import UnitOfWork
from tests.conftest import NOW


def count_creditors(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(creditors)).scalar_one())


def test_a_unit_of_work_not_committed_writes_nothing(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        create_creditor(uow.connection, EXAMPLE_CREDITOR, NOW)
    assert count_creditors(engine) == 0


def test_side_effects_run_after_the_commit_and_never_after_a_rollback(engine: Engine) -> None:
    seen: list[int] = []
    with UnitOfWork(engine) as uow:
        create_creditor(uow.connection, EXAMPLE_CREDITOR, NOW)
        uow.on_commit(lambda: seen.append(count_creditors(engine)))
        assert seen == []
        uow.commit()
    assert seen == [1]  # the callback already saw the committed row

    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        uow.on_commit(lambda: seen.append(-1))
        raise RuntimeError("falhou antes do commit")
    assert seen == [1]


def test_the_app_builds_units_of_work_on_its_database_and_a_fixed_day(db_url: str) -> None:
    app = build_app(database_url=db_url, today=date(2026, 11, 29))
    try:
        with app.uow() as uow:
            create_creditor(uow.connection, EXAMPLE_CREDITOR, app.now())
            uow.commit()
        assert count_creditors(app.engine) == 1
        assert app.today() == date(2026, 11, 29)
        assert app.today("America/Rio_Branco") == date(2026, 11, 29)
    finally:
        app.close()
