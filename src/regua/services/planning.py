"""Plan a day over the store: candidates by SQL, rules by `domain.planning`, writes in bulk.

Idempotent by the database: an action is unique per (customer, day, purpose), inserted with
ON CONFLICT DO NOTHING, so running the same day twice creates nothing new. The invoices' step
memory (`invoice_steps`) records only the actions actually inserted; every invoice looked at
gets its next day there (`services.step_days`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select, update

from regua.domain.planning import (
    CustomerState,
    OpenInvoice,
    PlannedAction,
    next_step_day,
    plan_day,
)
from regua.services.contacts import contact_points
from regua.services.policies import active_policies, segmentation_policy
from regua.services.segmenting import SegmentRefresh, refresh_segments
from regua.services.step_days import advance, forget_closed, remember_steps
from regua.store.bulk import (
    chunks,
    insert_new_returning,
    insert_rows,
    refresh_statistics,
)
from regua.store.db import settings_for_batch_work
from regua.store.sql import one_of
from regua.store.tables import (
    NO_MORE_STEPS,
    action_invoices,
    actions,
    customers,
    invoice_steps,
    invoices,
    promises,
)

PENDING = ("planned", "sending")
COUNTED = ("planned", "sending", "sent")  # contacts that count against the weekly cap
WRITE_BATCH = 10_000  # actions per staged write (more only holds more rows in memory)
LARGE_CHANGE = 50_000  # rows examined from which the tables' statistics are refreshed


@dataclass
class PlanResult:
    day: date
    actions: list[PlannedAction]
    inserted: int
    cancelled: int
    segments: SegmentRefresh | None = None
    existing: int = 0  # actions already planned for this day by an earlier run
    by_status: Counter[str] = field(default_factory=Counter)

    def load(self) -> dict[str, Any]:
        """The day's load: messages per channel with cost, calls for the operators."""
        per_channel: dict[str, dict[str, int]] = {}
        for action in self.actions:
            if action.status != "planned" or action.channel is None:
                continue
            entry = per_channel.setdefault(action.channel, {"actions": 0, "cost_cents": 0})
            entry["actions"] += 1
            entry["cost_cents"] += action.cost_cents
        return {
            "channels": per_channel,
            "calls": per_channel.get("phone", {}).get("actions", 0),
            "cost_cents": sum(entry["cost_cents"] for entry in per_channel.values()),
        }


def plan(
    connection: Connection,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    refresh: bool = True,
) -> PlanResult:
    """Plan `day`: cancel what settled, refresh segments, and write the day's actions."""
    settings_for_batch_work(connection)
    policies = active_policies(connection, creditor_id, now)
    cancelled = cancel_settled_actions(connection, creditor_id, now)
    segments = None
    if refresh:
        segments = refresh_segments(
            connection, creditor_id, segmentation_policy(policies).segment_rules, day, now
        )
    candidates, taken_over = _candidate_invoices(connection, creditor_id, day)
    # The customers' states (contacts, weekly counts) are only needed by the rules: not held
    # while the writes below run, which on a first run over a portfolio are the peak of memory.
    planned = plan_day(
        policies,
        _customer_states(connection, {inv.customer_id for inv in candidates}, day),
        candidates,
        day,
    )
    offsets = sorted({step.offset for policy in policies for step in policy.steps})
    due_dates = {inv.id: inv.due_date for inv in candidates}

    def next_day(invoice_id: int) -> date | None:
        return next_step_day(due_dates[invoice_id], offsets, day)

    inserted, remembered = _write(connection, creditor_id, planned, now, next_day)
    # Deferred contacts keep today as their day, so the next run looks at them again.
    deferred = {item.invoice_id for a in planned if not a.consumes_steps for item in a.invoices}
    advance(
        connection,
        [
            (inv.id, day if inv.id in deferred else next_day(inv.id))
            for inv in candidates
            if inv.id not in remembered
        ],
        taken_over,
    )
    if len(candidates) >= LARGE_CHANGE:
        refresh_statistics(connection, invoices, actions, action_invoices, invoice_steps)
    existing = connection.execute(
        select(func.count())
        .select_from(actions)
        .where(actions.c.creditor_id == creditor_id, actions.c.planned_for == day)
    ).scalar_one()
    result = PlanResult(day, planned, inserted, cancelled, segments, existing - inserted)
    result.by_status.update(action.status for action in planned)
    return result


