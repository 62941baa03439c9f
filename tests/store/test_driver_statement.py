"""store.db.DriverStatement: a SQLAlchemy statement run on psycopg's connection behaves like
`Connection.execute` for the caller: rows changed, SQLAlchemy's errors, a lost connection
replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, bindparam, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from regua.store.db import DriverStatement, make_engine
from regua.store.tables import creditors, metadata
from tests.builders import NOW


@pytest.fixture
def pg(postgres_engine: Engine) -> Engine:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with postgres_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for n in (1, 2):
            connection.execute(
                creditors.insert().values(
                    id=n, name=f"Credor {n}", document=f"{n:014d}", created_at=NOW
                )
            )
    return postgres_engine


RENAME = (
    update(creditors)
    .where(creditors.c.id == bindparam("p_id"), creditors.c.late_fee_bp == 200)
    .values(name=bindparam("p_name"), document=bindparam("p_document", value="00000000000000"))
)


def test_changes_the_rows_its_parameters_name_with_the_values_fixed_in_the_statement(
    pg: Engine,
) -> None:
    statement = DriverStatement(RENAME, pg.dialect)
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        assert statement.execute(connection, {"p_id": 1, "p_name": "Loja Açaí", "p_document": "9"})
        assert statement.execute(connection, {"p_id": 3, "p_name": "x", "p_document": "9"}) == 0
    with pg.connect() as connection:
        rows = connection.execute(select(creditors.c.name, creditors.c.document).order_by("id"))
        assert rows.all() == [("Loja Açaí", "9"), ("Credor 2", f"{2:014d}")]


def test_errors_are_sqlalchemy_errors_and_a_lost_connection_is_replaced(pg: Engine) -> None:
    engine = make_engine(pg.url.render_as_string(hide_password=False), pool_size=1)
    statement = DriverStatement(RENAME, engine.dialect)
    taken = {"p_id": 2, "p_name": "Credor 2", "p_document": f"{1:014d}"}  # creditor 1's
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            with pytest.raises(IntegrityError, match="uq_creditors_document"):
                statement.execute(connection, taken)
            backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with pg.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            with pytest.raises(DBAPIError) as lost:
                statement.execute(connection, {"p_id": 1, "p_name": "x", "p_document": "9"})
            assert lost.value.connection_invalidated
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            assert statement.execute(connection, {"p_id": 1, "p_name": "y", "p_document": "9"})
    finally:
        engine.dispose()
