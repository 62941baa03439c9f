"""Offers for a customer's debt, and counter-offers, under the terms of the customer's régua.

Reads only. The debt is the customer's overdue invoices (open, with a balance, not installments
of an agreement), or the invoices named; the rule is the first of the régua's negotiation terms
that covers the customer's segment, the oldest invoice's days late and the amount owed today.
``services.agreements`` turns an offer into an agreement with the same figures.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from regua.domain.fees import FeeTerms
from regua.domain.money import Cents
from regua.domain.offers import (
    CounterOffer,
    DebtInvoice,
    Offer,
    counter_offer,
    debt_today,
    make_offers,
)
from regua.domain.policy import Policy, select_policy
from regua.domain.policy_terms import NegotiationTerms, TermRule, rule_for
from regua.error_codes import ErrorCode
from regua.errors import NotFound, ReguaError, RuleViolation
from regua.services.message_context import settled_fees
from regua.services.policies import active_policies
from regua.store import agreements as agreement_store
from regua.store import creditors as creditor_store
from regua.store.uow import UnitOfWorkFactory

DEFAULT_SEGMENT = "novo"


@dataclass(frozen=True)
class Negotiable:
    """What an offer is made from: the customer, the régua's terms and rule, the fee terms and
    the invoices of the debt."""

    customer_id: int
    customer_external_id: str
    customer_name: str
    segment: str
    terms: NegotiationTerms
    rule: TermRule
    fee_terms: FeeTerms
    invoices: tuple[DebtInvoice, ...]


@dataclass(frozen=True)
class CustomerOffers:
    customer_external_id: str
    customer_name: str
    segment: str
    offers: list[Offer]


def _refuse(message: str, code: ErrorCode) -> RuleViolation:
    return RuleViolation(message, code=code)


def chosen_invoices(
    rows: Sequence[Any], numbers: Sequence[str] | None, today: date
) -> list[DebtInvoice]:
    """The invoices of the debt: the named ones (by number or ERP id), each refused with the
    rule it breaks when it cannot enter an agreement; else every overdue open one."""
    if not numbers:
        return [
            DebtInvoice(row.id, row.number, row.due_date, row.balance_cents, settled_fees(row))
            for row in rows
            if row.status == "open" and row.effective_due_date < today
        ]
    chosen = []
    for number in numbers:
        found = [row for row in rows if number in (row.number, row.external_id)]
        if not found:
            raise NotFound(
                f"título {number} não está entre os títulos em aberto do cliente",
                code=ErrorCode.UNKNOWN_INVOICE,
            )
        row = found[0]
        if row.status == "disputed":
            raise _refuse(
                f"título {row.number} está em disputa (contestado pelo cliente): não entra em "
                "acordo até a contestação ser resolvida",
                ErrorCode.DISPUTED_INVOICE,
            )
        if row.status == "in_agreement":
            raise _refuse(
                f"título {row.number} já está em um acordo ativo: um título não entra em dois "
                "acordos (cancele o acordo atual antes)",
                ErrorCode.ALREADY_IN_AGREEMENT,
            )
        chosen.append(
            DebtInvoice(row.id, row.number, row.due_date, row.balance_cents, settled_fees(row))
        )
    return chosen


@dataclass(frozen=True)
class NegotiationReads:
    """What deciding many customers' offers reads once: the creditor's active régua versions and
    fee terms, and each customer with its invoices (by external id)."""

    policies: list[Policy]
    fees: FeeTerms
    customers: dict[str, Any]
    invoices: dict[int, list[Any]]


def read_for_negotiation(
    connection: Connection, creditor_id: int, customer_external_ids: Sequence[str], now: datetime
) -> NegotiationReads:
    """One read of everything ``negotiable_from`` needs for these customers."""
    found = agreement_store.customers_for_negotiation(
        connection, creditor_id, customer_external_ids
    )
    return NegotiationReads(
        active_policies(connection, creditor_id, now),
        creditor_store.fee_terms(connection, creditor_id) or FeeTerms(),
        found,
        agreement_store.customer_invoices(connection, [row.id for row in found.values()]),
    )


def negotiable_from(
    reads: NegotiationReads,
    customer_external_id: str,
    *,
    today: date,
    invoice_numbers: Sequence[str] | None = None,
) -> Negotiable:
    """The customer's debt and the terms that apply to it; refused with the reason when none
    does (no customer, no overdue debt, no terms in the régua, no rule for this debt)."""
    customer = reads.customers.get(customer_external_id)
    if customer is None:
        raise NotFound(
            f"cliente {customer_external_id!r} não encontrado", code=ErrorCode.NO_CUSTOMER
        )
    invoices = chosen_invoices(reads.invoices.get(customer.id, []), invoice_numbers, today)
    if not invoices:
        raise NotFound(
            f"cliente {customer_external_id} não tem títulos vencidos em aberto para negociar",
            code=ErrorCode.NO_OPEN_INVOICES,
        )
    segment = customer.segment or DEFAULT_SEGMENT
    tags = tuple(t for t in (customer.tags or "").split(",") if t)
    policy = select_policy(reads.policies, segment, tags)
    if policy.negotiation is None:
        raise _refuse(
            f"a régua {policy.name} não tem condições de negociação (bloco negotiation)",
            ErrorCode.NO_TERMS,
        )
    fees = replace(reads.fees, is_consumer=bool(customer.is_consumer))
    debt = debt_today(invoices, fees, today)
    rule = rule_for(policy.negotiation, segment, debt.oldest_days_late, debt.total_cents)
    if rule is None:
        raise _refuse(
            f"nenhuma regra de negociação da régua {policy.name} cobre o segmento {segment} "
            f"com {debt.oldest_days_late} dias de atraso",
            ErrorCode.NO_TERMS,
        )
    return Negotiable(
        customer.id,
        customer.external_id,
        customer.name,
        segment,
        policy.negotiation,
        rule,
        fees,
        tuple(invoices),
    )


def each_negotiable(
    reads: NegotiationReads, requested: Sequence[tuple[str, date, Sequence[str] | None]]
) -> list[Negotiable | ReguaError]:
    """``negotiable_from`` for each (customer, day, invoice numbers); a refusal stands in its
    request's place, for the caller to raise in that request's turn."""
    each: list[Negotiable | ReguaError] = []
    for customer, day, numbers in requested:
        try:
            each.append(negotiable_from(reads, customer, today=day, invoice_numbers=numbers))
        except ReguaError as refused:
            each.append(refused)
    return each


def negotiable(
    connection: Connection,
    creditor_id: int,
    customer_external_id: str,
    *,
    today: date,
    now: datetime,
    invoice_numbers: Sequence[str] | None = None,
) -> Negotiable:
    """``negotiable_from`` for one customer, reading what it needs."""
    reads = read_for_negotiation(connection, creditor_id, [customer_external_id], now)
    return negotiable_from(
        reads, customer_external_id, today=today, invoice_numbers=invoice_numbers
    )


def negotiable_customer(
    connection: Connection, customer: Any, fees: FeeTerms, *, today: date, now: datetime
) -> Negotiable:
    """``negotiable_from`` for a customer already read (id, creditor_id, external_id, name,
    segment, tags, is_consumer) under the creditor's `fees`: a page that has read them already
    (the portal) reads only the régua and the invoices."""
    reads = NegotiationReads(
        active_policies(connection, int(customer.creditor_id), now),
        fees,
        {str(customer.external_id): customer},
        agreement_store.customer_invoices(connection, [int(customer.id)]),
    )
    return negotiable_from(reads, str(customer.external_id), today=today)


def offers_of(found: Negotiable, today: date) -> list[Offer]:
    return make_offers(
        found.invoices,
        found.fee_terms,
        found.rule,
        today,
        validity_days=found.terms.offer_validity_days,
    )


def offers_of_many(found: Sequence[Negotiable], days: Sequence[date]) -> list[list[Offer]]:
    """``offers_of(found[k], days[k])`` for many customers at once: those under the same rule,
    fee terms and day computed together, in columns (``domain.portfolio_offers``)."""
    if len(found) < 2:  # one customer (a screen, the portal): no numpy to load for it
        return [offers_of(one, day) for one, day in zip(found, days, strict=True)]
    # numpy comes in with a batch, not with every command that imports this module
    from regua.domain.portfolio_offers import offers_for_portfolio

    groups: dict[tuple[Hashable, ...], list[int]] = {}
    for k, (one, day) in enumerate(zip(found, days, strict=True)):
        fees = (getattr(one.fee_terms, f.name) for f in fields(one.fee_terms))
        key = (id(one.rule), one.terms.offer_validity_days, day, *map(_hashable, fees))
        groups.setdefault(key, []).append(k)
    offers: list[list[Offer]] = [[] for _ in found]
    for members in groups.values():
        first = found[members[0]]
        portfolio = offers_for_portfolio(
            [found[k].invoices for k in members],
            first.fee_terms,
            first.rule,
            days[members[0]],
            validity_days=first.terms.offer_validity_days,
        )
        for position, k in enumerate(members):
            offers[k] = portfolio.offers(position)
    return offers


def _hashable(value: object) -> Hashable:
    """The value itself, or its identity when it cannot be hashed (a table of rates)."""
    return value if isinstance(value, Hashable) else id(value)


def customer_offers(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    customer_external_id: str,
    *,
    today: date,
    now: datetime,
    invoice_numbers: Sequence[str] | None = None,
) -> CustomerOffers:
    """The offers for one customer's debt today (nothing is written)."""
    with uow() as work:  # never committed: offers are computed, not stored
        found = negotiable(
            work.connection,
            creditor_id,
            customer_external_id,
            today=today,
            now=now,
            invoice_numbers=invoice_numbers,
        )
        return CustomerOffers(
            found.customer_external_id, found.customer_name, found.segment, offers_of(found, today)
        )


def customer_counter_offer(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    customer_external_id: str,
    *,
    today: date,
    now: datetime,
    monthly_cents: Cents | None = None,
    pay_on: date | None = None,
) -> CounterOffer:
    """The nearest plan to what the debtor proposed, or why none fits."""
    with uow() as work:
        found = negotiable(work.connection, creditor_id, customer_external_id, today=today, now=now)
        return counter_offer(
            found.invoices,
            found.fee_terms,
            found.terms,
            found.rule,
            today,
            monthly_cents=monthly_cents,
            pay_on=pay_on,
        )
