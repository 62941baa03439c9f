"""The debtor portal's identity checks (`tables.portal_attempts`) and what the portal reads of
a customer by id."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from regua.store.tables import customers, invoices, portal_attempts


def record_attempt(
    conn: Connection,
    *,
    customer_id: int,
    link_key: str,
    address: str,
    at: datetime,
    succeeded: bool,
) -> None:
    conn.execute(
        portal_attempts.insert().values(
            customer_id=customer_id,
            link_key=link_key,
            address=address[:64],
            at=at,
            succeeded=succeeded,
        )
    )


def failures_since(
    conn: Connection,
    since: datetime,
    *,
    link_key: str | None = None,
    customer_id: int | None = None,
    address: str | None = None,
) -> int:
    """Wrong answers since `since` on this link, for this customer or from this address."""
    query = select(func.count()).where(
        portal_attempts.c.at >= since, portal_attempts.c.succeeded.is_(False)
    )
    if link_key is not None:
        query = query.where(portal_attempts.c.link_key == link_key)
    if customer_id is not None:
        query = query.where(portal_attempts.c.customer_id == customer_id)
    if address is not None:
        query = query.where(portal_attempts.c.address == address[:64])
    return int(conn.execute(query).scalar_one())


# Read on every portal page: built once (building costs more than running it).
_PORTAL_CUSTOMER = select(
    customers.c.id,
    customers.c.creditor_id,
    customers.c.external_id,
    customers.c.name,
    customers.c.document,
    customers.c.document_kind,
    customers.c.is_consumer,
    customers.c.birth_date,
    customers.c.uf,
    customers.c.segment,
    customers.c.tags,
).where(customers.c.id == bindparam("p_id"))


def portal_customer(conn: Connection, customer_id: int) -> Any | None:
    """The customer a link is for: name, document, birth date, creditor, UF, and the segment and
    tags that choose its régua; None if gone."""
    return conn.execute(_PORTAL_CUSTOMER, {"p_id": customer_id}).first()


def customers_owing(conn: Connection, creditor_id: int, today: date, limit: int) -> list[Any]:
    """Customers with the most overdue open invoices (id, external id, name, document): whom a
    demonstration of the portal opens."""
    overdue = (
        select(invoices.c.customer_id, func.count().label("n"))
        .where(
            invoices.c.creditor_id == creditor_id,
            invoices.c.status == "open",
            invoices.c.balance_cents > 0,
            invoices.c.due_date < today,
        )
        .group_by(invoices.c.customer_id)
        .subquery()
    )
    return list(
        conn.execute(
            select(customers.c.id, customers.c.external_id, customers.c.name, customers.c.document)
            .join(overdue, overdue.c.customer_id == customers.c.id)
            .order_by(overdue.c.n.desc(), customers.c.id)
            .limit(limit)
        ).all()
    )
