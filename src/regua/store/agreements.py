"""Agreements (acordos): the rows, the original invoices they hold, their installment invoices,
and the negotiation sheet the finance team keeps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, select, update

from regua.domain.agreements import HeldInvoice, InstallmentState
from regua.store.bulk import chunks
from regua.store.sql import one_of
from regua.store.tables import (
    action_invoices,
    actions,
    agreement_invoices,
    agreements,
    customers,
    interactions,
    invoices,
    payments,
)

BATCH = 5_000


def customer_for_negotiation(conn: Connection, creditor_id: int, external_id: str) -> Any:
    """(id, external_id, name, segment, tags, is_consumer) of the creditor's customer."""
    return conn.execute(
        select(
            customers.c.id,
            customers.c.external_id,
            customers.c.name,
            customers.c.segment,
            customers.c.tags,
            customers.c.is_consumer,
        ).where(customers.c.creditor_id == creditor_id, customers.c.external_id == external_id)
    ).first()


def customers_for_negotiation(
    conn: Connection, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, Any]:
    """external id -> (id, external_id, name, segment, tags, is_consumer) of those the creditor
    has."""
    found: dict[str, Any] = {}
    for batch in chunks(sorted(set(external_ids)), BATCH):
        for row in conn.execute(
            select(
                customers.c.id,
                customers.c.external_id,
                customers.c.name,
                customers.c.segment,
                customers.c.tags,
                customers.c.is_consumer,
            ).where(
                customers.c.creditor_id == creditor_id,
                one_of(conn, customers.c.external_id, batch),
            )
        ):
            found[row.external_id] = row
    return found


_NEGOTIABLE_INVOICES = (
    select(
        invoices.c.id,
        invoices.c.customer_id,
        invoices.c.number,
        invoices.c.external_id,
        invoices.c.due_date,
        invoices.c.effective_due_date,
        invoices.c.balance_cents,
        invoices.c.status,
        invoices.c.fees_paid_through,
        invoices.c.fees_unpaid_cents,
    )
    .where(
        invoices.c.agreement_id.is_(None),
        invoices.c.balance_cents > 0,
        invoices.c.status.in_(("open", "disputed", "in_agreement")),
    )
    .order_by(invoices.c.customer_id, invoices.c.due_date, invoices.c.id)
)
_NEGOTIABLE_OF_ONE = _NEGOTIABLE_INVOICES.where(invoices.c.customer_id == bindparam("p_customer"))


def customer_invoices(conn: Connection, customer_ids: Sequence[int]) -> dict[int, list[Any]]:
    """The customers' invoices that are not installments of an agreement, with a balance:
    (id, customer_id, number, external_id, due_date, effective_due_date, balance_cents,
    status, fees_paid_through, fees_unpaid_cents), by customer, oldest due date first."""
    found: dict[int, list[Any]] = defaultdict(list)
    if len(customer_ids) == 1:  # one customer's page (the portal): a statement built once
        rows = conn.execute(_NEGOTIABLE_OF_ONE, {"p_customer": customer_ids[0]}).all()
        found[customer_ids[0]].extend(rows)
        return found
    for batch in chunks(list(customer_ids), BATCH):
        for row in conn.execute(
            _NEGOTIABLE_INVOICES.where(one_of(conn, invoices.c.customer_id, batch))
        ):
            found[row.customer_id].append(row)
    return found


