"""A customer's timeline (the `interactions` table) as money writes it: payments, reversals,
refunds and the bank's other occurrences; and the one serializer of a payment entry's data."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from regua.store.bulk import chunks
from regua.store.sql import one_of
from regua.store.staging import insert_tuples
from regua.store.tables import interactions

BATCH = 5_000
# The columns of the plain tuples `insert_entries` takes, in this order; `at` in the driver's
# form (`staging.driver_value`) and `data` as JSON text.
ENTRY_COLUMNS = ("customer_id", "invoice_id", "at", "kind", "detail", "data")


class PaymentData:
    """The JSON kept with a payment's timeline text, for one source.

    Written out, not `json.dumps` of a dict per entry: for a return file that cost as much as
    the rest of the entry. The source is serialised once.
    """

    def __init__(self, source: str) -> None:
        self._source = json.dumps(source)

    def __call__(
        self,
        external_id: str,
        amount_cents: int,
        fees_cents: int,
        credit_cents: int,
        balance_cents: int | None,
        paid_on: str,
    ) -> str:
        """``{"source", "external_id", "amount_cents", "fees_cents", "credit_cents",
        "balance_cents", "paid_on"}`` as text; `paid_on` is ISO text."""
        return (
            f'{{"source": {self._source}, "external_id": {json.dumps(external_id)}, '
            f'"amount_cents": {amount_cents}, "fees_cents": {fees_cents}, '
            f'"credit_cents": {credit_cents}, '
            f'"balance_cents": {balance_cents}, "paid_on": "{paid_on}"}}'
        )


def insert_entries(conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Entries as plain tuples of `ENTRY_COLUMNS`, straight into the table."""
    insert_tuples(conn, interactions, ENTRY_COLUMNS, rows)


_INSERT_ENTRY = interactions.insert()  # built once: every portal page writes one


def add_entry(
    conn: Connection,
    *,
    customer_id: int,
    invoice_id: int | None,
    at: datetime,
    kind: str,
    detail: str,
    data: Mapping[str, Any],
) -> None:
    """One entry."""
    conn.execute(
        _INSERT_ENTRY,
        {
            "customer_id": customer_id,
            "invoice_id": invoice_id,
            "at": at,
            "kind": kind,
            "detail": detail,
            "data": dict(data),
        },
    )


def bank_entries_of(conn: Connection, invoice_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(invoice id, text) of the "bank" entries already on the invoices' timelines."""
    existing: set[tuple[int, str]] = set()
    for batch in chunks(sorted(invoice_ids), BATCH):
        existing.update(
            (invoice_id, detail)
            for invoice_id, detail in conn.execute(
                select(interactions.c.invoice_id, interactions.c.detail).where(
                    one_of(conn, interactions.c.invoice_id, batch), interactions.c.kind == "bank"
                )
            )
        )
    return existing


def add_entries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Entries given as dicts of their columns, in batches."""
    for batch in chunks(rows, BATCH):
        conn.execute(interactions.insert(), list(batch))


def entries_of(conn: Connection, customer_id: int) -> Sequence[Any]:
    """A customer's timeline, oldest first: ``at``, ``kind``, ``channel``, ``detail``,
    ``action_id``, ``invoice_id`` and ``data``."""
    return conn.execute(
        select(
            interactions.c.at,
            interactions.c.kind,
            interactions.c.channel,
            interactions.c.detail,
            interactions.c.action_id,
            interactions.c.invoice_id,
            interactions.c.data,
        )
        .where(interactions.c.customer_id == customer_id)
        .order_by(interactions.c.at, interactions.c.id)
    ).all()
