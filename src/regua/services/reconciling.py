"""Reconciliation: money received (CNAB return files, PIX webhooks, imports) applied to invoices.

One call is one transaction and does, set-based, everything a payment implies:

- the payment is recorded once: (creditor, source, external_id) is unique, so a replayed webhook
  or a return file imported twice adds nothing;
- it is applied with `domain.settlement.apply_payment`: fees due on the PAYMENT date first (CC
  art. 354), then principal; what is left open keeps the régua going; an overpayment is a credit;
- a settled invoice becomes `paid` with `settled_on`; its pending collection actions are
  cancelled and its customer gets one thank-you action (the policy's `thank_you`), unique per
  (customer, day, purpose) like every action;
- the customer's timeline gets a "paid" interaction;
- money nobody could match is stored with `invoice_id` NULL and status `unmatched`, so it shows
  in `regua payments` instead of vanishing; a later import that can match it applies it;
- a reversal (CNAB 44, Bradesco 22/40) marks the payment `reversed`, stores the opposite amounts
  (status `reversal`) and reopens the principal it had paid.

Entry points: `import_return_file` (CNAB), `receive_pix` (PIX webhook) and `reconcile` for
payments already matched by the caller (`apply_matched_payments` keeps the importer's shape).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Table,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import ColumnElement, Select

from regua.domain.fees import FeeTerms
from regua.domain.money import Cents
from regua.domain.planning import ContactPoint, choose_channel
from regua.domain.policy import Policy, select_policy
from regua.domain.settlement import apply_payment
from regua.errors import NotFound
from regua.payments.cnab import ReturnFile, ReturnRecord, parse_return
from regua.payments.webhooks import PixReceived
from regua.policies.loader import load_policy_text
from regua.services.policies import active_policies
from regua.store.bulk import chunks
from regua.store.staging import DATE, INT, JSON_TEXT, TEXT, json_object, staged
from regua.store.tables import (
    action_invoices,
    actions,
    contacts,
    creditors,
    customers,
    interactions,
    invoices,
    payments,
    policies,
)

BATCH = 5_000
SHORT_LIST = 50  # up to this many keys an IN list is cheaper than one json_each parameter
# Statuses whose balance a payment still reduces.
PAYABLE = ("open", "disputed", "in_agreement")
THANK_YOU_STEP = "agradecimento"
# A thank-you is for money that just arrived. A payment found in an old export (an ERP history
# imported on the first day) settles its invoice but thanking for it weeks later reads oddly.
THANK_YOU_MAX_AGE_DAYS = 7
CANCEL_REASON = "título pago antes do envio"
NOT_FOUND = "título não encontrado"
NOTHING_TO_REVERSE = "nenhum pagamento deste título a estornar"
THANK_YOU_CANCEL_REASON = "pagamento estornado antes do envio"

OutcomeStatus = Literal["applied", "unmatched", "duplicate"]

_METHOD_LABELS = {"pix": "PIX", "cnab": "boleto", "import": "importação", "manual": "manual"}


# --------------------------------------------------------------------------- inputs and results


@dataclass(frozen=True)
class IncomingPayment:
    """Money received; `invoice_id` None means nobody could tell which invoice it pays."""

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


@dataclass(frozen=True)
class PaymentOutcome:
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


@dataclass
class Reconciliation:
    payments: list[PaymentOutcome] = field(default_factory=list)
    reversals: list[ReversalOutcome] = field(default_factory=list)
    settled_invoice_ids: list[int] = field(default_factory=list)
    reopened_invoice_ids: list[int] = field(default_factory=list)
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def count(self, status: OutcomeStatus) -> int:
        return sum(1 for p in self.payments if p.status == status)


@dataclass(frozen=True, slots=True)
class _Invoice:
    """What applying a payment needs to know about its invoice."""

    id: int
    customer_id: int
    number: str
    due_date: date
    balance_cents: Cents
    status: str
    settled_on: date | None
    is_consumer: bool


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
    day: date | None = None,
) -> Reconciliation:
    """Record and apply `incoming` (and `reversals`) in the caller's transaction.

    Args:
        terms: fee settings; default the creditor's (the consumer cap is applied per customer).
        day: the day thank-you actions are planned for; default today in the creditor's zone.

    Returns:
        One outcome per incoming payment, in input order (duplicates included).
    """
    creditor = _lock_creditor(conn, creditor_id)
    terms = terms or creditor.terms
    today = day or now.astimezone(ZoneInfo(creditor.timezone)).date()
    result = Reconciliation()

    known = _known_payments(conn, creditor_id, source, [p.external_id for p in incoming])
    fresh, rematched = _fresh(incoming, known)
    state = _invoice_state(conn, creditor_id, {p.invoice_id for p in fresh if p.invoice_id})
    balances = {invoice_id: row.balance_cents for invoice_id, row in state.items()}
    # The consumer cap (CDC art. 52 §1) depends on the customer: one set of terms per case.
    terms_for = {flag: replace(terms, is_consumer=flag) for flag in (False, True)}
    settled_on: dict[int, date] = {}
    outcomes: dict[str, PaymentOutcome] = {}
    staged_rows: list[tuple[Any, ...]] = []  # see _STAGED_PAYMENT
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
                staged_rows.append(_staged_payment(len(staged_rows), None, payment, outcome, None))
            continue
        invoice_id = row.id
        balance = balances[invoice_id]
        if row.status in PAYABLE and balance > 0:
            split = apply_payment(
                balance,
                row.due_date,
                payment.paid_on,
                payment.amount_cents,
                terms_for[row.is_consumer],
            )
            fees, principal, credit = (
                split.fees_paid_cents,
                split.principal_paid_cents,
                split.credit_cents,
            )
            balances[invoice_id] = split.new_balance_cents
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
            balance_cents=balances[invoice_id],
            settled=settles,
            invoice_status="paid" if invoice_id in settled_on else row.status,
        )
        outcomes[payment.external_id] = outcome
        staged_rows.append(
            _staged_payment(
                len(staged_rows),
                rematched.get(payment.external_id),
                payment,
                outcome,
                _paid_detail(payment, outcome, row.number, source),
            )
        )

    invoice_rows = [
        (
            invoice_id,
            balance,
            "paid" if invoice_id in settled_on else state[invoice_id].status,
            _iso(settled_on.get(invoice_id, state[invoice_id].settled_on)),
        )
        # In key order: the table's pages are visited once each, not at random.
        for invoice_id, balance in sorted(balances.items())
        if balance != state[invoice_id].balance_cents or invoice_id in settled_on
    ]
    _write_payments(conn, creditor_id, source, now, staged_rows, invoice_rows)

    if reversals:
        _reverse(conn, creditor_id, source, reversals, now, result)
        for invoice_id in result.reopened_invoice_ids:
            settled_on.pop(invoice_id, None)  # paid and reversed in one file: open again

    settled = sorted(settled_on)
    result.settled_invoice_ids = settled
    result.cancelled_actions = cancel_pending_actions(conn, settled)
    recent = {
        invoice_id: state[invoice_id].customer_id
        for invoice_id, paid_on in settled_on.items()
        if paid_on >= today - timedelta(days=THANK_YOU_MAX_AGE_DAYS)
    }
    result.thank_you_actions = plan_thank_you(conn, creditor_id, recent, today, now)
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


def _lock_creditor(conn: Connection, creditor_id: int) -> _Creditor:
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


def _one_of(
    conn: Connection, column: Any, values: Sequence[Any], *, sized: bool = False
) -> ColumnElement[bool]:
    """``column IN values`` with the values sent as ONE parameter.

    Both databases spend more on an IN list of thousands of parameters (SQLAlchemy expanding
    them, the server parsing and planning them) than on the index lookups themselves: for
    100,000 nosso números PostgreSQL took 6.5 s against 0.9 s with ``= ANY(:array)``, SQLite
    0.57 s against 0.39 s reading them with ``json_each(:json)``. A short list (a webhook's
    one invoice) stays literal on SQLite, where the subquery costs more than it saves; so does
    a ``sized`` one, where the planner must see how few values there are to prefer the key.
    """
    if conn.dialect.name == "postgresql":
        return cast(
            "ColumnElement[bool]",
            column == any_(bindparam(None, list(values), type_=ARRAY(column.type))),
        )
    if sized or len(values) <= SHORT_LIST:
        return cast("ColumnElement[bool]", column.in_(list(values)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values)), type_=String()))
    )
    return cast("ColumnElement[bool]", column.in_(listed))


def _known_payments(
    conn: Connection, creditor_id: int, source: str, external_ids: Iterable[str]
) -> dict[str, tuple[int, str, int | None]]:
    """external id -> (payment id, status, invoice id) of payments already stored."""
    wanted = sorted(set(external_ids))
    found: dict[str, tuple[int, str, int | None]] = {}
    for batch in chunks(wanted, BATCH):
        for external_id, payment_id, status, invoice_id in conn.execute(
            select(
                payments.c.external_id, payments.c.id, payments.c.status, payments.c.invoice_id
            ).where(
                payments.c.creditor_id == creditor_id,
                payments.c.source == source,
                _one_of(conn, payments.c.external_id, batch),
            )
        ).all():
            found[external_id] = (payment_id, status, invoice_id)
    return found


def _invoice_state(
    conn: Connection, creditor_id: int, invoice_ids: Iterable[int]
) -> dict[int, _Invoice]:
    state: dict[int, _Invoice] = {}
    for batch in chunks(sorted(invoice_ids), BATCH):
        for owner, *fields in conn.execute(
            select(
                invoices.c.creditor_id,
                invoices.c.id,
                invoices.c.customer_id,
                invoices.c.number,
                invoices.c.due_date,
                invoices.c.balance_cents,
                invoices.c.status,
                invoices.c.settled_on,
                customers.c.is_consumer,
            )
            .join(customers, customers.c.id == invoices.c.customer_id)
            # The creditor is checked below, not here: given both, SQLite walks the
            # (creditor_id, external_id) index through every invoice instead of the key.
            .where(_one_of(conn, invoices.c.id, batch))
        ).all():
            if owner == creditor_id:
                invoice = _Invoice(*fields)
                state[invoice.id] = invoice
    return state


# One staged payment: the row of `payments` and, when applied, the text of its timeline entry.
_STAGED_PAYMENT = (
    ("seq", INT),
    ("payment_id", INT),  # the stored unmatched row this payment now matches, if any
    ("external_id", TEXT),
    ("invoice_id", INT),
    ("customer_id", INT),
    ("amount_cents", INT),
    ("applied_cents", INT),
    ("fees_cents", INT),
    ("credit_cents", INT),
    ("balance_cents", INT),
    ("paid_on", DATE),
    ("method", TEXT),
    ("reference", TEXT),
    ("status", TEXT),
    ("note", TEXT),
    ("detail", TEXT),  # NULL: no timeline entry (unmatched money)
)
_STAGED_INVOICE = (("id", INT), ("balance_cents", INT), ("status", TEXT), ("settled_on", DATE))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _staged_payment(
    seq: int,
    payment_id: int | None,
    payment: IncomingPayment,
    outcome: PaymentOutcome,
    detail: str | None,
) -> tuple[Any, ...]:
    return (
        seq,
        payment_id,
        payment.external_id,
        outcome.invoice_id,
        outcome.customer_id,
        payment.amount_cents,
        outcome.applied_cents,
        outcome.fees_cents,
        outcome.credit_cents,
        outcome.balance_cents,
        payment.paid_on.isoformat(),
        payment.method,
        payment.reference,
        outcome.status,
        payment.note,
        detail,
    )


def _write_payments(
    conn: Connection,
    creditor_id: int,
    source: str,
    now: datetime,
    rows: Sequence[tuple[Any, ...]],
    invoice_rows: Sequence[tuple[Any, ...]],
) -> None:
    """Store the payments, their timeline entries and the new invoice balances, set-based."""
    if rows:
        with staged(conn, "payments", _STAGED_PAYMENT, rows) as stage:
            s = stage.c
            conn.execute(
                payments.insert().from_select(
                    [
                        "creditor_id",
                        "external_id",
                        "source",
                        "invoice_id",
                        "customer_id",
                        "amount_cents",
                        "applied_cents",
                        "fees_cents",
                        "credit_cents",
                        "paid_on",
                        "method",
                        "reference",
                        "status",
                        "note",
                        "received_at",
                    ],
                    select(
                        literal(creditor_id, payments.c.creditor_id.type),
                        s.external_id,
                        literal(source, payments.c.source.type),
                        s.invoice_id,
                        s.customer_id,
                        s.amount_cents,
                        s.applied_cents,
                        s.fees_cents,
                        s.credit_cents,
                        s.paid_on,
                        s.method,
                        s.reference,
                        s.status,
                        s.note,
                        literal(now, payments.c.received_at.type),
                    )
                    .where(s.payment_id.is_(None))
                    .order_by(s.seq),
                )
            )
            if any(row[1] is not None for row in rows):
                conn.execute(
                    update(payments)
                    .where(payments.c.id == s.payment_id)
                    .values(
                        invoice_id=s.invoice_id,
                        customer_id=s.customer_id,
                        applied_cents=s.applied_cents,
                        fees_cents=s.fees_cents,
                        credit_cents=s.credit_cents,
                        status=s.status,
                        note=s.note,
                    )
                )
            data = json_object(
                conn,
                {
                    "source": sql_cast(literal(source, String()), String()),
                    "external_id": s.external_id,
                    "amount_cents": s.amount_cents,
                    "fees_cents": s.fees_cents,
                    "credit_cents": s.credit_cents,
                    "balance_cents": s.balance_cents,
                    "paid_on": s.paid_on,
                },
            )
            conn.execute(
                interactions.insert().from_select(
                    ["customer_id", "invoice_id", "at", "kind", "detail", "data"],
                    select(
                        s.customer_id,
                        s.invoice_id,
                        literal(now, interactions.c.at.type),
                        literal("paid", interactions.c.kind.type),
                        s.detail,
                        data,
                    )
                    .where(s.detail.is_not(None))
                    .order_by(s.seq),
                )
            )
    if invoice_rows:
        with staged(conn, "invoices", _STAGED_INVOICE, invoice_rows) as stage:
            conn.execute(
                update(invoices)
                .where(invoices.c.id == stage.c.id)
                .values(
                    balance_cents=stage.c.balance_cents,
                    status=stage.c.status,
                    settled_on=stage.c.settled_on,
                    updated_at=literal(now, invoices.c.updated_at.type),
                )
            )


def brl(cents: Cents) -> str:
    """``123456`` -> ``R$ 1.234,56``, the same text as `money.format_brl`.

    Babel costs ~50 µs a call, seconds over a return file of 100,000 payments whose timeline
    rows each name an amount; this is the fixed BRL pattern written out.
    """
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}R$ {whole:,}".replace(",", ".") + f",{part:02d}"


def _paid_detail(
    payment: IncomingPayment, outcome: PaymentOutcome, number: str, source: str
) -> str:
    """The timeline text of an applied payment."""
    how = _METHOD_LABELS.get(payment.method or source, payment.method or source)
    paid_on = payment.paid_on
    detail = (
        f"Pagamento de {brl(payment.amount_cents)} ({how}) em "
        f"{paid_on.day:02d}/{paid_on.month:02d}/{paid_on.year}, título {number}: "
    )
    if outcome.settled:
        detail += "quitado"
    elif outcome.applied_cents == 0:
        detail += "já estava quitado"
    else:
        detail += f"restam {brl(outcome.balance_cents or 0)} em aberto"
    if outcome.fees_cents:
        detail += f"; multa e juros pagos: {brl(outcome.fees_cents)}"
    if outcome.credit_cents:
        detail += f"; crédito de {brl(outcome.credit_cents)} para o cliente"
    return detail


# --------------------------------------------------------------------------- after settlement


def cancel_pending_actions(conn: Connection, invoice_ids: Sequence[int]) -> int:
    """Cancel planned collection actions about `invoice_ids` that no longer cover anything open.

    The same rule as `planning.cancel_settled_actions`, which sweeps the whole creditor before
    planning; here only the actions of the invoices just settled are looked at, so a webhook
    costs a few index lookups. An action that also covers another invoice still open stays: it
    goes on for that one.
    """
    still_open = exists().where(
        action_invoices.c.action_id == actions.c.id,
        action_invoices.c.invoice_id == invoices.c.id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
    )
    cancelled = 0
    for batch in chunks(sorted(invoice_ids), BATCH):
        # Ids first, then the update by key: with a subquery SQLite walks every planned
        # action of every day (the status index) for each batch.
        about = sorted(
            set(
                conn.execute(
                    select(action_invoices.c.action_id).where(
                        _one_of(conn, action_invoices.c.invoice_id, batch)
                    )
                ).scalars()
            )
        )
        if not about:
            continue
        outcome = conn.execute(
            update(actions)
            .where(
                _one_of(conn, actions.c.id, about, sized=True),
                actions.c.purpose == "collection",
                actions.c.status == "planned",
                ~still_open,
            )
            .values(status="cancelled", reason=CANCEL_REASON)
        )
        cancelled += int(outcome.rowcount or 0)
    return cancelled


_STAGED_THANK_YOU = (
    ("customer_id", INT),
    ("policy_name", TEXT),
    ("policy_version", TEXT),
    ("segment", TEXT),
    ("channel", TEXT),
    ("contact_value", TEXT),
    ("template", TEXT),
    ("status", TEXT),
    ("reason", TEXT),
    ("evidence", JSON_TEXT),
    ("cost_cents", INT),
)
_STAGED_LINK = (("customer_id", INT), ("invoice_id", INT))


def plan_thank_you(
    conn: Connection,
    creditor_id: int,
    settled: dict[int, int],
    day: date,
    now: datetime,
) -> int:
    """One thank-you action per customer for `settled` (invoice id -> customer id) on `day`.

    The customer's policy (`select_policy`) names the template and the channels; the first
    reachable channel is used (`choose_channel`). No reachable channel: the action is stored as
    skipped with why, as the planner does. Unique per (customer, day, purpose): a second
    settlement the same day adds its invoice to the same thank-you. Returns how many actions
    were created.
    """
    if not settled:
        return 0
    by_customer: dict[int, list[int]] = defaultdict(list)
    for invoice_id, customer_id in sorted(settled.items()):
        by_customer[customer_id].append(invoice_id)
    active = _active_policies(conn, creditor_id, now)
    chosen: dict[tuple[str, str], Policy] = {}  # (segment, tags) -> policy: a handful of pairs
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for batch in chunks(sorted(by_customer), BATCH):
        people = conn.execute(
            select(customers.c.id, customers.c.segment, customers.c.tags).where(
                _one_of(conn, customers.c.id, batch), customers.c.anonymised_at.is_(None)
            )
        ).all()
        points: dict[int, dict[str, list[ContactPoint]]] = {}
        for customer_id, channel, value, opted_out, invalid in conn.execute(
            select(
                contacts.c.customer_id,
                contacts.c.channel,
                contacts.c.value,
                # Whether, not when: no instant to convert for each of the contacts.
                contacts.c.opted_out_at.is_not(None),
                contacts.c.invalid_at.is_not(None),
            )
            .where(_one_of(conn, contacts.c.customer_id, batch))
            .order_by(contacts.c.customer_id, contacts.c.id)
        ).all():
            points.setdefault(customer_id, {}).setdefault(channel, []).append(
                ContactPoint(value, bool(opted_out), bool(invalid))
            )
        for customer_id, segment, tags in people:
            segment = segment or "novo"
            policy = chosen.get((segment, tags or ""))
            if policy is None:
                policy = select_policy(active, segment, [t for t in (tags or "").split(",") if t])
                chosen[(segment, tags or "")] = policy
            if policy.thank_you is None:
                continue
            reach = {ch: tuple(pts) for ch, pts in points.get(customer_id, {}).items()}
            invoice_ids = by_customer[customer_id]
            rows.append(_thank_you_row(customer_id, policy, segment, reach, invoice_ids))
            links.extend((customer_id, invoice_id) for invoice_id in invoice_ids)
    if not rows:
        return 0
    with staged(conn, "thank_you", _STAGED_THANK_YOU, rows) as stage:
        s = stage.c
        created = conn.execute(
            _on_conflict_do_nothing(
                conn,
                actions,
                [
                    "creditor_id",
                    "customer_id",
                    "purpose",
                    "planned_for",
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
                    "created_at",
                ],
                select(
                    literal(creditor_id, actions.c.creditor_id.type),
                    s.customer_id,
                    literal("thank_you", actions.c.purpose.type),
                    literal(day, actions.c.planned_for.type),
                    s.policy_name,
                    s.policy_version,
                    literal(THANK_YOU_STEP, actions.c.step_id.type),
                    literal(0, actions.c.step_offset.type),
                    s.segment,
                    s.channel,
                    s.contact_value,
                    s.template,
                    s.status,
                    s.reason,
                    s.evidence,
                    s.cost_cents,
                    literal(now, actions.c.created_at.type),
                )
                .where(true())  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
                .order_by(s.customer_id),
                ("customer_id", "planned_for", "purpose"),
            ),
            execution_options={"preserve_rowcount": True},
        ).rowcount
    # A thank-you already planned today for the customer also thanks for these invoices; one
    # already sent is not edited.
    with staged(conn, "thank_you_links", _STAGED_LINK, links) as stage:
        conn.execute(
            _on_conflict_do_nothing(
                conn,
                action_invoices,
                ["action_id", "invoice_id", "step_id"],
                select(
                    actions.c.id,
                    stage.c.invoice_id,
                    literal(THANK_YOU_STEP, action_invoices.c.step_id.type),
                )
                .select_from(stage)
                .join(
                    actions,
                    and_(
                        actions.c.customer_id == stage.c.customer_id,
                        actions.c.planned_for == literal(day, actions.c.planned_for.type),
                        actions.c.purpose == "thank_you",
                        actions.c.status.in_(("planned", "skipped")),
                    ),
                )
                .where(true()),
                ("action_id", "invoice_id"),
            )
        )
    return int(created or 0)


def _on_conflict_do_nothing(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    query: Select[Any],
    conflict_columns: Sequence[str],
) -> Any:
    """``INSERT INTO table (names) <query> ON CONFLICT (conflict_columns) DO NOTHING``."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(table)
        .from_select(list(names), query)
        .on_conflict_do_nothing(index_elements=list(conflict_columns))
    )


