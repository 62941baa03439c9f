"""Plan a day over the store: candidates by SQL, rules by `domain.planning`, writes in bulk.

Idempotent by the database: an action is unique per (customer, day, purpose), inserted with
ON CONFLICT DO NOTHING, so running the same day twice creates nothing new. The invoices' step
memory (`invoice_steps`) records only the actions actually inserted; every invoice looked at
gets its next day there (`services.step_days`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from regua.domain.planning import (
    ContactPoint,
    CustomerState,
    OpenInvoice,
    PlannedAction,
    next_step_day,
    plan_day,
)
from regua.domain.policy import Policy
from regua.services.changes import written_since
from regua.services.contacts import Reach, contact_points
from regua.services.gc_paused import without_cyclic_gc
from regua.services.new_actions import insert_new_actions
from regua.services.policies import active_policies, segmentation_policy
from regua.services.segmenting import SegmentRefresh, refresh_segments
from regua.services.step_days import forget_closed, remember
from regua.store.bulk import (
    chunks,
    refresh_statistics,
)
from regua.store.db import settings_for_batch_work
from regua.store.sql import day_of, one_of, plain_rows, unindexed
from regua.store.staging import columns_like, insert_tuples, staged
from regua.store.tables import (
    ACTION_STATUSES,
    action_invoices,
    actions,
    customers,
    invoice_steps,
    invoices,
    plan_runs,
    promises,
)

PENDING = ("planned", "sending")
COUNTED = ("planned", "sending", "sent")  # contacts that count against the weekly cap
WRITE_BATCH = 25_000  # actions per staged write (more only holds more rows in memory)
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
    with without_cyclic_gc():
        return _plan(connection, creditor_id, day, now, refresh=refresh)


def _plan(
    connection: Connection,
    creditor_id: int,
    day: date,
    now: datetime,
    *,
    refresh: bool,
) -> PlanResult:
    settings_for_batch_work(connection)
    policies = active_policies(connection, creditor_id, now)
    versions = policies_digest(policies)
    since = _written_since_last_run(connection, creditor_id, versions, now)
    with _reader(connection) as read:
        # The candidates, then their contacts, are read on a second connection while this one
        # cancels what settled, refreshes the segments, then reads the customers and their
        # weekly counts: none of these changes what the other reads, and the server works on
        # both at once.
        found = read(_candidate_invoices, creditor_id, day, since)
        cancelled = cancel_settled_actions(connection, creditor_id, now)
        segments = None
        if refresh:
            segments = refresh_segments(
                connection, creditor_id, segmentation_policy(policies).segment_rules, day, now
            )
        candidates, stopped, closed = found.result()
        wanted = sorted({inv.customer_id for inv in candidates})
        reached = read(contact_points, wanted)
        # The customers' states are only needed by the rules: not held while the writes below
        # run, which on a first run over a portfolio are the peak of memory.
        facts = _customer_facts(connection, wanted, day)
        states, held = _customer_states(facts, reached.result())
        del facts
    forget_closed(connection, closed)
    if held:
        stopped.extend(inv.id for inv in candidates if inv.customer_id in held)
        candidates = [inv for inv in candidates if inv.customer_id not in held]
    planned = plan_day(policies, states, candidates, day)
    del states
    offsets = sorted({step.offset for policy in policies for step in policy.steps})
    # A portfolio has a few hundred due dates for up to millions of invoices: each date's next
    # step day is found once.
    next_days: dict[date, date | None] = {}

    def next_day(due_date: date) -> date | None:
        if due_date not in next_days:
            next_days[due_date] = next_step_day(due_date, offsets, day)
        return next_days[due_date]

    fresh = _write(connection, creditor_id, planned, day, now)
    # Only the steps of the actions actually inserted are remembered: a customer who already
    # had one that day (an earlier run) was turned away by the unique key.
    steps = {
        item.invoice_id: item
        for action in fresh
        if action.consumes_steps
        for item in action.invoices
    }
    # Deferred contacts keep today as their day, so the next run looks at them again; so do
    # the invoices a pause or a promise holds back, until it ends.
    deferred = {item.invoice_id for a in planned if not a.consumes_steps for item in a.invoices}
    remember(
        connection,
        chain(
            (
                (
                    inv.id,
                    day if inv.id in deferred else next_day(inv.due_date),
                    (step.offset, step.step_id, day) if (step := steps.get(inv.id)) else None,
                )
                for inv in candidates
            ),
            ((invoice_id, day, None) for invoice_id in stopped),
        ),
    )
    if len(candidates) >= LARGE_CHANGE:
        refresh_statistics(connection, invoices, actions, action_invoices, invoice_steps)
    existing = connection.execute(
        select(func.count())
        .select_from(actions)
        .where(
            actions.c.creditor_id == creditor_id,
            actions.c.planned_for == day,
            # every status: the count is read from the (status, day) index, not the table
            actions.c.status.in_(ACTION_STATUSES),
        )
    ).scalar_one()
    connection.execute(
        insert(plan_runs).values(
            creditor_id=creditor_id,
            planned_for=day,
            started_at=now,
            policies_digest=versions,
            examined=len(candidates),
            inserted=len(fresh),
        )
    )
    result = PlanResult(day, planned, len(fresh), cancelled, segments, existing - len(fresh))
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


def policies_digest(policies: Sequence[Policy]) -> str:
    """The active régua versions, as one text: other versions mean other steps and days."""
    return hashlib.sha256(
        ";".join(sorted(f"{p.name}@{p.version}" for p in policies)).encode()
    ).hexdigest()[:32]


def _written_since_last_run(
    connection: Connection, creditor_id: int, versions: str, now: datetime
) -> datetime | None:
    """From when invoices written count as new to the planner; None: every open invoice."""
    last = connection.execute(
        select(plan_runs.c.started_at, plan_runs.c.policies_digest)
        .where(plan_runs.c.creditor_id == creditor_id)
        .order_by(plan_runs.c.started_at.desc(), plan_runs.c.id.desc())
        .limit(1)
    ).first()
    if last is None or last.policies_digest != versions:
        return None
    return written_since(last.started_at, now)


def _stopped(day: date) -> Any:
    """Open invoices something holds back today: a pause of the invoice, a promise not yet due.

    A pause of the customer (or its erased data) is read with the customer's state; prescription
    is checked per invoice by the rules (each policy has its own term), and an examined
    prescribed invoice gets no further step day.
    """
    promised = exists().where(
        promises.c.customer_id == invoices.c.customer_id,
        promises.c.status == "open",
        promises.c.promised_for >= day,
        or_(promises.c.invoice_id.is_(None), promises.c.invoice_id == invoices.c.id),
    )
    return or_(_paused(invoices.c.paused, invoices.c.paused_until, day), promised)


def _open(creditor_id: int) -> list[Any]:
    return [
        invoices.c.creditor_id == creditor_id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
    ]


@contextmanager
def _reader(connection: Connection) -> Iterator[Callable[..., Future[Any]]]:
    """Run read-only work beside `connection`: in a thread with a connection of its own when
    that one sees the same data, on PostgreSQL before the transaction wrote anything (its own
    writes are invisible to others); otherwise, and on SQLite, right here."""
    if (
        connection.dialect.name != "postgresql"
        or connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
    ):

        def inline(work: Callable[..., Any], *args: Any) -> Future[Any]:
            done: Future[Any] = Future()
            done.set_result(work(connection, *args))
            return done

        yield inline
        return

    def beside(work: Callable[..., Any], *args: Any) -> Any:
        with connection.engine.connect() as other:
            return work(other, *args)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan-read") as pool:
        yield lambda work, *args: pool.submit(beside, work, *args)


def _candidate_invoices(
    connection: Connection, creditor_id: int, day: date, since: datetime | None
) -> tuple[list[OpenInvoice], list[int], list[int]]:
    """The day's candidates, the new invoices held back today (paused, promised), and the
    invoices in the planner's range found closed.

    Those written since `since` (every open invoice when None), and those whose day in the
    step memory has come; each read by an index range scan.
    """
    written = select(
        invoices.c.id,
        invoices.c.customer_id,
        invoices.c.due_date,
        invoices.c.balance_cents,
        # A lookup per invoice by primary key: the invoices written since the last run are
        # a small part of the portfolio, and an outer join would be planned as a scan of
        # every memory.
        select(invoice_steps.c.last_offset)
        .where(invoice_steps.c.invoice_id == invoices.c.id)
        .scalar_subquery(),
        case((_stopped(day), True), else_=False),
    ).where(
        # by the index of the writes since the last run; on a first run, a plain scan
        unindexed(connection, invoices.c.creditor_id) == creditor_id,
        unindexed(connection, invoices.c.status) == "open",
        invoices.c.balance_cents > 0,
        *([invoices.c.updated_at >= since] if since else []),
    )
    candidates: list[OpenInvoice] = []
    stopped: list[int] = []
    for invoice_id, customer_id, due_date, balance, last_offset, held in plain_rows(
        connection, written
    ):
        if held:
            stopped.append(invoice_id)
        else:
            candidates.append(
                OpenInvoice(invoice_id, customer_id, _due(due_date), balance, last_offset)
            )
    seen = {inv.id for inv in candidates}.union(stopped)
    # The planner's own days: the memories whose day has come by the narrow index, then their
    # invoices by primary key. One join would be planned as a scan of every invoice (the
    # filter below holds an OR), a hundred times the few thousand rows a day reads.
    due = [
        (invoice_id, last_offset)
        for invoice_id, last_offset in plain_rows(
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
            # the closed ones too, in the same pass, so they leave the planner's range; the
            # held back ones keep their day and are read again tomorrow
            .where(
                one_of(connection, invoices.c.id, list(last_offsets)),
                or_(invoices.c.status != "open", and_(*_open(creditor_id), ~_stopped(day))),
            )
        )
        for invoice_id, customer_id, due_date, balance, status in plain_rows(
            connection, remembered
        ):
            if status != "open":
                closed.append(invoice_id)
            else:
                last_offset = last_offsets[invoice_id]
                candidates.append(
                    OpenInvoice(invoice_id, customer_id, _due(due_date), balance, last_offset)
                )
    return candidates, stopped, closed


def _due(value: date | str) -> date:
    due = day_of(value)  # a plain row's date: ISO text on SQLite
    assert due is not None  # a due date is never NULL
    return due


def _paused(flag: Any, until: Any, day: date) -> Any:
    # A pause without an end date holds until `regua resume`; with one, it ends after that day.
    return and_(flag.is_(True), or_(until.is_(None), until >= day))


@dataclass(slots=True)
class _CustomerFacts:
    """What the store says of the day's customers, before their contacts are added."""

    rows: list[tuple[Any, ...]]  # id, segment, uf, tags, whether a pause holds them today
    weekly: dict[int, int]  # collection contacts in the 6 days before today


