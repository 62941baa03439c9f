"""Opting a customer's contacts out (SAIR, PARE, a person's request), and finding customers by
the ERP's id; the contact points the planner reads are `store.contacts.contact_points`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from regua.store import contacts, customers


def opt_out(
    connection: Connection,
    *,
    customer_id: int,
    channel: str,
    reason: str,
    at: datetime,
    value: str | None = None,
) -> int:
    """Mark the customer's contacts on `channel` (or only `value`) opted out, at once.

    Returns how many contacts changed; an opt-out already recorded keeps its first date. The
    customer's timeline says so.
    """
    return contacts.opt_out(
        connection, customer_id=customer_id, channel=channel, reason=reason, at=at, value=value
    )


def customer_id_by_external(
    connection: Connection, creditor_id: int, external_id: str
) -> int | None:
    return customers.id_by_external(connection, creditor_id, external_id)
