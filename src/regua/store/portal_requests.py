"""What a debtor asks on the portal besides promises and agreements: disputes of invoices,
calls at a chosen time, the feedback after paying; and the invoices paid lately that the page
thanks for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, and_, bindparam, func, or_, select, update

from regua.store.tables import (
    callback_requests,
    contacts,
    customers,
    disputes,
    invoices,
    portal_feedback,
)


def customer_invoice(conn: Connection, customer_id: int, invoice_id: int) -> Any | None:
    """(id, number, status, balance_cents, agreement_id) of one of the customer's invoices."""
    return conn.execute(
        select(
            invoices.c.id,
            invoices.c.number,
            invoices.c.status,
            invoices.c.balance_cents,
            invoices.c.agreement_id,
        ).where(invoices.c.id == invoice_id, invoices.c.customer_id == customer_id)
    ).first()


def mark_disputed(conn: Connection, invoice_id: int, now: datetime) -> bool:
    """An open invoice becomes disputed (the régua stops for it); False when it was not open."""
    changed = conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.status == "open")
        .values(status="disputed", updated_at=now)
    ).rowcount
    return bool(changed)


def insert_dispute(conn: Connection, row: Mapping[str, Any]) -> int:
    return int(conn.execute(disputes.insert().values(**row)).inserted_primary_key[0])  # type: ignore[index]


def insert_callback(conn: Connection, row: Mapping[str, Any]) -> int:
    return int(conn.execute(callback_requests.insert().values(**row)).inserted_primary_key[0])  # type: ignore[index]


# The reads of every portal page are built once: building one costs more than running it.
_OPEN_CALLBACK = (
    select(callback_requests.c.requested_for, callback_requests.c.starts, callback_requests.c.ends)
    .where(
        callback_requests.c.customer_id == bindparam("p_customer"),
        callback_requests.c.status == "open",
        callback_requests.c.requested_for >= bindparam("p_since", type_=Date),
    )
    .order_by(callback_requests.c.requested_for)
    .limit(1)
)


def open_callback(conn: Connection, customer_id: int, since: date) -> Any | None:
    """The customer's call asked for `since` or later and not yet made, if any."""
    return conn.execute(_OPEN_CALLBACK, {"p_customer": customer_id, "p_since": since}).first()


def callbacks_on(conn: Connection, day: date) -> list[Any]:
    """The calls customers asked for on `day`: id, creditor, customer (id, external id, name,
    uf), the hours asked for, and a phone to call (the first reachable one), oldest first."""
    phone = (
        select(func.min(contacts.c.value))
        .where(
            contacts.c.customer_id == callback_requests.c.customer_id,
            contacts.c.channel == "phone",
            contacts.c.invalid_at.is_(None),
        )
        .scalar_subquery()
    )
    return list(
        conn.execute(
            select(
                callback_requests.c.id,
                callback_requests.c.creditor_id,
                callback_requests.c.customer_id,
                callback_requests.c.starts,
                callback_requests.c.ends,
                customers.c.external_id,
                customers.c.name,
                customers.c.uf,
                customers.c.is_consumer,
                phone.label("phone"),
            )
            .join(customers, customers.c.id == callback_requests.c.customer_id)
            .where(callback_requests.c.requested_for == day, callback_requests.c.status == "open")
            .order_by(callback_requests.c.starts, callback_requests.c.id)
        ).all()
    )


def insert_feedback(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(portal_feedback.insert().values(**row))


_FEEDBACK_SINCE = (
    select(portal_feedback.c.id)
    .where(
        portal_feedback.c.customer_id == bindparam("p_customer"),
        portal_feedback.c.created_at
        >= bindparam("p_since", type_=portal_feedback.c.created_at.type),
    )
    .limit(1)
)


def feedback_since(conn: Connection, customer_id: int, since: datetime) -> bool:
    """Whether the customer answered the feedback question since `since`."""
    found = conn.execute(_FEEDBACK_SINCE, {"p_customer": customer_id, "p_since": since}).first()
    return found is not None


_PAID_AND_DISPUTED = (
    select(
        invoices.c.number,
        invoices.c.description,
        invoices.c.amount_cents,
        invoices.c.settled_on,
        invoices.c.status,
    )
    .where(
        invoices.c.customer_id == bindparam("p_customer"),
        or_(
            and_(
                invoices.c.status == "paid",
                invoices.c.settled_on >= bindparam("p_since", type_=Date),
            ),
            invoices.c.status == "disputed",
        ),
    )
    .order_by(invoices.c.settled_on.desc(), invoices.c.due_date, invoices.c.id)
)


def paid_and_disputed(
    conn: Connection, customer_id: int, since: date
) -> tuple[list[Any], list[Any]]:
    """The customer's invoices paid on or after `since` (number, description, amount, day; the
    latest first) and those under dispute (number, description; by due date), in one read."""
    paid: list[Any] = []
    disputed: list[Any] = []
    for row in conn.execute(_PAID_AND_DISPUTED, {"p_customer": customer_id, "p_since": since}):
        (paid if row.status == "paid" else disputed).append(row)
    return paid, disputed
