"""Invoice queries: the planner's day of candidates; the one matcher of a payment's reference to
its invoice (`find_by_reference`), what applying a payment reads (`payment_facts`) and writes
(`write_balances`, `write_balance`); and the import's reads and writes by external id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, Row, String, and_, case, exists, func, or_, select, update
from sqlalchemy.sql.expression import ColumnElement

from regua.domain.fees import FeeState
from regua.domain.money import Cents
from regua.domain.planning import OpenInvoice
from regua.domain.settlement import PAYABLE, InvoiceFacts
from regua.store.bulk import chunks, note_rows_written, update_by_id
from regua.store.external_ids import stored_ids, stored_rows
from regua.store.sql import day_of, one_of, plain_rows, unindexed
from regua.store.staging import DATE, INSTANT, INT, TEXT, update_tuples
from regua.store.tables import invoice_steps, invoices, pix_txid_invoices, promises

BATCH = 5_000

# What a payer can name an invoice by.
ReferenceField = Literal["external_id", "number", "nosso_numero", "pix_txid"]
_REFERENCE_COLUMNS: dict[str, ColumnElement[Any]] = {
    "external_id": invoices.c.external_id,
    "number": invoices.c.number,
    "nosso_numero": invoices.c.nosso_numero,
    "pix_txid": invoices.c.pix_txid,
}
# Columns with an index of their own. Their creditor is checked in Python, not in SQL: given
# both, SQLite, without table statistics, walks the (creditor_id, external_id) index and reads
# every invoice of the creditor for each batch instead of the few the index finds.
_OWN_INDEX = ("nosso_numero", "pix_txid")


def _same(value: str) -> str:
    return value


def _digits(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column without the separators people type in a nosso número, nor leading zeros.

    Both databases spell replace() and ltrim(text, characters) the same way.
    """
    for separator in ("-", ".", "/", " "):
        column = func.replace(column, separator, "")
    return func.ltrim(column, "0", type_=String())


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
        invoices.c.early_discount_cents,
        invoices.c.early_discount_until,
        invoices.c.fees_paid_through,
        invoices.c.fees_unpaid_cents,
    )


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
        row[at + 7],
        day_of(row[at + 8]),
        FeeState(day_of(row[at + 9]), row[at + 10] or 0),
    )


def offer_early_discounts(conn: Connection, offers: Sequence[tuple[int, int, date]]) -> None:
    """(invoice id, discount, last day) of the early-payment discounts preventive reminders
    offer; a payment applies them (`domain.settlement.early_discount`)."""
    # A first run plans a reminder for every invoice due soon: one statement for them all.
    update_by_id(
        conn,
        invoices,
        [
            {"id": invoice_id, "early_discount_cents": discount, "early_discount_until": until}
            for invoice_id, discount, until in offers
        ],
        ["early_discount_cents", "early_discount_until"],
    )


def record_discounts(conn: Connection, granted: Mapping[int, int]) -> None:
    """The early-payment discount each invoice was settled with."""
    for invoice_id, discount in granted.items():
        conn.execute(
            update(invoices).where(invoices.c.id == invoice_id).values(discount_cents=discount)
        )


def granted_discount(conn: Connection, invoice_id: int) -> Cents:
    """The early-payment discount `invoice_id` was settled with (0 when none)."""
    found = conn.execute(
        select(invoices.c.discount_cents).where(invoices.c.id == invoice_id)
    ).scalar_one_or_none()
    return int(found or 0)


def clear_granted_discount(conn: Connection, invoice_id: int) -> None:
    """Forget the discount of a settlement whose payment came back."""
    conn.execute(update(invoices).where(invoices.c.id == invoice_id).values(discount_cents=None))


