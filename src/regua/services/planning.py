"""Plan a day over the store: candidates read by `store.invoices`, rules by `domain.planning`,
writes in bulk by `store.actions`.

Idempotent by the database: an action is unique per (customer, day, purpose), inserted with
ON CONFLICT DO NOTHING, so running the same day twice creates nothing new. The invoices' step
memory (`store.step_days`) records only the actions actually inserted; every invoice looked at
gets its next day there.

The plan is a stage of the daily cycle (`services.daily_cycle`), which starts reading the
candidates (`reading_candidates`) before it sweeps and refreshes the segments, and plans once
those are done (`plan`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import Connection

from regua.domain.planning import (
    CustomerState,
    PlannedAction,
    Reach,
    StartChoice,
    installment_steps,
    next_step_day,
    plan_day,
    start_of,
)
from regua.domain.policy import Policy
from regua.services.changes import written_since
from regua.services.segmenting import SegmentRefresh
from regua.store import actions, customers, invoices, plan_runs, step_days
from regua.store.batch import Reader, beside
from regua.store.contacts import contact_points
from regua.store.customers import PlanningFacts
from regua.store.invoices import Candidates, plan_candidates


@dataclass
class PlanResult:
    day: date
    actions: list[PlannedAction]
    inserted: int
    cancelled: int
    segments: SegmentRefresh | None = None
    existing: int = 0  # actions already planned for this day by an earlier run
    by_status: Counter[str] = field(default_factory=Counter)
    # The régua's first day (steps before it are not caught up; None: it catches up), and
    # whether this was the first run of the portfolio or of these régua versions.
    starts_on: date | None = None
    fresh_start: bool = False

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


@dataclass
class DayInput:
    """A day's plan under way: what it plans under, and its candidates being read."""

    creditor_id: int
    day: date
    now: datetime
    policies: list[Policy]
    policies_digest: str
    read: Reader
    candidates: Future[Candidates]
    starts_on: date | None = None
    fresh_start: bool = False


@contextmanager
def reading_candidates(
    connection: Connection,
    creditor_id: int,
    day: date,
    now: datetime,
    policies: list[Policy],
    start: StartChoice | None = None,
) -> Iterator[DayInput]:
    """Start reading the day's candidates beside `connection` (`store.batch.beside`).

    On PostgreSQL, before the transaction wrote anything, they are read on a second connection
    while this one does other work (the sweep, the segments): none of it changes what the other
    reads, and the server works on both at once. Plan with `plan` inside the block.
    """
    versions = policies_digest(policies)
    last = plan_runs.last_run(connection, creditor_id)
    fresh = last is None or last.policies_digest != versions
    since = None if fresh or last is None else written_since(last.started_at, now)
    starts_on = start_of(
        start, day, fresh=fresh, current=last.starts_on if last is not None else None
    )
    with beside(connection) as read:
        found = read(plan_candidates, creditor_id, day, since)
        yield DayInput(creditor_id, day, now, policies, versions, read, found, starts_on, fresh)


