"""Invoices as the planner reads them: the day's candidates, and lookups by the ERP's id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, case, exists, or_, select

from regua.domain.planning import OpenInvoice
from regua.store.bulk import chunks
from regua.store.sql import day_of, one_of, plain_rows, unindexed
from regua.store.tables import invoice_steps, invoices, promises


class Candidates(NamedTuple):
    """What the planner reads of the invoices on a day (`plan_candidates`)."""

    invoices: list[OpenInvoice]  # open, nothing holding them back
    stopped: list[int]  # written since the last run, held back today (paused, promised)
    closed: list[int]  # in the planner's range (`invoice_steps`) but no longer open


def paused_on(flag: Any, until: Any, day: date) -> Any:
    """Whether a pause (`flag`, `until` columns) holds on `day`."""
    # A pause without an end date holds until `regua resume`; with one, it ends after that day.
    return and_(flag.is_(True), or_(until.is_(None), until >= day))


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
    return or_(paused_on(invoices.c.paused, invoices.c.paused_until, day), promised)


def _open(creditor_id: int) -> list[Any]:
    return [
        invoices.c.creditor_id == creditor_id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
    ]


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
    return Candidates(candidates, stopped, closed)


def _due(value: date | str) -> date:
    due = day_of(value)  # a plain row's date: ISO text on SQLite
    assert due is not None  # a due date is never NULL
    return due


def ids_by_external(
    connection: Connection, creditor_id: int, external_ids: Sequence[str]
) -> dict[str, int]:
    """The ERP's invoice id -> regua's, for those of `external_ids` the creditor has."""
    return {
        external: invoice_id
        for external, invoice_id in connection.execute(
            select(invoices.c.external_id, invoices.c.id).where(
                invoices.c.creditor_id == creditor_id,
                invoices.c.external_id.in_(list(external_ids)),
            )
        )
    }


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
