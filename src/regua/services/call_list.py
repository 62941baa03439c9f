"""The operators' call list: the day's phone actions, whom to call, about what, with which
script, and in which hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from regua.domain.calendar import (
    ContactWindow,
    customer_timezone,
    effective_window,
    format_hours,
    window_on,
)
from regua.services.contact_windows import scope_window
from regua.services.messages import NotSendable, prepare_messages
from regua.store.call_list import planned_calls
from regua.store.claims import Scope
from regua.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class CallEntry:
    """One phone action of the day: whom to call, about what, with which script, and when."""

    action_id: int
    planned_for: date
    customer: str  # the creditor's customer code
    name: str
    phone: str
    uf: str | None
    invoices: tuple[str, ...]
    principal_cents: int
    fees_cents: int  # multa + juros at the call date
    total_cents: int
    script: str
    step: str
    hours: str | None  # the customer's contact window that day, local time ("08:00-19:00")
    timezone: str


def call_list(
    uow: UnitOfWorkFactory, day: date, now: datetime, *, creditor_id: int | None = None
) -> list[CallEntry]:
    """Phone actions planned for `day` that may still be made, largest amounts first (one
    creditor's when `creditor_id` is given)."""
    with uow() as work:  # read only: nothing to commit
        return _call_list(work.connection, day, now, creditor_id)


def _call_list(
    connection: Connection, day: date, now: datetime, creditor_id: int | None = None
) -> list[CallEntry]:
    heads = planned_calls(connection, day, creditor_id)
    prepared, _txids = prepare_messages(connection, list(heads), now=now, on=day)
    windows: dict[Scope, tuple[ContactWindow, str]] = {}
    entries = []
    for action_id, item in prepared.items():
        if isinstance(item, NotSendable):
            continue
        head = heads[action_id]
        scope = Scope(int(head.creditor_id), head.policy_name, head.policy_version)
        if scope not in windows:
            windows[scope] = scope_window(connection, scope)
        window, policy_zone = windows[scope]
        hours = window_on(effective_window(window, head.uf), day, head.uf)
        totals = item.context["totals"]
        entries.append(
            CallEntry(
                action_id=action_id,
                planned_for=day,
                customer=item.context["customer"]["id"],
                name=item.to_name,
                phone=item.to,
                uf=head.uf,
                invoices=tuple(i["number"] for i in item.context["invoices"]),
                principal_cents=totals["balance_cents"],
                fees_cents=totals["late_fee_cents"] + totals["interest_cents"],
                total_cents=totals["total_cents"],
                script=item.template,
                step=item.step_id,
                hours=format_hours(hours) if hours else None,
                timezone=customer_timezone(head.uf, policy_zone),
            )
        )
    entries.sort(key=lambda e: (-e.total_cents, e.customer))
    return entries
