"""What a message is made of, read from the store: claimed actions with their customer,
contact, creditor and invoices (set-based, in batches), and the PIX txids handed out to them.

The rows are handed to `regua.services.messages`, which decides what each action says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Date, and_, bindparam, case, select, update

from regua.store.bulk import chunks, insert_ignoring_conflicts

# The planner's own test of an invoice held back today (a pause, a promise), so a preview
# leaves out what the plan leaves out.
from regua.store.invoices import _stopped as held_back
from regua.store.invoices import still_to_collect
from regua.store.tables import (
    action_invoices,
    actions,
    agreements,
    contacts,
    creditors,
    customers,
    invoice_steps,
    invoices,
    pix_txid_invoices,
)

BATCH = 1_000  # actions read per round of queries

# Who a message speaks to, as a dispatched action's head and a preview read it.
_CUSTOMER_COLUMNS = (
    customers.c.id,
    customers.c.creditor_id,
    customers.c.external_id,
    customers.c.name,
    customers.c.document,
    customers.c.document_kind,
    customers.c.is_consumer,
    customers.c.address.label("customer_address"),
    customers.c.district.label("customer_district"),
    customers.c.city.label("customer_city"),
    customers.c.uf.label("customer_uf"),
    customers.c.postal_code.label("customer_postal_code"),
)

_ACTION_COLUMNS = (
    actions.c.id.label("action_id"),
    actions.c.purpose,
    actions.c.channel,
    actions.c.contact_value,
    actions.c.template,
    actions.c.step_id,
    actions.c.step_offset,
    actions.c.idempotency_key,
    actions.c.evidence,  # a broken agreement's message states the facts kept there
    *_CUSTOMER_COLUMNS,
    customers.c.paused,
    customers.c.paused_until,
    customers.c.anonymised_at,
    contacts.c.opted_out_at,
    contacts.c.invalid_at,
)

_CREDITOR_COLUMNS = (
    creditors.c.id,
    creditors.c.name,
    creditors.c.document,
    creditors.c.email,
    creditors.c.phone,
    creditors.c.whatsapp,
    creditors.c.address,
    creditors.c.city,
    creditors.c.website,
    creditors.c.timezone,
    creditors.c.pix_key,
    creditors.c.late_fee_bp,
    creditors.c.interest_monthly_bp,
    creditors.c.trade_name,
    creditors.c.uf,
    creditors.c.postal_code,
    creditors.c.sender_email,
    creditors.c.reply_to,
    creditors.c.service_hours,
)

_INVOICE_COLUMNS = (
    invoices.c.id,
    invoices.c.number,
    invoices.c.description,
    invoices.c.issue_date,
    invoices.c.due_date,
    invoices.c.amount_cents,
    invoices.c.balance_cents,
    invoices.c.status,
    invoices.c.boleto_line,
    invoices.c.pix_txid,
    invoices.c.paused,
    invoices.c.paused_until,
    # The early-payment discount a preventive reminder offers (planned with it).
    invoices.c.early_discount_cents,
    invoices.c.early_discount_until,
    # What late payments settled of the fees (`domain.fees.FeeState`).
    invoices.c.fees_paid_through,
    invoices.c.fees_unpaid_cents,
    # An installment's message states its agreement: when it was made and when it breaks.
    invoices.c.agreement_id,
    select(agreements.c.made_on)
    .where(agreements.c.id == invoices.c.agreement_id)
    .scalar_subquery()
    .label("agreement_made_on"),
    select(agreements.c.break_days_late)
    .where(agreements.c.id == invoices.c.agreement_id)
    .scalar_subquery()
    .label("agreement_break_days"),
    select(agreements.c.installment_count)
    .where(agreements.c.id == invoices.c.agreement_id)
    .scalar_subquery()
    .label("agreement_installments"),
)


@dataclass(frozen=True)
class MessageRows:
    """One batch of actions as read: `heads` (the action with its customer and the state of
    its contact), `invoices` per action id, and `creditors` by id."""

    heads: Sequence[Any]
    invoices: Mapping[int, list[Any]]
    creditors: Mapping[int, Any]


def message_rows(connection: Connection, action_ids: Sequence[int]) -> Iterator[MessageRows]:
    """The rows of `action_ids`, a batch of `BATCH` actions at a time (three queries each)."""
    for batch in chunks(sorted(set(action_ids)), BATCH):
        yield _batch_rows(connection, batch)


def _batch_rows(connection: Connection, action_ids: Sequence[int]) -> MessageRows:
    heads = connection.execute(
        select(*_ACTION_COLUMNS)
        .select_from(
            actions.join(customers, customers.c.id == actions.c.customer_id).outerjoin(
                contacts,
                and_(
                    contacts.c.customer_id == actions.c.customer_id,
                    contacts.c.channel == actions.c.channel,
                    contacts.c.value == actions.c.contact_value,
                ),
            )
        )
        .where(actions.c.id.in_(list(action_ids)))
    ).all()
    linked: dict[int, list[Any]] = defaultdict(list)
    for row in connection.execute(
        select(action_invoices.c.action_id, *_INVOICE_COLUMNS)
        .join(invoices, invoices.c.id == action_invoices.c.invoice_id)
        .where(action_invoices.c.action_id.in_(list(action_ids)))
    ):
        linked[int(row.action_id)].append(row)
    return MessageRows(
        heads, linked, load_creditors(connection, {int(h.creditor_id) for h in heads})
    )


# The statements read on every portal page and every message are built once: building one
# costs SQLAlchemy several times what running it on SQLite does.
_CREDITORS = select(*_CREDITOR_COLUMNS).where(
    creditors.c.id.in_(bindparam("p_ids", expanding=True))
)


def load_creditors(connection: Connection, creditor_ids: set[int]) -> dict[int, Any]:
    """Creditor id -> what a message says about the creditor (name, contacts, PIX key, fees)."""
    return {
        int(row.id): row for row in connection.execute(_CREDITORS, {"p_ids": sorted(creditor_ids)})
    }


_STORE_TXID = (
    update(invoices)
    .where(invoices.c.id == bindparam("p_id"), invoices.c.pix_txid.is_(None))
    .values(pix_txid=bindparam("p_txid"))
)


def store_txids(connection: Connection, assignments: Sequence[Mapping[str, Any]]) -> None:
    """Write the txids `prepare_messages` handed out (``{"p_id": invoice id, "p_txid": txid}``)
    on invoices that still have none, and note each txid with every invoice it was shown for
    (`pix_txid_invoices`): a Pix with it is spread over them all.

    Its own write transaction, committed before sending: a debtor who pays at once must find
    the txid already on the invoice (and on SQLite a write after reads could meet a newer
    snapshot and fail).
    """
    if assignments:
        connection.execute(_STORE_TXID, list(assignments))
        insert_ignoring_conflicts(
            connection,
            pix_txid_invoices,
            [{"txid": a["p_txid"], "invoice_id": a["p_id"]} for a in assignments],
            ("txid", "invoice_id"),
        )


# --- one real customer's message, for people to read -------------------------------------------


def preview_customer(connection: Connection, creditor_id: int, external_id: str) -> Any | None:
    """The customer a preview speaks to (with segment and tags to pick the régua), or None."""
    return connection.execute(
        select(
            *_CUSTOMER_COLUMNS,
            customers.c.segment,
            customers.c.tags,
            customers.c.paused,
            customers.c.paused_until,
        ).where(
            customers.c.creditor_id == creditor_id,
            customers.c.external_id == external_id,
        )
    ).first()


_OPEN_INVOICES = (
    select(
        *_INVOICE_COLUMNS,
        case((held_back(bindparam("p_day", type_=Date)), True), else_=False).label("held"),
        invoice_steps.c.last_offset,
        invoice_steps.c.last_planned_for,
    )
    .select_from(invoices.outerjoin(invoice_steps, invoice_steps.c.invoice_id == invoices.c.id))
    .where(invoices.c.customer_id == bindparam("p_customer"), *still_to_collect())
)


def open_invoices(connection: Connection, customer_id: int, day: date) -> list[Any]:
    """The customer's open invoices with a balance, as a message's invoice rows, each with what
    the planner reads of it on `day`: ``held`` (paused or under a promise), and its step memory
    (``last_offset``, ``last_planned_for``)."""
    return list(connection.execute(_OPEN_INVOICES, {"p_customer": customer_id, "p_day": day}))


def planned_invoice_ids(
    connection: Connection, customer_id: int, step_id: str, day: date
) -> list[int] | None:
    """The invoices of the customer's latest collection action of `step_id` planned on or
    before `day` (None: there is none): what that message was about."""
    action_id = connection.execute(
        select(actions.c.id)
        .where(
            actions.c.customer_id == customer_id,
            actions.c.purpose == "collection",
            actions.c.step_id == step_id,
            actions.c.planned_for <= day,
        )
        .order_by(actions.c.planned_for.desc(), actions.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if action_id is None:
        return None
    return list(
        connection.execute(
            select(action_invoices.c.invoice_id).where(action_invoices.c.action_id == action_id)
        ).scalars()
    )
