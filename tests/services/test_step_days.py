"""When the planner looks at an invoice again: its next step day, closing and reopening."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select

from regua.policies.loader import packaged_policy_text
from regua.services import pausing
from regua.services.daily_cycle import plan
from regua.services.importing import import_file
from regua.services.policies import apply_policy_text
from regua.services.reconciling import IncomingPayment, IncomingReversal, reconcile
from regua.store import migrate
from regua.store.db import make_engine
from regua.store.tables import (
    actions,
    creditors,
    customers,
    invoice_steps,
    invoices,
)
from tests.builders import CUSTOMERS_CSV, NOW, invoice_row, run_import, units, write_csv

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


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), UTC)


def _steps_planned(engine: Engine, creditor_id: int, day: date) -> list[str]:
    # each day's run at noon of that day: the invoices written since the last run are known
    # by the instant they were written
    with engine.begin() as connection:
        result = plan(connection, creditor_id, day, _noon(day))
    return [a.step.id for a in result.actions]


def _memory(engine: Engine, invoice_id: int) -> tuple:
    with engine.connect() as connection:
        row = connection.execute(
            select(invoice_steps.c.next_step_on, invoice_steps.c.last_step_id).where(
                invoice_steps.c.invoice_id == invoice_id
            )
        ).one()
    return tuple(row)


def test_a_looked_at_invoice_waits_for_its_next_step_day(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    invoice_id = _portfolio(engine, creditor_id, tmp_path)

    assert _steps_planned(engine, creditor_id, MONDAY) == ["atraso-3"]
    # Its next look is kept in the step memory.
    assert _memory(engine, invoice_id) == (D7, "atraso-3")
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
            now=_noon(paid_on),
            day=paid_on,
        )

    # D+10 comes while it is paid: nothing is planned, and it leaves the planner's range with
    # its memory kept (the thank-you of 24/11 is the only other action).
    assert _steps_planned(engine, creditor_id, date(2026, 11, 30)) == []
    assert _memory(engine, invoice_id) == (None, "atraso-3")

    with engine.begin() as connection:
        reconcile(
            connection,
            creditor_id,
            [],
            source="pix",
            now=_noon(date(2026, 12, 1)),
            reversals=[
                IncomingReversal("pix:E1:estorno", invoice_id, 50000, date(2026, 12, 1), "estorno")
            ],
            day=date(2026, 12, 1),
        )
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
    assert _steps_planned(engine, creditor_id, date(2026, 11, 24)) == []
    assert _steps_planned(engine, creditor_id, date(2026, 11, 25)) == []
    moved = INVOICES.replace("20/11/2026", "14/11/2026")  # D+11 on 25/11: atraso-10 is due
    import_file(
        units(engine),
        "invoices",
        write_csv(tmp_path / "t2.csv", moved),
        creditor_id=creditor_id,
        now=_noon(date(2026, 11, 25)) + timedelta(hours=3),  # after that day's run
    )
    # Its step day said 27/11; written since the last run, it is looked at the next day.
    assert _memory(engine, invoice_id) == (D7, "atraso-3")
    assert _steps_planned(engine, creditor_id, date(2026, 11, 26)) == ["atraso-10"]
    assert _memory(engine, invoice_id) == (date(2026, 11, 29), "atraso-10")


def test_upgrade_keeps_the_step_memory_of_an_earlier_version(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0003")
    # Written with the tables as version 0003 had them: only what the old planner stored.
    with engine.begin() as connection:
        creditor_id = 1
        connection.execute(
            insert(creditors).values(
                id=1, name="Empresa Exemplo Ltda", document="11222333000181", created_at=NOW
            )
        )
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
    assert tuple(row) == (1, None, 3, "atraso-3", date(2026, 11, 23))
    # The first run after the upgrade looks at every open invoice and remembers atraso-3.
    assert _steps_planned(engine, creditor_id, MONDAY + timedelta(days=1)) == []
    assert _steps_planned(engine, creditor_id, D10) == ["atraso-10"]
    engine.dispose()


def test_a_new_invoice_held_back_by_a_pause_is_looked_at_when_it_ends(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    _portfolio(engine, creditor_id, tmp_path)
    pausing.pause(
        units(engine),
        creditor_id,
        customer="C3",
        invoice=None,
        reason="negociando",
        until=date(2026, 11, 25),
        now=NOW,
        today=NOW.date(),
    )
    for day in (MONDAY, date(2026, 11, 24), date(2026, 11, 25)):
        assert _steps_planned(engine, creditor_id, day) == []
    # Written before the last runs, it is no longer new to the planner; the pause kept its day.
    assert _steps_planned(engine, creditor_id, date(2026, 11, 26)) == ["atraso-3"]


def test_a_new_regua_version_looks_at_every_open_invoice_again(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    invoice_id = _portfolio(engine, creditor_id, tmp_path)
    assert _steps_planned(engine, creditor_id, MONDAY) == ["atraso-3"]
    assert _memory(engine, invoice_id) == (D7, "atraso-3")
    assert _steps_planned(engine, creditor_id, date(2026, 11, 24)) == []
    assert _steps_planned(engine, creditor_id, date(2026, 11, 25)) == []
    text = packaged_policy_text("padrao")
    five_days = """  - id: atraso-5
    offset: 5
    channels: [email, whatsapp, sms]
    template: atraso_lembrete
  - id: atraso-10
"""
    with engine.begin() as connection:
        apply_policy_text(
            connection,
            creditor_id,
            text.replace("  - id: atraso-10\n", five_days),
            "padrao.yaml",
            _noon(date(2026, 11, 25)) + timedelta(hours=1),
        )
    # Its day said 27/11, from the steps it knew; run again, 25/11 has the new step at D+5.
    assert _steps_planned(engine, creditor_id, date(2026, 11, 25)) == ["atraso-5"]