def insert_agreements(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert the agreements; their ids, in the order of ``rows``."""
    ids: list[int] = []
    statement = insert(agreements).returning(agreements.c.id, sort_by_parameter_order=True)
    for batch in chunks(list(rows), BATCH):
        ids.extend(int(i) for i in conn.execute(statement, list(batch)).scalars())
    return ids


def hold_invoices(conn: Connection, held: Sequence[tuple[int, int, int]], now: datetime) -> None:
    """Link the original invoices (agreement id, invoice id, balance) to their agreements and
    mark them "in_agreement": the régua stops for them (the planner reads open invoices only)."""
    for batch in chunks(list(held), BATCH):
        conn.execute(
            insert(agreement_invoices),
            [
                {"agreement_id": agreement_id, "invoice_id": invoice_id, "held_cents": cents}
                for agreement_id, invoice_id, cents in batch
            ],
        )
        conn.execute(
            update(invoices)
            .where(one_of(conn, invoices.c.id, [invoice_id for _, invoice_id, _ in batch]))
            .values(status="in_agreement", updated_at=now)
        )


def insert_installments(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    for batch in chunks(list(rows), BATCH):
        conn.execute(insert(invoices), list(batch))


def agreement_row(conn: Connection, creditor_id: int, agreement_id: int) -> Any:
    return conn.execute(
        select(agreements).where(
            agreements.c.creditor_id == creditor_id, agreements.c.id == agreement_id
        )
    ).first()


def active(conn: Connection, creditor_id: int) -> list[Any]:
    """(id, customer_id, break_days_late, made_on) of the creditor's active agreements."""
    return list(
        conn.execute(
            select(
                agreements.c.id,
                agreements.c.customer_id,
                agreements.c.break_days_late,
                agreements.c.made_on,
            ).where(agreements.c.creditor_id == creditor_id, agreements.c.status == "active")
        ).all()
    )


def _installment_number(external_id: str) -> int:
    return int(external_id.rsplit("-", 1)[1])


def installments_of(
    conn: Connection, agreement_ids: Iterable[int]
) -> dict[int, list[InstallmentState]]:
    """The installment invoices of each agreement, by due date."""
    found: dict[int, list[InstallmentState]] = defaultdict(list)
    for batch in chunks(sorted(agreement_ids), BATCH):
        rows = conn.execute(
            select(
                invoices.c.agreement_id,
                invoices.c.id,
                invoices.c.external_id,
                invoices.c.effective_due_date,
                invoices.c.amount_cents,
                invoices.c.balance_cents,
                invoices.c.status,
            )
            .where(one_of(conn, invoices.c.agreement_id, batch))
            .order_by(invoices.c.agreement_id, invoices.c.due_date, invoices.c.id)
        ).all()
        for row in rows:
            found[row.agreement_id].append(
                InstallmentState(
                    row.id,
                    _installment_number(row.external_id),
                    row.effective_due_date,
                    row.amount_cents,
                    row.balance_cents,
                    row.status,
                )
            )
    return found


def held_of(conn: Connection, agreement_ids: Iterable[int]) -> dict[int, list[HeldInvoice]]:
    """The original invoices each agreement holds."""
    found: dict[int, list[HeldInvoice]] = defaultdict(list)
    for batch in chunks(sorted(agreement_ids), BATCH):
        rows = conn.execute(
            select(
                agreement_invoices.c.agreement_id,
                agreement_invoices.c.invoice_id,
                invoices.c.due_date,
                agreement_invoices.c.held_cents,
            )
            .join(invoices, invoices.c.id == agreement_invoices.c.invoice_id)
            .where(one_of(conn, agreement_invoices.c.agreement_id, batch))
        ).all()
        for row in rows:
            found[row.agreement_id].append(
                HeldInvoice(row.invoice_id, row.due_date, row.held_cents)
            )
    return found


def close(conn: Connection, agreement_id: int, status: str, on: date, reason: str | None) -> None:
    conn.execute(
        update(agreements)
        .where(agreements.c.id == agreement_id)
        .values(status=status, closed_on=on, close_reason=reason)
    )


def restore(conn: Connection, balances: Sequence[tuple[int, int]], on: date, now: datetime) -> None:
    """The original invoices back in collection at these balances (paid when nothing is left)."""
    for invoice_id, balance in balances:
        conn.execute(
            update(invoices)
            .where(invoices.c.id == invoice_id)
            .values(
                balance_cents=balance,
                status="open" if balance > 0 else "paid",
                settled_on=None if balance > 0 else on,
                updated_at=now,
            )
        )


def settle(conn: Connection, invoice_ids: Sequence[int], on: date, now: datetime) -> None:
    """The original invoices paid off by a completed agreement."""
    conn.execute(
        update(invoices)
        .where(invoices.c.id.in_(list(invoice_ids)))
        .values(balance_cents=0, status="paid", settled_on=on, updated_at=now)
    )


def cancel_open_installments(conn: Connection, agreement_id: int, now: datetime) -> None:
    """The installments not yet paid of an agreement that ended: no longer owed."""
    conn.execute(
        update(invoices)
        .where(invoices.c.agreement_id == agreement_id, invoices.c.status == "open")
        .values(status="cancelled", updated_at=now)
    )


def holding(conn: Connection, invoice_ids: Sequence[int]) -> dict[int, int]:
    """invoice id -> the active agreement holding it."""
    rows = conn.execute(
        select(agreement_invoices.c.invoice_id, agreements.c.id)
        .join(agreements, agreements.c.id == agreement_invoices.c.agreement_id)
        .where(
            agreement_invoices.c.invoice_id.in_(list(invoice_ids)),
            agreements.c.status == "active",
        )
    ).all()
    return {row.invoice_id: row.id for row in rows}


def sheet(conn: Connection, creditor_id: int, statuses: Sequence[str] | None) -> list[Any]:
    """The negotiation sheet: one row per agreement with its customer, the original debt, the
    agreement's figures and how many installments are paid and still due."""
    held = (
        select(
            agreement_invoices.c.agreement_id,
            func.sum(agreement_invoices.c.held_cents).label("original_cents"),
        )
        .group_by(agreement_invoices.c.agreement_id)
        .subquery()
    )
    paid = invoices.c.status == "paid"
    due = and_(invoices.c.status == "open", invoices.c.balance_cents > 0)
    parts = (
        select(
            invoices.c.agreement_id,
            func.sum(case((paid, 1), else_=0)).label("paid_count"),
            func.sum(case((due, 1), else_=0)).label("due_count"),
            func.sum(invoices.c.amount_cents - invoices.c.balance_cents).label("paid_cents"),
            func.sum(case((due, invoices.c.balance_cents), else_=0)).label("due_cents"),
            func.min(case((due, invoices.c.due_date), else_=None)).label("next_due"),
        )
        .where(invoices.c.agreement_id.is_not(None), invoices.c.creditor_id == creditor_id)
        .group_by(invoices.c.agreement_id)
        .subquery()
    )
    query = (
        select(
            agreements.c.id,
            customers.c.external_id.label("customer"),
            customers.c.name,
            agreements.c.made_on,
            agreements.c.status,
            held.c.original_cents,
            agreements.c.debt_cents,
            agreements.c.discount_cents,
            agreements.c.total_cents,
            agreements.c.installment_count,
            agreements.c.down_payment_cents,
            agreements.c.interest_kind,
            agreements.c.monthly_rate,
            agreements.c.accepted_by,
            agreements.c.channel,
            func.coalesce(parts.c.paid_count, 0).label("paid_count"),
            func.coalesce(parts.c.due_count, 0).label("due_count"),
            func.coalesce(parts.c.paid_cents, 0).label("paid_cents"),
            func.coalesce(parts.c.due_cents, 0).label("due_cents"),
            parts.c.next_due,
            agreements.c.closed_on,
        )
        .join(customers, customers.c.id == agreements.c.customer_id)
        .join(held, held.c.agreement_id == agreements.c.id)
        .outerjoin(parts, parts.c.agreement_id == agreements.c.id)
        .where(agreements.c.creditor_id == creditor_id)
        .order_by(agreements.c.id)
    )
    if statuses:
        query = query.where(agreements.c.status.in_(list(statuses)))
    return list(conn.execute(query).all())


def customers_overdue_since(
    conn: Connection, creditor_id: int, before: date, limit: int
) -> list[str]:
    """External ids of customers with an open invoice (not an installment) due before
    ``before``, in id order: the first ``limit``."""
    query = (
        select(customers.c.external_id)
        .where(
            customers.c.creditor_id == creditor_id,
            customers.c.id.in_(
                select(invoices.c.customer_id).where(
                    invoices.c.creditor_id == creditor_id,
                    invoices.c.status == "open",
                    invoices.c.agreement_id.is_(None),
                    invoices.c.balance_cents > 0,
                    invoices.c.effective_due_date < before,
                )
            ),
        )
        .order_by(customers.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def insert_notice(
    conn: Connection, row: Mapping[str, Any], invoice_ids: Sequence[int]
) -> int | None:
    """One action (a message that is not the régua's) and the invoices it speaks of; its id, or
    None when the customer already has one of its purpose that day (a second agreement broken
    the same day: the first notice also speaks of these invoices)."""
    existing = conn.execute(
        select(actions.c.id).where(
            actions.c.customer_id == row["customer_id"],
            actions.c.planned_for == row["planned_for"],
            actions.c.purpose == row["purpose"],
        )
    ).scalar()
    if existing is None:
        inserted = conn.execute(insert(actions).values(**row)).inserted_primary_key
        assert inserted is not None  # an INSERT of one row always has its key
        action_id = int(inserted[0])
    else:
        known = set(
            conn.execute(
                select(action_invoices.c.invoice_id).where(action_invoices.c.action_id == existing)
            ).scalars()
        )
        invoice_ids = [i for i in invoice_ids if i not in known]
    target = action_id if existing is None else int(existing)
    if invoice_ids:
        conn.execute(
            insert(action_invoices),
            [
                {"action_id": target, "invoice_id": i, "step_id": row["step_id"]}
                for i in invoice_ids
            ],
        )
    return action_id if existing is None else None


def customer_heads(conn: Connection, customer_ids: Sequence[int]) -> dict[int, Any]:
    """(external_id, name, is_consumer) of each customer, by id."""
    return {
        row.id: row
        for row in conn.execute(
            select(
                customers.c.id, customers.c.external_id, customers.c.name, customers.c.is_consumer
            ).where(customers.c.id.in_(list(customer_ids)))
        )
    }


def latest_events(
    conn: Connection, agreements_of: Sequence[tuple[int, int]], event: str
) -> dict[int, dict[str, Any]]:
    """The data of the latest timeline entry of ``event`` for each (agreement id, customer id),
    where there is one. Read by customer (indexed), sorted out here: few entries each."""
    wanted = dict(agreements_of)
    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(wanted.values())), BATCH):
        rows = conn.execute(
            select(interactions.c.data)
            .where(
                one_of(conn, interactions.c.customer_id, batch),
                interactions.c.kind == "agreement",
            )
            .order_by(interactions.c.id)
        ).scalars()
        for data in rows:
            if isinstance(data, dict) and data.get("event") == event:
                agreement_id = int(data.get("agreement_id", 0))
                if agreement_id in wanted:
                    found[agreement_id] = data
    return found


def paid_on_installments(conn: Connection, agreement_id: int, first: date, last: date) -> int:
    """Everything paid (applied and overpaid) on the agreement's installments from ``first`` to
    ``last``."""
    total = conn.execute(
        select(func.coalesce(func.sum(payments.c.amount_cents), 0))
        .join(invoices, invoices.c.id == payments.c.invoice_id)
        .where(
            invoices.c.agreement_id == agreement_id,
            payments.c.status == "applied",
            payments.c.paid_on >= first,
            payments.c.paid_on <= last,
        )
    ).scalar()
    return int(total or 0)
