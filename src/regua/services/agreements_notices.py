"""Telling the customer and the operator that an agreement broke.

The customer: an action of its own purpose (``agreement``, beside the day's collection action,
which the restored invoices get from the régua as usual) with the ``acordo_quebrado`` template,
on the first channel of the régua's thank-you the customer can be reached on (the channels the
creditor chose for a message that is not a collection), else e-mail, WhatsApp or SMS. Its
evidence keeps the facts the message states: which agreement, what was paid under it, what
came back and its total on the day it broke; the message's own amounts are those of its send
date, like every message. The régua's ``breaking.notify_customer: false`` keeps it unsent.

The operator: the daily run's summary lists the agreements broken that day (``BrokenAgreement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import Connection

from regua.domain.agreements import (
    BROKEN_CHANNELS,
    BROKEN_PURPOSE,
    BROKEN_STEP,
    BROKEN_TEMPLATE,
    BrokenAgreement,
    HeldInvoice,
    broken_facts,
)
from regua.domain.fees import NO_FEES_SETTLED, FeeTerms, charges
from regua.domain.money import Cents
from regua.domain.planning import action_evidence, choose_channel
from regua.domain.policy import select_policy
from regua.services.policies import active_policies
from regua.store import agreements as store
from regua.store import creditors as creditor_store
from regua.store import invoices as invoice_store
from regua.store.customers import payers_and_points


def broken_agreement(
    connection: Connection,
    creditor_id: int,
    agreement_id: int,
    customer_id: int,
    *,
    made_on: date,
    reason: str,
    held: Sequence[HeldInvoice],
    balances: Sequence[tuple[int, Cents]],
    paid_cents: Cents,
    today: date,
) -> BrokenAgreement:
    """The facts of an agreement just broken: the originals back with their balances, and
    their total today with multa and juros from the original due dates."""
    customer = store.customer_heads(connection, [customer_id])[customer_id]
    fees = replace(
        creditor_store.fee_terms(connection, creditor_id) or FeeTerms(),
        is_consumer=bool(customer.is_consumer),
    )
    due = {h.invoice_id: h.due_date for h in held}
    back = [(invoice_id, balance) for invoice_id, balance in balances if balance > 0]
    settled = invoice_store.fee_states(connection, [i for i, _ in back])
    total = sum(
        charges(balance, due[i], today, fees, settled.get(i, NO_FEES_SETTLED)).total_cents
        for i, balance in back
    )
    return BrokenAgreement(
        agreement_id,
        customer_id,
        str(customer.external_id),
        str(customer.name),
        made_on,
        reason,
        paid_cents,
        sum(balance for _, balance in back),
        total,
        tuple(sorted(i for i, _ in back)),
    )


def notify_customer(
    connection: Connection,
    creditor_id: int,
    broken: BrokenAgreement,
    *,
    day: date,
    now: datetime,
) -> int | None:
    """Plan the customer's ``acordo_quebrado`` message for ``day`` (see the module docstring);
    the action's id, or None when the régua says not to tell, nothing came back, or the
    customer already has such a message that day."""
    if not broken.invoice_ids:
        return None
    policies = active_policies(connection, creditor_id, now)
    people, points = payers_and_points(connection, [broken.customer_id])
    if not people:  # the customer's data was erased: nobody to write to
        return None
    person = people[0]
    segment = person.segment or "novo"
    policy = select_policy(policies, segment, [t for t in (person.tags or "").split(",") if t])
    terms = policy.negotiation
    if terms is not None and not terms.breaking.notify_customer:
        return None
    channels = policy.thank_you.channels if policy.thank_you is not None else BROKEN_CHANNELS
    choice = choose_channel(channels, points.get(broken.customer_id, {}))
    evidence = action_evidence(
        policy.name,
        policy.version,
        BROKEN_STEP,
        0,
        segment,
        [{"id": invoice_id, "step": BROKEN_STEP} for invoice_id in broken.invoice_ids],
    )
    evidence["channels_tried"] = dict(choice.tried)
    evidence["agreement"] = broken_facts(broken, day)
    row = {
        "creditor_id": creditor_id,
        "customer_id": broken.customer_id,
        "purpose": BROKEN_PURPOSE,
        "planned_for": day,
        "policy_name": policy.name,
        "policy_version": policy.version,
        "step_id": BROKEN_STEP,
        "step_offset": 0,
        "segment": segment,
        "channel": choice.channel,
        "contact_value": choice.value,
        "template": BROKEN_TEMPLATE,
        "status": choice.status,
        "reason": choice.reason or None,
        "evidence": evidence,
        "cost_cents": int(policy.channel_prices_cents.get(choice.channel, 0))
        if choice.channel
        else 0,
        "created_at": now,
    }
    return store.insert_notice(connection, row, broken.invoice_ids)
