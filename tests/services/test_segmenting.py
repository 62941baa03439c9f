"""Segments computed in SQL agree with the rules evaluated in Python, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select

from regua.domain.fees import FeeTerms
from regua.domain.segments import BehaviourFeatures, SegmentRule, classify, parse_condition
from regua.policies.loader import default_policy
from regua.services import segmenting
from regua.services.reconciling import apply_matched_payments
from regua.services.segmenting import FULL_REFRESH_SHARE, refresh_segments
from regua.store.segments import customer_features
from regua.store.tables import customers, invoices, segment_history
from tests.builders import NOW, run_import, write_csv

TODAY = date(2026, 11, 23)


def test_sql_segments_match_python_rules(engine: Engine, creditor_id: int, tmp_path: Path) -> None:
    from regua.services import demo_data

    files = demo_data.generate(tmp_path, customers=150, seed=3, today=TODAY)
    for kind, path in (
        ("customers", files.customers),
        ("invoices", files.invoices),
        ("payments", files.payments),
    ):
        assert run_import(engine, kind, path, creditor_id).rejected == 0  # type: ignore[arg-type]
    rules = default_policy().segment_rules
    with engine.begin() as connection:
        result = refresh_segments(connection, creditor_id, rules, TODAY, NOW)
        stored = dict(connection.execute(select(customers.c.id, customers.c.segment)).all())
        features = customer_features(connection, creditor_id, TODAY)
    expected = {cid: classify(features.get(cid, BehaviourFeatures()), rules) for cid in stored}
    assert stored == expected
    assert result.changed == 150
    assert set(stored.values()) == {"bom_pagador", "atrasador_habitual", "risco", "novo"}


def test_segment_changes_are_dated_in_the_history(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    text = """
    codigo;nome;cpf
    A;Ana;529.982.247-25
    """
    run_import(engine, "customers", write_csv(tmp_path / "c.csv", text), creditor_id)
    invoices_csv = """
    id;codigo_cliente;vencimento;valor
    T1;A;01/10/2026;100,00
    """
    run_import(engine, "invoices", write_csv(tmp_path / "t.csv", invoices_csv), creditor_id)
    rules = default_policy().segment_rules
    with engine.begin() as connection:
        refresh_segments(connection, creditor_id, rules, date(2026, 10, 20), NOW)  # 19 days late
        again = refresh_segments(connection, creditor_id, rules, date(2026, 10, 21), NOW)
        later = refresh_segments(connection, creditor_id, rules, date(2026, 11, 5), NOW)  # 35 days
        history = connection.execute(
            select(
                segment_history.c.segment, segment_history.c.previous, segment_history.c.since
            ).order_by(segment_history.c.since)
        ).all()
    assert again.changed == 0
    assert later.changed == 1
    assert [tuple(h) for h in history] == [
        ("novo", None, date(2026, 10, 20)),
        ("risco", "novo", date(2026, 11, 5)),
    ]


def _portfolio(engine: Engine, creditor_id: int, folder: Path) -> dict[date, list[Any]]:
    """The demo portfolio imported, and its later payments by the day they arrive."""
    from regua.services import demo_data
    from regua.services.simulation import _future_payments

    files = demo_data.generate(folder, customers=200, seed=11, today=TODAY)
    for kind, path in (
        ("customers", files.customers),
        ("invoices", files.invoices),
        ("payments", files.payments),
    ):
        assert run_import(engine, kind, path, creditor_id).rejected == 0  # type: ignore[arg-type]
    return _future_payments(files.future_payments)  # type: ignore[return-value]


def _pay(connection: Connection, creditor_id: int, arriving: list[Any], day: date) -> None:
    ids = dict(connection.execute(select(invoices.c.external_id, invoices.c.id)).all())
    apply_matched_payments(
        connection,
        creditor_id,
        [
            {
                "external_id": pid,
                "invoice_id": ids[inv],
                "amount_cents": cents,
                "paid_on": day,
                "method": "pix",
            }
            for pid, inv, cents in arriving
        ],
        source="import",
        now=datetime.combine(day, time(10, 0), UTC),  # before that day's refresh
        terms=FeeTerms(),
    )


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(11, 0), UTC)


def _classified_from_scratch(
    connection: Connection, creditor_id: int, rules: tuple[SegmentRule, ...], day: date
) -> dict[int, str]:
    features = customer_features(connection, creditor_id, day)
    ids = connection.execute(select(customers.c.id)).scalars()
    return {cid: classify(features.get(cid, BehaviourFeatures()), rules) for cid in ids}


CALENDAR_RULES = (
    SegmentRule("quinze", "Quinze", (parse_condition("max_days_late", "==15"),)),
    SegmentRule("risco", "Risco", (parse_condition("oldest_overdue_days", ">30"),)),
    SegmentRule("vencido", "Vencido", (parse_condition("open_overdue_cents", ">0"),)),
    SegmentRule("antigo", "Antigo", (parse_condition("tenure_days", ">=75"),)),
    SegmentRule("outros", "Outros"),
)


@pytest.mark.parametrize(
    ("rules_name", "incremental_always"),
    [("default", False), ("default", True), ("calendar", True)],
)
def test_each_daily_refresh_agrees_with_a_classification_from_scratch(
    engine: Engine,
    creditor_id: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rules_name: str,
    incremental_always: bool,
) -> None:
    rules = default_policy().segment_rules if rules_name == "default" else CALENDAR_RULES
    if incremental_always:
        # never fall back to classifying everyone: the scoped path alone must be right
        monkeypatch.setattr(segmenting, "FULL_REFRESH_SHARE", 1.0)
    else:
        # a portfolio of 200 is a large one here: the share of customers decides
        monkeypatch.setattr(segmenting, "SMALL_SCOPE", 0)
    arriving = _portfolio(engine, creditor_id, tmp_path)
    previous = TODAY
    examined = []
    # Consecutive days, a long weekend, a skipped fortnight, and a month: thresholds of days
    # are crossed by the calendar alone, payments arrive in between.
    for day in [TODAY + timedelta(days=n) for n in (0, 1, 2, 5, 6, 20, 21, 50)]:
        with engine.begin() as connection:
            for paid_on in sorted(d for d in arriving if previous < d <= day):
                _pay(connection, creditor_id, arriving[paid_on], paid_on)
            result = refresh_segments(connection, creditor_id, rules, day, _morning(day))
            stored = dict(connection.execute(select(customers.c.id, customers.c.segment)).all())
            assert stored == _classified_from_scratch(connection, creditor_id, rules, day), day
        examined.append(result.examined)
        previous = day
    assert examined[0] is None  # the first refresh classifies everyone
    if not incremental_always:
        # After a quiet day (the import more than a day behind), only a few are looked at.
        assert examined[4] is not None and examined[4] < 200 * FULL_REFRESH_SHARE
        assert examined[6] is not None and examined[6] < 200 * FULL_REFRESH_SHARE


def test_new_rules_classify_every_customer_again(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    _portfolio(engine, creditor_id, tmp_path)
    with engine.begin() as connection:
        refresh_segments(connection, creditor_id, default_policy().segment_rules, TODAY, NOW)
        again = refresh_segments(connection, creditor_id, CALENDAR_RULES, TODAY, NOW)
        stored = dict(connection.execute(select(customers.c.id, customers.c.segment)).all())
        assert stored == _classified_from_scratch(connection, creditor_id, CALENDAR_RULES, TODAY)
    assert again.examined is None


def test_an_earlier_day_classifies_every_customer_again(
    engine: Engine, creditor_id: int, tmp_path: Path
) -> None:
    _portfolio(engine, creditor_id, tmp_path)
    rules = default_policy().segment_rules
    with engine.begin() as connection:
        refresh_segments(connection, creditor_id, rules, TODAY + timedelta(days=40), NOW)
        earlier = refresh_segments(connection, creditor_id, rules, TODAY, NOW)
        stored = dict(connection.execute(select(customers.c.id, customers.c.segment)).all())
        assert stored == _classified_from_scratch(connection, creditor_id, rules, TODAY)
    assert earlier.examined is None
    assert earlier.changed > 0  # forty days later some had become risco
