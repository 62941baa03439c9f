"""Actions: the plan's and the thank-yous' writes in bulk, the weekly counts the rules read,
and the cancellation of pending actions nothing open backs any more.

An action is unique per (customer, day, purpose): an action already there (an earlier run, an
earlier file of the same day) turns a new one away, and only the actions actually inserted
come back from `insert_new_actions`, so that their invoices are linked once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, exists, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import FromClause

from regua.domain.action_statuses import ACTION_STATUSES
from regua.domain.planning import PlannedAction
from regua.domain.thank_yous import THANK_YOU_OFFSET, THANK_YOU_STEP, ThankYou
from regua.store.bulk import chunks
from regua.store.invoices import still_to_collect
from regua.store.sql import one_of, plain_rows
from regua.store.staging import INT, columns_like, given_rows, insert_tuples, staged
from regua.store.tables import action_invoices, actions, invoices

UNIQUE_KEY = ("customer_id", "planned_for", "purpose")
COUNTED = ("planned", "sending", "sent")  # contacts that count against the weekly cap
WRITE_BATCH = 25_000  # actions per staged write (more only holds more rows in memory)
BATCH = 5_000  # invoices per statement where SQLite cancels by key
# Why a pending collection action is cancelled: none of its invoices is still open.
UNBACKED_REASON = "título pago antes do envio"
THANK_YOU_CANCEL_REASON = "pagamento estornado antes do envio"


def insert_new_actions(
    conn: Connection, source: FromClause, names: Sequence[str], fixed: Mapping[str, Any]
) -> dict[int, int]:
    """``INSERT INTO actions`` the rows of `source` (its columns `names`) with the `fixed`
    values of every row; customer id -> id of each action inserted.

    Inserted in customer order, so ids follow customers whatever order the rows came in.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    query = (
        select(
            *(literal(value, actions.c[name].type) for name, value in fixed.items()),
            *(source.c[name] for name in names),
        )
        .where(true())  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
        .order_by(source.c.customer_id)
    )
    statement = (
        dialect.insert(actions)
        .from_select([*fixed, *names], query)
        .on_conflict_do_nothing(index_elements=list(UNIQUE_KEY))
        .returning(actions.c.customer_id, actions.c.id)
    )
    return dict(plain_rows(conn, statement))


# --- the day's plan ----------------------------------------------------------------------------

# The columns of the day's actions as they travel to the database (see `store.staging`).
_ACTION_ROW = columns_like(
    actions,
    (
        "customer_id",
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
    ),
)


def insert_planned(
    connection: Connection,
    creditor_id: int,
    planned: Sequence[PlannedAction],
    day: date,
    now: datetime,
) -> list[PlannedAction]:
    """Insert the actions new for the day and their invoices; returns the actions inserted."""
    fresh: list[PlannedAction] = []
    names = [name for name, _kind in _ACTION_ROW]
    fixed = {
        "creditor_id": creditor_id,
        "purpose": "collection",
        "planned_for": day,
        "created_at": now,
    }
    for batch in chunks(planned, WRITE_BATCH):
        rows = [
            (
                action.customer_id,
                action.policy_name,
                action.policy_version,
                action.step.id,
                action.step.offset,
                action.segment,
                action.channel,
                action.contact_value,
                action.step.template or action.step.script,
                action.status,
                action.reason or None,
                json.dumps(action.evidence),
                action.cost_cents,
            )
            for action in batch
        ]
        # A staged copy, not array parameters: a day's evidence texts in one array literal
        # cost the server more to parse than a COPY.
        with staged(connection, "plan_actions", _ACTION_ROW, rows, joined=False) as given:
            # Only the actions actually inserted: a customer who already had one that day (an
            # earlier run) is turned away by the unique key, and nothing below may happen twice.
            ids = insert_new_actions(connection, given, names, fixed)
        inserted = [a for a in batch if a.customer_id in ids]
        # new action ids: nothing to collide
        insert_tuples(
            connection,
            action_invoices,
            ("action_id", "invoice_id", "step_id"),
            [
                (ids[a.customer_id], item.invoice_id, item.step_id)
                for a in inserted
                for item in a.invoices
            ],
        )
        fresh.extend(inserted)
    return fresh


