"""What follows a settlement: pending collection actions cancelled, a thank-you planned.

`cancel_pending_actions` and the thank-you (`read_thank_you`, `thank_you_rows`,
`write_thank_you`) run after payments are applied (`settling`);
`cancel_thank_you` after a reversal reopened an invoice whose thank-you was not sent yet.
The rules are `domain.thank_yous`; the reads and writes `store.customers` and `store.actions`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Connection

from regua.domain.planning import Reach
from regua.domain.policy import Policy
from regua.domain.thank_yous import THANK_YOU_STEP, Payer, plan_thank_yous
from regua.services.policies import active_policies
from regua.store import actions
from regua.store.actions import ThankYouRows
from regua.store.customers import payers_and_points

__all__ = [
    "THANK_YOU_STEP",
    "ThankYouReach",
    "ThankYous",
    "cancel_pending_actions",
    "cancel_thank_you",
    "read_thank_you",
    "thank_you_rows",
    "write_thank_you",
]

ThankYous = ThankYouRows  # the thank-you actions to write (`thank_you_rows`)


class ThankYouReach(NamedTuple):
    """What planning thank-yous reads (`read_thank_you`): whom to thank and how to reach them."""

    by_customer: dict[int, list[int]]  # customer id -> the invoices thanked for, in id order
    people: list[Payer]  # anonymised customers left out
    points: dict[int, Reach]
    active: list[Policy]


def cancel_pending_actions(conn: Connection, invoice_ids: Sequence[int]) -> int:
    """Cancel planned collection actions about `invoice_ids` that no longer cover anything open
    (`store.actions.cancel_unbacked`, the daily sweep's rule for just these invoices)."""
    return actions.cancel_unbacked(conn, invoice_ids=invoice_ids)


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
    people, points = payers_and_points(conn, list(by_customer))
    return ThankYouReach(by_customer, people, points, active)


def thank_you_rows(reach: ThankYouReach) -> ThankYous:
    """The thank-you of each customer read (`domain.thank_yous.plan_thank_yous`), as rows to
    write; no database. Takes the contact points out of `reach` as it goes."""
    return actions.thank_you_rows(
        plan_thank_yous(reach.active, reach.people, reach.by_customer, reach.points)
    )


def write_thank_you(
    conn: Connection, creditor_id: int, thank_yous: ThankYous, day: date, now: datetime
) -> int:
    """The actions of `thank_yous` on `day` and their invoices; how many actions were created.

    Unique per (customer, day, purpose): a second settlement the same day adds its invoice to
    the same thank-you.
    """
    return actions.insert_thank_yous(conn, creditor_id, thank_yous, day, now)


def cancel_thank_you(conn: Connection, invoice_ids: Sequence[int]) -> None:
    """A thank-you not yet sent for invoices that are open again would thank for nothing."""
    actions.cancel_thank_yous(conn, invoice_ids)
