"""The life of an agreement after it is made: the daily review that completes or breaks it, and
cancelling one.

The daily review (``review_agreements``, run by ``regua run`` before planning): an agreement
whose installments are all paid is completed and the originals settled; one with an installment
late by the terms' days is broken: the originals come back less what was paid, due on their
original dates (so multa and juros run from them) and the régua resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Connection

from regua.domain.agreements import (
    BrokenAgreement,
    HeldInvoice,
    all_paid,
    breaking_installment,
    paid_under,
    restored_balances,
)
from regua.domain.money import Cents, format_brl
from regua.error_codes import ErrorCode
from regua.errors import NotFound
from regua.services import agreements_notices as notices
from regua.services import agreements_payoff as payoff
from regua.services.agreements import TIMELINE_KIND
from regua.store import agreements as store
from regua.store import timeline
from regua.store.uow import UnitOfWorkFactory


@dataclass
class AgreementReview:
    completed: list[int]
    broken: list[int]
    # What the operator is told (the run's summary) and the customer's messages planned.
    broken_details: list[BrokenAgreement] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)


class _Ended(NamedTuple):
    owed_cents: Cents
    held: list[HeldInvoice]
    balances: list[tuple[int, Cents]]
    paid_cents: Cents


def _end(
    connection: Connection,
    agreement_id: int,
    customer_id: int,
    *,
    status: str,
    reason: str,
    today: date,
    now: datetime,
) -> _Ended:
    """Give the originals back less what was paid, cancel the installments not paid; what is
    owed again (principal), from what."""
    installments = store.installments_of(connection, [agreement_id]).get(agreement_id, [])
    held = store.held_of(connection, [agreement_id]).get(agreement_id, [])
    paid = paid_under(installments)
    balances = restored_balances(held, paid)
    store.restore(connection, balances, today, now)
    store.cancel_open_installments(connection, agreement_id, now)
    store.close(connection, agreement_id, status, today, reason)
    owed = sum(balance for _, balance in balances)
    timeline.add_entry(
        connection,
        customer_id=customer_id,
        invoice_id=None,
        at=now,
        kind=TIMELINE_KIND,
        detail=(
            f"acordo {agreement_id} {'quebrado' if status == 'broken' else 'cancelado'}: "
            f"{reason}; os títulos originais voltam à cobrança com {format_brl(owed)} de "
            "principal, com multa e juros desde os vencimentos originais"
        ),
        data={"agreement_id": agreement_id, "event": status, "owed_cents": owed},
    )
    return _Ended(owed, held, balances, paid)


def review_agreements(
    connection: Connection, creditor_id: int, today: date, now: datetime
) -> AgreementReview:
    """Complete the agreements whose installments are all paid and break those with an
    installment late by the terms' days, in the caller's transaction."""
    review = AgreementReview([], [])
    active = store.active(connection, creditor_id)
    installments = store.installments_of(connection, [row.id for row in active])
    early = payoff.paid_off(connection, active, today)
    for row in active:
        items = installments.get(row.id, [])
        if row.id in early:
            payoff.complete(connection, row, early[row.id], items, today, now)
            review.completed.append(row.id)
            continue
        if all_paid(items):
            held = store.held_of(connection, [row.id]).get(row.id, [])
            store.settle(connection, [h.invoice_id for h in held], today, now)
            store.close(connection, row.id, "completed", today, "todas as parcelas pagas")
            timeline.add_entry(
                connection,
                customer_id=row.customer_id,
                invoice_id=None,
                at=now,
                kind=TIMELINE_KIND,
                detail=f"acordo {row.id} cumprido: todas as parcelas pagas, títulos quitados",
                data={"agreement_id": row.id, "event": "completed"},
            )
            review.completed.append(row.id)
            continue
        late = breaking_installment(items, row.break_days_late, today)
        if late is not None:
            what = "entrada" if late.number == 0 else f"parcela {late.number}"
            reason = (
                f"{what} vencida em {late.effective_due_date:%d/%m/%Y} está "
                f"{(today - late.effective_due_date).days} dias em atraso (limite "
                f"{row.break_days_late})"
            )
            ended = _end(
                connection,
                row.id,
                row.customer_id,
                status="broken",
                reason=reason,
                today=today,
                now=now,
            )
            review.broken.append(row.id)
            broken = notices.broken_agreement(
                connection,
                creditor_id,
                row.id,
                row.customer_id,
                made_on=row.made_on,
                reason=reason,
                held=ended.held,
                balances=ended.balances,
                paid_cents=ended.paid_cents,
                today=today,
            )
            review.broken_details.append(broken)
            notice = notices.notify_customer(connection, creditor_id, broken, day=today, now=now)
            if notice is not None:
                review.notices.append(notice)
    return review


def cancel_agreement(
    uow: UnitOfWorkFactory,
    creditor_id: int,
    agreement_id: int,
    *,
    reason: str,
    by: str,
    today: date,
    now: datetime,
) -> Cents:
    """Cancel an active agreement: the originals come back less what was paid; what is owed."""
    with uow() as work:
        row = store.agreement_row(work.connection, creditor_id, agreement_id)
        if row is None or row.status != "active":
            state = "não existe" if row is None else f"não está ativo ({row.status})"
            raise NotFound(f"acordo {agreement_id} {state}", code=ErrorCode.UNKNOWN_AGREEMENT)
        owed = _end(
            work.connection,
            agreement_id,
            row.customer_id,
            status="cancelled",
            reason=f"cancelado por {by}: {reason}",
            today=today,
            now=now,
        ).owed_cents
        work.commit()
    return owed