def _customer_facts(connection: Connection, wanted: Sequence[int], day: date) -> _CustomerFacts:
    weekly: dict[int, int] = dict(
        connection.execute(
            select(actions.c.customer_id, func.count())
            .where(
                one_of(connection, actions.c.customer_id, wanted),
                actions.c.planned_for >= day - timedelta(days=6),
                actions.c.planned_for < day,
                actions.c.purpose == "collection",
                actions.c.status.in_(COUNTED),
            )
            .group_by(actions.c.customer_id)
        ).all()
    )
    rows = list(
        plain_rows(
            connection,
            select(
                customers.c.id,
                customers.c.segment,
                customers.c.uf,
                customers.c.tags,
                # a pause (or erased data) holds the customer's invoices back today
                or_(
                    _paused(customers.c.paused, customers.c.paused_until, day),
                    customers.c.anonymised_at.is_not(None),
                ),
            ).where(one_of(connection, customers.c.id, wanted)),
        )
    )
    return _CustomerFacts(rows, weekly)


def _customer_states(
    facts: _CustomerFacts, points: dict[int, Reach]
) -> tuple[dict[int, CustomerState], set[int]]:
    """The states the rules read, and which of the customers a pause (or erased data) holds."""
    states: dict[int, CustomerState] = {}
    held: set[int] = set()
    no_contacts: dict[str, tuple[ContactPoint, ...]] = {}
    for cid, segment, uf, tags, stopped in facts.rows:
        if stopped:
            held.add(cid)
            continue
        states[cid] = CustomerState(
            id=cid,
            segment=segment or "novo",
            uf=uf,
            tags=tuple(t for t in tags.split(",") if t) if tags else (),
            contacts=points.get(cid, no_contacts),
            contacts_last_7_days=facts.weekly.get(cid, 0),
        )
    return states, held


