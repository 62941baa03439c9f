"""Contact points: how customers may be reached, their opt-outs (SAIR, PARE) and invalid ones,
and the customers a number or address belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.sql.expression import ColumnElement

from regua.domain.planning import ContactPoint, Reach
from regua.store.bulk import chunks
from regua.store.sql import one_of, plain_rows
from regua.store.tables import contacts, customers, interactions


def contact_points(connection: Connection, customer_ids: Sequence[int]) -> dict[int, Reach]:
    """Each customer's contact points by channel, as the channel choice reads them."""
    points: dict[int, Reach] = {}
    # Plain rows: a return file thanks tens of thousands of customers, and a Row object per
    # contact cost more than the query.
    rows = plain_rows(
        connection,
        select(
            contacts.c.customer_id,
            contacts.c.channel,
            contacts.c.value,
            # Whether, not when: no instant to convert for each of the contacts.
            contacts.c.opted_out_at.is_not(None),
            contacts.c.invalid_at.is_not(None),
        )
        .where(one_of(connection, contacts.c.customer_id, customer_ids))
        .order_by(contacts.c.customer_id, contacts.c.id),
    )
    for customer_id, channel, value, opted_out, invalid in rows:
        point = ContactPoint(value, bool(opted_out), bool(invalid))
        reach = points.get(customer_id)
        if reach is None:
            points[customer_id] = {channel: (point,)}
        else:
            reach[channel] = (*reach.get(channel, ()), point)
    return points


def opt_out(
    connection: Connection,
    *,
    customer_id: int,
    channel: str,
    reason: str,
    at: datetime,
    value: str | None = None,
) -> int:
    """Mark the customer's contacts on `channel` (or only `value`) opted out, at once, and say
    so on the customer's timeline.

    Returns how many contacts changed; an opt-out already recorded keeps its first date.
    """
    condition = and_(
        contacts.c.customer_id == customer_id,
        contacts.c.channel == channel,
        contacts.c.opted_out_at.is_(None),
    )
    if value is not None:
        condition = and_(condition, contacts.c.value == value)
    return _flag(
        connection,
        condition,
        {"opted_out_at": at, "opt_out_reason": reason},
        {
            "customer_id": customer_id,
            "at": at,
            "kind": "opted_out",
            "channel": channel,
            "detail": reason,
        },
    )


def mark_invalid(
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
    condition = and_(
        contacts.c.customer_id == customer_id,
        contacts.c.channel == channel,
        contacts.c.value == value,
        contacts.c.invalid_at.is_(None),
    )
    entry = {
        "customer_id": customer_id,
        "action_id": action_id,
        "at": at,
        "kind": "contact_invalid",
        "channel": channel,
        "detail": detail,
    }
    return bool(_flag(connection, condition, {"invalid_at": at}, entry))


def _flag(
    connection: Connection,
    condition: ColumnElement[bool],
    values: dict[str, Any],
    entry: dict[str, Any],
) -> int:
    """Set `values` on the contacts `condition` picks and, if any changed, say so on the
    customer's timeline (the interaction `entry`); how many changed."""
    changed = connection.execute(update(contacts).where(condition).values(values)).rowcount
    if changed:
        connection.execute(interactions.insert().values(**entry))
    return int(changed)


# Read on every portal page: built once (building costs more than running it).
_CONTACT_STATES = (
    select(contacts.c.channel, contacts.c.value, contacts.c.opted_out_at, contacts.c.invalid_at)
    .where(contacts.c.customer_id == bindparam("p_customer"))
    .order_by(contacts.c.id)
)


def contact_states(connection: Connection, customer_id: int) -> list[Any]:
    """The customer's contacts (``channel``, ``value``, ``opted_out_at``, ``invalid_at``), in
    the order they were added."""
    return list(connection.execute(_CONTACT_STATES, {"p_customer": customer_id}))


def customers_with_contact(
    connection: Connection, channel: str, value: str, *, creditor_id: int | None = None
) -> list[int]:
    """Ids of the customers who have `value` as a contact on `channel` (of one creditor's,
    when `creditor_id` is given), ascending."""
    query = select(contacts.c.customer_id).where(
        contacts.c.channel == channel, contacts.c.value == value
    )
    if creditor_id is not None:
        query = query.join(customers, customers.c.id == contacts.c.customer_id).where(
            customers.c.creditor_id == creditor_id
        )
    return sorted({int(customer_id) for (customer_id,) in connection.execute(query)})


def stored_contacts(
    connection: Connection, customer_ids: Sequence[int]
) -> set[tuple[int, str, str]]:
    """(customer id, channel, value) of every contact of `customer_ids`: what an import adds
    is what is not among them."""
    found: set[tuple[int, str, str]] = set()
    for batch in chunks(sorted(set(customer_ids)), 5_000):
        found.update(
            (int(customer_id), channel, value)
            for customer_id, channel, value in plain_rows(
                connection,
                select(contacts.c.customer_id, contacts.c.channel, contacts.c.value).where(
                    one_of(connection, contacts.c.customer_id, batch)
                ),
            )
        )
    return found
