"""Phone actions: the operators' call list of a day, never claimed by a dispatcher."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from regua.store.tables import actions, customers


def planned_calls(
    connection: Connection, day: date, creditor_id: int | None = None
) -> dict[int, Any]:
    """Action id -> (``creditor_id``, ``policy_name``, ``policy_version``, the customer's
    ``uf``) of the phone actions planned for `day` and not yet made (of one creditor's, when
    `creditor_id` is given)."""
    mine = [] if creditor_id is None else [actions.c.creditor_id == creditor_id]
    return {
        int(row.id): row
        for row in connection.execute(
            select(
                actions.c.id,
                actions.c.creditor_id,
                actions.c.policy_name,
                actions.c.policy_version,
                customers.c.uf,
            )
            .join(customers, customers.c.id == actions.c.customer_id)
            .where(
                actions.c.channel == "phone",
                actions.c.status == "planned",
                actions.c.planned_for == day,
                *mine,
            )
        )
    }


def count_planned_calls(connection: Connection, day: date, creditor_id: int | None = None) -> int:
    """How many phone actions are planned for `day` and not yet made (of one creditor's, when
    `creditor_id` is given)."""
    mine = [] if creditor_id is None else [actions.c.creditor_id == creditor_id]
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(
                actions.c.channel == "phone",
                actions.c.status == "planned",
                actions.c.planned_for == day,
                *mine,
            )
        ).scalar_one()
    )
