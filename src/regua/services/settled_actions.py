"""What follows a settlement: pending collection actions cancelled, a thank-you planned.

`cancel_pending_actions` and the thank-you (`read_thank_you`, `thank_you_rows`,
`write_thank_you`) run after payments are applied (`settling`);
`cancel_thank_you` after a reversal reopened an invoice whose thank-you was not sent yet.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, and_, exists, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Select

from regua.domain.planning import ContactPoint, choose_channel
from regua.domain.policy import Policy, select_policy
from regua.services.contacts import Reach, contact_points
from regua.services.new_actions import insert_new_actions
from regua.services.policies import active_policies
from regua.store.bulk import chunks
from regua.store.sql import one_of, plain_rows
from regua.store.staging import INT, columns_like, given_rows, insert_tuples, staged
from regua.store.tables import action_invoices, actions, customers, invoices

BATCH = 5_000
THANK_YOU_STEP = "agradecimento"
CANCEL_REASON = "título pago antes do envio"
THANK_YOU_CANCEL_REASON = "pagamento estornado antes do envio"


def cancel_pending_actions(conn: Connection, invoice_ids: Sequence[int]) -> int:
    """Cancel planned collection actions about `invoice_ids` that no longer cover anything open.

    The same rule as `planning.cancel_settled_actions`, which sweeps the whole creditor before
    planning; here only the actions of the invoices just settled are looked at, so a webhook
    costs a few index lookups. An action that also covers another invoice still open stays: it
    goes on for that one.
    """
    if not invoice_ids:
        return 0
    still_open = exists().where(
        action_invoices.c.action_id == actions.c.id,
        action_invoices.c.invoice_id == invoices.c.id,
        invoices.c.status == "open",
        invoices.c.balance_cents > 0,
    )
    pending = (
        update(actions)
        .where(actions.c.purpose == "collection", actions.c.status == "planned", ~still_open)
        .values(status="cancelled", reason=CANCEL_REASON)
    )
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


_STAGED_THANK_YOU = columns_like(
    actions,
    (
        "customer_id",
        "policy_name",
        "policy_version",
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
_STAGED_NAMES = [name for name, _kind in _STAGED_THANK_YOU]
_STAGED_LINK = (("customer_id", INT), ("invoice_id", INT))


class ThankYouReach(NamedTuple):
    """What planning thank-yous reads (`read_thank_you`): whom to thank and how to reach them."""

    by_customer: dict[int, list[int]]  # customer id -> the invoices thanked for, in id order
    people: list[tuple[int, str | None, str | None]]  # (id, segment, tags), anonymised left out
    points: dict[int, Reach]
    active: list[Policy]


class ThankYous(NamedTuple):
    """The thank-you actions to write (`thank_you_rows`)."""

    rows: list[tuple[Any, ...]]  # staged actions (see `_STAGED_THANK_YOU`), one per customer
    links: list[tuple[int, int]]  # (customer id, invoice id) for each invoice thanked for


def read_thank_you(
    conn: Connection, creditor_id: int, settled: dict[int, int], now: datetime
) -> ThankYouReach:
    """What planning a thank-you for `settled` (invoice id -> customer id) reads.

    One thank-you action per customer, planned in three steps that a caller may run apart
    (`settling` makes the rows while the database updates the balances): this one reads the
    active policies and the customers' segments, tags and contact points; `thank_you_rows`
    chooses the action of each customer; `write_thank_you` stores them for a day.
    """
    by_customer: dict[int, list[int]] = defaultdict(list)
    for invoice_id, customer_id in sorted(settled.items()):
        by_customer[customer_id].append(invoice_id)
    if not by_customer:
        return ThankYouReach({}, [], {}, [])
    active = active_policies(conn, creditor_id, now)
    people: list[tuple[int, str | None, str | None]] = []
    points: dict[int, Reach] = {}
    for batch in chunks(sorted(by_customer), BATCH):
        points.update(contact_points(conn, batch))
        people += plain_rows(
            conn,
            select(customers.c.id, customers.c.segment, customers.c.tags).where(
                one_of(conn, customers.c.id, batch), customers.c.anonymised_at.is_(None)
            ),
        )
    return ThankYouReach(by_customer, people, points, active)


def thank_you_rows(reach: ThankYouReach) -> ThankYous:
    """The thank-you of each customer read; no database.

    The customer's policy (`select_policy`) names the template and the channels; the first
    reachable channel is used (`choose_channel`). No reachable channel: the action is stored as
    skipped with why, as the planner does. Takes the contact points out of `reach` as it goes:
    those of a return file's ~59,000 customers weigh ~40 MB.
    """
    chosen: dict[tuple[str, str], Policy] = {}  # (segment, tags) -> policy: a handful of pairs
    rows: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    for customer_id, stored_segment, tags in reach.people:
        segment = stored_segment or "novo"
        policy = chosen.get((segment, tags or ""))
        if policy is None:
            policy = select_policy(reach.active, segment, [t for t in (tags or "").split(",") if t])
            chosen[(segment, tags or "")] = policy
        if policy.thank_you is None:
            continue
        invoice_ids = reach.by_customer[customer_id]
        rows.append(
            _thank_you_row(
                customer_id, policy, segment, reach.points.pop(customer_id, {}), invoice_ids
            )
        )
        links += [(customer_id, invoice_id) for invoice_id in invoice_ids]
    return ThankYous(rows, links)


def write_thank_you(
    conn: Connection, creditor_id: int, thank_yous: ThankYous, day: date, now: datetime
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
        "step_offset": 0,
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
    with staged(conn, "thank_you_links", _STAGED_LINK, earlier) as stage:
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
    return len(created)


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


_EVIDENCE_HEAD = '{"motivo": ' + json.dumps("título pago") + ', "invoices": ['


def _evidence(invoice_ids: list[int], tried: dict[str, str]) -> str:
    """``json.dumps({"motivo": "título pago", "invoices": ..., "channels": tried})``.

    Written out because a return file plans tens of thousands of thank-yous whose channel
    part repeats: the same few (channel, outcome) sets are serialised once each.
    """
    ids = ", ".join(map(str, invoice_ids))
    return f'{_EVIDENCE_HEAD}{ids}], "channels": {_channels_json(tuple(tried.items()))}}}'


@lru_cache(maxsize=256)
def _channels_json(tried: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(tried))


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
        _evidence(invoice_ids, tried),
        int(policy.channel_prices_cents.get(channel, 0)) if channel else 0,
    )


def cancel_thank_you(conn: Connection, invoice_ids: Sequence[int]) -> None:
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
