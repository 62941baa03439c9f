"""Recent payments and what they settled, with unmatched money totalled: `regua payments`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.expression import ColumnElement

from regua.domain.money import Cents
from regua.errors import NotFound
from regua.store.tables import creditors, customers, invoices, payments

DEFAULT_DAYS = 7
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class PaymentLine:
    id: int
    paid_on: date
    received_at: datetime
    source: str  # import | cnab | pix | manual
    external_id: str
    reference: str | None
    status: str  # applied | unmatched | reversed | reversal
    amount_cents: Cents
    applied_cents: Cents  # multa + juros + principal
    fees_cents: Cents
    credit_cents: Cents
    note: str | None
    invoice_external_id: str | None
    invoice_number: str | None
    invoice_status: str | None  # now, not at the time of the payment
    invoice_balance_cents: Cents | None
    customer_external_id: str | None
    customer_name: str | None


@dataclass(frozen=True)
class StatusTotal:
    count: int = 0
    amount_cents: Cents = 0
    applied_cents: Cents = 0
    fees_cents: Cents = 0
    credit_cents: Cents = 0


@dataclass
class PaymentsReport:
    since: date
    until: date
    unmatched_only: bool
    lines: list[PaymentLine]  # newest first, at most `limit`
    by_status: dict[str, StatusTotal] = field(default_factory=dict)  # over the whole period
    settled_invoices: int = 0  # invoices that became paid in the period
    unmatched_open: StatusTotal = StatusTotal()  # all unmatched money, whenever it came

    @property
    def count(self) -> int:
        return sum(total.count for total in self.by_status.values())

    @property
    def received_cents(self) -> Cents:
        """Money in, net of reversals (a reversal row carries the opposite amounts)."""
        return sum(total.amount_cents for total in self.by_status.values())

    @property
    def applied_cents(self) -> Cents:
        return sum(total.applied_cents for total in self.by_status.values())

    @property
    def fees_cents(self) -> Cents:
        return sum(total.fees_cents for total in self.by_status.values())

    @property
    def credit_cents(self) -> Cents:
        return sum(total.credit_cents for total in self.by_status.values())

    @property
    def unmatched(self) -> StatusTotal:
        return self.by_status.get("unmatched", StatusTotal())


def recent_payments(
    conn: Connection,
    creditor_id: int,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    unmatched_only: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> PaymentsReport:
    """Payments dated in the last `days` days (today included, creditor's time zone)."""
    zone = conn.execute(
        select(creditors.c.timezone).where(creditors.c.id == creditor_id)
    ).scalar_one_or_none()
    if zone is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    today = now.astimezone(ZoneInfo(zone)).date()
    since = today - timedelta(days=max(days, 1) - 1)
    where: list[ColumnElement[bool]] = [
        payments.c.creditor_id == creditor_id,
        payments.c.paid_on >= since,
    ]
    if unmatched_only:
        where.append(payments.c.status == "unmatched")
    query = (
        select(
            payments.c.id,
            payments.c.paid_on,
            payments.c.received_at,
            payments.c.source,
            payments.c.external_id,
            payments.c.reference,
            payments.c.status,
            payments.c.amount_cents,
            payments.c.applied_cents,
            payments.c.fees_cents,
            payments.c.credit_cents,
            payments.c.note,
            invoices.c.external_id.label("invoice_external_id"),
            invoices.c.number.label("invoice_number"),
            invoices.c.status.label("invoice_status"),
            invoices.c.balance_cents.label("invoice_balance_cents"),
            customers.c.external_id.label("customer_external_id"),
            customers.c.name.label("customer_name"),
        )
        .select_from(
            payments.outerjoin(invoices, invoices.c.id == payments.c.invoice_id).outerjoin(
                customers, customers.c.id == payments.c.customer_id
            )
        )
        .where(*where)
        .order_by(payments.c.paid_on.desc(), payments.c.id.desc())
        .limit(limit)
    )
    lines = [PaymentLine(**row) for row in conn.execute(query).mappings()]
    report = PaymentsReport(since, today, unmatched_only, lines)
    report.by_status = _totals(conn, where, by_status=True)
    report.unmatched_open = _totals(
        conn,
        [payments.c.creditor_id == creditor_id, payments.c.status == "unmatched"],
        by_status=False,
    ).get("all", StatusTotal())
    if not unmatched_only:
        report.settled_invoices = conn.execute(
            select(func.count())
            .select_from(invoices)
            .where(
                invoices.c.creditor_id == creditor_id,
                invoices.c.status == "paid",
                invoices.c.settled_on >= since,
            )
        ).scalar_one()
    return report


def _totals(
    conn: Connection, where: Sequence[ColumnElement[bool]], *, by_status: bool
) -> dict[str, StatusTotal]:
    """Sums of the payments matching `where`, per status or (key "all") over them all."""
    sums = (
        func.count(),
        func.coalesce(func.sum(payments.c.amount_cents), 0),
        func.coalesce(func.sum(payments.c.applied_cents), 0),
        func.coalesce(func.sum(payments.c.fees_cents), 0),
        func.coalesce(func.sum(payments.c.credit_cents), 0),
    )
    rows: list[tuple[Any, ...]]
    if by_status:
        rows = [
            tuple(row)
            for row in conn.execute(
                select(payments.c.status, *sums).where(*where).group_by(payments.c.status)
            )
        ]
    else:
        rows = [("all", *conn.execute(select(*sums).where(*where)).one())]
    return {
        str(status): StatusTotal(int(count), int(amount), int(applied), int(fees), int(credit))
        for status, count, amount, applied, fees, credit in rows
        if count
    }
