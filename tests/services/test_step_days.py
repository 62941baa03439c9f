"""When the planner looks at an invoice again: its next step day, closing and reopening."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select

from regua.services.planning import plan
from regua.services.settling import IncomingPayment, IncomingReversal, reconcile
from regua.services.setup import CreditorIn, create_creditor
from regua.store import migrate
from regua.store.db import make_engine
from regua.store.tables import (
    NO_MORE_STEPS,
    RECOMPUTE_STEP_DAY,
    actions,
    customers,
    invoice_steps,
    invoices,
)
from tests.builders import CUSTOMERS_CSV, NOW, invoice_row, run_import, write_csv

MONDAY = date(2026, 11, 23)
FRIDAY_DUE = date(2026, 11, 20)  # D+3 on Monday, D+10 on 30/11
# The next look is the next offset of any active régua: D+7 is a step of "empresas".
D7, D10, D15 = (FRIDAY_DUE + timedelta(days=n) for n in (7, 10, 15))
INVOICES = """
id;codigo_cliente;descricao;vencimento;valor
X;C3;Parcela de móveis;20/11/2026;450,00
"""


def _portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return int(invoice_row(engine, "X").id)


def _steps_planned(engine: Engine, creditor_id: int, day: date) -> list[str]:
    with engine.begin() as connection:
        result = plan(connection, creditor_id, day, NOW)
    return [a.step.id for a in result.actions]


def _memory(engine: Engine, invoice_id: int) -> tuple:
    with engine.connect() as connection:
        row = connection.execute(
            select(
                invoice_steps.c.next_step_on,
                invoice_steps.c.last_step_id,
                invoices.c.next_step_on,
            )
            .join(invoices, invoices.c.id == invoice_steps.c.invoice_id)
            .where(invoice_steps.c.invoice_id == invoice_id)
        ).one()
    return tuple(row)


def test_a_looked_at_invoice_waits_for_its_next_step_day(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    invoice_id = _portfolio(engine, creditor_id, tmp_path)

    assert _steps_planned(engine, creditor_id, MONDAY) == ["atraso-3"]
    # The planner took the invoice over: its next look is kept in the step memory.
    assert _memory(engine, invoice_id) == (D7, "atraso-3", NO_MORE_STEPS)
    for offset in range(1, 7):
        assert _steps_planned(engine, creditor_id, MONDAY + timedelta(days=offset)) == []
        if MONDAY + timedelta(days=offset) == D7:  # looked at, no step of its régua: D+10 next
            assert _memory(engine, invoice_id)[:2] == (D10, "atraso-3")
    assert _steps_planned(engine, creditor_id, D10) == ["atraso-10"]
    assert _memory(engine, invoice_id)[:2] == (D15, "atraso-10")


def test_a_paid_invoice_leaves_the_plan_and_a_reversal_brings_it_back(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    invoice_id = _portfolio(engine, creditor_id, tmp_path)
    assert _steps_planned(engine, creditor_id, MONDAY) == ["atraso-3"]
    paid_on = date(2026, 11, 24)  # late: with multa and juros, 500,00 pays it off
    with engine.begin() as connection:
        reconcile(
            connection,
            creditor_id,
            [IncomingPayment("pix:E1", 50000, paid_on, invoice_id=invoice_id)],
            source="pix",
            now=NOW,
            day=paid_on,
        )

    # D+10 comes while it is paid: nothing is planned, and it leaves the planner's range with
    # its memory kept (the thank-you of 24/11 is the only other action).
    assert _steps_planned(engine, creditor_id, date(2026, 11, 30)) == []
    assert _memory(engine, invoice_id) == (None, "atraso-3", NO_MORE_STEPS)

    with engine.begin() as connection:
        reconcile(
            connection,
            creditor_id,
            [],
            source="pix",
            now=NOW,
            reversals=[
                IncomingReversal("pix:E1:estorno", invoice_id, 50000, date(2026, 12, 1), "estorno")
            ],
            day=date(2026, 12, 1),
        )
    assert invoice_row(engine, "X").next_step_on == RECOMPUTE_STEP_DAY
    # Reopened at D+12: the latest step not yet sent, once; never atraso-3 again.
    assert _steps_planned(engine, creditor_id, date(2026, 12, 2)) == ["atraso-10"]
    assert _steps_planned(engine, creditor_id, date(2026, 12, 3)) == []
    with engine.connect() as connection:
        planned = connection.execute(
            select(actions.c.planned_for, actions.c.step_id)
            .join(customers, customers.c.id == actions.c.customer_id)
            .where(actions.c.purpose == "collection")
            .order_by(actions.c.planned_for)
        ).all()
    assert [tuple(r) for r in planned] == [(MONDAY, "atraso-3"), (date(2026, 12, 2), "atraso-10")]


def test_a_changed_due_date_is_looked_at_again(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    invoice_id = _portfolio(engine, creditor_id, tmp_path)
    assert _steps_planned(engine, creditor_id, MONDAY) == ["atraso-3"]
    moved = INVOICES.replace("20/11/2026", "14/11/2026")  # now D+10 on Tuesday 24/11
    run_import(engine, "invoices", write_csv(tmp_path / "t2.csv", moved), creditor_id)
    assert invoice_row(engine, "X").next_step_on == RECOMPUTE_STEP_DAY

    assert _steps_planned(engine, creditor_id, date(2026, 11, 24)) == ["atraso-10"]
    assert _memory(engine, invoice_id)[2] == NO_MORE_STEPS


def test_upgrade_keeps_the_step_memory_of_an_earlier_version(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0003")
    # Written with the tables as version 0003 had them: only what the old planner stored.
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, CreditorIn(), NOW)
        connection.execute(
            insert(customers).values(
                id=1,
                creditor_id=creditor_id,
                external_id="C",
                name="Ana",
                document="52998224725",
                document_kind="cpf",
                is_consumer=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        connection.execute(
            insert(invoices).values(
                id=1,
                creditor_id=creditor_id,
                customer_id=1,
                external_id="X",
                number="X",
                description="Parcela",
                due_date=FRIDAY_DUE,
                effective_due_date=FRIDAY_DUE,
                amount_cents=100,
                balance_cents=100,
                next_step_on=D10,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        connection.exec_driver_sql(
            "INSERT INTO invoice_steps (invoice_id, last_offset, last_step_id, last_planned_for)"
            " VALUES (1, 3, 'atraso-3', '2026-11-23')"
        )

    migrate.upgrade(engine)

    with engine.connect() as connection:
        row = connection.execute(select(invoice_steps)).one()
        day = connection.execute(select(invoices.c.next_step_on)).scalar_one()
    assert tuple(row) == (1, None, 3, "atraso-3", date(2026, 11, 23))
    assert day == D10  # still asked for by the invoice until the next look
    engine.dispose()
