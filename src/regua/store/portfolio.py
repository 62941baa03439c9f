"""Portfolio figures as SQL aggregates: counts, open and overdue money, aging buckets, money per
segment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, and_, case, func, select

from regua.domain.amount_limits import HARD_MAX_CENTS
from regua.store.tables import customers, invoices

OPEN_STATUSES = ("open", "disputed", "in_agreement")
AGING_BUCKETS = (  # (label, min days late, max days late)
    ("a vencer", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


@dataclass(frozen=True)
class Bucket:
    label: str
    invoices: int
    balance_cents: int


@dataclass(frozen=True)
class PortfolioSummary:
    today: date
    customers: int
    open_invoices: int
    open_cents: int
    overdue_invoices: int
    overdue_cents: int
    buckets: tuple[Bucket, ...]


def portfolio_summary(connection: Connection, creditor_id: int, today: date) -> PortfolioSummary:
    customer_count = connection.execute(
        select(func.count()).select_from(customers).where(customers.c.creditor_id == creditor_id)
    ).scalar_one()
    labels = []
    whens = []
    for label, low, high in AGING_BUCKETS:
        # days late = today - due_date; compare dates instead of subtracting (portable SQL)
        conditions = []
        if low is not None:
            conditions.append(invoices.c.due_date <= today - timedelta(days=low))
        if high is not None:
            conditions.append(invoices.c.due_date >= today - timedelta(days=high))
        labels.append(label)
        whens.append(
            (conditions[0] if len(conditions) == 1 else conditions[0] & conditions[1], label)
        )
    bucket = case(*whens).label("bucket")
    rows = connection.execute(
        select(bucket, func.count(), func.coalesce(func.sum(invoices.c.balance_cents), 0))
        .where(
            invoices.c.creditor_id == creditor_id,
            invoices.c.status.in_(OPEN_STATUSES),
            invoices.c.balance_cents > 0,
            invoices.c.balance_cents <= HARD_MAX_CENTS,  # see `segment_totals`
        )
        .group_by(bucket)
    ).all()
    found = {label: (int(count), int(cents)) for label, count, cents in rows}
    buckets = tuple(Bucket(label, *found.get(label, (0, 0))) for label in labels)
    overdue = [b for b in buckets if b.label != "a vencer"]
    return PortfolioSummary(
        today=today,
        customers=int(customer_count),
        open_invoices=sum(b.invoices for b in buckets),
        open_cents=sum(b.balance_cents for b in buckets),
        overdue_invoices=sum(b.invoices for b in overdue),
        overdue_cents=sum(b.balance_cents for b in overdue),
        buckets=buckets,
    )


# Customers imported since the last `regua run`: the daily cycle classifies them.
UNCLASSIFIED = "sem segmento"


@dataclass(frozen=True)
class SegmentTotal:
    segment: str
    customers: int
    open_cents: int
    overdue_cents: int


def segment_totals(
    connection: Connection, creditor_id: int, today: date | None = None
) -> list[SegmentTotal]:
    """Customers and money per segment (as of the last segment refresh); overdue as of `today`
    (the database server's date when not given: `--today` must reach it to agree)."""
    # A balance beyond any amount regua accepts counts as nothing: two of them would overflow
    # the SUM and fail the whole report (`domain.amount_limits`).
    plausible = invoices.c.balance_cents <= HARD_MAX_CENTS
    open_balance = case(
        (
            and_(invoices.c.status.in_(OPEN_STATUSES), invoices.c.balance_cents > 0, plausible),
            invoices.c.balance_cents,
        ),
        else_=0,
    )
    overdue = case(
        (
            and_(
                invoices.c.status.in_(OPEN_STATUSES),
                invoices.c.balance_cents > 0,
                plausible,
                invoices.c.effective_due_date < (func.current_date() if today is None else today),
            ),
            invoices.c.balance_cents,
        ),
        else_=0,
    )
    money = (
        select(
            invoices.c.customer_id.label("customer_id"),
            func.sum(open_balance).label("open_cents"),
            func.sum(overdue).label("overdue_cents"),
        )
        .where(invoices.c.creditor_id == creditor_id)
        .group_by(invoices.c.customer_id)
        .subquery()
    )
    segment = func.coalesce(customers.c.segment, UNCLASSIFIED)
    rows = connection.execute(
        select(
            segment,
            func.count(),
            func.coalesce(func.sum(money.c.open_cents), 0),
            func.coalesce(func.sum(money.c.overdue_cents), 0),
        )
        .select_from(customers.outerjoin(money, money.c.customer_id == customers.c.id))
        .where(customers.c.creditor_id == creditor_id)
        .group_by(segment)
        .order_by(func.count().desc())
    ).all()
    return [SegmentTotal(str(s), int(n), int(o), int(v)) for s, n, o, v in rows]