def find_by_reference(
    conn: Connection,
    creditor_id: int,
    field: ReferenceField,
    references: Iterable[str],
    *,
    key_of: Callable[[str], str] = _same,
    as_digits: bool = False,
    facts: dict[int, InvoiceFacts] | None = None,
) -> dict[str, int]:
    """key_of(stored `field`) -> id of the creditor's invoice named by one of `references`.

    When a reference names several invoices, an open one (a payable status) wins over a settled
    one, then the one due first, then the first written. With `as_digits` the stored values are
    compared without separators and leading zeros (a nosso número typed ``12345-6``); give the
    references in that form. Given `facts`, the same query also fills it with what applying a
    payment needs to know about each invoice found (`payment_facts`).
    """
    stored = _REFERENCE_COLUMNS[field]
    column = _digits(stored) if as_digits else stored
    creditor_in_sql = as_digits or field not in _OWN_INDEX
    best: dict[str, tuple[bool, Any, int]] = {}
    wanted = (stored, invoices.c.creditor_id)
    read = wanted + (
        _facts_columns()
        if facts is not None
        else (invoices.c.id, invoices.c.status, invoices.c.due_date)
    )
    for batch in chunks(sorted(set(references)), BATCH):
        condition = one_of(conn, column, batch)
        if creditor_in_sql:
            condition = and_(condition, invoices.c.creditor_id == creditor_id)
        for row in plain_rows(conn, select(*read).where(condition)):
            value, owner, invoice_id = row[0], row[1], row[2]
            if owner != creditor_id or value is None:
                continue
            if facts is not None:
                status, due = row[7], row[5]
                facts[invoice_id] = _facts(row, 2)
            else:
                status, due = row[3], row[4]
            key = key_of(value)
            # The due date as the driver gives it: a date, or ISO text on SQLite; both sort by day.
            rank = (status not in PAYABLE, due, invoice_id)
            if key not in best or rank < best[key]:
                best[key] = rank
    return {key: rank[2] for key, rank in best.items()}


def all_by_reference(
    conn: Connection, creditor_id: int, field: ReferenceField, references: Iterable[str]
) -> dict[str, list[int]]:
    """Stored `field` -> ids of every creditor's invoice it names, oldest written first: a Pix
    code shown for several invoices names them all (`find_by_reference` picks one). A txid is
    also looked for among the codes shown for several invoices (`pix_txid_invoices`), which
    name invoices that kept a txid of their own."""
    stored = _REFERENCE_COLUMNS[field]
    found: dict[str, set[int]] = {}
    for batch in chunks(sorted(set(references)), BATCH):
        queries = [
            select(stored, invoices.c.id).where(
                one_of(conn, stored, batch), invoices.c.creditor_id == creditor_id
            )
        ]
        if field == "pix_txid":
            queries.append(
                select(pix_txid_invoices.c.txid, invoices.c.id)
                .join(invoices, invoices.c.id == pix_txid_invoices.c.invoice_id)
                .where(
                    one_of(conn, pix_txid_invoices.c.txid, batch),
                    invoices.c.creditor_id == creditor_id,
                )
            )
        for query in queries:
            for value, invoice_id in plain_rows(conn, query):
                found.setdefault(value, set()).add(invoice_id)
    return {value: sorted(ids) for value, ids in found.items()}


def payment_facts(
    conn: Connection, creditor_id: int, invoice_ids: Iterable[int]
) -> dict[int, InvoiceFacts]:
    """Invoice id -> what applying a payment needs, for the creditor's invoices among the ids."""
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


_BALANCE_KEY = ("id", INT)
_BALANCE_CHANGES = (
    ("balance_cents", INT),
    ("status", TEXT),
    ("settled_on", DATE),
    ("fees_paid_through", DATE),
    ("fees_unpaid_cents", INT),
    ("updated_at", INSTANT),
)


def write_balances(
    conn: Connection,
    changes: Sequence[tuple[int, int, str, date | None, FeeState]],
    updated_at: Any,
) -> None:
    """(id, balance, status, settled_on, fee state) of many invoices, in one set-based statement.

    `updated_at` in the driver's form (`staging.driver_value`). Give the rows in id order: the
    table's pages are then visited once each, not at random.
    """
    update_tuples(
        conn,
        invoices,
        _BALANCE_KEY,
        _BALANCE_CHANGES,
        [
            (
                invoice_id,
                balance,
                status,
                None if day is None else day.isoformat(),
                None if fees.paid_through is None else fees.paid_through.isoformat(),
                fees.unpaid_cents,
                updated_at,
            )
            for invoice_id, balance, status, day, fees in changes
        ],
    )


