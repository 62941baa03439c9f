"""Set-based writes that differ between SQLite and PostgreSQL, behind one function each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from regua.store.staging import staged_like

# Below this many rows an executemany is as quick as staging and keeps the statement simple.
STAGE_FROM = 500


def insert_ignoring_conflicts(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Iterable[str],
) -> None:
    """INSERT ... ON CONFLICT (cols) DO NOTHING, executemany over `rows`."""
    if not rows:
        return
    columns = list(conflict_columns)
    if connection.dialect.name == "postgresql" and len(rows) >= STAGE_FROM:
        names = list(rows[0])
        with staged_like(connection, table, names, rows) as stage:
            connection.execute(
                postgresql.insert(table)
                .from_select(names, select(*stage.c))
                .on_conflict_do_nothing(index_elements=columns)
            )
    else:
        statement = _ignoring_insert(connection.dialect.name, table, tuple(columns))
        connection.execute(statement, list(rows))


@lru_cache(maxsize=64)
def _ignoring_insert(dialect: str, table: Table, columns: tuple[str, ...]) -> Any:
    # Built once per table: the portal writes a few rows with it on every page, and building
    # the statement cost SQLAlchemy more than running it.
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=list(columns))


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_by_id(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
) -> None:
    """UPDATE table SET columns WHERE id = row["id"] for each of `rows`.

    From STAGE_FROM rows on, one UPDATE ... FROM a staged copy (classifying a new portfolio's
    200,000 customers took seconds as an executemany). Bind names get a prefix because
    SQLAlchemy reserves the column names for its own SET clause.
    """
    if not rows:
        return
    if len(rows) >= STAGE_FROM:
        with staged_like(connection, table, ["id", *columns], rows, joined=True) as stage:
            connection.execute(
                update(table)
                .where(table.c.id == stage.c.id)
                .values({name: stage.c[name] for name in columns})
            )
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("p_id"))
        .values({name: bindparam(f"p_{name}") for name in columns})
    )
    connection.execute(
        statement,
        [{"p_id": row["id"], **{f"p_{name}": row[name] for name in columns}} for row in rows],
    )


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update_columns = excluded values."""
    if not rows:
        return

    if connection.dialect.name == "postgresql" and len(rows) >= STAGE_FROM:
        # One INSERT ... SELECT may not touch a row twice: the last row per key wins, as it
        # would in the executemany below.
        last = {tuple(row[k] for k in key_columns): row for row in rows}
        names = list(rows[0])
        with staged_like(connection, table, names, list(last.values())) as stage:
            staged_insert = postgresql.insert(table).from_select(names, select(*stage.c))
            connection.execute(
                staged_insert.on_conflict_do_update(
                    index_elements=list(key_columns),
                    set_={name: staged_insert.excluded[name] for name in update_columns},
                )
            )
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: statement.excluded[name] for name in update_columns},
    )
    connection.execute(statement, list(rows))


def refresh_statistics(connection: Connection, *tables: Table) -> None:
    """ANALYZE tables after a bulk write, on PostgreSQL.

    Autovacuum analyses a table only a while after a large change; until then the planner
    works from the old row counts, and a query that joins a table which has just grown from
    nothing to 200,000 rows can be planned as a nested loop taking minutes instead of a second.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(f'ANALYZE "{table.name}"')


def refresh_stale_statistics(connection: Connection, table: Table) -> None:
    """ANALYZE `table` on PostgreSQL if more of its rows changed than it had when last analysed.

    For a read of many keys right after a bulk write that autovacuum has not analysed yet: a
    return file imported again at once looked its 100,000 payments up in a table PostgreSQL
    still took for empty (the counts of the analysis before the first import), and walked all
    the creditor's payments for every key of every batch (stopped after ten minutes; 2 s once
    analysed). The check is one catalog row; the analysis samples at most 30,000 rows.
    """
    if connection.dialect.name != "postgresql":
        return
    stale = connection.execute(
        text(
            "SELECT s.n_mod_since_analyze > greatest(c.reltuples, 0) "
            "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relid = CAST(:name AS regclass)"
        ),
        {"name": table.name},
    ).scalar()
    if stale:
        refresh_statistics(connection, table)


ANALYSED_FROM = 1_000  # rows written in a transaction before a table's statistics are refreshed


def note_rows_written(connection: Connection, table: Table, rows: int) -> None:
    """Count rows a transaction wrote to `table`; on PostgreSQL, ANALYZE the table (within the
    transaction, which sees its own rows) once they outnumber what its statistics knew.

    An import writes a table from empty in one transaction and reads it between batches. Until
    the transaction ends, neither autovacuum nor `refresh_stale_statistics` sees the change, and
    without statistics the planner gives the creditor half a percent of the rows: 5,000
    customers looked up by 50 ids were read all and compared with each id instead of found by
    the unique key. The statistics are refreshed as the table doubles: a few analyses of at most
    30,000 sampled rows in an import of a million.
    """
    if connection.dialect.name != "postgresql" or not rows:
        return
    transaction = connection.get_transaction()
    noted = connection.info.get("regua_rows_written")
    if noted is None or noted[0] is not transaction:
        noted = connection.info["regua_rows_written"] = (transaction, {})
    written: dict[str, list[float]] = noted[1]
    if table.name not in written:
        known = connection.execute(
            text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(:name AS regclass)"),
            {"name": table.name},
        ).scalar_one()
        written[table.name] = [float(known), 0]
    state = written[table.name]
    state[1] += rows
    if state[1] >= max(ANALYSED_FROM, state[0]):
        refresh_statistics(connection, table)
        state[0], state[1] = state[0] + state[1], 0
