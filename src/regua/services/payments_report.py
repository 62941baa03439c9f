"""Recent payments and what they settled, with unmatched money totalled: `regua payments`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from regua.domain.money import Cents
from regua.store import invoices as invoice_store
from regua.store import payments as payment_store
from regua.store.uow import UnitOfWorkFactory

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
    # From a bank's return file: its fee and what it credited to the account (None otherwise).
    bank_fee_cents: Cents | None = None
    credited_cents: Cents | None = None


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
    uow: UnitOfWorkFactory,
    creditor_id: int,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    unmatched_only: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> PaymentsReport:
    """Payments dated in the last `days` days (today included, creditor's time zone), read in
    a unit of work of their own."""
    with uow() as work:  # read only: nothing to commit
        return _recent_payments(
            work.connection,
            creditor_id,
            now,
            days=days,
            unmatched_only=unmatched_only,
            limit=limit,
        )


def _recent_payments(
    conn: Connection,
    creditor_id: int,
    now: datetime,
    *,
    days: int,
    unmatched_only: bool,
    limit: int,
) -> PaymentsReport:
    zone = payment_store.payment_settings(conn, creditor_id).timezone
    today = now.astimezone(ZoneInfo(zone)).date()
    since = today - timedelta(days=max(days, 1) - 1)
    lines = [
        PaymentLine(**row)
        for row in payment_store.recent_lines(
            conn, creditor_id, since, unmatched_only=unmatched_only, limit=limit
        )
    ]
    report = PaymentsReport(since, today, unmatched_only, lines)
    report.by_status = {
        status: StatusTotal(*sums)
        for status, sums in payment_store.payment_sums(
            conn, creditor_id, since=since, unmatched_only=unmatched_only, by_status=True
        ).items()
    }
    unmatched = payment_store.payment_sums(
        conn, creditor_id, since=None, unmatched_only=True, by_status=False
    )
    report.unmatched_open = StatusTotal(*unmatched["all"]) if "all" in unmatched else StatusTotal()
    if not unmatched_only:
        report.settled_invoices = invoice_store.count_settled_since(conn, creditor_id, since)
    return report
