"""One customer as an analyst looks them up (`regua cliente`): by ERP code or CPF/CNPJ, with
every contact and its state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, or_, select

from regua.store.tables import contacts, customers

_CUSTOMER_COLUMNS = (
    customers.c.id,
    customers.c.creditor_id,
    customers.c.external_id,
    customers.c.name,
    customers.c.document,
    customers.c.document_kind,
    customers.c.is_consumer,
    customers.c.uf,
    customers.c.city,
    customers.c.address,
    customers.c.tags,
    customers.c.segment,
    customers.c.segment_since,
    customers.c.paused,
    customers.c.paused_until,
    customers.c.pause_reason,
    customers.c.anonymised_at,
    customers.c.created_at,
)


def find_customers(
    connection: Connection, creditor_id: int, external_id: str, document: str | None
) -> Sequence[Any]:
    """The creditor's customers whose ERP code is `external_id` or whose CPF/CNPJ (compact)
    is `document`; the one with that code first."""
    wanted = [customers.c.external_id == external_id]
    if document:
        wanted.append(customers.c.document == document)
    rows = connection.execute(
        select(*_CUSTOMER_COLUMNS)
        .where(customers.c.creditor_id == creditor_id, or_(*wanted))
        .order_by(customers.c.external_id)
    ).all()
    return sorted(rows, key=lambda row: row.external_id != external_id)


def contacts_of(connection: Connection, customer_id: int) -> Sequence[Any]:
    """The customer's contacts with their opt-out and invalid marks, in the order added."""
    return connection.execute(
        select(
            contacts.c.channel,
            contacts.c.value,
            contacts.c.opted_out_at,
            contacts.c.opt_out_reason,
            contacts.c.invalid_at,
        )
        .where(contacts.c.customer_id == customer_id)
        .order_by(contacts.c.id)
    ).all()