def plan(connection: Connection, started: DayInput) -> PlanResult:
    """Plan the day started by `reading_candidates` and write its new actions."""
    creditor_id, day, now, policies = (
        started.creditor_id,
        started.day,
        started.now,
        started.policies,
    )
    candidates, stopped, closed = started.candidates.result()
    wanted = sorted({inv.customer_id for inv in candidates})
    reached = started.read(contact_points, wanted)
    # The customers' states are only needed by the rules: not held while the writes below
    # run, which on a first run over a portfolio are the peak of memory.
    weekly = actions.weekly_contacts(connection, wanted, day)
    facts = customers.planning_facts(connection, wanted, day)
    states, held = _customer_states(facts, weekly, reached.result())
    del facts
    step_days.forget_closed(connection, closed)
    if held:
        stopped.extend(inv.id for inv in candidates if inv.customer_id in held)
        candidates = [inv for inv in candidates if inv.customer_id not in held]
    planned = plan_day(policies, states, candidates, day, started.starts_on)
    del states
    offsets = sorted({step.offset for policy in policies for step in policy.steps})
    # An agreement's installments follow their own steps (`domain.planning.installment_steps`).
    installment_offsets = sorted(
        {step.offset for policy in policies for step in installment_steps(policy)}
    )
    # A portfolio has a few hundred due dates for up to millions of invoices: each date's next
    # step day is found once.
    next_days: dict[tuple[date, bool], date | None] = {}

    def next_day(due_date: date, installment: bool) -> date | None:
        key = (due_date, installment)
        if key not in next_days:
            next_days[key] = next_step_day(
                due_date, installment_offsets if installment else offsets, day
            )
        return next_days[key]

    fresh = actions.insert_planned(connection, creditor_id, planned, day, now)
    # Only the steps of the actions actually inserted are remembered: a customer who already
    # had one that day (an earlier run) was turned away by the unique key.
    steps = {
        item.invoice_id: item
        for action in fresh
        if action.consumes_steps
        for item in action.invoices
    }
    # The early-payment discounts the reminders planned today offer: a payment honours them.
    invoices.offer_early_discounts(
        connection,
        [
            (offer["invoice_id"], offer["discount_cents"], date.fromisoformat(offer["pay_by"]))
            for action in fresh
            if action.status == "planned"
            for offer in action.evidence.get("early_payment", ())
        ],
    )
    # Deferred contacts keep today as their day, so the next run looks at them again; so do
    # the invoices a pause or a promise holds back, until it ends.
    deferred = {item.invoice_id for a in planned if not a.consumes_steps for item in a.invoices}
    # Installments left out of a customer's action about ordinary invoices: looked at again
    # the next day, when their step is still the latest due.
    spoken_to = {a.customer_id for a in planned}
    named = {item.invoice_id for a in planned for item in a.invoices}
    deferred.update(
        inv.id
        for inv in candidates
        if inv.agreement_id is not None and inv.customer_id in spoken_to and inv.id not in named
    )
    step_days.remember(
        connection,
        chain(
            (
                (
                    inv.id,
                    day
                    if inv.id in deferred
                    else next_day(inv.due_date, inv.agreement_id is not None),
                    (step.offset, step.step_id, day) if (step := steps.get(inv.id)) else None,
                )
                for inv in candidates
            ),
            ((invoice_id, day, None) for invoice_id in stopped),
        ),
    )
    existing = actions.count_on_day(connection, creditor_id, day)
    plan_runs.record_run(
        connection,
        creditor_id,
        day,
        now,
        policies_digest=started.policies_digest,
        examined=len(candidates),
        inserted=len(fresh),
        starts_on=started.starts_on,
    )
    result = PlanResult(day, planned, len(fresh), 0, None, existing - len(fresh))
    result.starts_on, result.fresh_start = started.starts_on, started.fresh_start
    result.by_status.update(action.status for action in planned)
    return result


def policies_digest(policies: Sequence[Policy]) -> str:
    """The active régua versions, as one text: other versions mean other steps and days."""
    return hashlib.sha256(
        ";".join(sorted(f"{p.name}@{p.version}" for p in policies)).encode()
    ).hexdigest()[:32]


def _customer_states(
    facts: Sequence[PlanningFacts], weekly: Mapping[int, int], points: Mapping[int, Reach]
) -> tuple[dict[int, CustomerState], set[int]]:
    """The states the rules read, and which of the customers a pause (or erased data) holds."""
    states: dict[int, CustomerState] = {}
    held: set[int] = set()
    no_contacts: Reach = {}
    for cid, segment, uf, tags, stopped in facts:
        if stopped:
            held.add(cid)
            continue
        states[cid] = CustomerState(
            id=cid,
            segment=segment or "novo",
            uf=uf,
            tags=tuple(t for t in tags.split(",") if t) if tags else (),
            contacts=points.get(cid, no_contacts),
            contacts_last_7_days=weekly.get(cid, 0),
        )
    return states, held
