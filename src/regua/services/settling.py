"""Money received applied to invoices: the core every way of receiving money goes through.

One call of `reconcile` is one transaction and does, set-based, everything a payment implies:

- the payment is recorded once: (creditor, source, external_id) is unique, so a replayed webhook
  or a return file imported twice adds nothing;
- it is applied with `domain.settlement.apply_payment`: fees due on the PAYMENT date first (CC
  art. 354), then principal; what is left open keeps the régua going; an overpayment is a credit;
- a settled invoice becomes `paid` with `settled_on`; its pending collection actions are
  cancelled and its customer gets one thank-you action (`settled_actions`);
- the customer's timeline gets a "paid" interaction;
- money nobody could match is stored with `invoice_id` NULL and status `unmatched`, so it shows
  in `regua payments` instead of vanishing; a later import that can match it applies it;
- a reversal (CNAB 44, Bradesco 22/40, a Pix devolução) marks the payment `reversed`, stores the
  opposite amounts (status `reversal`) and reopens the principal it had paid.

Payments, timeline entries and balances are written set-based (`store.staging`): new rows
straight into their tables (COPY on PostgreSQL, a raw executemany on SQLite), balances by key.
A return file of 100,000 lines costs a handful of statements, not 100,000 round trips.

Callers: `cnab_returns` (bank return files), `pix_receipts` (PIX webhooks) and the importer
(`apply_matched_payments`, payments already matched to invoices).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.sql.expression import ColumnElement

from regua.domain.fees import FeeTerms
from regua.domain.money import Cents, format_brl
from regua.domain.settlement import apply_payment
from regua.errors import NotFound
from regua.services.settled_actions import (
    cancel_pending_actions,
    cancel_thank_you,
    read_thank_you,
    thank_you_rows,
    write_thank_you,
)
from regua.store.bulk import chunks, refresh_stale_statistics
from regua.store.sql import day_of, one_of, plain_rows
from regua.store.staging import (
    DATE,
    INSTANT,
    INT,
    TEXT,
    driver_value,
    insert_tuples,
    update_tuples,
)
from regua.store.tables import creditors, customers, interactions, invoices, payments

BATCH = 5_000
# Balances from which PostgreSQL updates them in a thread while the payments' rows are made:
# below, the thread costs more than the overlap saves (a webhook settles one invoice).
OVERLAP_FROM = 1_000
# Payments looked up from which the table's statistics are checked first: planned for a table
# it takes for empty, a few keys still cost little.
STATISTICS_CHECKED_FROM = 1_000
# Statuses whose balance a payment still reduces.
PAYABLE = ("open", "disputed", "in_agreement")
# A thank-you is for money that just arrived. A payment found in an old export (an ERP history
# imported on the first day) settles its invoice but thanking for it weeks later reads oddly.
THANK_YOU_MAX_AGE_DAYS = 7

OutcomeStatus = Literal["applied", "unmatched", "duplicate"]
R = TypeVar("R")

_METHOD_LABELS = {"pix": "PIX", "cnab": "boleto", "import": "importação", "manual": "manual"}


# --------------------------------------------------------------------------- inputs and results


class IncomingPayment(NamedTuple):
    """Money received; `invoice_id` None means nobody could tell which invoice it pays.

    Named tuples here and in `PaymentOutcome`: a return file makes 100,000 of each, and a
    tuple is built at a third of a frozen dataclass's cost.
    """

    external_id: str  # unique per source: CNAB line key, PIX endToEndId, ERP payment id
    amount_cents: Cents
    paid_on: date  # decides whether fees were due, never the day it reached regua
    invoice_id: int | None = None
    reference: str | None = None  # nosso número, txid, invoice id as the payer gave it
    method: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class IncomingReversal:
    """The bank undid a payment (cheque returned, payment cancelled)."""

    external_id: str
    invoice_id: int
    amount_cents: Cents  # as the bank reports it; picks the payment when there are several
    reversed_on: date
    reason: str  # pt-BR, for the timeline: "ocorrência 44: título pago com cheque devolvido"


class PaymentOutcome(NamedTuple):
    external_id: str
    status: OutcomeStatus
    amount_cents: Cents
    invoice_id: int | None = None
    customer_id: int | None = None
    applied_cents: Cents = 0  # fees + principal
    fees_cents: Cents = 0
    credit_cents: Cents = 0
    balance_cents: Cents | None = None  # invoice balance after this payment
    settled: bool = False  # this payment paid the invoice off
    invoice_status: str | None = None


@dataclass(frozen=True)
class ReversalOutcome:
    external_id: str
    invoice_id: int
    status: Literal["reversed", "duplicate", "nothing_to_reverse"]
    reversed_external_id: str | None = None
    principal_cents: Cents = 0  # reopened on the invoice


@dataclass(frozen=True)
class IncomingRefund:
    """Money given back to the payer (a Pix devolução): part or all of a stored payment."""

    external_id: str  # unique per refund: see `refund_key`
    payment_external_id: str  # the payment (same source) the money was given back from
    amount_cents: Cents
    refunded_on: date
    reason: str  # pt-BR, for the timeline: "devolução D123 pelo PSP"


@dataclass(frozen=True)
class RefundOutcome:
    external_id: str
    payment_external_id: str
    status: Literal["refunded", "duplicate", "nothing_to_refund"]
    invoice_id: int | None = None
    amount_cents: Cents = 0  # given back out of the payment
    principal_cents: Cents = 0  # reopened on the invoice
    balance_cents: Cents | None = None  # invoice balance after the refund
    invoice_status: str | None = None
    fees_cents: Cents = 0  # of the multa and juros the payment had paid
    credit_cents: Cents = 0  # of the credit the payment had left


REFUND_MARK = ":devolucao:"


def refund_key(payment_external_id: str, refund_id: str) -> str:
    """External id of one refund of one payment: ``<endToEndId>:devolucao:<id>``."""
    return f"{payment_external_id}{REFUND_MARK}{refund_id}"


@dataclass
class Reconciliation:
    payments: list[PaymentOutcome] = field(default_factory=list)
    reversals: list[ReversalOutcome] = field(default_factory=list)
    refunds: list[RefundOutcome] = field(default_factory=list)
    settled_invoice_ids: list[int] = field(default_factory=list)
    reopened_invoice_ids: list[int] = field(default_factory=list)
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def count(self, status: OutcomeStatus) -> int:
        return sum(1 for p in self.payments if p.status == status)


class InvoiceFacts(NamedTuple):
    """What applying a payment needs to know about its invoice (`lookup_invoices` can say it).

    A named tuple: a return file reads 100,000 of them, and a tuple is built at a fraction of
    the cost of a frozen dataclass.
    """

    id: int
    customer_id: int
    number: str
    due_date: date
    balance_cents: Cents
    status: str
    settled_on: date | None


@dataclass(frozen=True)
class _Creditor:
    id: int
    timezone: str
    terms: FeeTerms


# --------------------------------------------------------------------------- the core


def reconcile(
    conn: Connection,
    creditor_id: int,
    incoming: Sequence[IncomingPayment],
    *,
    source: str,
    now: datetime,
    terms: FeeTerms | None = None,
    reversals: Sequence[IncomingReversal] = (),
    refunds: Sequence[IncomingRefund] = (),
    day: date | None = None,
    invoices_read: Mapping[int, InvoiceFacts] | None = None,
) -> Reconciliation:
    """Record and apply `incoming` (then `reversals` and `refunds`) in the caller's transaction.

    Args:
        terms: fee settings; default the creditor's (the consumer cap is applied per customer).
        day: the day thank-you actions are planned for; default today in the creditor's zone.
        invoices_read: invoices the caller has already read in this transaction, after
            `lock_creditor` (matching by nosso número reads them anyway); the others are read
            here.

    Returns:
        One outcome per incoming payment, in input order (duplicates included).
    """
    creditor = lock_creditor(conn, creditor_id)
    terms = terms or creditor.terms
    today = day or now.astimezone(ZoneInfo(creditor.timezone)).date()
    result = Reconciliation()

    known = known_payments(conn, creditor_id, source, [p.external_id for p in incoming])
    fresh, rematched = _fresh(incoming, known)
    wanted = {p.invoice_id for p in fresh if p.invoice_id}
    state = {i: invoices_read[i] for i in wanted if i in invoices_read} if invoices_read else {}
    state.update(_invoice_state(conn, creditor_id, wanted - state.keys()))
    balances = {invoice_id: row.balance_cents for invoice_id, row in state.items()}
    # The consumer cap (CDC art. 52 §1) depends on the customer: one set of terms per case.
    # Fees are only due on a payment made after the due date, so only then is it read whether
    # the customer is a consumer: most of a return file is paid on time.
    terms_for = {flag: replace(terms, is_consumer=flag) for flag in (False, True)}
    consumers = _consumer_flags(
        conn,
        {
            state[p.invoice_id].customer_id
            for p in fresh
            if p.invoice_id in state and p.paid_on > state[p.invoice_id].due_date
        },
    )
    settled_on: dict[int, date] = {}
    outcomes: dict[str, PaymentOutcome] = {}
    written = _Written(creditor_id, source, driver_value(conn, payments.c.received_at, now))
    # Payments to one invoice are applied in payment-date order whatever order they came in.
    ordered = sorted(
        fresh,
        key=lambda p: (p.invoice_id is None, p.invoice_id or 0, p.paid_on, p.external_id),
    )
    for payment in ordered:
        row = state.get(payment.invoice_id) if payment.invoice_id is not None else None
        if row is None:
            outcome = PaymentOutcome(payment.external_id, "unmatched", payment.amount_cents)
            outcomes[payment.external_id] = outcome
            if payment.external_id not in rematched:
                written.unmatched(payment, outcome)
            continue
        invoice_id = row.id
        balance = balances[invoice_id]
        if row.status in PAYABLE and balance > 0:
            late = payment.paid_on > row.due_date
            split = apply_payment(
                balance,
                row.due_date,
                payment.paid_on,
                payment.amount_cents,
                terms_for[consumers[row.customer_id]] if late else terms,  # on time: no fees
            )
            fees, principal, credit = (
                split.fees_paid_cents,
                split.principal_paid_cents,
                split.credit_cents,
            )
            balance = balances[invoice_id] = split.new_balance_cents
            settles = split.settles and invoice_id not in settled_on
            if settles:
                settled_on[invoice_id] = payment.paid_on
        else:
            # Nothing open on it (already paid, cancelled): the money is the customer's credit.
            fees, principal, credit, settles = 0, 0, payment.amount_cents, False
        outcome = PaymentOutcome(
            payment.external_id,
            "applied",
            payment.amount_cents,
            invoice_id=invoice_id,
            customer_id=row.customer_id,
            applied_cents=fees + principal,
            fees_cents=fees,
            credit_cents=credit,
            balance_cents=balance,
            settled=settles,
            invoice_status="paid" if invoice_id in settled_on else row.status,
        )
        outcomes[payment.external_id] = outcome
        written.applied(payment, outcome, row.number, rematched.get(payment.external_id))

    invoice_rows = [
        (
            invoice_id,
            balance,
            "paid" if invoice_id in settled_on else state[invoice_id].status,
            _iso(settled_on.get(invoice_id, state[invoice_id].settled_on)),
            written.received_at,
        )
        # In key order: the table's pages are visited once each, not at random.
        for invoice_id, balance in sorted(balances.items())
        if balance != state[invoice_id].balance_cents or invoice_id in settled_on
    ]

    def recent() -> dict[int, int]:
        """Invoice id -> customer id of the invoices settled by money recent enough to thank."""
        return {
            invoice_id: state[invoice_id].customer_id
            for invoice_id, paid_on in settled_on.items()
            if paid_on >= today - timedelta(days=THANK_YOU_MAX_AGE_DAYS)
        }

    # Without reversals or refunds nothing reopens an invoice: whom to thank is known before
    # the writes, and their actions are made while the database updates the balances.
    reach = None if reversals or refunds else read_thank_you(conn, creditor_id, recent(), now)
    thank_yous = written.store(
        conn, invoice_rows, lambda: thank_you_rows(reach) if reach is not None else None
    )

    if reversals:
        _reverse(conn, creditor_id, source, reversals, now, result)
    if refunds:
        _refund(conn, creditor_id, source, refunds, now, result)
    for invoice_id in result.reopened_invoice_ids:
        settled_on.pop(invoice_id, None)  # paid and reversed in one call: open again

    settled = sorted(settled_on)
    result.settled_invoice_ids = settled
    result.cancelled_actions = cancel_pending_actions(conn, settled)
    if thank_yous is None:
        thank_yous = thank_you_rows(read_thank_you(conn, creditor_id, recent(), now))
    result.thank_you_actions = write_thank_you(conn, creditor_id, thank_yous, today, now)
    result.payments = _in_input_order(incoming, outcomes, known)
    return result


def apply_matched_payments(
    conn: Connection,
    creditor_id: int,
    new_payments: Sequence[dict[str, Any]],
    *,
    source: str,
    now: datetime,
    terms: FeeTerms,
) -> list[int]:
    """Record payments already matched to invoices and apply them (see `reconcile`).

    Each dict has external_id, invoice_id, amount_cents, paid_on and optionally method and
    reference (str). Returns the ids of the invoices that became settled.
    """
    if not new_payments:
        return []
    incoming = [
        IncomingPayment(
            external_id=p["external_id"],
            amount_cents=p["amount_cents"],
            paid_on=p["paid_on"],
            invoice_id=p["invoice_id"],
            reference=p["reference"] if isinstance(p.get("reference"), str) else None,
            method=p.get("method"),
        )
        for p in new_payments
    ]
    result = reconcile(conn, creditor_id, incoming, source=source, now=now, terms=terms)
    return result.settled_invoice_ids


def _fresh(
    incoming: Sequence[IncomingPayment], known: dict[str, tuple[int, str, int | None]]
) -> tuple[list[IncomingPayment], dict[str, int]]:
    """What to apply: new ids once each, and unmatched money that can now be matched.

    Returns the payments and, for the second kind, external id -> id of the stored row.
    """
    seen: set[str] = set()
    fresh: list[IncomingPayment] = []
    rematched: dict[str, int] = {}
    for payment in incoming:
        previous = known.get(payment.external_id)
        if payment.external_id in seen or (
            previous is not None and (previous[1] != "unmatched" or payment.invoice_id is None)
        ):
            continue
        seen.add(payment.external_id)
        fresh.append(payment)
        if previous is not None:
            rematched[payment.external_id] = previous[0]
    return fresh, rematched


def _in_input_order(
    incoming: Sequence[IncomingPayment],
    outcomes: dict[str, PaymentOutcome],
    known: dict[str, tuple[int, str, int | None]],
) -> list[PaymentOutcome]:
    ordered: list[PaymentOutcome] = []
    emitted: set[str] = set()
    for payment in incoming:
        found = outcomes.get(payment.external_id)
        if found is None or payment.external_id in emitted:
            # Stored before, or listed twice in this input: the money was counted once.
            previous = known.get(payment.external_id)
            found = PaymentOutcome(
                payment.external_id,
                "duplicate",
                payment.amount_cents,
                invoice_id=previous[2] if previous else found.invoice_id if found else None,
            )
        emitted.add(payment.external_id)
        ordered.append(found)
    return ordered


def lock_creditor(conn: Connection, creditor_id: int) -> _Creditor:
    """The creditor's settings, holding the creditor's reconciliation lock until commit.

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
    query = select(
        creditors.c.id,
        creditors.c.timezone,
        creditors.c.late_fee_bp,
        creditors.c.interest_monthly_bp,
    ).where(creditors.c.id == creditor_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return _Creditor(
        row.id,
        row.timezone,
        FeeTerms(late_fee_bp=row.late_fee_bp, interest_monthly_bp=row.interest_monthly_bp),
    )


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


def _facts_columns() -> tuple[ColumnElement[Any], ...]:
    """The columns of `InvoiceFacts`, in its order."""
    return (
        invoices.c.id,
        invoices.c.customer_id,
        invoices.c.number,
        invoices.c.due_date,
        invoices.c.balance_cents,
        invoices.c.status,
        invoices.c.settled_on,
    )


def _invoice_state(
    conn: Connection, creditor_id: int, invoice_ids: Iterable[int]
) -> dict[int, InvoiceFacts]:
    state: dict[int, InvoiceFacts] = {}
    for batch in chunks(sorted(invoice_ids), BATCH):
        for row in plain_rows(
            conn,
            select(invoices.c.creditor_id, *_facts_columns())
            # The creditor is checked below, not here: given both, SQLite walks the
            # (creditor_id, external_id) index through every invoice instead of the key.
            .where(one_of(conn, invoices.c.id, batch)),
        ):
            if row[0] == creditor_id:
                state[row[1]] = _facts(row, 1)
    return state


def _facts(row: Sequence[Any], at: int) -> InvoiceFacts:
    """`InvoiceFacts` from a `plain_rows` row whose `_facts_columns` start at `at`."""
    return InvoiceFacts(
        row[at],
        row[at + 1],
        row[at + 2],
        day_of(row[at + 3]),  # type: ignore[arg-type]  # never NULL
        row[at + 4],
        row[at + 5],
        day_of(row[at + 6]),
    )


def _consumer_flags(conn: Connection, customer_ids: Iterable[int]) -> dict[int, bool]:
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
)
# A stored unmatched payment that now matches an invoice: its row by id, then what changes.
_REMATCHED_KEY = ("id", INT)
_REMATCHED = (
    ("invoice_id", INT),
    ("customer_id", INT),
    ("applied_cents", INT),
    ("fees_cents", INT),
    ("credit_cents", INT),
    ("status", TEXT),
    ("note", TEXT),
)
_TIMELINE_COLUMNS = ("customer_id", "invoice_id", "at", "kind", "detail", "data")
_INVOICE_KEY = ("id", INT)
_INVOICE_CHANGES = (
    ("balance_cents", INT),
    ("status", TEXT),
    ("settled_on", DATE),
    ("updated_at", INSTANT),
)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class _Written:
    """The rows one reconciliation writes, as plain tuples, and the statements that store them.

    New payments and their timeline entries go straight into their tables (COPY on PostgreSQL,
    a raw executemany on SQLite); nothing about them needs SQL to compute. The constants (the
    creditor, the source, the instant) are put in each tuple once, in the driver's form. The
    payments are noted as they are applied; their rows are made in `store`.
    """

    def __init__(self, creditor_id: int, source: str, received_at: Any) -> None:
        # `received_at` is also the timeline entries' instant and the invoices' updated_at.
        self.creditor_id = creditor_id
        self.source = source
        self.source_json = json.dumps(source)
        self.received_at = received_at
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
            method = payment.method or self.source
            how = self.hows[payment.method] = _METHOD_LABELS.get(method, method)
        self._payment(payment, outcome, stored_id, day[0])
        # The JSON the timeline keeps with the text, written out: json.dumps of a dict per row
        # costs as much as the rest of the row.
        data = (
            f'{{"source": {self.source_json}, "external_id": {json.dumps(payment.external_id)}, '
            f'"amount_cents": {payment.amount_cents}, "fees_cents": {outcome.fees_cents}, '
            f'"credit_cents": {outcome.credit_cents}, '
            f'"balance_cents": {outcome.balance_cents}, "paid_on": "{day[0]}"}}'
        )
        self.timeline_rows.append(
            (
                outcome.customer_id,
                outcome.invoice_id,
                self.received_at,
                "paid",
                _paid_detail(payment.amount_cents, outcome, number, how, day[1]),
                data,
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
            )
        )

    def store(
        self, conn: Connection, invoice_rows: list[tuple[Any, ...]], meanwhile: Callable[[], R]
    ) -> R:
        """The invoices' new balances, then the payments and their timeline entries.

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
        if conn.dialect.name != "postgresql" or len(invoice_rows) < OVERLAP_FROM:
            update_tuples(conn, invoices, _INVOICE_KEY, _INVOICE_CHANGES, invoice_rows)
            made = meanwhile()
            self._rows()
        else:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="balances") as pool:
                updated = pool.submit(
                    update_tuples, conn, invoices, _INVOICE_KEY, _INVOICE_CHANGES, invoice_rows
                )
                made = meanwhile()
                self._rows()
                updated.result()
        insert_tuples(conn, payments, _PAYMENT_COLUMNS, self.payments)
        update_tuples(conn, payments, _REMATCHED_KEY, _REMATCHED, self.rematched)
        insert_tuples(conn, interactions, _TIMELINE_COLUMNS, self.timeline_rows)
        return made


def _paid_detail(
    amount_cents: Cents, outcome: PaymentOutcome, number: str, how: str, paid_on: str
) -> str:
    """The timeline text of an applied payment (`paid_on` as DD/MM/AAAA)."""
    detail = f"Pagamento de {format_brl(amount_cents)} ({how}) em {paid_on}, título {number}: "
    if outcome.settled:
        detail += "quitado"
    elif outcome.applied_cents == 0:
        detail += "já estava quitado"
    else:
        detail += f"restam {format_brl(outcome.balance_cents or 0)} em aberto"
    if outcome.fees_cents:
        detail += f"; multa e juros pagos: {format_brl(outcome.fees_cents)}"
    if outcome.credit_cents:
        detail += f"; crédito de {format_brl(outcome.credit_cents)} para o cliente"
    return detail


def _same(value: str) -> str:
    return value


def lookup_invoices(
    conn: Connection,
    creditor_id: int,
    column: ColumnElement[Any],
    values: Iterable[str],
    *,
    key_column: ColumnElement[Any] | None = None,
    key_of: Callable[[str], str] = _same,
    creditor_in_sql: bool = False,
    facts: dict[int, InvoiceFacts] | None = None,
) -> dict[str, int]:
    """key_of(stored) -> invoice id for the creditor's invoices whose `column` is in `values`.

    Open invoices win over settled ones, then the oldest. With ``creditor_in_sql`` False the
    creditor is checked in Python: on an indexed column (nosso número, txid) SQLite, without
    table statistics, would otherwise walk the (creditor_id, external_id) index and read every
    invoice of the creditor for each batch. Given `facts`, the same query also fills it with
    what `reconcile` needs to know about each invoice found (its `invoices_read`).
    """
    key_column = column if key_column is None else key_column
    best: dict[str, tuple[bool, int]] = {}
    wanted = (key_column, invoices.c.creditor_id)
    read = wanted + (_facts_columns() if facts is not None else (invoices.c.id, invoices.c.status))
    for batch in chunks(sorted(set(values)), BATCH):
        condition = one_of(conn, column, batch)
        if creditor_in_sql:
            condition = and_(condition, invoices.c.creditor_id == creditor_id)
        for row in plain_rows(conn, select(*read).where(condition)):
            stored, owner, invoice_id = row[0], row[1], row[2]
            if owner != creditor_id or stored is None:
                continue
            if facts is not None:
                status = row[7]
                facts[invoice_id] = _facts(row, 2)
            else:
                status = row[3]
            key = key_of(stored)
            rank = (status not in PAYABLE, invoice_id)
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[1] for key, rank in best.items()}


# --------------------------------------------------------------------------- reversals


def _given_back(invoice: InvoiceFacts, principal: Cents) -> tuple[InvoiceFacts, bool]:
    """The invoice after `principal` of a payment came back; whether a paid one reopened."""
    balance = invoice.balance_cents + principal
    reopened = invoice.status == "paid" and balance > 0
    return (
        invoice._replace(
            balance_cents=balance,
            status="open" if reopened else invoice.status,
            settled_on=None if reopened else invoice.settled_on,
        ),
        reopened,
    )


def _store_balance(conn: Connection, invoice: InvoiceFacts, now: datetime) -> None:
    conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice.id)
        .values(
            balance_cents=invoice.balance_cents,
            status=invoice.status,
            settled_on=invoice.settled_on,
            # a reversal that reopens a paid invoice puts it back in the régua at once: the
            # planner looks at every invoice written since its last run
            updated_at=now,
        )
    )


def _insert_reversal(
    conn: Connection,
    original: Any,
    external_id: str,
    amounts: tuple[Cents, Cents, Cents, Cents],
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


def _reverse(
    conn: Connection,
    creditor_id: int,
    source: str,
    reversals: Sequence[IncomingReversal],
    now: datetime,
    result: Reconciliation,
) -> None:
    """Undo the payments the bank reversed; see the module docstring."""
    known = known_payments(conn, creditor_id, source, [r.external_id for r in reversals])
    todo: list[IncomingReversal] = []
    for reversal in reversals:
        if reversal.external_id in known or any(
            t.external_id == reversal.external_id for t in todo
        ):
            result.reversals.append(
                ReversalOutcome(reversal.external_id, reversal.invoice_id, "duplicate")
            )
        else:
            todo.append(reversal)
    if not todo:
        return
    candidates: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(
        select(payments)
        .where(
            payments.c.creditor_id == creditor_id,
            payments.c.source == source,
            payments.c.status == "applied",
            payments.c.invoice_id.in_(sorted({r.invoice_id for r in todo})),
        )
        .order_by(payments.c.paid_on.desc(), payments.c.id.desc())
    ):
        candidates[row.invoice_id].append(row)
    state = _invoice_state(conn, creditor_id, {r.invoice_id for r in todo})
    for reversal in todo:
        pool = candidates.get(reversal.invoice_id, [])
        original = next((p for p in pool if p.amount_cents == reversal.amount_cents), None)
        original = original or (pool[0] if pool else None)
        invoice = state.get(reversal.invoice_id)
        if original is None or invoice is None:
            result.reversals.append(
                ReversalOutcome(reversal.external_id, reversal.invoice_id, "nothing_to_reverse")
            )
            continue
        pool.remove(original)
        principal = original.applied_cents - original.fees_cents
        invoice, reopened = _given_back(invoice, principal)
        state[invoice.id] = invoice  # a second reversal of the same invoice starts from here
        if reopened:
            result.reopened_invoice_ids.append(invoice.id)
        conn.execute(
            update(payments)
            .where(payments.c.id == original.id)
            .values(status="reversed", note=f"estornado: {reversal.reason}")
        )
        _insert_reversal(
            conn,
            original,
            reversal.external_id,
            (
                original.amount_cents,
                original.applied_cents,
                original.fees_cents,
                original.credit_cents,
            ),
            reversal.reversed_on,
            f"estorno de {original.external_id}",
            now,
        )
        _store_balance(conn, invoice, now)
        conn.execute(
            interactions.insert().values(
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                at=now,
                kind="payment_reversed",
                detail=(
                    f"Pagamento de {format_brl(original.amount_cents)} de "
                    f"{original.paid_on:%d/%m/%Y} estornado pelo banco ({reversal.reason}): "
                    + (
                        f"título reaberto, {format_brl(invoice.balance_cents)} em aberto"
                        if reopened
                        else f"{format_brl(invoice.balance_cents)} em aberto"
                    )
                ),
                data={
                    "external_id": reversal.external_id,
                    "reversed": original.external_id,
                    "principal_cents": principal,
                },
            )
        )
        result.reversals.append(
            ReversalOutcome(
                reversal.external_id,
                reversal.invoice_id,
                "reversed",
                original.external_id,
                principal,
            )
        )
    if result.reopened_invoice_ids:
        cancel_thank_you(conn, result.reopened_invoice_ids)


# --------------------------------------------------------------------------- refunds


def _refund(
    conn: Connection,
    creditor_id: int,
    source: str,
    refunds: Sequence[IncomingRefund],
    now: datetime,
    result: Reconciliation,
) -> None:
    """Give back part or all of stored payments, once per refund id.

    A refund is taken first from what the payment left as credit (an overpayment given back
    changes no invoice), then from the principal it paid, which is reopened on the invoice (a
    paid invoice becomes open again and its unsent thank-you is cancelled), and last from the
    fees it paid. Each refund is stored as a `reversal` row with the opposite amounts; a payment
    given back whole becomes `reversed`. The invoice's timeline says what happened.
    """
    known = known_payments(conn, creditor_id, source, [r.external_id for r in refunds])
    seen: set[str] = set()
    todo: list[IncomingRefund] = []
    for refund in refunds:
        if refund.external_id in known or refund.external_id in seen:
            result.refunds.append(
                RefundOutcome(refund.external_id, refund.payment_external_id, "duplicate")
            )
        else:
            seen.add(refund.external_id)
            todo.append(refund)
    if not todo:
        return
    wanted = sorted({r.payment_external_id for r in todo})
    originals = {
        row.external_id: row
        for row in conn.execute(
            select(payments).where(
                payments.c.creditor_id == creditor_id,
                payments.c.source == source,
                payments.c.external_id.in_(wanted),
                payments.c.status.in_(("applied", "unmatched")),
            )
        ).all()
    }
    # What earlier refunds already gave back, per payment: amount, principal, fees, credit.
    given: dict[str, list[int]] = {external_id: [0, 0, 0, 0] for external_id in originals}
    for external_id in originals:
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
                payments.c.external_id.startswith(external_id + REFUND_MARK, autoescape=True),
            )
        ).all():
            sums = given[external_id]
            sums[0] -= amount
            sums[1] -= applied - fees
            sums[2] -= fees
            sums[3] -= credit
    state = _invoice_state(
        conn, creditor_id, {row.invoice_id for row in originals.values() if row.invoice_id}
    )
    reopened: list[int] = []
    for refund in todo:
        original = originals.get(refund.payment_external_id)
        back = given.get(refund.payment_external_id)
        left = original.amount_cents - back[0] if original is not None and back else 0
        give = min(refund.amount_cents, left)
        if original is None or back is None or give <= 0:
            result.refunds.append(
                RefundOutcome(refund.external_id, refund.payment_external_id, "nothing_to_refund")
            )
            continue
        from_credit = min(give, original.credit_cents - back[3])
        from_principal = min(
            give - from_credit, original.applied_cents - original.fees_cents - back[1]
        )
        from_fees = min(give - from_credit - from_principal, original.fees_cents - back[2])
        back[0] += give
        back[1] += from_principal
        back[2] += from_fees
        back[3] += from_credit
        _insert_reversal(
            conn,
            original,
            refund.external_id,
            (give, from_principal + from_fees, from_fees, from_credit),
            refund.refunded_on,
            f"devolução de {original.external_id}",
            now,
        )
        if back[0] >= original.amount_cents:
            conn.execute(
                update(payments)
                .where(payments.c.id == original.id)
                .values(status="reversed", note=f"devolvido: {refund.reason}")
            )
        invoice = state.get(original.invoice_id) if original.invoice_id else None
        if invoice is None:
            result.refunds.append(
                RefundOutcome(
                    refund.external_id, original.external_id, "refunded", amount_cents=give
                )
            )
            continue
        invoice, reopen = _given_back(invoice, from_principal)
        balance = invoice.balance_cents
        state[invoice.id] = invoice  # a second refund of the same invoice starts from here
        if reopen:
            reopened.append(invoice.id)
        if from_principal:
            _store_balance(conn, invoice, now)
        how = _METHOD_LABELS.get(original.method or source, original.method or source)
        if reopen:
            effect = f"título reaberto, {format_brl(balance)} em aberto"
        elif from_principal:
            effect = f"{format_brl(balance)} em aberto"
        else:
            effect = "saldo do título inalterado"
        if from_credit:
            effect += f"; crédito do cliente reduzido em {format_brl(from_credit)}"
        conn.execute(
            interactions.insert().values(
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                at=now,
                kind="payment_reversed",
                detail=(
                    f"Devolução de {format_brl(give)} do pagamento de "
                    f"{format_brl(original.amount_cents)} "
                    f"({how}) de {original.paid_on:%d/%m/%Y}, título {invoice.number} "
                    f"({refund.reason}): {effect}"
                ),
                data={
                    "external_id": refund.external_id,
                    "refunded": original.external_id,
                    "amount_cents": give,
                    "principal_cents": from_principal,
                    "fees_cents": from_fees,
                    "credit_cents": from_credit,
                },
            )
        )
        result.refunds.append(
            RefundOutcome(
                refund.external_id,
                original.external_id,
                "refunded",
                invoice.id,
                give,
                from_principal,
                balance,
                invoice.status,
                from_fees,
                from_credit,
            )
        )
    if reopened:
        result.reopened_invoice_ids.extend(reopened)
        cancel_thank_you(conn, reopened)
