"""Agreements (acordos): accepting an offer (the daily review and cancelling are in
`agreements_review`, the payoff quote in `agreements_payoff`).

Accepting an offer, in one transaction (nothing half-written): the agreement row with the
offer's figures as the customer was told them; the original invoices held ("in_agreement": the
régua stops for them, and their pending actions are cancelled); one invoice per installment
with its own PIX txid (and a boleto line when the creditor has a wallet), which a payment pays
like any invoice (CNAB, PIX webhook, spreadsheet); the customer's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from regua.domain.agreements import (
    installment_txid,
)
from regua.domain.calendar import next_bank_business_day
from regua.domain.money import Cents, format_brl
from regua.domain.offers import Offer, build_plan, counter_offer, debt_today, violations
from regua.domain.policy_terms import ROLE_LABELS_PT, Role, may_approve
from regua.error_codes import ErrorCode
from regua.errors import InputError, NotFound, RuleViolation
from regua.payments.boleto import BoletoError, barcode_to_line, make_barcode
from regua.services.message_context import pix_code_for
from regua.services.negotiation import (
    Negotiable,
    each_negotiable,
    offers_of,
    offers_of_many,
    read_for_negotiation,
)
from regua.store import actions as action_store
from regua.store import agreements as store
from regua.store import creditors as creditor_store
from regua.store import timeline
from regua.store.message_context import load_creditors
from regua.store.uow import UnitOfWorkFactory

TIMELINE_KIND = "agreement"


@dataclass(frozen=True)
class AgreementRequest:
    """What a person (or the portal) accepts: offer ``offer`` as made on ``offered_on``; or,
    with ``installments``, a plan of that many installments (beyond the terms only a gestor);
    or, with ``pay_on``, a new due date for the whole debt (prorrogação), within the terms'
    ``negotiation.extension`` days and with the fees up to that day when they say so."""

    customer: str
    offer: int | None = None
    offered_on: date | None = None
    installments: int | None = None
    down_payment_cents: Cents | None = None
    first_due: date | None = None
    invoices: tuple[str, ...] = ()
    pay_on: date | None = None


@dataclass(frozen=True)
class InstallmentMade:
    number: int
    due_date: date
    amount_cents: Cents
    invoice_number: str
    pix_txid: str
    pix_code: str | None
    boleto_line: str | None


@dataclass(frozen=True)
class AgreementMade:
    agreement_id: int
    customer_external_id: str
    customer_name: str
    offer: Offer
    within_terms: bool
    installments: list[InstallmentMade]
    held_invoices: list[str]


def _extension_for(found: Negotiable, pay_on: date, today: date) -> Offer:
    """The prorrogação to `pay_on` as an offer of one payment, or the terms' refusal."""
    answer = counter_offer(
        found.invoices, found.fee_terms, found.terms, found.rule, today, pay_on=pay_on
    )
    if answer.offer is not None:
        return answer.offer
    if pay_on < today:
        code = ErrorCode.DATE_IN_PAST
    elif not found.terms.extension.max_days:
        code = ErrorCode.NO_TERMS
    else:
        code = ErrorCode.DATE_TOO_FAR
    raise RuleViolation(answer.reason or "prorrogação recusada", code=code)


def _offer_for(
    found: Negotiable,
    request: AgreementRequest,
    today: date,
    role: Role,
    offers: list[Offer] | None = None,
) -> Offer:
    """The offer the request accepts, checked; ``offers``: the customer's offers on the day the
    request names, when already computed."""
    if request.pay_on is not None:
        return _extension_for(found, request.pay_on, today)
    offered_on = request.offered_on or today
    if offered_on > today:
        raise InputError(
            f"a data da oferta ({offered_on:%d/%m/%Y}) é posterior a hoje", field="--data-oferta"
        )
    if request.installments is not None:
        offer = build_plan(
            1,
            debt_today(found.invoices, found.fee_terms, offered_on),
            found.rule,
            offered_on,
            offered_on + timedelta(days=found.terms.offer_validity_days),
            request.installments,
            down_payment_cents=request.down_payment_cents,
            first_due=request.first_due,
        )
    else:
        if offers is None:
            offers = offers_of(found, offered_on)
        if request.offer is None or not 1 <= request.offer <= len(offers):
            raise NotFound(
                f"oferta {request.offer} não existe para o cliente {found.customer_external_id}; "
                f"ofertas: 1 a {len(offers)} (veja regua offers --customer "
                f"{found.customer_external_id})",
                code=ErrorCode.UNKNOWN_OFFER,
            )
        offer = offers[request.offer - 1]
    if today > offer.valid_until:
        raise RuleViolation(
            f"oferta expirada: feita em {offered_on:%d/%m/%Y}, valia até "
            f"{offer.valid_until:%d/%m/%Y} ({found.terms.offer_validity_days} dias); "
            "faça uma nova oferta",
            code=ErrorCode.OFFER_EXPIRED,
        )
    if request.installments is None:
        # An offer accepted days after it was made keeps its figures; a payment it dated on a
        # day gone by falls due on the first business day from today.
        start = next_bank_business_day(today)
        offer = offer._replace(
            payments=tuple(p._replace(due_date=max(p.due_date, start)) for p in offer.payments),
        )
    problems = violations(offer, found.rule, today)
    past = min((p.due_date for p in offer.payments if p.due_date < today), default=None)
    if past is not None:
        raise RuleViolation(
            f"parcela com vencimento no passado ({past:%d/%m/%Y}; hoje é {today:%d/%m/%Y})",
            code=ErrorCode.DATE_IN_PAST,
        )
    if problems and not may_approve(role, False, found.terms):
        who = (
            "só um gestor pode aprovar"
            if found.terms.beyond_terms_approver == "gestor"
            else "a régua não permite acordos fora das condições"
        )
        raise RuleViolation(
            f"acordo fora das condições da régua ({'; '.join(problems)}): {who}",
            code=ErrorCode.OUTSIDE_TERMS,
        )
    return offer._replace(number=request.offer or 0)


