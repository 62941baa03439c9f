"""Pauses set by a person on a customer or an invoice, with a reason and an optional end."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from regua.errors import InputError, NotFound
from regua.store.tables import customers, interactions, invoices


def _target(
    connection: Connection, creditor_id: int, customer: str | None, invoice: str | None
) -> tuple[str, int, int]:
    """(kind, row id, customer id) of what the person named."""
    if (customer is None) == (invoice is None):
        raise InputError("informe --customer ou --invoice (um dos dois)")
    if customer is not None:
        row = connection.execute(
            select(customers.c.id).where(
                customers.c.creditor_id == creditor_id, customers.c.external_id == customer
            )
        ).first()
        if row is None:
            raise NotFound(f"cliente desconhecido: {customer}")
        return "customer", row.id, row.id
    found = connection.execute(
        select(invoices.c.id, invoices.c.customer_id).where(
            invoices.c.creditor_id == creditor_id, invoices.c.external_id == invoice
        )
    ).first()
    if found is None:
        raise NotFound(f"título desconhecido: {invoice}")
    return "invoice", found.id, found.customer_id


def pause(
    connection: Connection,
    creditor_id: int,
    *,
    customer: str | None,
    invoice: str | None,
    reason: str,
    until: date | None,
    now: datetime,
) -> str:
    """Stop the régua for a customer or an invoice until `until` (or until resumed)."""
    suffix = f" (até {until:%d/%m/%Y})" if until else ""
    return _set_pause(
        connection, creditor_id, customer, invoice, now,
        values={"paused": True, "paused_until": until, "pause_reason": reason},
        kind="paused", detail=f"pausado: {reason}{suffix}",
    )  # fmt: skip


def resume(
    connection: Connection,
    creditor_id: int,
    *,
    customer: str | None,
    invoice: str | None,
    now: datetime,
) -> str:
    """Restart the régua stopped by `pause`."""
    return _set_pause(
        connection, creditor_id, customer, invoice, now,
        values={"paused": False, "paused_until": None, "pause_reason": None},
        kind="resumed", detail="retomado",
    )  # fmt: skip


def _set_pause(
    connection: Connection,
    creditor_id: int,
    customer: str | None,
    invoice: str | None,
    now: datetime,
    *,
    values: dict[str, object],
    kind: str,
    detail: str,
) -> str:
    target, row_id, customer_id = _target(connection, creditor_id, customer, invoice)
    table = customers if target == "customer" else invoices
    connection.execute(update(table).where(table.c.id == row_id).values(values))
    label = f"cliente {customer}" if target == "customer" else f"título {invoice}"
    connection.execute(
        interactions.insert().values(
            customer_id=customer_id,
            invoice_id=row_id if target == "invoice" else None,
            at=now,
            kind=kind,
            detail=f"{label} {detail}",
        )
    )
    return label
