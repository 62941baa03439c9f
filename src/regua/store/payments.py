"""Payment queries: the creditor's settings for applying money (and its reconciliation lock),
payments already stored, the rows one reconciliation writes (`PaymentWrites`), reversals and
refunds, and the sums `regua payments` shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import partial
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Row, func, select, update
from sqlalchemy.sql.expression import ColumnElement

from regua.domain.fees import FeeState, FeeTerms
from regua.domain.money import Cents
from regua.domain.payment_texts import method_label, paid_detail
from regua.domain.settlement import IncomingPayment, PaymentOutcome
from regua.errors import NotFound
from regua.store import invoices as invoice_store
from regua.store import timeline
from regua.store.batch import plan_each_execution
from regua.store.bulk import chunks, refresh_stale_statistics
from regua.store.sql import day_of, one_of, plain_rows
from regua.store.staging import INT, TEXT, driver_value, insert_tuples, update_tuples
from regua.store.tables import creditors, customers, invoices, payments

BATCH = 5_000
# Balances from which PostgreSQL updates them in a thread while the payments' rows are made:
# below, the thread costs more than the overlap saves (a webhook settles one invoice).
OVERLAP_FROM = 1_000
# Payments looked up from which the table's statistics are checked first: planned for a table
# it takes for empty, a few keys still cost little.
STATISTICS_CHECKED_FROM = 1_000

R = TypeVar("R")


class PaymentSettings(NamedTuple):
    """What applying a creditor's money needs from the creditor."""

    id: int
    timezone: str
    terms: FeeTerms


def _settings_query(creditor_id: int) -> Any:
    return select(
        creditors.c.id,
        creditors.c.timezone,
        creditors.c.late_fee_bp,
        creditors.c.interest_monthly_bp,
    ).where(creditors.c.id == creditor_id)


def _settings(row: Any, creditor_id: int) -> PaymentSettings:
    if row is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return PaymentSettings(
        row.id,
        row.timezone,
        FeeTerms(late_fee_bp=row.late_fee_bp, interest_monthly_bp=row.interest_monthly_bp),
    )


def payment_settings(conn: Connection, creditor_id: int) -> PaymentSettings:
    """The creditor's time zone and fee terms; `NotFound` for an unknown creditor."""
    return _settings(conn.execute(_settings_query(creditor_id)).first(), creditor_id)


