"""Pauses set by a person on a customer or an invoice, with a reason and an optional end.

`pause` and `resume` each commit one unit of work of their own. An invoice is named by the
ERP's id or by its number (``NF-9004``). Pausing again without an end date keeps the end date
of a pause in force (a dated pause does not silently become an open one); `open_ended` asks
for a pause without an end date, replacing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from regua.errors import InputError, NotFound
from regua.store import customers, invoices
from regua.store.customers import PauseTarget
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class _Target:
    kind: PauseTarget
    row_id: int
    customer_id: int
    label: str  # "cliente C1", "título NF-9004 (id 9004)"


@dataclass(frozen=True)
class Paused:
    """What `pause` did: `label` names the customer or invoice, `until` the pause's end date
    (None: until resumed); `kept` says the end date is that of the pause already in force."""

    label: str
    until: date | None
    kept: bool = False


def _target(
    connection: Connection, creditor_id: int, customer: str | None, invoice: str | None
) -> _Target:
    """The customer or invoice the person named."""
    if (customer is None) == (invoice is None):
        raise InputError("informe --customer ou --invoice (um dos dois)")
    if customer is not None:
        customer_id = customers.id_by_external(connection, creditor_id, customer)
        if customer_id is None:
            raise NotFound(f"cliente desconhecido: {customer}")
        return _Target("customer", customer_id, customer_id, f"cliente {customer}")
    assert invoice is not None
    found = invoices.id_and_customer_by_external(connection, creditor_id, invoice)
    if found is not None:
        return _Target("invoice", *found, f"título {invoice}")
    numbered = invoices.ids_by_number(connection, creditor_id, invoice)
    if not numbered:
        raise NotFound(f"título desconhecido: {invoice} (nem id do ERP nem número de título)")
    if len(numbered) > 1:
        ids = ", ".join(external_id for _id, _customer, external_id in numbered)
        raise InputError(
            f"o número {invoice} é de {len(numbered)} títulos (ids do ERP: {ids}); "
            "informe --invoice com o id do ERP",
            field="--invoice",
        )
    row_id, customer_id, external_id = numbered[0]
    return _Target("invoice", row_id, customer_id, f"título {invoice} (id {external_id})")


def pause(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    *,
    customer: str | None,
    invoice: str | None,
    reason: str,
    until: date | None,
    now: datetime,
    today: date,
    open_ended: bool = False,
) -> Paused:
    """Stop the régua for a customer or an invoice until `until` (or until resumed).

    `until` before `today` is refused. Without `until`, a pause in force with an end date
    keeps that date unless `open_ended`.
    """
    if until is not None and open_ended:
        raise InputError("informe --until ou --sem-prazo, não os dois", field="--sem-prazo")
    if until is not None and until < today:
        raise InputError(
            f"a data já passou: {until:%d/%m/%Y} (hoje é {today:%d/%m/%Y})", field="--until"
        )
    with uow() as work:
        target = _target(work.connection, creditor_id, customer, invoice)
        kept = False
        if until is None and not open_ended:
            paused, current_until = customers.pause_of(work.connection, target.kind, target.row_id)
            if paused and current_until is not None and current_until >= today:
                until, kept = current_until, True
        suffix = f" (até {until:%d/%m/%Y})" if until else ""
        customers.set_pause(
            work.connection,
            target.kind,
            target.row_id,
            {"paused": True, "paused_until": until, "pause_reason": reason},
            customer_id=target.customer_id,
            at=now,
            kind="paused",
            detail=f"{target.label} pausado: {reason}{suffix}",
        )
        work.commit()
    return Paused(target.label, until, kept)


def resume(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    *,
    customer: str | None,
    invoice: str | None,
    now: datetime,
) -> str:
    """Restart the régua stopped by `pause`."""
    with uow() as work:
        target = _target(work.connection, creditor_id, customer, invoice)
        customers.set_pause(
            work.connection,
            target.kind,
            target.row_id,
            {"paused": False, "paused_until": None, "pause_reason": None},
            customer_id=target.customer_id,
            at=now,
            kind="resumed",
            detail=f"{target.label} retomado",
        )
        work.commit()
    return target.label
