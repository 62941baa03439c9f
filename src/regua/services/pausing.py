"""Pauses set by a person on a customer or an invoice, with a reason and an optional end.

`pause` and `resume` each commit one unit of work of their own.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from regua.errors import InputError, NotFound
from regua.store import customers, invoices
from regua.store.customers import PauseTarget
from regua.store.uow import UnitOfWorkFactory


def _target(
    connection: Connection, creditor_id: int, customer: str | None, invoice: str | None
) -> tuple[PauseTarget, int, int]:
    """(kind, row id, customer id) of what the person named."""
    if (customer is None) == (invoice is None):
        raise InputError("informe --customer ou --invoice (um dos dois)")
    if customer is not None:
        customer_id = customers.id_by_external(connection, creditor_id, customer)
        if customer_id is None:
            raise NotFound(f"cliente desconhecido: {customer}")
        return "customer", customer_id, customer_id
    assert invoice is not None
    found = invoices.id_and_customer_by_external(connection, creditor_id, invoice)
    if found is None:
        raise NotFound(f"título desconhecido: {invoice}")
    return "invoice", *found


def pause(
    uow: UnitOfWorkFactory,
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
        uow, creditor_id, customer, invoice, now,
        values={"paused": True, "paused_until": until, "pause_reason": reason},
        kind="paused", detail=f"pausado: {reason}{suffix}",
    )  # fmt: skip


def resume(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    *,
    customer: str | None,
    invoice: str | None,
    now: datetime,
) -> str:
    """Restart the régua stopped by `pause`."""
    return _set_pause(
        uow, creditor_id, customer, invoice, now,
        values={"paused": False, "paused_until": None, "pause_reason": None},
        kind="resumed", detail="retomado",
    )  # fmt: skip


def _set_pause(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    customer: str | None,
    invoice: str | None,
    now: datetime,
    *,
    values: dict[str, object],
    kind: str,
    detail: str,
) -> str:
    with uow() as work:
        target, row_id, customer_id = _target(work.connection, creditor_id, customer, invoice)
        label = f"cliente {customer}" if target == "customer" else f"título {invoice}"
        customers.set_pause(
            work.connection,
            target,
            row_id,
            values,
            customer_id=customer_id,
            at=now,
            kind=kind,
            detail=f"{label} {detail}",
        )
        work.commit()
    return label