def lock_for_payments(conn: Connection, creditor_id: int) -> PaymentSettings:
    """`payment_settings`, holding the creditor's reconciliation lock until commit.

    Balances are read, split in Python and written back: two reconciliations of one creditor at
    the same time (two webhooks for one invoice) must not both read the old balance. PostgreSQL
    locks the creditor row (FOR NO KEY UPDATE, so foreign-key checks of other writers go on);
    SQLite has one writer, and a write first takes it before anything is read.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(
            update(creditors)
            .where(creditors.c.id == creditor_id)
            .values(timezone=creditors.c.timezone)
        )
    query = _settings_query(creditor_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return _settings(conn.execute(query).first(), creditor_id)


def known_payments(
    conn: Connection, creditor_id: int, source: str, external_ids: Iterable[str]
) -> dict[str, tuple[int, str, int | None]]:
    """external id -> (payment id, status, invoice id) of payments already stored."""
    wanted = sorted(set(external_ids))
    if len(wanted) >= STATISTICS_CHECKED_FROM:
        refresh_stale_statistics(conn, payments)
    found: dict[str, tuple[int, str, int | None]] = {}
    for batch in chunks(wanted, BATCH):
        for external_id, payment_id, status, invoice_id in conn.execute(
            select(
                payments.c.external_id, payments.c.id, payments.c.status, payments.c.invoice_id
            ).where(
                payments.c.creditor_id == creditor_id,
                payments.c.source == source,
                one_of(conn, payments.c.external_id, batch),
            )
        ).all():
            found[external_id] = (payment_id, status, invoice_id)
    return found


def invoices_with_applied_payments(
    conn: Connection, creditor_id: int, source: str, invoice_ids: Iterable[int]
) -> set[int]:
    """Which of `invoice_ids` already have an applied payment from `source`."""
    found: set[int] = set()
    for batch in chunks(sorted(set(invoice_ids)), BATCH):
        found.update(
            conn.execute(
                select(payments.c.invoice_id).where(
                    payments.c.creditor_id == creditor_id,
                    payments.c.source == source,
                    payments.c.status == "applied",
                    one_of(conn, payments.c.invoice_id, batch),
                )
            ).scalars()
        )
    return found


def stored_external_ids(
    conn: Connection, creditor_id: int, source: str, external_ids: Sequence[str]
) -> set[str]:
    """Which of `external_ids` (one import batch) are already stored for `source`."""
    plan_each_execution(conn)  # the import writes the table between batches: see there
    return set(
        conn.execute(
            select(payments.c.external_id).where(
                payments.c.creditor_id == creditor_id,
                payments.c.source == source,
                # one array parameter: see `store.external_ids`
                one_of(conn, payments.c.external_id, list(external_ids)),
            )
        ).scalars()
    )


def consumer_flags(conn: Connection, customer_ids: Iterable[int]) -> dict[int, bool]:
    """Customer id -> whether the customer is a consumer (CDC art. 52 §1 caps the multa)."""
    flags: dict[int, bool] = {}
    for batch in chunks(sorted(customer_ids), BATCH):
        flags.update(
            (customer_id, bool(is_consumer))
            for customer_id, is_consumer in plain_rows(
                conn,
                select(customers.c.id, customers.c.is_consumer).where(
                    one_of(conn, customers.c.id, batch)
                ),
            )
        )
    return flags


# --------------------------------------------------------------------------- one reconciliation

# In the table's order, which is the order of the statement SQLite runs.
_PAYMENT_COLUMNS = (
    "creditor_id",
    "external_id",
    "source",
    "invoice_id",
    "customer_id",
    "amount_cents",
    "applied_cents",
    "credit_cents",
    "fees_cents",
    "paid_on",
    "method",
    "reference",
    "status",
    "note",
    "received_at",
    "bank_fee_cents",
    "credited_cents",
)
_NO_BANK_AMOUNTS = (None, None)
# A stored unmatched payment that now matches an invoice: its row by id, then what changes.
_REMATCHED_KEY = ("id", INT)
_REMATCHED = (
    ("invoice_id", INT),
    ("amount_cents", INT),  # a payment spread over several invoices keeps the first's share
    ("customer_id", INT),
    ("applied_cents", INT),
    ("fees_cents", INT),
    ("credit_cents", INT),
    ("status", TEXT),
    ("note", TEXT),
)


class PaymentWrites:
    """The rows one reconciliation writes, as plain tuples, and the statements that store them.

    New payments and their timeline entries go straight into their tables (COPY on PostgreSQL,
    a raw executemany on SQLite); nothing about them needs SQL to compute. The constants (the
    creditor, the source, the instant) are put in each tuple once, in the driver's form. The
    payments are noted as they are applied; their rows are made in `store`.
    """

    def __init__(
        self,
        conn: Connection,
        creditor_id: int,
        source: str,
        now: datetime,
        bank_amounts: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        self.creditor_id = creditor_id
        # External id -> (bank fee, credited amount), for payments from a bank return file.
        self.bank_amounts = bank_amounts or {}
        self.source = source
        self.data = timeline.PaymentData(source)
        # Also the timeline entries' instant and the invoices' updated_at.
        self.received_at = driver_value(conn, payments.c.received_at, now)
        # (payment, outcome, invoice number or None when unmatched, id of the stored row)
        self.noted: list[tuple[IncomingPayment, PaymentOutcome, str | None, int | None]] = []
        self.payments: list[tuple[Any, ...]] = []
        self.rematched: list[tuple[Any, ...]] = []
        self.timeline_rows: list[tuple[Any, ...]] = []
        # A file has a few payment dates and one or two methods: their texts are made once.
        self.days: dict[date, tuple[str, str]] = {}
        self.hows: dict[str | None, str] = {}

    def unmatched(self, payment: IncomingPayment, outcome: PaymentOutcome) -> None:
        self.noted.append((payment, outcome, None, None))

    def applied(
        self,
        payment: IncomingPayment,
        outcome: PaymentOutcome,
        number: str,
        stored_id: int | None,
    ) -> None:
        """The payment's row and its timeline entry (text and figures), made in `store`."""
        self.noted.append((payment, outcome, number, stored_id))

    def _rows(self) -> None:
        for payment, outcome, number, stored_id in self.noted:
            if number is None:
                self._payment(payment, outcome, None, payment.paid_on.isoformat())
            else:
                self._applied(payment, outcome, number, stored_id)

    def _applied(
        self,
        payment: IncomingPayment,
        outcome: PaymentOutcome,
        number: str,
        stored_id: int | None,
    ) -> None:
        day = self.days.get(payment.paid_on)
        if day is None:
            paid_on = payment.paid_on
            day = self.days[paid_on] = (paid_on.isoformat(), f"{paid_on:%d/%m/%Y}")
        how = self.hows.get(payment.method)
        if how is None:
            how = self.hows[payment.method] = method_label(payment.method or self.source)
        self._payment(payment, outcome, stored_id, day[0])
        self.timeline_rows.append(
            (
                outcome.customer_id,
                outcome.invoice_id,
                self.received_at,
                "paid",
                paid_detail(payment.amount_cents, outcome, number, how, day[1]),
                self.data(
                    payment.external_id,
                    payment.amount_cents,
                    outcome.fees_cents,
                    outcome.credit_cents,
                    outcome.balance_cents,
                    day[0],
                ),
            )
        )

    def _payment(
        self,
        payment: IncomingPayment,
        outcome: PaymentOutcome,
        stored_id: int | None,
        paid_on: str,
    ) -> None:
        if stored_id is not None:
            self.rematched.append(
                (
                    stored_id,
                    outcome.invoice_id,
                    payment.amount_cents,
                    outcome.customer_id,
                    outcome.applied_cents,
                    outcome.fees_cents,
                    outcome.credit_cents,
                    outcome.status,
                    payment.note,
                )
            )
            return
        self.payments.append(
            (
                self.creditor_id,
                payment.external_id,
                self.source,
                outcome.invoice_id,
                outcome.customer_id,
                payment.amount_cents,
                outcome.applied_cents,
                outcome.credit_cents,
                outcome.fees_cents,
                paid_on,
                payment.method,
                payment.reference,
                outcome.status,
                payment.note,
                self.received_at,
                *self.bank_amounts.get(payment.external_id, _NO_BANK_AMOUNTS),
            )
        )

    def store(
        self,
        conn: Connection,
        balances: Sequence[tuple[int, int, str, date | None, FeeState]],
        meanwhile: Callable[[], R],
    ) -> R:
        """The invoices' new `balances` (`invoices.write_balances`), then the payments and their
        timeline entries.

        In that order on purpose: the foreign-key checks of the rows inserted after the update
        lock the invoices' new row versions, on the few pages the update appended. Inserted
        first, they locked the old ones all over the table, and a checkpoint starting between
        the locks and the update (a file of 100,000 lines writes enough WAL to start one) had
        PostgreSQL write every page of the table to the WAL in full twice: 714 MB of WAL for
        the file against 565 MB without that second round.

        What `meanwhile` makes (Python alone, never this connection; its result is returned)
        and the rows of the payments noted are made while PostgreSQL updates the balances in a
        thread: psycopg lets go of the interpreter while it waits. For a return file of 100,000
        lines, ~0.4 s of Python made during the ~2.3 s update: the import took 10.4 s instead of
        10.7 s (three runs each, side by side). sqlite3 takes the interpreter back for each row
        of its executemany, so with work beside it the update would wait for it row after row:
        on SQLite they come after.
        """
        if conn.dialect.name != "postgresql" or len(balances) < OVERLAP_FROM:
            invoice_store.write_balances(conn, balances, self.received_at)
            made = meanwhile()
            self._rows()
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="balances") as pool:
                updated = pool.submit(
                    invoice_store.write_balances, conn, balances, self.received_at
                )
                made = meanwhile()
                self._rows()
                updated.result()
        insert_tuples(conn, payments, _PAYMENT_COLUMNS, self.payments)
        update_tuples(conn, payments, _REMATCHED_KEY, _REMATCHED, self.rematched)
        timeline.insert_entries(conn, self.timeline_rows)
        return made


