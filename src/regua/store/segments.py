"""Segments in SQL: every customer's behaviour features as one aggregate over the invoices, the
segment rules (`domain.segments`, first match wins) as one CASE over them, and the writes of a
refresh (the customers that moved, their history, the refresh itself).

`customer_features` computes the same features row by row in Python, for one customer's page
and to check the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Float, and_, case, func, null, or_, select, true
from sqlalchemy import cast as sql_cast

from regua.domain.amount_limits import HARD_MAX_CENTS
from regua.domain.segments import (
    OPERATORS,
    BehaviourFeatures,
    SegmentRule,
    calendar_crossings,
)
from regua.store.bulk import (
    chunks,
    insert_ignoring_conflicts,
    refresh_stale_statistics,
    update_by_id,
    upsert,
)
from regua.store.sql import days_between, one_of, unindexed
from regua.store.tables import (
    customers,
    invoices,
    promises,
    segment_history,
    segment_refreshes,
)

OPEN = ("open", "disputed", "in_agreement")
SCOPE_BATCH = 50_000  # customers classified again per statement

# (customer id, old segment, new segment or None when no rule matched)
Change = tuple[int, str | None, str | None]


class LastRefresh(NamedTuple):
    refreshed_on: date
    refreshed_at: datetime
    rules_digest: str


def _sql(op: Callable[[float, float], bool]) -> Callable[[Any, Any], Any]:
    # The domain's comparison operators (`operator.ge`...) build SQL over column expressions.
    return cast(Callable[[Any, Any], Any], op)


# What `_invoice_aggregates` sums up of a customer's invoices, in its order.
_AGGREGATES = (
    "total",
    "on_time",
    "late",
    "days_late",
    "max_late",
    "overdue_cents",
    "oldest",
    "first",
)


def _invoice_aggregates(today: date) -> tuple[Any, ...]:
    """A customer's invoices summed up (one aggregate per name of `_AGGREGATES`): how many, paid
    on time, paid late, days late in all, most days late, overdue balance, days the oldest
    overdue one is late, first issue (or due) date."""
    inv = invoices.c
    paid = inv.status == "paid"
    late = and_(paid, inv.settled_on > inv.effective_due_date)
    on_time = and_(paid, inv.settled_on <= inv.effective_due_date)
    # A balance beyond any amount regua accepts (written before the ceiling, or by another
    # program) counts as nothing here: summed, two of them overflow 64 bits and the whole
    # portfolio's planning would fail on one bad row.
    overdue = and_(
        inv.status.in_(OPEN),
        inv.balance_cents > 0,
        inv.balance_cents <= HARD_MAX_CENTS,
        inv.effective_due_date < today,
    )
    days_paid_late = days_between(inv.settled_on, inv.due_date)
    return (
        func.count(),
        func.sum(case((on_time, 1), else_=0)),
        func.sum(case((late, 1), else_=0)),
        func.sum(case((late, days_paid_late), else_=0)),
        func.max(case((late, days_paid_late), else_=0)),
        func.sum(case((overdue, inv.balance_cents), else_=0)),
        func.max(case((overdue, days_between(today, inv.due_date)), else_=0)),
        func.min(func.coalesce(inv.issue_date, inv.due_date)),
    )


def customer_features(
    connection: Connection, creditor_id: int, today: date
) -> dict[int, BehaviourFeatures]:
    """Behaviour features of every customer of the creditor that has invoices."""
    inv = invoices.c
    rows = connection.execute(
        select(inv.customer_id, *_invoice_aggregates(today))
        .where(inv.creditor_id == creditor_id, inv.status != "cancelled")
        .group_by(inv.customer_id)
    )
    broken = {
        int(cid): int(count)
        for cid, count in connection.execute(
            select(promises.c.customer_id, func.count())
            .join(customers, customers.c.id == promises.c.customer_id)
            .where(customers.c.creditor_id == creditor_id, promises.c.status == "broken")
            .group_by(promises.c.customer_id)
        )
    }
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
            broken_promises=int(broken.get(cid, 0)),
        )
    return features


def features_sql(
    creditor_id: int,
    today: date,
    only: Callable[[Any], Any] | None = None,
    creditor: Callable[[Any], Any] = lambda column: column,
) -> tuple[Any, dict[str, Any]]:
    """The behaviour features of every customer as SQL expressions over one aggregate.

    The same numbers `customer_features` computes, kept in the database so a million invoices
    never travel to Python: (customers outer-joined to the aggregate, feature name -> expression).
    `only(column)`, when given, restricts the invoices to some customers; `creditor(column)`
    may keep the creditor's column off its index (`store.sql.unindexed`).
    """
    inv = invoices.c
    aggregates = _invoice_aggregates(today)
    agg = (
        select(
            inv.customer_id.label("customer_id"),
            *(value.label(name) for name, value in zip(_AGGREGATES, aggregates, strict=True)),
        )
        .where(
            creditor(inv.creditor_id) == creditor_id,
            inv.status != "cancelled",
            *([only(inv.customer_id)] if only is not None else []),
        )
        .group_by(inv.customer_id)
        .subquery()
    )
    on_time_n = func.coalesce(agg.c.on_time, 0)
    late_n = func.coalesce(agg.c.late, 0)
    paid_n = on_time_n + late_n
    max_late = func.coalesce(agg.c.max_late, 0)
    oldest = func.coalesce(agg.c.oldest, 0)
    features = {
        "invoices_total": func.coalesce(agg.c.total, 0),
        "invoices_paid": paid_n,
        "paid_on_time": on_time_n,
        "paid_late": late_n,
        "on_time_rate": case((paid_n > 0, sql_cast(on_time_n, Float) / paid_n), else_=0.0),
        "late_rate": case((paid_n > 0, sql_cast(late_n, Float) / paid_n), else_=0.0),
        "avg_days_late": case(
            (late_n > 0, sql_cast(func.coalesce(agg.c.days_late, 0), Float) / late_n), else_=0.0
        ),
        # an invoice still open and long overdue counts as much as one paid that late
        "max_days_late": case((max_late >= oldest, max_late), else_=oldest),
        "open_overdue_cents": func.coalesce(agg.c.overdue_cents, 0),
        "oldest_overdue_days": oldest,
        "tenure_days": case((agg.c.first.is_(None), 0), else_=days_between(today, agg.c.first)),
        "broken_promises": select(func.count())
        .where(promises.c.customer_id == customers.c.id, promises.c.status == "broken")
        .scalar_subquery(),
    }
    source = customers.outerjoin(agg, agg.c.customer_id == customers.c.id)
    return source, features


def segment_expression(rules: tuple[SegmentRule, ...], features: dict[str, Any]) -> Any:
    """The rules as one SQL CASE: first match wins, exactly as `domain.segments.classify`."""
    whens: list[tuple[Any, str]] = []
    for rule in rules:
        if rule.is_catch_all:
            whens.append((true(), rule.name))
            break
        whens.append(
            (
                and_(
                    *(_sql(OPERATORS[c.op])(features[c.feature], c.value) for c in rule.conditions)
                ),
                rule.name,
            )
        )
    return case(*whens, else_=null())


def last_refresh(connection: Connection, creditor_id: int) -> LastRefresh | None:
    """The creditor's last segment refresh, if any."""
    row = connection.execute(
        select(
            segment_refreshes.c.refreshed_on,
            segment_refreshes.c.refreshed_at,
            segment_refreshes.c.rules_digest,
        ).where(segment_refreshes.c.creditor_id == creditor_id)
    ).first()
    return None if row is None else LastRefresh(*row)