def cancel_settled_actions(connection: Connection, creditor_id: int, now: datetime) -> int:
    """Pending actions none of whose invoices is still open are cancelled before dispatch."""
    still_open = exists().where(
        action_invoices.c.action_id == actions.c.id,
        action_invoices.c.invoice_id == invoices.c.id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
    )
    result = connection.execute(
        update(actions)
        .where(
            actions.c.creditor_id == creditor_id,
            actions.c.purpose == "collection",
            actions.c.status == "planned",
            ~still_open,
        )
        .values(status="cancelled", reason="título pago ou encerrado antes do envio")
    )
    return int(result.rowcount or 0)


def _examined_filter(creditor_id: int, day: date) -> list[Any]:
    """Open invoices that nothing stops: status, pauses, promises not yet due.

    The stop conditions SQL can check; prescription is checked per invoice by the rules (each
    policy has its own term), and an examined prescribed invoice gets no further step day.
    """
    promised = exists().where(
        promises.c.customer_id == invoices.c.customer_id,
        promises.c.status == "open",
        promises.c.promised_for >= day,
        or_(promises.c.invoice_id.is_(None), promises.c.invoice_id == invoices.c.id),
    )
    return [
        invoices.c.creditor_id == creditor_id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
        _not_paused(invoices.c.paused, invoices.c.paused_until, day),
        _not_paused(customers.c.paused, customers.c.paused_until, day),
        customers.c.anonymised_at.is_(None),
        ~promised,
    ]


def _candidate_invoices(
    connection: Connection, creditor_id: int, day: date
) -> tuple[list[OpenInvoice], list[int]]:
    """The day's candidates, and which of them the planner takes over from the invoice.

    Those whose look has come by either of the two days `services.step_days` keeps, read by
    two queries that are each an index range scan of a day column whatever the statistics say:
    a union of both in one query was planned, on a portfolio loaded a moment before, as a
    nested loop rescanning the union for each of a million invoices.
    """
    asked = (
        select(
            invoices.c.id,
            invoices.c.customer_id,
            invoices.c.due_date,
            invoices.c.balance_cents,
            # A lookup per candidate by primary key: the invoices that ask for a look are a
            # small part of the portfolio, and an outer join would be planned as a scan of
            # every memory.
            select(invoice_steps.c.last_offset)
            .where(invoice_steps.c.invoice_id == invoices.c.id)
            .scalar_subquery(),
        )
        .select_from(invoices.join(customers, customers.c.id == invoices.c.customer_id))
        .where(invoices.c.next_step_on <= day, *_examined_filter(creditor_id, day))
    )
    candidates = [OpenInvoice(*row) for row in _rows(connection, asked)]
    taken_over = [inv.id for inv in candidates]
    seen = set(taken_over)
    # The planner's own days: the memories whose day has come by the narrow index, then their
    # invoices by primary key. One join would be planned as a scan of every invoice (the
    # filter below holds an OR), a hundred times the few thousand rows a day reads.
    due = [
        (invoice_id, last_offset)
        for invoice_id, last_offset in _rows(
            connection,
            select(invoice_steps.c.invoice_id, invoice_steps.c.last_offset).where(
                invoice_steps.c.next_step_on <= day
            ),
        )
        if invoice_id not in seen
    ]
    closed = []
    for batch in chunks(due, 100_000):
        last_offsets = dict(batch)
        remembered = (
            select(
                invoices.c.id,
                invoices.c.customer_id,
                invoices.c.due_date,
                invoices.c.balance_cents,
                invoices.c.status,
            )
            .select_from(invoices.join(customers, customers.c.id == invoices.c.customer_id))
            # the closed ones too, in the same pass, so they leave the planner's range
            .where(
                one_of(connection, invoices.c.id, list(last_offsets)),
                or_(invoices.c.status != "open", and_(*_examined_filter(creditor_id, day))),
            )
        )
        for invoice_id, customer_id, due_date, balance, status in _rows(connection, remembered):
            if status != "open":
                closed.append(invoice_id)
            else:
                candidates.append(
                    OpenInvoice(
                        invoice_id, customer_id, due_date, balance, last_offsets[invoice_id]
                    )
                )
    forget_closed(connection, closed)
    return candidates, taken_over