def _boleto_line(
    wallet: Any, agreement_id: int, number: int, due: date, cents: Cents
) -> tuple[str | None, str | None]:
    """(line, nosso número) of an installment's boleto, or (None, None) without a wallet.

    The campo livre is the one Bradesco and many correspondents use (agência 4, carteira 2,
    nosso número 11, conta 7, zero): registering the boleto with the bank stays the creditor's
    step, as for every invoice it imports.
    """
    if wallet is None:
        return None, None
    nosso = f"{agreement_id:09d}{number:02d}"
    agency = "".join(c for c in wallet.agency if c.isdigit())[-4:].zfill(4)
    account = "".join(c for c in wallet.account if c.isdigit())[-7:].zfill(7)
    carteira = "".join(c for c in wallet.wallet if c.isdigit())[-2:].zfill(2)
    try:
        barcode = make_barcode(
            bank_code=wallet.bank,
            due_date=due,
            amount_cents=cents,
            free_field=f"{agency}{carteira}{nosso}{account}0",
        )
    except BoletoError:
        return None, None
    return barcode_to_line(barcode), nosso


def _agreement_row(
    creditor_id: int,
    found: Negotiable,
    offer: Offer,
    within: bool,
    *,
    today: date,
    now: datetime,
    accepted_by: str,
    channel: str,
    role: Role,
) -> dict[str, Any]:
    debt = offer.debt
    return {
        "creditor_id": creditor_id,
        "customer_id": found.customer_id,
        "status": "active",
        "made_on": today,
        "kind": offer.kind,
        "offer_number": offer.number,
        "accepted_by": accepted_by,
        "channel": channel,
        "approved_by_role": role,
        "within_terms": within,
        "principal_cents": debt.principal_cents,
        "late_fee_cents": debt.late_fee_cents,
        "interest_cents": debt.interest_cents,
        "debt_cents": debt.total_cents,
        "discount_cents": offer.discount_cents,
        "down_payment_cents": offer.down_payment_cents,
        "total_cents": offer.total_cents,
        "installment_count": max(offer.count, 1),
        "interest_kind": offer.interest_kind,
        "interest_monthly_bp": offer.interest_monthly_bp,
        "monthly_rate": str(offer.monthly_rate),
        "annual_rate": str(offer.annual_rate),
        "break_days_late": found.terms.breaking.days_late,
        "created_at": now,
    }


