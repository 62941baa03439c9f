"""Promises to pay: the régua waits for them, the daily run decides them, broken ones count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from regua.domain.segments import SegmentRule, parse_condition
from regua.error_codes import ErrorCode
from regua.errors import RuleViolation
from regua.services import promises
from regua.services.importing import import_file
from regua.services.segmenting import refresh_segments
from regua.store import invoices as invoice_store
from regua.store.segments import customer_features
from regua.store.tables import customers, interactions
from tests.builders import CUSTOMERS_CSV, NOW, run_import, units, write_csv

TODAY = NOW.date()
INVOICES = """
id;numero;codigo_cliente;descricao;vencimento;valor
9001;NF-9001;C1;Mensalidade;20/10/2026;150,00
9003;NF-9003;C3;Parcela;10/11/2026;200,00
"""


@pytest.fixture
def portfolio(engine: Engine, creditor_id: int, tmp_path: Path) -> int:
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", CUSTOMERS_CSV), creditor_id)
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", INVOICES), creditor_id)
    return creditor_id


def _promise(engine: Engine, creditor_id: int, customer: str, cents: int, until: date) -> int:
    return promises.record_promise(
        units(engine),
        creditor_id,
        customer,
        amount_cents=cents,
        promised_for=until,
        channel="phone",
        recorded_by="ana",
        today=TODAY,
        now=NOW,
    ).promise_id


def _review(engine: Engine, creditor_id: int, day: date) -> promises.PromiseReview:
    now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with units(engine)() as work:
        review = promises.review_promises(work.connection, creditor_id, day, now)
        work.commit()
    return review


def _held_back(engine: Engine, creditor_id: int, day: date) -> set[int]:
    with engine.connect() as connection:
        return set(invoice_store.plan_candidates(connection, creditor_id, day, None).stopped)


def test_a_promise_holds_the_regua_back_until_its_date_and_breaks_the_day_after(
    engine: Engine, portfolio: int, tmp_path: Path
) -> None:
    until = TODAY + timedelta(days=5)
    kept = _promise(engine, portfolio, "C1", 15_000, until)
    broken = _promise(engine, portfolio, "C3", 20_000, until)
    assert len(_held_back(engine, portfolio, until)) == 2
    assert _held_back(engine, portfolio, until + timedelta(days=1)) == set()
    # C1 pays R$ 149,50 on the promised day: within the R$ 1,00 tolerance of the default régua
    payments = "id_pagamento;titulo;data_pagamento;valor\nP1;9001;28/11/2026;149,50"
    paid_at = datetime(2026, 11, 28, 18, tzinfo=UTC)
    path = write_csv(tmp_path / "p.csv", payments)
    assert import_file(units(engine), "payments", path, creditor_id=portfolio, now=paid_at).inserted

    assert _review(engine, portfolio, until).kept == [kept]
    review = _review(engine, portfolio, until + timedelta(days=1))
    assert review.broken == [broken] and review.kept == []
    listed = promises.list_promises(units(engine), portfolio)
    assert [(p.customer, p.status, p.paid_cents) for p in listed] == [
        ("C1", "kept", 14_950),
        ("C3", "broken", 0),
    ]
    with engine.connect() as connection:
        details = connection.execute(
            select(interactions.c.detail)
            .where(interactions.c.kind == "promise")
            .order_by(interactions.c.id)
        ).scalars()
        texts = list(details)
    assert texts[0] == (
        "promessa de pagar R$ 150,00 até 28/11/2026 (a dívida em aberto), registrada por ana "
        "(phone); a régua aguarda até lá"
    )
    assert texts[-1] == (
        "promessa quebrada: R$ 200,00 prometidos até 28/11/2026, R$ 0,00 pagos; a régua retoma"
    )


def test_broken_promises_count_in_the_customers_history(engine: Engine, portfolio: int) -> None:
    _promise(engine, portfolio, "C3", 20_000, TODAY)
    day = TODAY + timedelta(days=1)
    _review(engine, portfolio, day)
    rules = (
        SegmentRule(
            "promessa_quebrada", "Promessa quebrada", (parse_condition("broken_promises", ">=1"),)
        ),
        SegmentRule("novo", "Novo"),
    )
    with units(engine)() as work:
        features = customer_features(work.connection, portfolio, day)
        refresh_segments(work.connection, portfolio, rules, day, NOW + timedelta(days=1))
        work.commit()
    with engine.connect() as connection:
        segments = {
            row.external_id: row.segment
            for row in connection.execute(select(customers.c.external_id, customers.c.segment))
        }
        c3 = connection.execute(
            select(customers.c.id).where(customers.c.external_id == "C3")
        ).scalar_one()
    assert features[c3].broken_promises == 1
    assert segments == {"C1": "novo", "C2": "novo", "C3": "promessa_quebrada"}


def test_a_promise_in_the_past_is_refused(engine: Engine, portfolio: int) -> None:
    with pytest.raises(RuleViolation, match="a data da promessa \\(22/11/2026\\) já passou") as e:
        _promise(engine, portfolio, "C1", 1_000, TODAY - timedelta(days=1))
    assert e.value.code == ErrorCode.DATE_IN_PAST


def test_a_promise_beyond_the_regua_s_days_is_refused(engine: Engine, portfolio: int) -> None:
    # The default régua has no promise_max_days: 30 days from today.
    with pytest.raises(RuleViolation) as refused:
        _promise(engine, portfolio, "C1", 15_000, TODAY + timedelta(days=31))
    assert refused.value.code == ErrorCode.DATE_TOO_FAR
    assert "no máximo até 23/12/2026 (30 dias)" in refused.value.message
    assert _promise(engine, portfolio, "C1", 15_000, TODAY + timedelta(days=30)) > 0