def _rows(connection: Connection, query: Any) -> Iterator[Any]:
    # Rows fetched many at a time: one by one costs more than the query on a day's few
    # thousand, and all at once holds a first run's million rows twice.
    return chain.from_iterable(connection.execute(query).partitions(20_000))


def _not_paused(flag: Any, until: Any, day: date) -> Any:
    # A pause without an end date holds until `regua resume`; with one, it ends after that day.
    return or_(flag.is_(False), and_(until.is_not(None), until < day))


def _customer_states(
    connection: Connection, customer_ids: set[int], day: date
) -> dict[int, CustomerState]:
    states: dict[int, CustomerState] = {}
    week_start = day - timedelta(days=6)
    wanted = sorted(customer_ids)
    points = contact_points(connection, wanted)
    counts: dict[int, int] = dict(
        connection.execute(
            select(actions.c.customer_id, func.count())
            .where(
                one_of(connection, actions.c.customer_id, wanted),
                actions.c.planned_for >= week_start,
                actions.c.planned_for < day,
                actions.c.purpose == "collection",
                actions.c.status.in_(COUNTED),
            )
            .group_by(actions.c.customer_id)
        ).all()
    )
    for cid, segment, uf, tags in connection.execute(
        select(customers.c.id, customers.c.segment, customers.c.uf, customers.c.tags).where(
            one_of(connection, customers.c.id, wanted)
        )
    ):
        states[cid] = CustomerState(
            id=cid,
            segment=segment or "novo",
            uf=uf,
            tags=tuple(t for t in (tags or "").split(",") if t),
            contacts=points.get(cid, {}),
            contacts_last_7_days=int(counts.get(cid, 0)),
        )
    return states


def _write(
    connection: Connection,
    creditor_id: int,
    planned: list[PlannedAction],
    now: datetime,
    next_day: Callable[[int], date | None],
) -> tuple[int, set[int]]:
    """Insert the actions new for the day, their invoices, and the steps they consume.

    Returns how many actions were inserted and which invoices got their steps (and next day)
    remembered.
    """
    inserted = 0
    remembered: set[int] = set()
    for batch in chunks(planned, WRITE_BATCH):
        rows = [
            {
                "creditor_id": creditor_id,
                "customer_id": action.customer_id,
                "purpose": "collection",
                "planned_for": action.planned_for,
                "policy_name": action.policy_name,
                "policy_version": action.policy_version,
                "step_id": action.step.id,
                "step_offset": action.step.offset,
                "segment": action.segment,
                "channel": action.channel,
                "contact_value": action.contact_value,
                "template": action.step.template or action.step.script,
                "status": action.status,
                "reason": action.reason or None,
                "evidence": dict(action.evidence),
                "cost_cents": action.cost_cents,
                "created_at": now,
            }
            for action in batch
        ]
        # Only the actions actually inserted: a customer who already had one that day (an
        # earlier run) is turned away by the unique key, and nothing below may happen twice.
        ids = dict(
            insert_new_returning(
                connection,
                actions,
                rows,
                ("customer_id", "planned_for", "purpose"),
                ("customer_id", "id"),
            )
        )
        fresh = [a for a in batch if a.customer_id in ids]
        if not fresh:
            continue
        links = [
            {
                "action_id": ids[a.customer_id],
                "invoice_id": item.invoice_id,
                "step_id": item.step_id,
            }
            for a in fresh
            for item in a.invoices
        ]
        insert_rows(connection, action_invoices, links)  # new action ids: nothing to collide
        memory = [
            {
                "invoice_id": item.invoice_id,
                "next_step_on": next_day(item.invoice_id) or NO_MORE_STEPS,
                "last_offset": item.offset,
                "last_step_id": item.step_id,
                "last_planned_for": a.planned_for,
            }
            for a in fresh
            if a.consumes_steps
            for item in a.invoices
        ]
        remember_steps(connection, memory)
        remembered.update(row["invoice_id"] for row in memory)
        inserted += len(fresh)
    return inserted, remembered
