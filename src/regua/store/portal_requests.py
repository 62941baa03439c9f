"""What a debtor asks on the portal besides promises and agreements: disputes of invoices,
calls at a chosen time, the feedback after paying; and the invoices paid lately that the page
thanks for. Also the staff's side: the disputes to settle, and the calls made."""

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


# --- the staff's answers --------------------------------------------------------------------


def _dispute_columns() -> tuple[Any, ...]:
    return (
        disputes.c.id,
        disputes.c.customer_id,
        disputes.c.invoice_id,
        disputes.c.reason,
        disputes.c.comment,
        disputes.c.receipt_file,
        disputes.c.receipt_type,
        disputes.c.receipt_bytes,
        disputes.c.status,
        disputes.c.created_at,
        disputes.c.resolved_at,
        disputes.c.resolved_by,
        disputes.c.resolution_note,
        customers.c.creditor_id,
        customers.c.external_id.label("customer_external_id"),
        customers.c.name.label("customer_name"),
        invoices.c.number.label("invoice_number"),
        invoices.c.status.label("invoice_status"),
        invoices.c.balance_cents,
    )


def creditor_disputes(conn: Connection, creditor_id: int, *, everything: bool) -> list[Any]:
    """The creditor's disputes still open (all of them with `everything`), newest first, with
    the customer and the invoice."""
    query = (
        select(*_dispute_columns())
        .join(customers, customers.c.id == disputes.c.customer_id)
        .join(invoices, invoices.c.id == disputes.c.invoice_id)
        .where(customers.c.creditor_id == creditor_id)
        .order_by(disputes.c.created_at.desc(), disputes.c.id.desc())
    )
    if not everything:
        query = query.where(disputes.c.status == "open")
    return list(conn.execute(query).all())


def dispute_of(conn: Connection, dispute_id: int) -> Any | None:
    """One dispute with its customer and invoice, whoever's it is (the caller checks)."""
    return conn.execute(
        select(*_dispute_columns())
        .join(customers, customers.c.id == disputes.c.customer_id)
        .join(invoices, invoices.c.id == disputes.c.invoice_id)
        .where(disputes.c.id == dispute_id)
    ).first()


def settle_dispute(
    conn: Connection, dispute_id: int, *, status: str, at: datetime, by: str, note: str
) -> bool:
    """An open dispute becomes `status`; False when it was no longer open (settled meanwhile)."""
    changed = conn.execute(
        update(disputes)
        .where(disputes.c.id == dispute_id, disputes.c.status == "open")
        .values(status=status, resolved_at=at, resolved_by=by, resolution_note=note)
    ).rowcount
    return bool(changed)


def reopen_disputed(conn: Connection, invoice_id: int, now: datetime) -> bool:
    """A disputed invoice goes back to collection; `updated_at` makes the planner read it on its
    next run. False when it was no longer disputed."""
    changed = conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.status == "disputed")
        .values(status="open", updated_at=now)
    ).rowcount
    return bool(changed)


def cancel_disputed(conn: Connection, invoice_id: int, now: datetime) -> bool:
    """A disputed invoice is cancelled as an ERP export cancels one: nothing left to collect."""
    changed = conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.status == "disputed")
        .values(status="cancelled", balance_cents=0, updated_at=now)
    ).rowcount
    return bool(changed)


_ANSWERED_DISPUTES = (
    select(invoices.c.number, disputes.c.reason, disputes.c.status, disputes.c.resolved_at)
    .join(invoices, invoices.c.id == disputes.c.invoice_id)
    .where(
        disputes.c.customer_id == bindparam("p_customer"),
        disputes.c.resolved_at >= bindparam("p_since", type_=disputes.c.resolved_at.type),
    )
    .order_by(disputes.c.resolved_at.desc(), disputes.c.id.desc())
)


def answered_disputes(conn: Connection, customer_id: int, since: datetime) -> list[Any]:
    """The customer's disputes settled since `since`: invoice number, reason, status, when;
    the latest first."""
    return list(conn.execute(_ANSWERED_DISPUTES, {"p_customer": customer_id, "p_since": since}))


def callback_of(conn: Connection, callback_id: int) -> Any | None:
    """One call a customer asked for, with the customer's code and name."""
    return conn.execute(
        select(
            callback_requests.c.id,
            callback_requests.c.creditor_id,
            callback_requests.c.customer_id,
            callback_requests.c.requested_for,
            callback_requests.c.starts,
            callback_requests.c.ends,
            callback_requests.c.status,
            callback_requests.c.done_at,
            callback_requests.c.done_by,
            customers.c.external_id,
            customers.c.name,
        )
        .join(customers, customers.c.id == callback_requests.c.customer_id)
        .where(callback_requests.c.id == callback_id)
    ).first()


def mark_callback_done(
    conn: Connection, callback_id: int, *, at: datetime, by: str, result: str | None
) -> bool:
    """An open call becomes done; False when it was no longer open."""
    changed = conn.execute(
        update(callback_requests)
        .where(callback_requests.c.id == callback_id, callback_requests.c.status == "open")
        .values(status="done", done_at=at, done_by=by, result=result)
    ).rowcount
    return bool(changed)