# --------------------------------------------------------------------------- reversals, refunds


def applied_to(conn: Connection, invoice_id: int) -> list[tuple[date, Cents, Cents]]:
    """(payment date, applied to fees and principal, of it to fees) of the payments standing on
    the invoice, whatever their source: what its fee state is replayed from after a reversal."""
    return [
        (day_of(paid_on), applied, fees)  # type: ignore[misc]  # never NULL
        for paid_on, applied, fees in plain_rows(
            conn,
            select(payments.c.paid_on, payments.c.applied_cents, payments.c.fees_cents).where(
                payments.c.invoice_id == invoice_id, payments.c.status == "applied"
            ),
        )
    ]


def reversible_payments(
    conn: Connection, creditor_id: int, source: str, invoice_ids: Iterable[int]
) -> dict[int, list[Row[Any]]]:
    """Invoice id -> its applied payments from `source`, latest payment date first."""
    candidates: dict[int, list[Row[Any]]] = defaultdict(list)
    for row in conn.execute(
        select(payments)
        .where(
            payments.c.creditor_id == creditor_id,
            payments.c.source == source,
            payments.c.status == "applied",
            payments.c.invoice_id.in_(sorted(set(invoice_ids))),
        )
        .order_by(payments.c.paid_on.desc(), payments.c.id.desc())
    ):
        candidates[row.invoice_id].append(row)
    return candidates


