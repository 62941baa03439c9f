"""The thank-you a settlement plans: one action per customer whose invoices were just paid.

Planned in three steps that a caller may run apart (`reconciling` makes the rows while the
database updates the balances): `read_thank_you_reach` reads the active policies and the
customers' segments, tags and contact points; `plan_thank_you_rows` chooses each customer's
action (`domain.thank_yous.plan_thank_yous`) as rows; `store.actions.insert_thank_yous` stores
them for a day. Cancelling what a settlement or a reversal leaves pointless is the store's
(`store.actions.cancel_unbacked`, `store.actions.cancel_thank_yous`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from regua.domain.planning import Reach
from regua.domain.policy import Policy
from regua.domain.thank_yous import Payer, plan_thank_yous
from regua.services.policies import active_policies
from regua.store import actions
from regua.store.actions import ThankYouRows
from regua.store.customers import payers_and_points


class ThankYouReach(NamedTuple):
    """What planning thank-yous reads: whom to thank and how to reach them."""

    by_customer: dict[int, list[int]]  # customer id -> the invoices thanked for, in id order
    people: list[Payer]  # anonymised customers left out
    points: dict[int, Reach]
    active: list[Policy]


def read_thank_you_reach(
    conn: Connection, creditor_id: int, settled: dict[int, int], now: datetime
) -> ThankYouReach:
    """What planning a thank-you for `settled` (invoice id -> customer id) reads."""
    by_customer: dict[int, list[int]] = defaultdict(list)
    for invoice_id, customer_id in sorted(settled.items()):
        by_customer[customer_id].append(invoice_id)
    if not by_customer:
        return ThankYouReach({}, [], {}, [])
    active = active_policies(conn, creditor_id, now)
    people, points = payers_and_points(conn, list(by_customer))
    return ThankYouReach(by_customer, people, points, active)


def plan_thank_you_rows(reach: ThankYouReach) -> ThankYouRows:
    """The thank-you of each customer read, as rows to write; no database. Takes the contact
    points out of `reach` as it goes."""
    return actions.thank_you_rows(
        plan_thank_yous(reach.active, reach.people, reach.by_customer, reach.points)
    )