def customer_count(connection: Connection, creditor_id: int) -> int:
    return int(
        connection.execute(
            select(func.count()).where(customers.c.creditor_id == creditor_id)
        ).scalar_one()
    )


def changed_segments(
    connection: Connection,
    creditor_id: int,
    rules: tuple[SegmentRule, ...],
    today: date,
    scope: Sequence[int] | None,
) -> list[Change]:
    """(customer id, old segment, new segment) of the customers (`scope`, or all) that moved."""

    def changed_in(ids: Sequence[int] | None) -> list[Change]:
        only = None if ids is None else (lambda column: one_of(connection, column, ids))
        source, features = features_sql(
            creditor_id, today, only, lambda column: unindexed(connection, column)
        )
        new = segment_expression(rules, features)
        return cast(
            list[Change],
            connection.execute(
                select(customers.c.id, customers.c.segment, new.label("new"))
                .select_from(source)
                .where(
                    customers.c.creditor_id == creditor_id,
                    *([only(customers.c.id)] if only is not None else []),
                    or_(customers.c.segment.is_(None), customers.c.segment != new),
                )
            ).all(),
        )

    if scope is None:
        # Every customer against every invoice: on tables PostgreSQL has never analysed (filled
        # by a bulk load or a restore, before autovacuum came by) it plans a nested loop that
        # aggregates all the invoices once per customer, 47 s for 20,000 invoices.
        refresh_stale_statistics(connection, customers)
        refresh_stale_statistics(connection, invoices)
        return changed_in(None)
    return [row for ids in chunks(scope, SCOPE_BATCH) for row in changed_in(ids)]


