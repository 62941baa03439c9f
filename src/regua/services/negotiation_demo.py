"""The demo's negotiations: agreements and promises made in the weeks before the demo's first
day, some kept and some not, so that the simulated days complete, break and decide them and the
sheet, the timeline and the segments have something to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from regua.domain.settlement import IncomingPayment
from regua.errors import ReguaError
from regua.services.agreements import AgreementMade, AgreementRequest, create_agreement
from regua.services.promises import record_promise
from regua.services.reconciling import reconcile
from regua.store import agreements as agreement_store
from regua.store.uow import UnitOfWorkFactory


@dataclass
class DemoNegotiations:
    agreements: int = 0
    promises: int = 0


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(15, 0), UTC)


def _pay(
    uow: UnitOfWorkFactory, creditor_id: int, invoice_id: int, cents: int, day: date, key: str
) -> None:
    with uow() as work:
        reconcile(
            work.connection,
            creditor_id,
            [IncomingPayment(key, cents, day, invoice_id=invoice_id, method="pix")],
            source="manual",
            now=_noon(day),
            day=day,
        )
        work.commit()


def _installment_ids(uow: UnitOfWorkFactory, made: AgreementMade) -> dict[int, int]:
    with uow() as work:
        items = agreement_store.installments_of(work.connection, [made.agreement_id])
    return {item.number: item.invoice_id for item in items.get(made.agreement_id, [])}


def seed_negotiations(uow: UnitOfWorkFactory, creditor_id: int, today: date) -> DemoNegotiations:
    """Agreements (paid off, on track, about to break) and promises (kept, broken, open)."""
    done = DemoNegotiations()
    with uow() as work:
        names = agreement_store.customers_overdue_since(
            work.connection, creditor_id, today - timedelta(days=60), 12
        )
    # (days before today the offer was accepted, offer number, installments paid)
    plans = [(10, 1, 1), (12, 1, 1), (40, 3, 2), (45, 2, 2), (38, 4, 2), (60, 3, 0), (62, 2, 0)]
    for external_id, (days_ago, offer, paid) in zip(names, plans, strict=False):
        day = today - timedelta(days=days_ago)
        made = None
        # a small debt may have fewer offers: then the first (paying at once)
        for number in dict.fromkeys((offer, 1)):
            try:
                made = create_agreement(
                    uow,
                    creditor_id,
                    AgreementRequest(external_id, offer=number),
                    today=day,
                    now=_noon(day),
                    accepted_by="demo",
                    channel="telefone",
                )
                break
            except ReguaError:
                continue  # no such offer, or a debt the terms do not cover
        if made is None:
            continue
        done.agreements += 1
        ids = _installment_ids(uow, made)
        for item in made.installments[:paid]:
            if item.due_date < today:
                _pay(
                    uow,
                    creditor_id,
                    ids[item.number],
                    item.amount_cents,
                    item.due_date,
                    f"demo-acordo-{made.agreement_id}-{item.number}",
                )
    promised = names[len(plans) :]
    for k, external_id in enumerate(promised):
        made_on = today - timedelta(days=8)
        until = today - timedelta(days=2) if k < 3 else today + timedelta(days=4)
        try:
            record_promise(
                uow,
                creditor_id,
                external_id,
                amount_cents=10_000,
                promised_for=until,
                channel="phone",
                recorded_by="demo",
                today=made_on,
                now=_noon(made_on),
            )
        except ReguaError:
            continue
        done.promises += 1
        if k == 0:  # one promise kept: the money arrived before its date
            _keep(uow, creditor_id, external_id, today - timedelta(days=4))
    return done


def _keep(uow: UnitOfWorkFactory, creditor_id: int, external_id: str, day: date) -> None:
    with uow() as work:
        customer = agreement_store.customer_for_negotiation(
            work.connection, creditor_id, external_id
        )
        assert customer is not None
        rows = agreement_store.customer_invoices(work.connection, [customer.id]).get(
            customer.id, []
        )
    open_rows = [row for row in rows if row.status == "open"]
    if open_rows:
        _pay(uow, creditor_id, open_rows[0].id, 10_000, day, f"demo-promessa-{external_id}")
