"""Changes to how a customer may be reached: opt-outs (SAIR, PARE) and invalid addresses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, select, update

from regua.store.tables import contacts, customers, interactions


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

    Returns how many contacts changed; an opt-out already recorded keeps its first date.
    """
    condition = and_(
        contacts.c.customer_id == customer_id,
        contacts.c.channel == channel,
        contacts.c.opted_out_at.is_(None),
    )
    if value is not None:
        condition = and_(condition, contacts.c.value == value)
    changed = connection.execute(
        update(contacts).where(condition).values(opted_out_at=at, opt_out_reason=reason)
    ).rowcount
    if changed:
        connection.execute(
            interactions.insert().values(
                customer_id=customer_id, at=at, kind="opted_out", channel=channel, detail=reason
            )
        )
    return int(changed)


def customer_id_by_external(
    connection: Connection, creditor_id: int, external_id: str
) -> int | None:
    return connection.execute(
        select(customers.c.id).where(
            customers.c.creditor_id == creditor_id, customers.c.external_id == external_id
        )
    ).scalar()