def weekly_contacts(
    connection: Connection, customer_ids: Sequence[int], day: date
) -> dict[int, int]:
    """Customer id -> collection contacts planned or sent in the 6 days before `day`."""
    return dict(
        connection.execute(
            select(actions.c.customer_id, func.count())
            .where(
                one_of(connection, actions.c.customer_id, customer_ids),
                actions.c.planned_for >= day - timedelta(days=6),
                actions.c.planned_for < day,
                actions.c.purpose == "collection",
                actions.c.status.in_(COUNTED),
            )
            .group_by(actions.c.customer_id)
        ).all()
    )


def count_on_day(connection: Connection, creditor_id: int, day: date) -> int:
    """The creditor's actions of every purpose and status planned for `day`."""
    return int(
        connection.execute(
            select(func.count())
            .select_from(actions)
            .where(
                actions.c.creditor_id == creditor_id,
                actions.c.planned_for == day,
                # every status: the count is read from the (status, day) index, not the table
                actions.c.status.in_(ACTION_STATUSES),
            )
        ).scalar_one()
    )


# --- pending actions nothing backs -------------------------------------------------------------


def cancel_unbacked(
    conn: Connection,
    *,
    creditor_id: int | None = None,
    invoice_ids: Sequence[int] | None = None,
) -> int:
    """Cancel planned collection actions none of whose invoices is still open; how many.

    The daily cycle sweeps a whole creditor (`creditor_id`) before planning; a settlement looks
    only at the actions of the invoices it just settled (`invoice_ids`), so a webhook costs a
    few index lookups. An action that also covers another invoice still open stays: it goes on
    for that one.
    """
    still_open = exists().where(
        action_invoices.c.action_id == actions.c.id,
        action_invoices.c.invoice_id == invoices.c.id,
        *still_to_collect(),
    )
    pending = (
        update(actions)
        .where(
            *([actions.c.creditor_id == creditor_id] if creditor_id is not None else []),
            actions.c.purpose == "collection",
            actions.c.status == "planned",
            ~still_open,
        )
        .values(status="cancelled", reason=UNBACKED_REASON)
    )
    if invoice_ids is None:
        return int(conn.execute(pending).rowcount or 0)
    if not invoice_ids:
        return 0
    if conn.dialect.name == "postgresql":
        # One statement for the whole set: in batches of 5,000, the 90,000 invoices a return
        # file settles took 36 statements, each planned and sent on its own.
        about_them = select(action_invoices.c.action_id).where(
            one_of(conn, action_invoices.c.invoice_id, sorted(invoice_ids))
        )
        return int(conn.execute(pending.where(actions.c.id.in_(about_them))).rowcount or 0)
    cancelled = 0
    for batch in chunks(sorted(invoice_ids), BATCH):
        # Ids first, then the update by key: with a subquery SQLite walks every planned
        # action of every day (the status index) for each batch.
        about = sorted(
            set(
                conn.execute(
                    select(action_invoices.c.action_id).where(
                        one_of(conn, action_invoices.c.invoice_id, batch)
                    )
                ).scalars()
            )
        )
        if about:
            outcome = conn.execute(pending.where(one_of(conn, actions.c.id, about, sized=True)))
            cancelled += int(outcome.rowcount or 0)
    return cancelled


# --- thank-yous --------------------------------------------------------------------------------

# The plan's columns but the step, the same for every thank-you (a fixed value).
_STAGED_THANK_YOU = tuple(
    column for column in _ACTION_ROW if column[0] not in ("step_id", "step_offset")
)
_STAGED_NAMES = [name for name, _kind in _STAGED_THANK_YOU]
_STAGED_LINK = (("customer_id", INT), ("invoice_id", INT))


