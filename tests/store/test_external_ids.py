"""The import's lookup by the ERP's id keeps using the unique (creditor_id, external_id) key
while its own transaction fills the table.

On PostgreSQL the lookup is prepared by the driver after a few batches, and the server may then
run the generic plan it costed while the table still looked empty. Such a plan once compared
every row of the creditor with the batch's 5,000 ids one parameter after the other: an import of
300,000 invoices took 1,206 s instead of about 70. These tests build that generic plan on the
empty table, write a large batch in the same transaction, and read what the plan then does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from psycopg.sql import Literal
from sqlalchemy import Connection, Engine, event

from regua.store import customers as customer_store
from regua.store import invoices as invoice_store
from regua.store.tables import customers
from tests.builders import NOW

WRITTEN = 5_000  # one import batch
WANTED = 50  # ids looked up after the write: some stored, some new


def _customer_rows(creditor_id: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "creditor_id": creditor_id,
            "external_id": f"C{index}",
            "name": f"Cliente {index}",
            "document": f"{index:011d}",
            "document_kind": "cpf",
            "is_consumer": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for index in range(count)
    ]


def _invoice_rows(creditor_id: int, customer_id: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "creditor_id": creditor_id,
            "customer_id": customer_id,
            "external_id": f"T{index}",
            "number": str(100_000 + index),
            "description": "Mensalidade",
            "issue_date": date(2026, 10, 1),
            "due_date": date(2026, 10, 21),
            "effective_due_date": date(2026, 10, 21),
            "amount_cents": 10_000,
            "balance_cents": 10_000,
            "status": "open",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for index in range(count)
    ]


Lookup = Callable[[Connection, int, Sequence[str]], Any]
Write = Callable[[Connection, int], None]


def _invoices_case(connection: Connection, creditor_id: int) -> tuple[str, Lookup, Write, str]:
    customer_store.insert_customers(connection, _customer_rows(creditor_id, 1))
    customer_id = connection.execute(customers.select()).first().id  # type: ignore[union-attr]

    def lookup(conn: Connection, creditor: int, ids: Sequence[str]) -> Any:
        return invoice_store.imported_invoices(conn, creditor, ids, ("amount_cents",))

    def write(conn: Connection, creditor: int) -> None:
        invoice_store.insert_invoices(conn, _invoice_rows(creditor, customer_id, WRITTEN))

    return "invoices", lookup, write, "T"


def _customers_case(connection: Connection, creditor_id: int) -> tuple[str, Lookup, Write, str]:
    def lookup(conn: Connection, creditor: int, ids: Sequence[str]) -> Any:
        return customer_store.imported_customers(conn, creditor, ids, ("name",))

    def write(conn: Connection, creditor: int) -> None:
        customer_store.insert_customers(conn, _customer_rows(creditor, WRITTEN))

    return "customers", lookup, write, "C"


def _recorded_lookup(
    connection: Connection, lookup: Lookup, creditor_id: int, ids: Sequence[str]
) -> tuple[str, Any]:
    """The SELECT and parameters the lookup sends to the driver."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        lookup(connection, creditor_id, ids)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len(seen) == 1, seen
    return seen[0]


def _plan_on_postgresql(
    connection: Connection, lookup: Lookup, write: Write, creditor_id: int, ids: Sequence[str]
) -> str:
    """The plan the lookup runs after `write`, once the driver has prepared it on the server and
    the server has planned it five times while the table was empty (it may then choose its
    generic plan, costed on the empty table)."""
    driver: Any = connection.connection.driver_connection
    threshold = driver.prepare_threshold
    driver.prepare_threshold = 0  # prepared at once, as the import's lookups are from the fifth
    try:
        for _ in range(6):
            lookup(connection, creditor_id, ids)
        write(connection, creditor_id)
        statement, parameters = _recorded_lookup(connection, lookup, creditor_id, ids)
    finally:
        driver.prepare_threshold = threshold
    prepared = connection.exec_driver_sql(
        "SELECT name, CAST(parameter_types AS text[]) FROM pg_prepared_statements "
        "WHERE statement = %(statement)s",
        {"statement": re.sub(r"%\((\w+)\)s", _Numbered().mark, statement)},
    ).all()
    assert len(prepared) == 1, "the driver prepared the lookup"
    name, types = prepared[0]
    # EXECUTE takes no bound parameters: the values as literals of the prepared types.
    values = [parameters[key] for key in _Numbered.order(statement)]
    arguments = ", ".join(
        f"CAST({Literal(value).as_string(driver)} AS {kind})"
        for value, kind in zip(values, types, strict=True)
    )
    return "\n".join(
        connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE {name}({arguments})"
        ).scalars()
    )


class _Numbered:
    """psycopg's ``%(name)s`` marks as the ``$n`` of the statement it prepares."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def mark(self, match: re.Match[str]) -> str:
        if match.group(1) not in self.names:
            self.names.append(match.group(1))
        return f"${self.names.index(match.group(1)) + 1}"

    @staticmethod
    def order(statement: str) -> list[str]:
        numbered = _Numbered()
        re.sub(r"%\((\w+)\)s", numbered.mark, statement)
        return numbered.names


@pytest.mark.parametrize("case", [_invoices_case, _customers_case], ids=["invoices", "customers"])
def test_the_lookup_by_external_id_reads_the_unique_key_after_a_large_write(
    engine: Engine, creditor_id: int, case: Callable[..., tuple[str, Lookup, Write, str]]
) -> None:
    wanted = [f"{index}" for index in range(0, 2 * WANTED * 100, 200)]  # half stored, half new
    with engine.begin() as connection:
        table, lookup, write, prefix = case(connection, creditor_id)
        ids = [prefix + key for key in wanted]
        if engine.dialect.name == "postgresql":
            plan = _plan_on_postgresql(connection, lookup, write, creditor_id, ids)
            # Each id found by the unique key, or the ids hashed: never each of the creditor's
            # rows read and compared with every id of the batch.
            assert not re.search(r"Rows Removed by (Join )?Filter", plan), plan
            assert re.search(r"(Index|Hash) Cond: .*external_id", plan), plan
        else:
            write(connection, creditor_id)
            statement, parameters = _recorded_lookup(connection, lookup, creditor_id, ids)
            plan = " / ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                ).all()
            )
            assert re.search(
                rf"SEARCH {table} USING INDEX \w+ \(creditor_id=\? AND external_id=\?\)", plan
            ), plan
        found = lookup(connection, creditor_id, ids)
    assert sorted(found) == sorted(prefix + key for key in wanted if int(key) < WRITTEN)