def _active_policies(conn: Connection, creditor_id: int, now: datetime) -> list[Policy]:
    """`policies.active_policies`, with each stored text parsed once per process.

    Parsing and checking a policy costs ~7 ms; a webhook that settles one invoice would spend
    most of its time on it. The text is the key, so a new version is parsed when it appears.
    """
    rows = conn.execute(
        select(policies.c.name, policies.c.source)
        .where(policies.c.creditor_id == creditor_id, policies.c.active.is_(True))
        .order_by(policies.c.name)
    ).all()
    if not rows:
        return active_policies(conn, creditor_id, now)  # installs the packaged defaults
    return [_parsed_policy(source, f"{name}.yaml") for name, source in rows]


@lru_cache(maxsize=64)
def _parsed_policy(text: str, source: str) -> Policy:
    return load_policy_text(text, source)


def _thank_you_row(
    customer_id: int,
    policy: Policy,
    segment: str,
    reach: dict[str, tuple[ContactPoint, ...]],
    invoice_ids: list[int],
) -> tuple[Any, ...]:
    """A staged thank-you action (see `_STAGED_THANK_YOU`)."""
    assert policy.thank_you is not None
    channel, value, tried = choose_channel(policy.thank_you.channels, reach)
    return (
        customer_id,
        policy.name,
        policy.version,
        segment,
        channel,
        value,
        policy.thank_you.template,
        "planned" if channel else "skipped",
        None
        if channel
        else "sem canal disponível: " + "; ".join(f"{c}: {why}" for c, why in tried.items()),
        json.dumps({"motivo": "título pago", "invoices": invoice_ids, "channels": tried}),
        int(policy.channel_prices_cents.get(channel, 0)) if channel else 0,
    )


