"""Actions as an analyst lists them: a day's actions of some statuses, each with its customer and
the numbers of its invoices (`regua acoes`), and one customer's actions (`regua cliente`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from regua.store.sql import one_of
from regua.store.tables import action_invoices, actions, customers, invoices


@dataclass(frozen=True)
class ActionRow:
    """One action with who it is for and what it is about, as stored."""

    id: int
    planned_for: date
    purpose: str
    status: str
    step_id: str
    channel: str | None
    contact_value: str | None
    template: str | None
    reason: str | None
    evidence: dict[str, Any] | None
    attempts: int
    sent_at: datetime | None
    created_at: datetime
    customer_external_id: str
    customer_name: str
    invoice_numbers: tuple[str, ...]


_COLUMNS = (
    actions.c.id,
    actions.c.planned_for,
    actions.c.purpose,
    actions.c.status,
    actions.c.step_id,
    actions.c.channel,
    actions.c.contact_value,
    actions.c.template,
    actions.c.reason,
    actions.c.evidence,
    actions.c.attempts,
    actions.c.sent_at,
    actions.c.created_at,
    customers.c.external_id,
    customers.c.name,
)


def _invoice_numbers(connection: Connection, action_ids: Sequence[int]) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = defaultdict(list)
    if not action_ids:
        return numbers
    for action_id, number in connection.execute(
        select(action_invoices.c.action_id, invoices.c.number)
        .join(invoices, invoices.c.id == action_invoices.c.invoice_id)
        .where(one_of(connection, action_invoices.c.action_id, list(action_ids)))
        .order_by(action_invoices.c.action_id, invoices.c.due_date, invoices.c.number)
    ):
        numbers[int(action_id)].append(str(number))
    return numbers


def _rows(connection: Connection, statement: Any) -> list[ActionRow]:
    found = connection.execute(statement).all()
    numbers = _invoice_numbers(connection, [int(row.id) for row in found])
    return [
        ActionRow(
            id=int(row.id),
            planned_for=row.planned_for,
            purpose=row.purpose,
            status=row.status,
            step_id=row.step_id,
            channel=row.channel,
            contact_value=row.contact_value,
            template=row.template,
            reason=row.reason,
            evidence=row.evidence,
            attempts=int(row.attempts),
            sent_at=row.sent_at,
            created_at=row.created_at,
            customer_external_id=row.external_id,
            customer_name=row.name,
            invoice_numbers=tuple(numbers.get(int(row.id), ())),
        )
        for row in found
    ]


def actions_on_day(
    connection: Connection, creditor_id: int, day: date, statuses: Sequence[str]
) -> list[ActionRow]:
    """The creditor's actions planned for `day` with one of `statuses`, by customer code."""
    return _rows(
        connection,
        select(*_COLUMNS)
        .join(customers, customers.c.id == actions.c.customer_id)
        .where(
            actions.c.creditor_id == creditor_id,
            actions.c.planned_for == day,
            actions.c.status.in_(list(statuses)),
        )
        .order_by(customers.c.external_id, actions.c.purpose, actions.c.id),
    )


def actions_of_customer(connection: Connection, customer_id: int) -> list[ActionRow]:
    """Every action of one customer, oldest first."""
    return _rows(
        connection,
        select(*_COLUMNS)
        .join(customers, customers.c.id == actions.c.customer_id)
        .where(actions.c.customer_id == customer_id)
        .order_by(actions.c.planned_for, actions.c.id),
    )


def statuses_on_day(
    connection: Connection, creditor_id: int, day: date, purpose: str
) -> dict[str, int]:
    """Status -> how many of the creditor's actions of `purpose` planned for `day`."""
    return {
        str(status): int(count)
        for status, count in connection.execute(
            select(actions.c.status, func.count())
            .where(
                actions.c.creditor_id == creditor_id,
                actions.c.planned_for == day,
                actions.c.purpose == purpose,
            )
            .group_by(actions.c.status)
        )
    }


def sent_between(
    connection: Connection, creditor_id: int, purpose: str, start: datetime, end: datetime
) -> int:
    """How many of the creditor's actions of `purpose` were sent from `start` until `end`."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(
                actions.c.creditor_id == creditor_id,
                actions.c.purpose == purpose,
                actions.c.sent_at >= start,
                actions.c.sent_at < end,
            )
        ).scalar_one()
    )
