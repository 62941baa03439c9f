"""The daily plan over the store, on SQLite and PostgreSQL: idempotency, stops, cancellation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from regua.domain.fees import FeeTerms
from regua.domain.planning import StartChoice
from regua.services import pausing
from regua.services.daily_cycle import plan
from regua.services.reconciling import apply_matched_payments
from regua.store.tables import (
    actions,
    customers,
    invoices,
    promises,
)
from tests.builders import CUSTOMERS_CSV, NOW, pointing_at_nothing, run_import, units, write_csv

MONDAY = date(2026, 11, 23)
INVOICES = """
id;codigo_cliente;descricao;vencimento;valor
A;C1;Mensalidade internet;23/11/2026;99,90
B;C1;Instalação;20/11/2026;299,00
C;C3;Parcela de móveis;23/11/2026;450,00
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _plan(
    engine: Engine, creditor_id: int, day: date, start: StartChoice | None = None
) -> tuple[int, list[tuple]]:
    with engine.begin() as connection:
        result = plan(connection, creditor_id, day, NOW, start=start)
    rows = [
        (a.customer_id, a.status, a.step.id, a.channel, len(a.invoices)) for a in result.actions
    ]
    return result.inserted, rows


def _actions(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                select(
                    customers.c.external_id,
                    actions.c.planned_for,
                    actions.c.status,
                    actions.c.step_id,
                    actions.c.channel,
                )
                .join(customers, customers.c.id == actions.c.customer_id)
                .order_by(customers.c.external_id, actions.c.planned_for)
            )
        ]


def test_plan_consolidates_and_is_idempotent(engine: Engine, portfolio: int) -> None:
    inserted, _rows = _plan(engine, portfolio, MONDAY)
    assert inserted == 2
    assert _actions(engine) == [
        ("C1", MONDAY, "planned", "atraso-3", "whatsapp"),  # A (D0) and B (D+3) together
        ("C3", MONDAY, "planned", "vence-hoje", "whatsapp"),
    ]
    again, _rows = _plan(engine, portfolio, MONDAY)
    assert again == 0
    assert len(_actions(engine)) == 2
    assert pointing_at_nothing(engine) == []


def test_a_payment_written_in_the_same_transaction_is_seen_by_the_plan(
    engine: Engine, portfolio: int
) -> None:
    # The plan reads its candidates beside its own connection only while that has written
    # nothing; here a payment comes first in the same transaction, as in `regua demo`.
    with engine.begin() as connection:
        invoice_c = connection.execute(
            select(invoices.c.id).where(invoices.c.external_id == "C")
        ).scalar_one()
        apply_matched_payments(
            connection,
            portfolio,
            [{"external_id": "P1", "invoice_id": invoice_c, "amount_cents": 45000,
              "paid_on": MONDAY, "method": "pix"}],
            source="import",
            now=NOW,
            terms=FeeTerms(),
        )  # fmt: skip
        result = plan(connection, portfolio, MONDAY, NOW)
    assert [(a.customer_id, a.step.id) for a in result.actions] == [(1, "atraso-3")]
    assert ("C3", MONDAY, "planned", "vence-hoje", "whatsapp") not in _actions(engine)
    assert pointing_at_nothing(engine) == []  # the thank-you's link too


def test_unique_key_forbids_a_second_action_for_the_same_day(
    engine: Engine, portfolio: int
) -> None:
    _plan(engine, portfolio, MONDAY)
    with engine.connect() as connection:
        row = connection.execute(select(actions).limit(1)).mappings().one()
    duplicate = {k: v for k, v in row.items() if k != "id"}
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(actions.insert().values(duplicate))


def test_paid_invoice_cancels_its_pending_action(engine: Engine, portfolio: int) -> None:
    _plan(engine, portfolio, MONDAY)
    with engine.begin() as connection:
        connection.execute(
            update(invoices)
            .where(invoices.c.external_id == "C")
            .values(status="paid", balance_cents=0, settled_on=MONDAY)
        )
    _plan(engine, portfolio, date(2026, 11, 24))
    assert ("C3", MONDAY, "cancelled", "vence-hoje", "whatsapp") in _actions(engine)


def test_pause_and_promise_stop_the_plan(engine: Engine, portfolio: int) -> None:
    pausing.pause(
        units(engine),
        portfolio,
        customer="C1",
        invoice=None,
        reason="cliente em negociação",
        until=None,
        now=NOW,
        today=NOW.date(),
    )
    with engine.begin() as connection:
        c3 = connection.execute(
            select(customers.c.id).where(customers.c.external_id == "C3")
        ).scalar_one()
        connection.execute(
            promises.insert().values(
                customer_id=c3, amount_cents=45000, promised_for=date(2026, 11, 30), created_at=NOW
            )
        )
    inserted, _rows = _plan(engine, portfolio, MONDAY)
    assert inserted == 0
    pausing.resume(units(engine), portfolio, customer="C1", invoice=None, now=NOW)
    inserted, rows = _plan(engine, portfolio, MONDAY)
    assert rows == [(1, "planned", "atraso-3", "whatsapp", 2)]


def test_sunday_defers_and_monday_sends_once(engine: Engine, portfolio: int) -> None:
    sunday = date(2026, 11, 22)
    with engine.begin() as connection:
        connection.execute(
            update(invoices)
            .where(invoices.c.external_id == "C")
            .values(due_date=sunday, effective_due_date=MONDAY)
        )
    _plan(engine, portfolio, sunday, start="recuperar")  # C1's overdue step is caught up
    _plan(engine, portfolio, MONDAY)
    rows = [r for r in _actions(engine) if r[0] == "C3"]
    assert rows == [
        ("C3", sunday, "deferred", "vence-hoje", None),
        ("C3", MONDAY, "planned", "vence-hoje", "whatsapp"),
    ]
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(actions)).scalar_one()
    assert total == 4  # C1 too: deferred on Sunday, planned on Monday
