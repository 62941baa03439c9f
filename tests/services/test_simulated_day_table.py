"""The demo's day table says why a day planned nothing (a Sunday, a holiday, nothing due) and
counts the thank-yous sent for the payments. On SQLite and PostgreSQL: the thank-yous are
counted from the stored actions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from regua.config import Settings
from regua.services.demo_data import EXAMPLE_CREDITOR
from regua.services.setup import create_creditor
from regua.services.simulation import SimulatedDay, simulate
from regua.store.tables import actions
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

THURSDAY = date(2026, 11, 19)  # then Fri 20/11 (Consciência Negra), Sat, Sun 22/11, Mon 23/11


def test_quiet_days_say_why() -> None:
    assert SimulatedDay(date(2026, 11, 22), closed="domingo").quiet == "domingo: sem contato"
    holiday = SimulatedDay(date(2026, 11, 20), closed="feriado (Consciência Negra)")
    holiday.not_sent["feriado (Consciência Negra)"] = 0
    holiday.not_sent["feriado: fora da janela de contato; adiado para 21/11/2026"] = 3
    assert holiday.quiet == "feriado (Consciência Negra): sem contato (3 adiadas)"
    assert SimulatedDay(date(2026, 11, 24)).quiet == "nenhuma etapa vence hoje"
    busy = SimulatedDay(date(2026, 11, 24))
    busy.planned[("lembrete", "email")] = 1
    assert busy.quiet == ""


def test_a_simulated_week_explains_closed_days_and_counts_thank_yous(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as connection:
        creditor_id = create_creditor(connection, EXAMPLE_CREDITOR, NOW)
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    invoices = """
    id;codigo_cliente;descricao;vencimento;valor
    X;C1;Mensalidade;10/11/2026;100,00
    Y;C2;Mensalidade;24/11/2026;200,00
    Z;C3;Mensalidade;29/11/2026;300,00
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", invoices), creditor_id)
    # X is paid on the holiday (its thank-you waits for Saturday), Y on Monday.
    arriving = write_csv(
        tmp_path / "futuros.csv",
        """
        id_pagamento;id_titulo;data_pagamento;valor;forma
        P1;X;20/11/2026;110,00;pix
        P2;Y;23/11/2026;200,00;pix
        """,
    )
    outbox = Settings(outbox_dir=tmp_path / "caixa")

    days = {
        d.day: d
        for d in simulate(units(engine), creditor_id, THURSDAY, 5, arriving, channels=outbox)
    }

    assert days[date(2026, 11, 20)].closed.startswith("feriado (")
    assert days[date(2026, 11, 20)].quiet.endswith(": sem contato")
    assert days[date(2026, 11, 22)].quiet.startswith("domingo: sem contato")
    assert days[THURSDAY].quiet == "nenhuma etapa vence hoje"
    assert days[THURSDAY].closed == ""
    thanked = {day: d.thank_yous for day, d in days.items() if d.thank_yous}
    assert sum(thanked.values()) == 2
    assert date(2026, 11, 20) not in thanked  # a closed day sends nothing
    with engine.connect() as connection:
        sent = connection.execute(
            select(func.count())
            .select_from(actions)
            .where(actions.c.purpose == "thank_you", actions.c.status == "sent")
        ).scalar_one()
    assert sent == 2