class ThankYouRows(NamedTuple):
    """Thank-yous as they travel to the database (`thank_you_rows`)."""

    rows: list[tuple[Any, ...]]  # staged actions (see `_STAGED_THANK_YOU`), one per customer
    links: list[tuple[int, int]]  # (customer id, invoice id) for each invoice thanked for


def thank_you_rows(thank_yous: Sequence[ThankYou]) -> ThankYouRows:
    """The rows `insert_thank_yous` writes; no database (a caller may make them in a thread)."""
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for t in thank_yous:
        rows.append(
            (
                t.customer_id,
                t.policy_name,
                t.policy_version,
                t.segment,
                t.channel,
                t.contact_value,
                t.template,
                t.status,
                t.reason or None,
                thank_you_evidence_json(t),
                t.cost_cents,
            )
        )
        links += [(t.customer_id, invoice_id) for invoice_id in t.invoice_ids]
    return ThankYouRows(rows, links)


def thank_you_evidence_json(thank_you: ThankYou) -> str:
    """``json.dumps(domain.thank_yous.thank_you_evidence(thank_you))``, written out.

    A return file plans tens of thousands of thank-yous whose policy, segment and channels
    repeat: the same few heads and tails are serialised once each.
    """
    head, tail = _evidence_parts(
        thank_you.policy_name,
        thank_you.policy_version,
        thank_you.segment,
        tuple(thank_you.channels_tried.items()),
    )
    invoices_json = ", ".join(
        f'{{"id": {invoice_id}, "step": {_STEP_JSON}}}' for invoice_id in thank_you.invoice_ids
    )
    return f"{head}{invoices_json}{tail}"


_STEP_JSON = json.dumps(THANK_YOU_STEP)


@lru_cache(maxsize=256)
def _evidence_parts(
    policy_name: str, policy_version: str, segment: str, tried: tuple[tuple[str, str], ...]
) -> tuple[str, str]:
    head = json.dumps(
        {
            "policy": policy_name,
            "policy_version": policy_version,
            "step": THANK_YOU_STEP,
            "step_offset": THANK_YOU_OFFSET,
            "segment": segment,
        }
    )
    return f'{head[:-1]}, "invoices": [', f'], "channels_tried": {json.dumps(dict(tried))}}}'


def insert_thank_yous(
    conn: Connection, creditor_id: int, thank_yous: ThankYouRows, day: date, now: datetime
) -> int:
    """The actions of `thank_yous` on `day` and their invoices; how many actions were created.

    Unique per (customer, day, purpose): a second settlement the same day adds its invoice to
    the same thank-you.
    """
    rows, links = thank_yous
    if not rows:
        return 0
    fixed = {
        "creditor_id": creditor_id,
        "purpose": "thank_you",
        "planned_for": day,
        "step_id": THANK_YOU_STEP,
        "step_offset": THANK_YOU_OFFSET,
        "created_at": now,
    }
    with given_rows(conn, "thank_you", _STAGED_THANK_YOU, rows) as stage:
        created = insert_new_actions(conn, stage, _STAGED_NAMES, fixed)
    # The invoices of a thank-you just created are linked to it by its id, straight.
    insert_tuples(
        conn,
        action_invoices,
        ("action_id", "invoice_id", "step_id"),
        [(created[c], invoice_id, THANK_YOU_STEP) for c, invoice_id in links if c in created],
    )
    # A thank-you already planned today for the customer also thanks for these invoices; one
    # already sent is not edited.
    earlier = [(c, invoice_id) for c, invoice_id in links if c not in created]
    if not earlier:
        return len(created)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    with staged(conn, "thank_you_links", _STAGED_LINK, earlier) as stage:
        conn.execute(
            dialect.insert(action_invoices)
            .from_select(
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
            )
            .on_conflict_do_nothing(index_elements=["action_id", "invoice_id"])
        )
    return len(created)


def cancel_thank_yous(conn: Connection, invoice_ids: Sequence[int]) -> None:
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
