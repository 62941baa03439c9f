"""Promises to pay (promessas): recorded by a person or the portal, decided by the daily run.

A promise (amount, date, channel, who recorded it) holds the régua back for the customer's debt
(or the one invoice it names) until its date: the planner skips invoices with an open promise
not yet due (``store.invoices.plan_candidates``). It is kept when the money applied to that debt
from the day it was made to its date reaches the amount, less the tolerance the régua's terms
set; broken the day after its date otherwise. Broken promises count in the customer's history
(the ``broken_promises`` segment feature).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from regua.domain.channels import CHANNELS
from regua.domain.money import Cents, format_brl
from regua.domain.policy import select_policy
from regua.domain.policy_terms import DEFAULT_PROMISE_MAX_DAYS
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound, RuleViolation
from regua.services.policies import active_policies
from regua.store import agreements as agreement_store
from regua.store import promises as store
from regua.store import timeline
from regua.store.uow import UnitOfWorkFactory

PROMISE_CHANNELS = (*CHANNELS, "portal", "presencial")
TIMELINE_KIND = "promise"


@dataclass(frozen=True)
class PromiseMade:
    promise_id: int
    customer: str
    amount_cents: Cents
    promised_for: date
    invoice: str | None


def record_promise(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    customer: str,
    *,
    amount_cents: Cents,
    promised_for: date,
    channel: str,
    recorded_by: str,
    invoice: str | None = None,
    today: date,
    now: datetime,
) -> PromiseMade:
    """Record a promise; refused with the rule when the date is past or further than the
    customer's régua allows (``negotiation.promise_max_days``), or the amount is not
    positive."""
    if amount_cents <= 0:
        raise InputError("o valor prometido deve ser maior que zero", field="--valor")
    if promised_for < today:
        raise RuleViolation(
            f"a data da promessa ({promised_for:%d/%m/%Y}) já passou",
            code=ErrorCode.DATE_IN_PAST,
        )
    if channel not in PROMISE_CHANNELS:
        raise InputError(
            f"canal desconhecido {channel!r}; use um de: {', '.join(PROMISE_CHANNELS)}",
            field="--canal",
        )
    with uow() as work:
        connection = work.connection
        found = agreement_store.customer_for_negotiation(connection, creditor_id, customer)
        if found is None:
            raise NotFound(f"cliente {customer!r} não encontrado", code=ErrorCode.NO_CUSTOMER)
        latest = latest_promise_day(connection, creditor_id, found, today, now)
        if promised_for > latest:
            raise RuleViolation(
                f"a data da promessa ({promised_for:%d/%m/%Y}) passa do prazo da régua: no "
                f"máximo até {latest:%d/%m/%Y} ({(latest - today).days} dias)",
                code=ErrorCode.DATE_TOO_FAR,
            )
        invoice_id = None
        if invoice is not None:
            rows = agreement_store.customer_invoices(connection, [found.id]).get(found.id, [])
            match = [r for r in rows if invoice in (r.number, r.external_id)]
            if not match:
                raise NotFound(
                    f"título {invoice} não está entre os títulos em aberto do cliente",
                    code=ErrorCode.UNKNOWN_INVOICE,
                )
            invoice_id = match[0].id
        promise_id = store.insert_promise(
            connection,
            {
                "customer_id": found.id,
                "invoice_id": invoice_id,
                "amount_cents": amount_cents,
                "promised_for": promised_for,
                "status": "open",
                "channel": channel,
                "recorded_by": recorded_by,
                "created_at": now,
            },
        )
        what = f"título {invoice}" if invoice else "a dívida em aberto"
        timeline.add_entry(
            connection,
            customer_id=found.id,
            invoice_id=invoice_id,
            at=now,
            kind=TIMELINE_KIND,
            detail=(
                f"promessa de pagar {format_brl(amount_cents)} até {promised_for:%d/%m/%Y} "
                f"({what}), registrada por {recorded_by} ({channel}); a régua aguarda até lá"
            ),
            data={"promise_id": promise_id, "event": "recorded"},
        )
        work.commit()
    return PromiseMade(promise_id, customer, amount_cents, promised_for, invoice)


def latest_promise_day(
    connection: Connection, creditor_id: int, customer: Any, today: date, now: datetime
) -> date:
    """The furthest day a promise of `customer` (segment, tags) may name: the régua's
    ``negotiation.promise_max_days`` from today (30 days when the régua has no such block)."""
    tags = tuple(t for t in (customer.tags or "").split(",") if t)
    policies = active_policies(connection, creditor_id, now)
    terms = (
        select_policy(policies, customer.segment or "novo", tags).negotiation if policies else None
    )
    days = terms.promise_max_days if terms is not None else DEFAULT_PROMISE_MAX_DAYS
    return today + timedelta(days=days)


@dataclass
class PromiseReview:
    kept: list[int]
    broken: list[int]


def review_promises(
    connection: Connection, creditor_id: int, today: date, now: datetime
) -> PromiseReview:
    """Decide the open promises, in the caller's transaction: kept as soon as the money has
    arrived, broken the day after their date when it has not."""
    review = PromiseReview([], [])
    rows = store.open_promises(connection, creditor_id)
    if not rows:
        return review
    policies = active_policies(connection, creditor_id, now)
    for row in rows:
        made_on = row.created_at.date() if isinstance(row.created_at, datetime) else today
        last = min(row.promised_for, today)
        paid = store.paid_between(connection, row.customer_id, row.invoice_id, made_on, last)
        tags = tuple(t for t in (row.tags or "").split(",") if t)
        terms = select_policy(policies, row.segment or "novo", tags).negotiation
        tolerance = terms.promise_tolerance_cents if terms is not None else 0
        if paid >= row.amount_cents - tolerance:
            status, detail = "kept", f"promessa cumprida: {format_brl(paid)} pagos"
            review.kept.append(row.id)
        elif row.promised_for < today:
            status = "broken"
            detail = (
                f"promessa quebrada: {format_brl(row.amount_cents)} prometidos até "
                f"{row.promised_for:%d/%m/%Y}, {format_brl(paid)} pagos; a régua retoma"
            )
            review.broken.append(row.id)
        else:
            continue
        store.decide(connection, row.id, status, paid, today)
        timeline.add_entry(
            connection,
            customer_id=row.customer_id,
            invoice_id=row.invoice_id,
            at=now,
            kind=TIMELINE_KIND,
            detail=detail,
            data={"promise_id": row.id, "event": status, "paid_cents": paid},
        )
    return review


@dataclass(frozen=True)
class PromiseLine:
    promise_id: int
    customer: str
    name: str
    invoice: str | None
    amount_cents: Cents
    promised_for: date
    status: str
    channel: str | None
    recorded_by: str | None
    paid_cents: Cents | None
    decided_on: date | None


def list_promises(
    uow: UnitOfWorkFactory, creditor_id: int, statuses: Sequence[str] | None = None
) -> list[PromiseLine]:
    with uow() as work:
        rows = store.listing(work.connection, creditor_id, statuses)
    return [
        PromiseLine(
            row.id,
            row.customer,
            row.name,
            row.invoice,
            row.amount_cents,
            row.promised_for,
            row.status,
            row.channel,
            row.recorded_by,
            row.paid_cents,
            row.decided_on,
        )
        for row in rows
    ]