def fee_states(conn: Connection, invoice_ids: Iterable[int]) -> dict[int, FeeState]:
    """Invoice id -> what late payments settled of its fees, for those that settled any."""
    found: dict[int, FeeState] = {}
    for batch in chunks(sorted(set(invoice_ids)), BATCH):
        for invoice_id, through, unpaid in plain_rows(
            conn,
            select(invoices.c.id, invoices.c.fees_paid_through, invoices.c.fees_unpaid_cents).where(
                one_of(conn, invoices.c.id, batch)
            ),
        ):
            if through is not None or unpaid:
                found[invoice_id] = FeeState(day_of(through), unpaid or 0)
    return found


def write_balance(conn: Connection, invoice: InvoiceFacts, now: datetime) -> None:
    """One invoice's balance, status and settlement day, as `invoice` has them."""
    conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice.id)
        .values(
            balance_cents=invoice.balance_cents,
            status=invoice.status,
            settled_on=invoice.settled_on,
            fees_paid_through=invoice.fee_state.paid_through,
            fees_unpaid_cents=invoice.fee_state.unpaid_cents,
            # a reversal that reopens a paid invoice puts it back in the régua at once: the
            # planner looks at every invoice written since its last run
            updated_at=now,
        )
    )


def names_of(conn: Connection, invoice_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Invoice id -> (external id, number), for what a payer or a PSP is shown."""
    return {
        row.id: (row.external_id, row.number)
        for row in conn.execute(
            select(invoices.c.id, invoices.c.external_id, invoices.c.number).where(
                invoices.c.id.in_(sorted(invoice_ids))
            )
        )
    }


def customers_of(conn: Connection, invoice_ids: Iterable[int]) -> dict[int, int]:
    """Invoice id -> customer id."""
    return dict(
        (invoice_id, customer_id)
        for batch in chunks(sorted(invoice_ids), BATCH)
        for invoice_id, customer_id in conn.execute(
            select(invoices.c.id, invoices.c.customer_id).where(one_of(conn, invoices.c.id, batch))
        )
    )


def count_settled_since(conn: Connection, creditor_id: int, since: date) -> int:
    """How many of the creditor's invoices became paid on or after `since`."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(invoices)
            .where(
                invoices.c.creditor_id == creditor_id,
                invoices.c.status == "paid",
                invoices.c.settled_on >= since,
            )
        ).scalar_one()
    )


def imported_invoices(
    conn: Connection, creditor_id: int, external_ids: Sequence[str], compared: Sequence[str]
) -> dict[str, Row[Any]]:
    """External id -> (id, external_id, balance_cents, *compared) of the invoices already stored."""
    columns = ("id", "external_id", "balance_cents", *compared)
    return stored_rows(conn, invoices, creditor_id, external_ids, columns)


