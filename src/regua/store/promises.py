"""Promises to pay (promessas): recorded, decided (kept or broken) and listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from regua.store.tables import customers, invoices, payments, promises


def insert_promise(conn: Connection, row: Mapping[str, Any]) -> int:
    key = conn.execute(insert(promises).values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def open_promises(conn: Connection, creditor_id: int) -> list[Any]:
    """(id, customer_id, invoice_id, amount_cents, promised_for, created_at, segment, tags) of
    the creditor's open promises."""
    return list(
        conn.execute(
            select(
                promises.c.id,
                promises.c.customer_id,
                promises.c.invoice_id,
                promises.c.amount_cents,
                promises.c.promised_for,
                promises.c.created_at,
                customers.c.segment,
                customers.c.tags,
            )
            .join(customers, customers.c.id == promises.c.customer_id)
            .where(customers.c.creditor_id == creditor_id, promises.c.status == "open")
            .order_by(promises.c.id)
        ).all()
    )


def paid_between(
    conn: Connection, customer_id: int, invoice_id: int | None, first: date, last: date
) -> int:
    """Money applied to the customer's invoices (or to one) paid from ``first`` to ``last``."""
    query = select(func.coalesce(func.sum(payments.c.applied_cents), 0)).where(
        payments.c.customer_id == customer_id,
        payments.c.status == "applied",
        payments.c.paid_on.between(first, last),
    )
    if invoice_id is not None:
        query = query.where(payments.c.invoice_id == invoice_id)
    return int(conn.execute(query).scalar() or 0)


def decide(conn: Connection, promise_id: int, status: str, paid_cents: int, on: date) -> None:
    conn.execute(
        update(promises)
        .where(promises.c.id == promise_id)
        .values(status=status, paid_cents=paid_cents, decided_on=on)
    )


def listing(conn: Connection, creditor_id: int, statuses: Sequence[str] | None) -> list[Any]:
    query = (
        select(
            promises.c.id,
            customers.c.external_id.label("customer"),
            customers.c.name,
            invoices.c.number.label("invoice"),
            promises.c.amount_cents,
            promises.c.promised_for,
            promises.c.status,
            promises.c.channel,
            promises.c.recorded_by,
            promises.c.paid_cents,
            promises.c.decided_on,
        )
        .join(customers, customers.c.id == promises.c.customer_id)
        .outerjoin(invoices, invoices.c.id == promises.c.invoice_id)
        .where(customers.c.creditor_id == creditor_id)
        .order_by(promises.c.promised_for, promises.c.id)
    )
    if statuses:
        query = query.where(promises.c.status.in_(list(statuses)))
    return list(conn.execute(query).all())
