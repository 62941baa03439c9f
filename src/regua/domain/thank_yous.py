"""The thank-you after a settlement as a pure function: one action per customer who paid.

`plan_thank_yous` receives the customers whose invoices were just settled, their contact points
and the active policies, and returns one `ThankYou` per customer whose policy thanks. The
customer's policy (`select_policy`) names the template and the channels; the first reachable
channel is used and, with none, the action is skipped with why, exactly as the day's plan does
(`domain.planning.choose_channel`). Its evidence has the plan's shape (`thank_you_evidence`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any, NamedTuple

from regua.domain.planning import ActionStatus, Reach, action_evidence, choose_channel
from regua.domain.policy import Policy, select_policy

THANK_YOU_STEP = "agradecimento"
THANK_YOU_OFFSET = 0


class Payer(NamedTuple):
    """A customer to thank, as the store holds it."""

    id: int
    segment: str | None
    tags: str | None  # comma-separated, as stored


class ThankYou(NamedTuple):
    """One customer's thank-you action. A NamedTuple: a return file makes tens of thousands."""

    customer_id: int
    policy_name: str
    policy_version: str
    segment: str
    channel: str | None
    contact_value: str | None
    template: str
    status: ActionStatus
    reason: str
    invoice_ids: tuple[int, ...]  # the invoices thanked for, in id order
    channels_tried: Mapping[str, str]
    cost_cents: int


def plan_thank_yous(
    policies: Sequence[Policy],
    payers: Iterable[Payer],
    invoices_by_customer: Mapping[int, Sequence[int]],
    contacts: MutableMapping[int, Reach],
) -> list[ThankYou]:
    """The thank-you of each of `payers` whose policy has one; see the module docstring.

    Takes each customer's contact points out of `contacts` as it goes: those of a return file's
    ~59,000 customers weigh ~40 MB, and nothing reads them after.
    """
    chosen: dict[tuple[str, str], Policy] = {}  # (segment, tags) -> policy: a handful of pairs
    planned: list[ThankYou] = []
    for customer_id, stored_segment, tags in payers:
        segment = stored_segment or "novo"
        policy = chosen.get((segment, tags or ""))
        if policy is None:
            policy = select_policy(policies, segment, [t for t in (tags or "").split(",") if t])
            chosen[(segment, tags or "")] = policy
        thanks = policy.thank_you
        if thanks is None:
            continue
        choice = choose_channel(thanks.channels, contacts.pop(customer_id, {}))
        planned.append(
            ThankYou(
                customer_id,
                policy.name,
                policy.version,
                segment,
                choice.channel,
                choice.value,
                thanks.template,
                choice.status,
                choice.reason,
                tuple(invoices_by_customer[customer_id]),
                choice.tried,
                int(policy.channel_prices_cents.get(choice.channel, 0)) if choice.channel else 0,
            )
        )
    return planned


def thank_you_evidence(thank_you: ThankYou) -> dict[str, Any]:
    """The facts a thank-you was checked against, in the shape of the plan's actions: every
    invoice under the thank-you step, and the channels tried."""
    evidence = action_evidence(
        thank_you.policy_name,
        thank_you.policy_version,
        THANK_YOU_STEP,
        THANK_YOU_OFFSET,
        thank_you.segment,
        [{"id": invoice_id, "step": THANK_YOU_STEP} for invoice_id in thank_you.invoice_ids],
    )
    evidence["channels_tried"] = dict(thank_you.channels_tried)
    return evidence
