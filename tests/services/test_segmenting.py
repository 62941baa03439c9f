"""Segments computed in SQL agree with the rules evaluated in Python, on both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from regua.domain.segments import classify
from regua.policies.loader import default_policy
from regua.services.segmenting import customer_features, refresh_segments
from regua.store.tables import customers, segment_history
from tests.builders import run_import, write_csv

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
        result = refresh_segments(connection, creditor_id, rules, TODAY)
        stored = dict(connection.execute(select(customers.c.id, customers.c.segment)).all())
        features = customer_features(connection, creditor_id, TODAY)
    from regua.domain.segments import BehaviourFeatures

    expected = {cid: classify(features.get(cid, BehaviourFeatures()), rules) for cid in stored}
    assert stored == expected
    assert result.changed == 150
    assert set(result.counts) == {"bom_pagador", "atrasador_habitual", "risco", "novo"}
    assert sum(result.counts.values()) == 150


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
        refresh_segments(connection, creditor_id, rules, date(2026, 10, 20))  # 19 days late
        again = refresh_segments(connection, creditor_id, rules, date(2026, 10, 21))
        later = refresh_segments(connection, creditor_id, rules, date(2026, 11, 5))  # 35 days
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
