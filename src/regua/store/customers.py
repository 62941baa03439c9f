"""Customer queries for importing: who exists by external id and document, new and changed
customers written in batches, and their contacts (additive: a contact is never removed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from regua.store.bulk import insert_ignoring_conflicts, update_by_id
from regua.store.tables import contacts, customers


def customer_keys(conn: Connection, creditor_id: int) -> Sequence[Row[str, str, int]]:
    """(external id, document, id) of every customer of the creditor."""
    return conn.execute(
        select(customers.c.external_id, customers.c.document, customers.c.id).where(
            customers.c.creditor_id == creditor_id
        )
    ).all()


def imported_customers(
    conn: Connection, creditor_id: int, external_ids: Sequence[str], compared: Sequence[str]
) -> dict[str, Row[Any]]:
    """External id -> (id, external_id, *compared) of the customers already stored."""
    return {
        row.external_id: row
        for row in conn.execute(
            select(
                customers.c.id,
                customers.c.external_id,
                *(customers.c[name] for name in compared),
            ).where(
                customers.c.creditor_id == creditor_id,
                customers.c.external_id.in_(list(external_ids)),
            )
        )
    }


def insert_customers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """New customers, given as dicts of their columns."""
    conn.execute(customers.insert(), list(rows))


def update_customers(
    conn: Connection, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """The named columns of customers by id (``row["id"]``)."""
    update_by_id(conn, customers, rows, columns)


def ids_by_external_id(
    conn: Connection, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """External id -> id of the creditor's customers among `external_ids`."""
    return {
        external_id: customer_id
        for external_id, customer_id in conn.execute(
            select(customers.c.external_id, customers.c.id).where(
                customers.c.creditor_id == creditor_id,
                customers.c.external_id.in_(list(external_ids)),
            )
        )
    }


def add_contacts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Contacts (customer_id, channel, value, created_at); one already stored is left as it is,
    with its opt-out."""
    insert_ignoring_conflicts(conn, contacts, rows, ("customer_id", "channel", "value"))