def payment_parts(
    conn: Connection, creditor_id: int, source: str, external_ids: Iterable[str], mark: str
) -> dict[str, list[Row[Any]]]:
    """External id -> the stored payment, followed by the other parts it was spread into (their
    external ids are it + `mark` + part number, from 2), in part order; reversal rows left out.

    Looked up by exact ids, 16 parts at a time while the last is found: a prefix LIKE would not
    use the payments' unique index under PostgreSQL's usual collations.
    """
    found: dict[str, list[Row[Any]]] = {}
    pending = {external_id: 1 for external_id in set(external_ids)}  # id -> last part asked
    while pending:
        wanted = {
            f"{head}{mark}{number}" if number > 1 else head: head
            for head, last in pending.items()
            for number in range(last, last + PARTS_PER_ROUND)
        }
        rows: list[Row[Any]] = []
        for batch in chunks(sorted(wanted), BATCH):
            rows.extend(
                conn.execute(
                    select(payments).where(
                        payments.c.creditor_id == creditor_id,
                        payments.c.source == source,
                        payments.c.external_id.in_(batch),
                        payments.c.status != "reversal",
                    )
                ).all()
            )
        asked = pending
        pending = {}
        for row in rows:
            head = wanted[row.external_id]
            found.setdefault(head, []).append(row)
            number = _part_number(row, head, mark)
            if number == asked[head] + PARTS_PER_ROUND - 1:
                pending[head] = number + 1  # as many parts as asked: there may be more
    for head, rows in found.items():
        rows.sort(key=partial(_part_number, head=head, mark=mark))
    return found


PARTS_PER_ROUND = 16


def _part_number(row: Row[Any], head: str, mark: str) -> int:
    return 1 if row.external_id == head else int(row.external_id.removeprefix(head + mark))


def given_back_so_far(
    conn: Connection, creditor_id: int, source: str, external_ids: Iterable[str], mark: str
) -> dict[str, list[int]]:
    """External id -> [amount, principal, fees, credit] earlier refunds took from the payment.

    A refund of payment P is stored as a `reversal` row whose external id starts with P + `mark`.
    """
    given: dict[str, list[int]] = {}
    for external_id in external_ids:
        sums = given[external_id] = [0, 0, 0, 0]
        for amount, applied, fees, credit in conn.execute(
            select(
                payments.c.amount_cents,
                payments.c.applied_cents,
                payments.c.fees_cents,
                payments.c.credit_cents,
            ).where(
                payments.c.creditor_id == creditor_id,
                payments.c.source == source,
                payments.c.status == "reversal",
                payments.c.external_id.startswith(external_id + mark, autoescape=True),
            )
        ).all():
            sums[0] -= amount
            sums[1] -= applied - fees
            sums[2] -= fees
            sums[3] -= credit
    return given


