"""A customer's contact flagged invalid (the provider said the address or number does not
exist), so the next plan uses another channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update

from regua.store.tables import contacts, interactions


def mark_contact_invalid(
    connection: Connection,
    customer_id: int,
    channel: str,
    value: str,
    at: datetime,
    *,
    action_id: int | None,
    detail: str,
) -> bool:
    """Flag the contact invalid, with a ``contact_invalid`` timeline entry saying `detail`;
    True if it changed (a contact already flagged stays as it was, without a second entry)."""
    changed = connection.execute(
        update(contacts)
        .where(
            contacts.c.customer_id == customer_id,
            contacts.c.channel == channel,
            contacts.c.value == value,
            contacts.c.invalid_at.is_(None),
        )
        .values(invalid_at=at)
    ).rowcount
    if changed:
        connection.execute(
            interactions.insert().values(
                customer_id=customer_id,
                action_id=action_id,
                at=at,
                kind="contact_invalid",
                channel=channel,
                detail=detail,
            )
        )
    return bool(changed)