def record_changes(connection: Connection, changed: Sequence[Change], today: date) -> None:
    """The customers' new segments, since `today`, each with a row in `segment_history`."""
    update_by_id(
        connection,
        customers,
        [{"id": cid, "segment": segment, "segment_since": today} for cid, _old, segment in changed],
        ("segment", "segment_since"),
    )
    insert_ignoring_conflicts(
        connection,
        segment_history,
        [
            {"customer_id": cid, "segment": segment, "previous": old, "since": today}
            for cid, old, segment in changed
        ],
        ("customer_id", "since"),
    )


def record_refresh(
    connection: Connection, creditor_id: int, today: date, now: datetime, rules_digest: str
) -> None:
    """Remember the creditor's refresh: the next one reads only what moved since."""
    upsert(
        connection,
        segment_refreshes,
        [
            {
                "creditor_id": creditor_id,
                "refreshed_on": today,
                "refreshed_at": now,
                "rules_digest": rules_digest,
            }
        ],
        ("creditor_id",),
        ("refreshed_on", "refreshed_at", "rules_digest"),
    )


def may_have_moved(
    connection: Connection,
    creditor_id: int,
    rules: tuple[SegmentRule, ...],
    last_day: date,
    since: datetime,
    today: date,
) -> list[int]:
    """The customers whose segment may differ from the one classified on `last_day`.

    Never classified yet; with an invoice written since the last refresh (inserted, paid,
    reversed, changed by an import: every writer sets `updated_at`); or with an invoice the
    calendar may have carried across a threshold. Each is an index range scan or a narrow
    filter, not the aggregate over the portfolio.
    """
    inv = invoices.c
    crossings = calendar_crossings(rules, last_day, today)
    queries: list[Any] = [
        select(customers.c.id).where(
            customers.c.creditor_id == creditor_id, customers.c.segment.is_(None)
        ),
        select(inv.customer_id).where(
            unindexed(connection, inv.creditor_id) == creditor_id, inv.updated_at >= since
        ),
        # a promise broken since counts in the customer's history
        select(promises.c.customer_id)
        .join(customers, customers.c.id == promises.c.customer_id)
        .where(
            customers.c.creditor_id == creditor_id,
            promises.c.status == "broken",
            promises.c.decided_on >= last_day,
        ),
    ]
    if crossings.overdue_due is not None and crossings.overdue_business is not None:
        queries.append(
            select(inv.customer_id).where(
                inv.status.in_(OPEN),
                # the due date bounds the index range; the business day is what decides
                inv.due_date.between(*crossings.overdue_due),
                inv.effective_due_date.between(*crossings.overdue_business),
                unindexed(connection, inv.creditor_id) == creditor_id,
            )
        )
    queries.extend(
        select(inv.customer_id).where(
            inv.status.in_(OPEN),
            inv.due_date.between(start, end),
            unindexed(connection, inv.creditor_id) == creditor_id,
        )
        for start, end in crossings.due_ranges
    )
    queries.extend(
        select(inv.customer_id).where(
            inv.creditor_id == creditor_id,
            inv.status != "cancelled",
            func.coalesce(inv.issue_date, inv.due_date).between(start, end),
        )
        for start, end in crossings.first_day_ranges
    )
    found: set[int] = set()
    for query in queries:
        found.update(connection.execute(query).scalars())
    return sorted(found)
