"""Customer queries: the planner's and the thank-yous' reads, pauses, lookups by the ERP's id,
and the import's writes (new and changed customers in batches, and their contacts, additive: a
contact is never removed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, or_, select, update

from regua.domain.planning import Reach
from regua.domain.thank_yous import Payer
from regua.store.bulk import chunks, insert_ignoring_conflicts, note_rows_written, update_by_id
from regua.store.contacts import contact_points
from regua.store.external_ids import stored_ids, stored_rows
from regua.store.invoices import paused_on
from regua.store.sql import day_of, one_of, plain_rows
from regua.store.tables import contacts, customers, interactions, invoices


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
    columns = ("id", "external_id", *compared)
    return stored_rows(conn, customers, creditor_id, external_ids, columns)


def insert_customers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """New customers, given as dicts of their columns."""
    conn.execute(customers.insert(), list(rows))
    note_rows_written(conn, customers, len(rows))  # read again by the next batch's lookup


def update_customers(
    conn: Connection, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """The named columns of customers by id (``row["id"]``)."""
    update_by_id(conn, customers, rows, columns)


def ids_by_external_id(
    conn: Connection, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """External id -> id of the creditor's customers among `external_ids`."""
    return stored_ids(conn, customers, creditor_id, external_ids)


def add_contacts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Contacts (customer_id, channel, value, created_at); one already stored is left as it is,
    with its opt-out."""
    insert_ignoring_conflicts(conn, contacts, rows, ("customer_id", "channel", "value"))


PauseTarget = Literal["customer", "invoice"]

BATCH = 5_000  # customers per read of those to thank
# (id, segment, uf, tags, whether a pause or erased data holds the customer back today)
PlanningFacts = tuple[int, str | None, str | None, str | None, Any]


def planning_facts(
    connection: Connection, customer_ids: Sequence[int], day: date
) -> list[PlanningFacts]:
    """What the rules read of each of the day's customers, besides contacts and weekly counts."""
    return list(
        plain_rows(
            connection,
            select(
                customers.c.id,
                customers.c.segment,
                customers.c.uf,
                customers.c.tags,
                # a pause (or erased data) holds the customer's invoices back today
                or_(
                    paused_on(customers.c.paused, customers.c.paused_until, day),
                    customers.c.anonymised_at.is_not(None),
                ),
            ).where(one_of(connection, customers.c.id, customer_ids)),
        )
    )


def payers_and_points(
    connection: Connection, customer_ids: Sequence[int]
) -> tuple[list[Payer], dict[int, Reach]]:
    """The customers to thank among `customer_ids` (not those whose data was erased), and the
    contact points of each of `customer_ids`."""
    payers: list[Payer] = []
    points: dict[int, Reach] = {}
    for batch in chunks(sorted(customer_ids), BATCH):
        points.update(contact_points(connection, batch))
        payers += [
            Payer(*row)
            for row in plain_rows(
                connection,
                select(customers.c.id, customers.c.segment, customers.c.tags).where(
                    one_of(connection, customers.c.id, batch),
                    customers.c.anonymised_at.is_(None),
                ),
            )
        ]
    return payers, points


def id_by_external(connection: Connection, creditor_id: int, external_id: str) -> int | None:
    """regua's id of the creditor's customer with the ERP's id `external_id`, if any."""
    return connection.execute(
        select(customers.c.id).where(
            customers.c.creditor_id == creditor_id, customers.c.external_id == external_id
        )
    ).scalar()


def pause_of(connection: Connection, target: PauseTarget, row_id: int) -> tuple[bool, date | None]:
    """(paused, paused until) of a customer or an invoice, as stored."""
    table = customers if target == "customer" else invoices
    row = connection.execute(
        select(table.c.paused, table.c.paused_until).where(table.c.id == row_id)
    ).one()
    return bool(row.paused), day_of(row.paused_until)


def set_pause(
    connection: Connection,
    target: PauseTarget,
    row_id: int,
    values: dict[str, object],
    *,
    customer_id: int,
    at: datetime,
    kind: str,
    detail: str,
) -> None:
    """Set the pause `values` on a customer or an invoice, and say so on the customer's
    timeline (an interaction of `kind` with `detail`)."""
    table = customers if target == "customer" else invoices
    connection.execute(update(table).where(table.c.id == row_id).values(values))
    connection.execute(
        interactions.insert().values(
            customer_id=customer_id,
            invoice_id=row_id if target == "invoice" else None,
            at=at,
            kind=kind,
            detail=detail,
        )
    )