def _installments(
    agreement_id: int,
    found: Negotiable,
    offer: Offer,
    *,
    creditor_id: int,
    today: date,
    now: datetime,
    creditor: Any,
    wallet: Any,
) -> tuple[list[dict[str, Any]], list[InstallmentMade]]:
    """The installment invoices of an agreement (rows to insert) and what to tell about them."""
    rows, made = [], []
    count = offer.count
    for payment in offer.payments:
        txid = installment_txid(agreement_id, payment.number)
        line, nosso = _boleto_line(
            wallet, agreement_id, payment.number, payment.due_date, payment.amount_cents
        )
        number = (
            f"ACORDO-{agreement_id}-ENTRADA"
            if payment.number == 0
            else f"ACORDO-{agreement_id}-{payment.number}/{count}"
        )
        what = "entrada" if payment.number == 0 else f"parcela {payment.number} de {count}"
        rows.append(
            {
                "creditor_id": creditor_id,
                "customer_id": found.customer_id,
                "external_id": f"acordo-{agreement_id}-{payment.number}",
                "number": number,
                "description": f"Acordo {agreement_id}: {what}",
                "issue_date": today,
                "due_date": payment.due_date,
                "effective_due_date": payment.due_date,
                "amount_cents": payment.amount_cents,
                "balance_cents": payment.amount_cents,
                "status": "open",
                "boleto_line": line,
                "nosso_numero": nosso,
                "pix_txid": txid,
                "agreement_id": agreement_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        made.append(
            InstallmentMade(
                payment.number,
                payment.due_date,
                payment.amount_cents,
                number,
                txid,
                pix_code_for(creditor, payment.amount_cents, txid) if creditor else None,
                line,
            )
        )
    return rows, made


def create_agreements(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    requests: Sequence[AgreementRequest],
    *,
    today: date,
    now: datetime,
    accepted_by: str,
    channel: str = "operador",
    role: Role = "operator",
) -> list[AgreementMade]:
    """Accept each request's offer, all in one transaction: one refused, none written.

    Set-based: the customers, their invoices, the régua and the fee terms are read once, every
    offer is checked before anything is written, then each table is written in batches.
    """
    with uow() as work:
        connection = work.connection
        creditor = load_creditors(connection, {creditor_id}).get(creditor_id)
        profile = creditor_store.profile(connection, creditor_id)
        wallet = profile.boleto if profile is not None else None
        reads = read_for_negotiation(connection, creditor_id, [r.customer for r in requests], now)
        each = each_negotiable(
            reads, [(r.customer, r.offered_on or today, r.invoices) for r in requests]
        )
        # The offers of every request that accepts one by number, computed together.
        picking: dict[int, Negotiable] = {}
        for k, (request, found) in enumerate(zip(requests, each, strict=True)):
            if request.installments is None and isinstance(found, Negotiable):
                picking[k] = found
        computed = offers_of_many(
            list(picking.values()), [requests[k].offered_on or today for k in picking]
        )
        offered = dict(zip(picking, computed, strict=True))
        accepted: list[tuple[Negotiable, Offer, bool]] = []
        taken: set[int] = set()
        for k, (request, found) in enumerate(zip(requests, each, strict=True)):
            if not isinstance(found, Negotiable):
                raise found
            twice = [i.number for i in found.invoices if i.invoice_id in taken]
            if twice:
                raise RuleViolation(
                    f"título {twice[0]} já está em um acordo ativo: um título não entra em dois "
                    "acordos (cancele o acordo atual antes)",
                    code=ErrorCode.ALREADY_IN_AGREEMENT,
                )
            taken.update(i.invoice_id for i in found.invoices)
            offer = _offer_for(found, request, today, role, offered.get(k))
            accepted.append((found, offer, not violations(offer, found.rule, today)))
        ids = store.insert_agreements(
            connection,
            [
                _agreement_row(
                    creditor_id,
                    found,
                    offer,
                    within,
                    today=today,
                    now=now,
                    accepted_by=accepted_by,
                    channel=channel,
                    role=role,
                )
                for found, offer, within in accepted
            ],
        )
        held = [
            (agreement_id, invoice.invoice_id, invoice.balance_cents)
            for agreement_id, (found, _, _) in zip(ids, accepted, strict=True)
            for invoice in found.invoices
        ]
        store.hold_invoices(connection, held, now)
        action_store.cancel_unbacked(connection, invoice_ids=[h[1] for h in held])
        rows: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        made: list[AgreementMade] = []
        for agreement_id, (found, offer, within) in zip(ids, accepted, strict=True):
            installment_rows, told = _installments(
                agreement_id,
                found,
                offer,
                creditor_id=creditor_id,
                today=today,
                now=now,
                creditor=creditor,
                wallet=wallet,
            )
            rows += installment_rows
            approval = (
                "" if within else f"; fora das condições, aprovado por {ROLE_LABELS_PT[role]}"
            )
            entries.append(
                {
                    "customer_id": found.customer_id,
                    "invoice_id": None,
                    "at": now,
                    "kind": TIMELINE_KIND,
                    "detail": (
                        f"acordo {agreement_id} aceito por {accepted_by} ({channel}): "
                        f"{offer.describe()}, total {format_brl(offer.total_cents)}; dívida de "
                        f"{format_brl(offer.debt.total_cents)} "
                        f"({', '.join(i.number for i in found.invoices)}){approval}"
                    ),
                    "data": {
                        "agreement_id": agreement_id,
                        "event": "accepted",
                        "offer": offer.number,
                    },
                }
            )
            made.append(
                AgreementMade(
                    agreement_id,
                    found.customer_external_id,
                    found.customer_name,
                    offer,
                    within,
                    told,
                    [invoice.number for invoice in found.invoices],
                )
            )
        store.insert_installments(connection, rows)
        timeline.add_entries(connection, entries)
        work.commit()
    return made


def create_agreement(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    request: AgreementRequest,
    *,
    today: date,
    now: datetime,
    accepted_by: str,
    channel: str = "operador",
    role: Role = "operator",
) -> AgreementMade:
    """Accept one offer (see ``create_agreements``)."""
    return create_agreements(
        uow,
        creditor_id,
        [request],
        today=today,
        now=now,
        accepted_by=accepted_by,
        channel=channel,
        role=role,
    )[0]


# --- after acceptance -----------------------------------------------------------------------
