"""Refresh every customer's behaviour features and segment, set-based.

One aggregate query over the invoices computes the features of all customers; the segment rules
(pure, `domain.segments`) classify them; only customers whose segment changed are written, each
with a row in `segment_history` dated the day it changed, so reports can show movement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, and_, case, func, select

from regua.domain.segments import BehaviourFeatures, SegmentRule, classify
from regua.store.bulk import insert_ignoring_conflicts, update_by_id
from regua.store.sql import days_between
from regua.store.tables import customers, invoices, segment_history

OPEN = ("open", "disputed", "in_agreement")


@dataclass(frozen=True)
class SegmentRefresh:
    customers: int
    changed: int
    counts: dict[str, int]


def customer_features(
    connection: Connection, creditor_id: int, today: date
) -> dict[int, BehaviourFeatures]:
    """Behaviour features of every customer of the creditor that has invoices."""
    inv = invoices.c
    paid = inv.status == "paid"
    late = and_(paid, inv.settled_on > inv.effective_due_date)
    on_time = and_(paid, inv.settled_on <= inv.effective_due_date)
    overdue = and_(inv.status.in_(OPEN), inv.balance_cents > 0, inv.effective_due_date < today)
    days_paid_late = days_between(inv.settled_on, inv.due_date)
    days_open_late = days_between(today, inv.due_date)
    rows = connection.execute(
        select(
            inv.customer_id,
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((late, 1), else_=0)),
            func.sum(case((late, days_paid_late), else_=0)),
            func.max(case((late, days_paid_late), else_=0)),
            func.sum(case((overdue, inv.balance_cents), else_=0)),
            func.max(case((overdue, days_open_late), else_=0)),
            func.min(func.coalesce(inv.issue_date, inv.due_date)),
        )
        .where(inv.creditor_id == creditor_id, inv.status != "cancelled")
        .group_by(inv.customer_id)
    )
    features = {}
    for cid, total, n_on_time, n_late, days_late, max_late, overdue_cents, oldest, first in rows:
        oldest = int(oldest or 0)
        features[cid] = BehaviourFeatures.from_counts(
            invoices_total=int(total),
            paid_on_time=int(n_on_time or 0),
            paid_late=int(n_late or 0),
            total_days_late=int(days_late or 0),
            # an invoice still open and long overdue counts as much as one paid that late
            max_days_late=max(int(max_late or 0), oldest),
            open_overdue_cents=int(overdue_cents or 0),
            oldest_overdue_days=oldest,
            tenure_days=(today - first).days if first else 0,
        )
    return features


def refresh_segments(
    connection: Connection,
    creditor_id: int,
    rules: tuple[SegmentRule, ...],
    today: date,
) -> SegmentRefresh:
    features = customer_features(connection, creditor_id, today)
    current = dict(
        connection.execute(
            select(customers.c.id, customers.c.segment).where(
                customers.c.creditor_id == creditor_id
            )
        ).all()
    )
    empty = BehaviourFeatures()
    counts: Counter[str] = Counter()
    updates = []
    history = []
    for customer_id, old in current.items():
        segment = classify(features.get(customer_id, empty), rules)
        counts[segment] += 1
        if segment != old:
            updates.append({"id": customer_id, "segment": segment, "segment_since": today})
            history.append(
                {"customer_id": customer_id, "segment": segment, "previous": old, "since": today}
            )
    update_by_id(connection, customers, updates, ("segment", "segment_since"))
    insert_ignoring_conflicts(connection, segment_history, history, ("customer_id", "since"))
    return SegmentRefresh(len(current), len(updates), dict(counts))