# The columns of the day's actions as they travel to the database (see `store.staging`).
_ACTION_ROW = columns_like(
    actions,
    (
        "customer_id",
        "policy_name",
        "policy_version",
        "step_id",
        "step_offset",
        "segment",
        "channel",
        "contact_value",
        "template",
        "status",
        "reason",
        "evidence",
        "cost_cents",
    ),
)


def _write(
    connection: Connection,
    creditor_id: int,
    planned: list[PlannedAction],
    day: date,
    now: datetime,
) -> list[PlannedAction]:
    """Insert the actions new for the day and their invoices; returns the actions inserted."""
    fresh: list[PlannedAction] = []
    names = [name for name, _kind in _ACTION_ROW]
    fixed = {
        "creditor_id": creditor_id,
        "purpose": "collection",
        "planned_for": day,
        "created_at": now,
    }
    for batch in chunks(planned, WRITE_BATCH):
        rows = [
            (
                action.customer_id,
                action.policy_name,
                action.policy_version,
                action.step.id,
                action.step.offset,
                action.segment,
                action.channel,
                action.contact_value,
                action.step.template or action.step.script,
                action.status,
                action.reason or None,
                json.dumps(action.evidence),
                action.cost_cents,
            )
            for action in batch
        ]
        # A staged copy, not array parameters: a day's evidence texts in one array literal
        # cost the server more to parse than a COPY.
        with staged(connection, "plan_actions", _ACTION_ROW, rows, joined=False) as given:
            # Only the actions actually inserted: a customer who already had one that day (an
            # earlier run) is turned away by the unique key, and nothing below may happen twice.
            ids = insert_new_actions(connection, given, names, fixed)
        inserted = [a for a in batch if a.customer_id in ids]
        # new action ids: nothing to collide
        insert_tuples(
            connection,
            action_invoices,
            ("action_id", "invoice_id", "step_id"),
            [
                (ids[a.customer_id], item.invoice_id, item.step_id)
                for a in inserted
                for item in a.invoices
            ],
        )
        fresh.extend(inserted)
    return fresh
