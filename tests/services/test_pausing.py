"""Pausing a customer or an invoice: by the invoice's number too, keeping a pause's end date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.errors import InputError, NotFound
from regua.services import pausing
from regua.store.tables import customers, interactions, invoices
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor
9004;NF-9004;C1;Mensalidade internet;23/11/2026;99,90
9005;NF-9005;C1;Instalação;20/11/2026;299,00
9006;NF-9005;C3;Parcela de móveis;23/11/2026;450,00
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _pause(engine: Engine, creditor_id: int, **kwargs: object) -> pausing.Paused:
    args: dict = {"customer": None, "invoice": None, "reason": "negociando", "until": None}
    return pausing.pause(units(engine), creditor_id, now=NOW, today=TODAY, **(args | kwargs))


def _invoice_pause(engine: Engine, external_id: str) -> tuple[bool, date | None, str | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(invoices.c.paused, invoices.c.paused_until, invoices.c.pause_reason).where(
                invoices.c.external_id == external_id
            )
        ).one()
    return bool(row.paused), row.paused_until, row.pause_reason


def _customer_pause(engine: Engine, external_id: str) -> tuple[bool, date | None]:
    with engine.connect() as connection:
        row = connection.execute(
            select(customers.c.paused, customers.c.paused_until).where(
                customers.c.external_id == external_id
            )
        ).one()
    return bool(row.paused), row.paused_until


def test_an_invoice_is_found_by_its_number(engine: Engine, portfolio: int) -> None:
    done = _pause(engine, portfolio, invoice="NF-9004", until=date(2026, 12, 1))

    assert done == pausing.Paused("título NF-9004 (id 9004)", date(2026, 12, 1))
    assert _invoice_pause(engine, "9004") == (True, date(2026, 12, 1), "negociando")
    assert _invoice_pause(engine, "9005")[0] is False
    with engine.connect() as connection:
        details = connection.execute(select(interactions.c.detail)).scalars().all()
    assert details == ["título NF-9004 (id 9004) pausado: negociando (até 01/12/2026)"]
    assert (
        pausing.resume(units(engine), portfolio, customer=None, invoice="NF-9004", now=NOW)
        == "título NF-9004 (id 9004)"
    )
    assert _invoice_pause(engine, "9004") == (False, None, None)


def test_the_erp_id_still_names_an_invoice(engine: Engine, portfolio: int) -> None:
    assert _pause(engine, portfolio, invoice="9005").label == "título 9005"
    assert _invoice_pause(engine, "9005") == (True, None, "negociando")


def test_a_number_of_several_invoices_asks_for_the_erp_id(engine: Engine, portfolio: int) -> None:
    with pytest.raises(InputError) as raised:
        _pause(engine, portfolio, invoice="NF-9005")
    assert raised.value.message == (
        "--invoice: o número NF-9005 é de 2 títulos (ids do ERP: 9005, 9006); "
        "informe --invoice com o id do ERP"
    )
    assert not _invoice_pause(engine, "9005")[0] and not _invoice_pause(engine, "9006")[0]


def test_an_unknown_invoice(engine: Engine, portfolio: int) -> None:
    with pytest.raises(NotFound, match="título desconhecido: NF-1"):
        _pause(engine, portfolio, invoice="NF-1")


def test_a_second_pause_without_a_date_keeps_the_first_ones(engine: Engine, portfolio: int) -> None:
    _pause(engine, portfolio, customer="C1", until=date(2026, 12, 20))

    again = _pause(engine, portfolio, customer="C1", reason="pediu segunda via")

    assert again == pausing.Paused("cliente C1", date(2026, 12, 20), kept=True)
    assert _customer_pause(engine, "C1") == (True, date(2026, 12, 20))
    open_ended = _pause(engine, portfolio, customer="C1", open_ended=True)
    assert open_ended == pausing.Paused("cliente C1", None)
    assert _customer_pause(engine, "C1") == (True, None)


def test_an_ended_pause_is_not_kept(engine: Engine, portfolio: int) -> None:
    _pause(engine, portfolio, customer="C3", until=TODAY)
    later = date(2026, 11, 24)
    done = pausing.pause(
        units(engine), portfolio, customer="C3", invoice=None, reason="x", until=None,
        now=NOW, today=later,
    )  # fmt: skip
    assert done == pausing.Paused("cliente C3", None)
    assert _customer_pause(engine, "C3") == (True, None)


def test_a_date_in_the_past_is_refused(engine: Engine, portfolio: int) -> None:
    with pytest.raises(InputError) as raised:
        _pause(engine, portfolio, customer="C1", until=date(2026, 11, 22))
    assert raised.value.message == "--until: a data já passou: 22/11/2026 (hoje é 23/11/2026)"
    assert _customer_pause(engine, "C1") == (False, None)
    with pytest.raises(InputError, match="não os dois"):
        _pause(engine, portfolio, customer="C1", until=date(2026, 12, 1), open_ended=True)