def insert_invoices(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New invoices, given as dicts of their columns."""
    conn.execute(invoices.insert(), list(rows))
    note_rows_written(conn, invoices, len(rows))  # read again by the next batch's lookup


def update_invoices(
    conn: Connection, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """The named columns of invoices by id (``row["id"]``)."""
    update_by_id(conn, invoices, rows, columns)


class Candidates(NamedTuple):
    """What the planner reads of the invoices on a day (`plan_candidates`)."""

    invoices: list[OpenInvoice]  # open, nothing holding them back
    stopped: list[int]  # written since the last run, held back today (paused, promised)
    closed: list[int]  # in the planner's range (`invoice_steps`) but no longer open


def paused_on(flag: Any, until: Any, day: date | ColumnElement[date]) -> Any:
    """Whether a pause (`flag`, `until` columns) holds on `day`."""
    # A pause without an end date holds until `regua resume`; with one, it ends after that day.
    return and_(flag.is_(True), or_(until.is_(None), until >= day))


def _stopped(day: date | ColumnElement[date]) -> Any:
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
    return or_(paused_on(invoices.c.paused, invoices.c.paused_until, day), promised)


def still_to_collect() -> list[ColumnElement[bool]]:
    """The terms (for a WHERE) of an invoice still to collect: open, with a balance."""
    return [invoices.c.status == "open", invoices.c.balance_cents > 0]


def _open(creditor_id: int) -> list[Any]:
    return [invoices.c.creditor_id == creditor_id, *still_to_collect()]


def plan_candidates(
    connection: Connection, creditor_id: int, day: date, since: datetime | None
) -> Candidates:
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
        invoices.c.agreement_id,
    ).where(
        # by the index of the writes since the last run; on a first run, a plain scan
        unindexed(connection, invoices.c.creditor_id) == creditor_id,
        unindexed(connection, invoices.c.status) == "open",
        invoices.c.balance_cents > 0,
        *([invoices.c.updated_at >= since] if since else []),
    )
    candidates: list[OpenInvoice] = []
    stopped: list[int] = []
    for invoice_id, customer_id, due_date, balance, last_offset, held, agreement_id in plain_rows(
        connection, written
    ):
        if held:
            stopped.append(invoice_id)
        else:
            candidates.append(
                OpenInvoice(
                    invoice_id, customer_id, _due(due_date), balance, last_offset, agreement_id
                )
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
                invoices.c.agreement_id,
            )
            # the closed ones too, in the same pass, so they leave the planner's range; the
            # held back ones keep their day and are read again tomorrow
            .where(
                one_of(connection, invoices.c.id, list(last_offsets)),
                or_(invoices.c.status != "open", and_(*_open(creditor_id), ~_stopped(day))),
            )
        )
        for invoice_id, customer_id, due_date, balance, status, agreement_id in plain_rows(
            connection, remembered
        ):
            if status != "open":
                closed.append(invoice_id)
            else:
                last_offset = last_offsets[invoice_id]
                candidates.append(
                    OpenInvoice(
                        invoice_id,
                        customer_id,
                        _due(due_date),
                        balance,
                        last_offset,
                        agreement_id,
                    )
                )
    return Candidates(candidates, stopped, closed)


def _due(value: date | str) -> date:
    due = day_of(value)  # a plain row's date: ISO text on SQLite
    assert due is not None  # a due date is never NULL
    return due


def ids_by_external(
    connection: Connection, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """The ERP's invoice id -> regua's, for those of `external_ids` the creditor has."""
    return stored_ids(connection, invoices, creditor_id, external_ids)


def id_and_customer_by_external(
    connection: Connection, creditor_id: int, external_id: str
) -> tuple[int, int] | None:
    """(regua's id, customer id) of the creditor's invoice with the ERP's id `external_id`."""
    row = connection.execute(
        select(invoices.c.id, invoices.c.customer_id).where(
            invoices.c.creditor_id == creditor_id, invoices.c.external_id == external_id
        )
    ).first()
    return None if row is None else (row.id, row.customer_id)


def ids_by_number(
    connection: Connection, creditor_id: int, number: str
) -> list[tuple[int, int, str]]:
    """(regua's id, customer id, ERP id) of the creditor's invoices numbered `number`
    (the number printed on it, ``NF-9004``), in the order they were written."""
    rows = connection.execute(
        select(invoices.c.id, invoices.c.customer_id, invoices.c.external_id)
        .where(invoices.c.creditor_id == creditor_id, invoices.c.number == number)
        .order_by(invoices.c.id)
    ).all()
    return [(row.id, row.customer_id, row.external_id) for row in rows]


def numbers_of_customers(
    connection: Connection, creditor_id: int, customer_ids: Iterable[int], numbers: Iterable[str]
) -> list[tuple[int, str, str]]:
    """(customer id, number, ERP id) of the creditor's invoices of `customer_ids` numbered one
    of `numbers`: the same number billed twice under two ids is found by it."""
    wanted = set(numbers)
    found: list[tuple[int, str, str]] = []
    # By the customers' index: the number has none, and a customer has few invoices.
    for batch in chunks(sorted(set(customer_ids)), BATCH):
        for customer_id, number, external_id, owner in plain_rows(
            connection,
            select(
                invoices.c.customer_id,
                invoices.c.number,
                invoices.c.external_id,
                invoices.c.creditor_id,
            )
            .where(one_of(connection, invoices.c.customer_id, batch))
            # the first written is the one a later one with its number repeats
            .order_by(invoices.c.id),
        ):
            if owner == creditor_id and number in wanted:
                found.append((int(customer_id), number, external_id))
    return found