# --------------------------------------------------------------------------- reversals


def _reverse(
    conn: Connection,
    creditor_id: int,
    source: str,
    reversals: Sequence[IncomingReversal],
    now: datetime,
    result: Reconciliation,
) -> None:
    """Undo the payments the bank reversed; see the module docstring."""
    known = _known_payments(conn, creditor_id, source, [r.external_id for r in reversals])
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
        balance = invoice.balance_cents + principal
        reopened = invoice.status == "paid" and balance > 0
        invoice = replace(
            invoice,
            balance_cents=balance,
            status="open" if reopened else invoice.status,
            settled_on=None if reopened else invoice.settled_on,
        )
        state[invoice.id] = invoice  # a second reversal of the same invoice starts from here
        if reopened:
            result.reopened_invoice_ids.append(invoice.id)
        conn.execute(
            update(payments)
            .where(payments.c.id == original.id)
            .values(status="reversed", note=f"estornado: {reversal.reason}")
        )
        conn.execute(
            payments.insert().values(
                creditor_id=creditor_id,
                external_id=reversal.external_id,
                source=source,
                invoice_id=original.invoice_id,
                customer_id=original.customer_id,
                amount_cents=-original.amount_cents,
                applied_cents=-original.applied_cents,
                fees_cents=-original.fees_cents,
                credit_cents=-original.credit_cents,
                paid_on=reversal.reversed_on,
                method=original.method,
                reference=original.reference,
                status="reversal",
                note=f"estorno de {original.external_id}",
                received_at=now,
            )
        )
        conn.execute(
            update(invoices)
            .where(invoices.c.id == invoice.id)
            .values(
                balance_cents=invoice.balance_cents,
                status=invoice.status,
                settled_on=invoice.settled_on,
                updated_at=now,
            )
        )
        conn.execute(
            interactions.insert().values(
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                at=now,
                kind="payment_reversed",
                detail=(
                    f"Pagamento de {brl(original.amount_cents)} de "
                    f"{original.paid_on:%d/%m/%Y} estornado pelo banco ({reversal.reason}): "
                    + (
                        f"título reaberto, {brl(invoice.balance_cents)} em aberto"
                        if reopened
                        else f"{brl(invoice.balance_cents)} em aberto"
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
        _cancel_thank_you(conn, result.reopened_invoice_ids)


def _cancel_thank_you(conn: Connection, invoice_ids: Sequence[int]) -> None:
    """A thank-you not yet sent for invoices that are open again would thank for nothing."""
    still_paid = exists().where(
        action_invoices.c.action_id == actions.c.id,
        action_invoices.c.invoice_id == invoices.c.id,
        invoices.c.status == "paid",
    )
    about = select(action_invoices.c.action_id).where(action_invoices.c.invoice_id.in_(invoice_ids))
    conn.execute(
        update(actions)
        .where(
            actions.c.id.in_(about),
            actions.c.purpose == "thank_you",
            actions.c.status == "planned",
            ~still_paid,
        )
        .values(status="cancelled", reason=THANK_YOU_CANCEL_REASON)
    )


# --------------------------------------------------------------------------- CNAB return files


@dataclass(frozen=True)
class UnmatchedLine:
    """A line of a return file that regua could not tie to an invoice (or to a payment)."""

    line: int
    occurrence: str
    occurrence_text: str
    kind: str
    nosso_numero: str
    seu_numero: str
    amount_cents: Cents
    reason: str  # pt-BR


@dataclass
class CnabImportResult:
    file: str
    layout: str
    bank_code: str
    records: int = 0
    settlements: int = 0  # settlement lines in the file
    applied: int = 0  # new payments applied to an invoice
    settled: int = 0  # invoices paid off by this file
    partial: int = 0  # invoices that still have something open after a payment
    amount_cents: Cents = 0  # money in the new payments (matched or not)
    credit_cents: Cents = 0  # overpayments kept as the customers' credit
    duplicates: int = 0  # settlement lines already imported before
    unmatched_cents: Cents = 0
    reversals: int = 0
    occurrences: Counter[str] = field(default_factory=Counter)  # kind -> recorded on invoices
    cancelled_actions: int = 0
    thank_you_actions: int = 0
    unmatched: list[UnmatchedLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["occurrences"] = dict(self.occurrences)
        return data


def import_return_file(
    engine: Engine,
    path: Path,
    creditor_id: int,
    now: datetime,
    *,
    day: date | None = None,
) -> CnabImportResult:
    """Import a CNAB 240/400 return file in one transaction.

    A line that cannot be read refuses the whole file (`CnabError` naming the line) before
    anything is written. Settlements become payments matched by nosso número, then seu número,
    then the company's own reference; other occurrences go to the invoice's timeline.
    """
    parsed = parse_return(path.read_bytes(), filename=path.name)
    with engine.begin() as conn:
        return import_return(conn, parsed, path.name, creditor_id, now, day=day)


def import_return(
    conn: Connection,
    parsed: ReturnFile,
    filename: str,
    creditor_id: int,
    now: datetime,
    *,
    day: date | None = None,
) -> CnabImportResult:
    """`import_return_file` on a file already parsed, in the caller's transaction."""
    result = CnabImportResult(filename, parsed.layout, parsed.bank_code, len(parsed.records))
    records = parsed.records
    matches = match_titles(conn, creditor_id, records)
    incoming: list[IncomingPayment] = []
    reversals: list[IncomingReversal] = []
    notes: list[tuple[ReturnRecord, int]] = []
    paid_lines: list[ReturnRecord] = []  # the record of each incoming payment, in order
    reversal_lines: dict[str, ReturnRecord] = {}
    for record, invoice_id in zip(records, matches, strict=True):
        if record.kind == "settlement":
            result.settlements += 1
            payment = _cnab_payment(parsed, filename, record, invoice_id)
            incoming.append(payment)
            paid_lines.append(record)
        elif invoice_id is None:
            result.unmatched.append(_unmatched(record, NOT_FOUND))
        elif record.kind == "reversal":
            key = _cnab_key(parsed.bank_code, record)
            reversals.append(
                IncomingReversal(
                    external_id=key,
                    invoice_id=invoice_id,
                    amount_cents=record.paid_cents,
                    reversed_on=record.paid_on or record.credited_on or now.date(),
                    reason=f"ocorrência {record.occurrence}: {record.occurrence_text}",
                )
            )
            reversal_lines[key] = record
        else:
            notes.append((record, invoice_id))

    outcome = reconcile(
        conn, creditor_id, incoming, source="cnab", now=now, reversals=reversals, day=day
    )
    for done, record in zip(outcome.payments, paid_lines, strict=True):
        if done.status == "duplicate":
            result.duplicates += 1
            if done.invoice_id is None:  # stored before and still without an invoice
                result.unmatched.append(_unmatched(record, NOT_FOUND))
            continue
        result.amount_cents += done.amount_cents
        if done.status == "unmatched":
            result.unmatched_cents += done.amount_cents
            result.unmatched.append(_unmatched(record, NOT_FOUND))
            continue
        result.applied += 1
        result.credit_cents += done.credit_cents
        if done.settled:
            result.settled += 1
        elif done.balance_cents:
            result.partial += 1
    for reversal in outcome.reversals:
        if reversal.status == "reversed":
            result.reversals += 1
        elif reversal.status == "nothing_to_reverse":
            result.unmatched.append(
                _unmatched(reversal_lines[reversal.external_id], NOTHING_TO_REVERSE)
            )
    result.cancelled_actions = outcome.cancelled_actions
    result.thank_you_actions = outcome.thank_you_actions
    result.occurrences = _record_occurrences(conn, parsed.bank_code, notes, now)
    result.unmatched.sort(key=lambda u: u.line)
    return result


def _cnab_key(bank_code: str, record: ReturnRecord) -> str:
    """Stable id of one occurrence of one título: the same line in another import is the same."""
    ref = record.nosso_numero or record.seu_numero or record.company_ref or f"linha{record.line}"
    when = record.paid_on or record.credited_on
    return f"cnab:{bank_code}:{ref}:{record.occurrence}:{when.isoformat() if when else '-'}"


def _cnab_payment(
    parsed: ReturnFile, filename: str, record: ReturnRecord, invoice_id: int | None
) -> IncomingPayment:
    # The data da ocorrência is the payment date; a bank that leaves it blank still credits.
    paid_on = record.paid_on or record.credited_on or parsed.generated_on
    assert paid_on is not None, "a settlement line always carries a date"
    return IncomingPayment(
        external_id=_cnab_key(parsed.bank_code, record),
        amount_cents=record.paid_cents,
        paid_on=paid_on,
        invoice_id=invoice_id,
        reference=record.nosso_numero or record.seu_numero or record.company_ref or None,
        method="boleto",
        note=None if invoice_id else f"{filename}, linha {record.line}",
    )


def _unmatched(record: ReturnRecord, reason: str) -> UnmatchedLine:
    return UnmatchedLine(
        line=record.line,
        occurrence=record.occurrence,
        occurrence_text=record.occurrence_text,
        kind=record.kind,
        nosso_numero=record.nosso_numero,
        seu_numero=record.seu_numero,
        amount_cents=record.paid_cents,
        reason=reason,
    )


_NOT_DIGITS = re.compile(r"\D")


def normalise_nosso_numero(value: str) -> str:
    """Digits without leading zeros: ``000123-4`` and ``1234`` are the same nosso número."""
    if value.isascii() and value.isdigit():
        return value.lstrip("0")
    return _NOT_DIGITS.sub("", value).lstrip("0")


def _normalised_column(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # The separators people type in a nosso número, then the leading zeros; both databases
    # spell replace() and ltrim(text, characters) the same way.
    for separator in ("-", ".", "/", " "):
        column = func.replace(column, separator, "")
    return func.ltrim(column, "0", type_=String())


def match_titles(
    conn: Connection, creditor_id: int, records: Sequence[ReturnRecord]
) -> list[int | None]:
    """The invoice of each record: by nosso número, then seu número, then the company's ref.

    Set-based: one indexed IN query per batch and per key. The nosso número is compared as
    digits without leading zeros; a stored form that is not found by its exact text (typed with
    a dash, or with zeros the bank left out) is looked for once more with the column normalised.
    """
    found: list[int | None] = [None] * len(records)
    by_nosso: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        key = normalise_nosso_numero(record.nosso_numero)
        if key:
            by_nosso[key].append(index)
    if by_nosso:
        texts = {r.nosso_numero for r in records if r.nosso_numero} | set(by_nosso)
        candidates = _lookup(
            conn, creditor_id, invoices.c.nosso_numero, texts, key_of=normalise_nosso_numero
        )
        missing = set(by_nosso) - set(candidates)
        if missing:
            candidates.update(
                _lookup(
                    conn,
                    creditor_id,
                    _normalised_column(invoices.c.nosso_numero),
                    missing,
                    key_column=invoices.c.nosso_numero,
                    key_of=normalise_nosso_numero,
                    creditor_in_sql=True,
                )
            )
        for key, indexes in by_nosso.items():
            for index in indexes:
                found[index] = candidates.get(key)
    for attribute, columns in (
        ("seu_numero", (invoices.c.number, invoices.c.external_id)),
        ("company_ref", (invoices.c.external_id,)),
    ):
        wanted: dict[int, tuple[str, str]] = {}
        for index, record in enumerate(records):
            value = getattr(record, attribute).strip()
            if found[index] is None and value:
                wanted[index] = (value, value.lstrip("0") or value)
        for column in columns:
            if not wanted:
                break
            candidates = _lookup(
                conn,
                creditor_id,
                column,
                {text for pair in wanted.values() for text in pair},
                creditor_in_sql=True,
            )
            for index, (value, stripped) in list(wanted.items()):
                match = candidates.get(value) or candidates.get(stripped)
                if match is not None:
                    found[index] = match
                    del wanted[index]
    return found


def _same(value: str) -> str:
    return value


def _lookup(
    conn: Connection,
    creditor_id: int,
    column: ColumnElement[Any],
    values: Iterable[str],
    *,
    key_column: ColumnElement[Any] | None = None,
    key_of: Callable[[str], str] = _same,
    creditor_in_sql: bool = False,
) -> dict[str, int]:
    """key_of(stored) -> invoice id for the creditor's invoices whose `column` is in `values`.

    Open invoices win over settled ones, then the oldest. With ``creditor_in_sql`` False the
    creditor is checked in Python: on an indexed column (nosso número, txid) SQLite, without
    table statistics, would otherwise walk the (creditor_id, external_id) index and read every
    invoice of the creditor for each batch.
    """
    key_column = column if key_column is None else key_column
    best: dict[str, tuple[bool, int]] = {}
    for batch in chunks(sorted(set(values)), BATCH):
        condition = _one_of(conn, column, batch)
        if creditor_in_sql:
            condition = and_(condition, invoices.c.creditor_id == creditor_id)
        for stored, invoice_id, owner, status in conn.execute(
            select(key_column, invoices.c.id, invoices.c.creditor_id, invoices.c.status).where(
                condition
            )
        ).all():
            if owner != creditor_id or stored is None:
                continue
            key = key_of(stored)
            rank = (status not in PAYABLE, invoice_id)
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[1] for key, rank in best.items()}


def _record_occurrences(
    conn: Connection,
    bank_code: str,
    notes: Sequence[tuple[ReturnRecord, int]],
    now: datetime,
) -> Counter[str]:
    """Entry confirmed, rejected, written off, protest...: a "bank" line on the invoice's timeline.

    The text names the occurrence and its date, so the same line imported again is recognised
    by (invoice, text) and not written twice.
    """
    counts: Counter[str] = Counter()
    if not notes:
        return counts
    owners = dict(
        (invoice_id, customer_id)
        for batch in chunks(sorted({invoice_id for _r, invoice_id in notes}), BATCH)
        for invoice_id, customer_id in conn.execute(
            select(invoices.c.id, invoices.c.customer_id).where(_one_of(conn, invoices.c.id, batch))
        )
    )
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for record, invoice_id in notes:
        when = record.paid_on or record.credited_on
        detail = f"Banco {bank_code}, ocorrência {record.occurrence}: {record.occurrence_text}"
        if when:
            detail += f" em {when:%d/%m/%Y}"
        if record.reasons:
            detail += f" (motivos: {', '.join(record.reasons)})"
        rows.setdefault(
            (invoice_id, detail),
            {
                "customer_id": owners[invoice_id],
                "invoice_id": invoice_id,
                "at": now,
                "kind": "bank",
                "channel": None,
                "detail": detail,
                "data": {
                    "bank": bank_code,
                    "occurrence": record.occurrence,
                    "kind": record.kind,
                    "nosso_numero": record.nosso_numero,
                    "reasons": list(record.reasons),
                },
            },
        )
    existing: set[tuple[int, str]] = set()
    for batch in chunks(sorted(owners), BATCH):
        existing.update(
            (invoice_id, detail)
            for invoice_id, detail in conn.execute(
                select(interactions.c.invoice_id, interactions.c.detail).where(
                    _one_of(conn, interactions.c.invoice_id, batch), interactions.c.kind == "bank"
                )
            )
        )
    todo = [row for key, row in rows.items() if key not in existing]
    for batch in chunks(todo, BATCH):
        conn.execute(interactions.insert(), list(batch))
    counts.update(row["data"]["kind"] for row in todo)
    return counts


# --------------------------------------------------------------------------- PIX


@dataclass(frozen=True)
class PixOutcome:
    end_to_end_id: str
    txid: str | None
    status: Literal["applied", "unmatched", "duplicate", "refunded"]
    amount_cents: Cents
    invoice_external_id: str | None = None
    invoice_number: str | None = None
    applied_cents: Cents = 0
    fees_cents: Cents = 0
    credit_cents: Cents = 0
    balance_cents: Cents | None = None
    invoice_status: str | None = None


@dataclass
class PixResult:
    items: list[PixOutcome]
    cancelled_actions: int = 0
    thank_you_actions: int = 0

    def with_status(self, status: str) -> list[PixOutcome]:
        return [item for item in self.items if item.status == status]


def receive_pix(
    engine: Engine, creditor_id: int, received: Sequence[PixReceived], *, now: datetime
) -> PixResult:
    """Apply the Pix of one webhook call in one transaction, matched by txid.

    Idempotent by endToEndId (source "pix"). A Pix whose txid matches no invoice is stored as
    unmatched money: the PSP gets a success answer and does not retry forever. The payment
    date is the instant of the Pix in the creditor's time zone.
    """
    with engine.begin() as conn:
        return _receive_pix(conn, creditor_id, received, now)


def _receive_pix(
    conn: Connection, creditor_id: int, received: Sequence[PixReceived], now: datetime
) -> PixResult:
    zone = ZoneInfo(_creditor_timezone(conn, creditor_id))
    txids = sorted({item.txid for item in received if item.txid})
    by_txid: dict[str, int] = {}
    if txids:
        by_txid = _lookup(conn, creditor_id, invoices.c.pix_txid, txids)
    refunded: dict[str, PixReceived] = {}
    incoming = []
    for item in received:
        net = item.amount_cents - item.refunded_cents
        if net <= 0:  # given back whole (devolução): no money stayed
            refunded[item.end_to_end_id] = item
            continue
        incoming.append(
            IncomingPayment(
                external_id=item.end_to_end_id,
                amount_cents=net,
                paid_on=item.paid_at.astimezone(zone).date(),
                invoice_id=by_txid.get(item.txid) if item.txid else None,
                reference=item.txid,
                method="pix",
                note=(item.payer_info or "")[:400] or None,
            )
        )
    outcome = reconcile(conn, creditor_id, incoming, source="pix", now=now)
    numbers = {
        row.id: row
        for row in conn.execute(
            select(invoices.c.id, invoices.c.external_id, invoices.c.number).where(
                invoices.c.id.in_(sorted({p.invoice_id for p in outcome.payments if p.invoice_id}))
            )
        )
    }
    by_e2e = {p.external_id: p for p in outcome.payments}
    items = []
    for item in received:
        if item.end_to_end_id in refunded:
            items.append(PixOutcome(item.end_to_end_id, item.txid, "refunded", 0))
            continue
        payment = by_e2e[item.end_to_end_id]
        invoice = numbers.get(payment.invoice_id) if payment.invoice_id else None
        items.append(
            PixOutcome(
                end_to_end_id=item.end_to_end_id,
                txid=item.txid,
                status=payment.status,
                amount_cents=payment.amount_cents,
                invoice_external_id=invoice.external_id if invoice else None,
                invoice_number=invoice.number if invoice else None,
                applied_cents=payment.applied_cents,
                fees_cents=payment.fees_cents,
                credit_cents=payment.credit_cents,
                balance_cents=payment.balance_cents,
                invoice_status=payment.invoice_status,
            )
        )
    return PixResult(items, outcome.cancelled_actions, outcome.thank_you_actions)


def _creditor_timezone(conn: Connection, creditor_id: int) -> str:
    zone = conn.execute(
        select(creditors.c.timezone).where(creditors.c.id == creditor_id)
    ).scalar_one_or_none()
    if zone is None:
        raise NotFound(f"credor {creditor_id} não existe: rode `regua init` primeiro")
    return str(zone)