def mark_reversed(conn: Connection, payment_id: int, note: str) -> None:
    """The payment no longer counts: the bank reversed it, or it was given back whole."""
    conn.execute(
        update(payments).where(payments.c.id == payment_id).values(status="reversed", note=note)
    )


def insert_given_back(
    conn: Connection,
    creditor_id: int,
    source: str,
    payment: IncomingPayment,
    customer_id: int | None,
    note: str,
    now: datetime,
) -> Row[Any]:
    """A payment given back whole before it was ever applied: stored `reversed`, applying
    nothing, so that its later notification is known and counted as a duplicate."""
    row = conn.execute(
        payments.insert()
        .values(
            creditor_id=creditor_id,
            external_id=payment.external_id,
            source=source,
            invoice_id=payment.invoice_id,
            customer_id=customer_id,
            amount_cents=payment.amount_cents,
            applied_cents=0,
            fees_cents=0,
            credit_cents=0,
            paid_on=payment.paid_on,
            method=payment.method,
            reference=payment.reference,
            status="reversed",
            note=note,
            received_at=now,
        )
        .returning(*payments.c)
    ).one()
    return row


def insert_reversal(
    conn: Connection,
    original: Any,
    external_id: str,
    amounts: tuple[int, int, int, int],
    paid_on: date,
    note: str,
    now: datetime,
) -> None:
    """A `reversal` row taking back (amount, applied, fees, credit) of `original`."""
    amount, applied, fees, credit = amounts
    conn.execute(
        payments.insert().values(
            creditor_id=original.creditor_id,
            external_id=external_id,
            source=original.source,
            invoice_id=original.invoice_id,
            customer_id=original.customer_id,
            amount_cents=-amount,
            applied_cents=-applied,
            fees_cents=-fees,
            credit_cents=-credit,
            paid_on=paid_on,
            method=original.method,
            reference=original.reference,
            status="reversal",
            note=note,
            received_at=now,
        )
    )


# --------------------------------------------------------------------------- the report


def recent_lines(
    conn: Connection, creditor_id: int, since: date, *, unmatched_only: bool, limit: int
) -> list[dict[str, Any]]:
    """The creditor's payments dated from `since`, newest first, with their invoice and
    customer as they are now; at most `limit`."""
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
            payments.c.bank_fee_cents,
            payments.c.credited_cents,
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
        .where(*_report_filter(creditor_id, since, unmatched_only))
        .order_by(payments.c.paid_on.desc(), payments.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _report_filter(
    creditor_id: int, since: date | None, unmatched_only: bool
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [payments.c.creditor_id == creditor_id]
    if since is not None:
        where.append(payments.c.paid_on >= since)
    if unmatched_only:
        where.append(payments.c.status == "unmatched")
    return where


def payment_sums(
    conn: Connection,
    creditor_id: int,
    *,
    since: date | None,
    unmatched_only: bool,
    by_status: bool,
) -> dict[str, tuple[int, int, int, int, int]]:
    """(count, amount, applied, fees, credit) of the payments dated from `since` (any date if
    None), per status or (key "all") over them all; a key with no payment is left out."""
    where = _report_filter(creditor_id, since, unmatched_only)
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
        str(status): (int(count), int(amount), int(applied), int(fees), int(credit))
        for status, count, amount, applied, fees, credit in rows
        if count
    }


def invoices_with_any_payment(conn: Connection, invoice_ids: Iterable[int]) -> set[int]:
    """Which of `invoice_ids` have a payment stored (applied or reversed): money regua already
    knows of, which an ERP's history must not count twice."""
    found: set[int] = set()
    for batch in chunks(sorted(set(invoice_ids)), BATCH):
        found.update(
            int(invoice_id)
            for (invoice_id,) in plain_rows(
                conn,
                select(payments.c.invoice_id)
                .where(one_of(conn, payments.c.invoice_id, batch))
                .distinct(),
            )
        )
    return found
