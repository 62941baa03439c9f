"""Segment rules: condition parsing, first-match classification, the rules as data."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.segments import (
    FEATURES,
    OPERATORS,
    BehaviourFeatures,
    CalendarCrossings,
    Condition,
    SegmentRule,
    anchors_crossing,
    calendar_crossings,
    classify,
    conditions_as_dict,
    default_label,
    describe_rule,
    parse_condition,
)
from regua.errors import InputError, RuleViolation


@pytest.mark.parametrize(
    ("feature", "text", "expected"),
    [
        ("on_time_rate", ">=0.9", Condition("on_time_rate", ">=", 0.9)),
        ("on_time_rate", ">= 0,9", Condition("on_time_rate", ">=", 0.9)),
        ("on_time_rate", ">=90%", Condition("on_time_rate", ">=", 0.9)),
        ("avg_days_late", "<=10", Condition("avg_days_late", "<=", 10)),
        ("max_days_late", ">30", Condition("max_days_late", ">", 30)),
        ("invoices_paid", "==0", Condition("invoices_paid", "==", 0)),
        ("invoices_paid", "=0", Condition("invoices_paid", "==", 0)),
        ("invoices_paid", " != 2 ", Condition("invoices_paid", "!=", 2)),
        ("tenure_days", "<90", Condition("tenure_days", "<", 90)),
    ],
)
def test_parse_condition(feature: str, text: str, expected: Condition) -> None:
    assert parse_condition(feature, text) == expected


@pytest.mark.parametrize(
    ("feature", "text", "message"),
    [
        (
            "pontualidade",
            ">=0.9",
            "atributo desconhecido 'pontualidade'; use um de: invoices_total",
        ),
        ("on_time_rate", "0.9", r"condição inválida '0.9': use um operador \(>=, <=, >, <"),
        ("on_time_rate", "muito", "condição inválida 'muito'"),
        ("on_time_rate", "=>0.9", "condição inválida '=>0.9'"),
        ("on_time_rate", ">=90", "uma taxa vai de 0 a 1"),
        ("max_days_late", ">-1", "o valor não pode ser negativo"),
    ],
)
def test_parse_condition_errors(feature: str, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_condition(feature, text)


DEFAULT_RULES = (
    SegmentRule("risco", "Risco", (parse_condition("oldest_overdue_days", ">30"),)),
    SegmentRule(
        "bom_pagador",
        "Bom pagador",
        (parse_condition("invoices_paid", ">=3"), parse_condition("on_time_rate", ">=0.9")),
    ),
    SegmentRule(
        "atrasador_habitual", "Atrasador habitual", (parse_condition("invoices_paid", ">=3"),)
    ),
    SegmentRule("novo", "Novo"),
)


@pytest.mark.parametrize(
    ("who", "features", "segment"),
    [
        ("never billed", BehaviourFeatures(), "novo"),
        (
            "ten invoices all on time",
            BehaviourFeatures.from_counts(invoices_total=10, paid_on_time=10, paid_late=0),
            "bom_pagador",
        ),
        (
            "nine of ten on time",
            BehaviourFeatures.from_counts(invoices_total=10, paid_on_time=9, paid_late=1),
            "bom_pagador",
        ),
        (
            "half late",
            BehaviourFeatures.from_counts(
                invoices_total=6, paid_on_time=3, paid_late=3, total_days_late=15
            ),
            "atrasador_habitual",
        ),
        (
            "good payer now 45 days overdue",
            BehaviourFeatures.from_counts(
                invoices_total=11, paid_on_time=10, paid_late=0, oldest_overdue_days=45
            ),
            "risco",
        ),
        (
            "two invoices paid on time",
            BehaviourFeatures.from_counts(invoices_total=2, paid_on_time=2, paid_late=0),
            "novo",
        ),
    ],
)
def test_classify_first_match_wins(who: str, features: BehaviourFeatures, segment: str) -> None:
    assert classify(features, DEFAULT_RULES) == segment, who


def test_order_decides_between_overlapping_rules() -> None:
    late = BehaviourFeatures.from_counts(invoices_total=5, paid_on_time=0, paid_late=5)
    anyone = SegmentRule("todos", "Todos")
    late_rule = SegmentRule("atrasado", "Atrasado", (parse_condition("late_rate", ">=0.5"),))
    assert classify(late, (late_rule, anyone)) == "atrasado"
    assert classify(late, (anyone, late_rule)) == "todos"


def test_classify_without_catch_all_refuses() -> None:
    rules = (SegmentRule("risco", "Risco", (parse_condition("max_days_late", ">30"),)),)
    with pytest.raises(RuleViolation, match="nenhum segmento se aplica ao cliente"):
        classify(BehaviourFeatures(), rules)


def test_from_counts_derives_rates_and_average() -> None:
    features = BehaviourFeatures.from_counts(
        invoices_total=5, paid_on_time=3, paid_late=1, total_days_late=12, max_days_late=12
    )
    assert features.invoices_paid == 4
    assert features.on_time_rate == 0.75
    assert features.late_rate == 0.25
    assert features.avg_days_late == 12.0


def test_conditions_as_dict_groups_by_feature() -> None:
    rule = SegmentRule(
        "morno",
        "Morno",
        (
            parse_condition("avg_days_late", ">0"),
            parse_condition("avg_days_late", "<=10"),
            parse_condition("invoices_paid", ">=3"),
        ),
    )
    assert conditions_as_dict(rule) == {
        "avg_days_late": [(">", 0), ("<=", 10)],
        "invoices_paid": [(">=", 3)],
    }
    assert describe_rule(rule) == "avg_days_late > 0 e avg_days_late <= 10 e invoices_paid >= 3"
    assert describe_rule(SegmentRule("novo", "Novo")) == "todos os demais"


def test_default_labels() -> None:
    assert [default_label(r.name) for r in DEFAULT_RULES] == [
        "Risco",
        "Bom pagador",
        "Atrasador habitual",
        "Novo",
    ]
    assert default_label("grandes_contas") == "Grandes contas"


features_strategy = st.builds(
    BehaviourFeatures.from_counts,
    invoices_total=st.integers(0, 200),
    paid_on_time=st.integers(0, 100),
    paid_late=st.integers(0, 100),
    total_days_late=st.integers(0, 5000),
    max_days_late=st.integers(0, 400),
    oldest_overdue_days=st.integers(0, 400),
)


@given(features=features_strategy)
def test_every_customer_gets_exactly_the_first_matching_segment(
    features: BehaviourFeatures,
) -> None:
    segment = classify(features, DEFAULT_RULES)
    names = [rule.name for rule in DEFAULT_RULES]
    position = names.index(segment)
    assert DEFAULT_RULES[position].matches(features)
    assert not any(rule.matches(features) for rule in DEFAULT_RULES[:position])


def test_features_list_matches_the_dataclass() -> None:
    assert FEATURES[:2] == ("invoices_total", "invoices_paid")
    assert "oldest_overdue_days" in FEATURES


def test_calendar_crossings_search_the_invoices_that_crossed_a_threshold() -> None:
    rules = (
        SegmentRule("risco", "Risco", (parse_condition("oldest_overdue_days", ">30"),)),
        SegmentRule("antigo", "Antigo", (parse_condition("tenure_days", ">=90"),)),
        SegmentRule("novo", "Novo"),
    )
    crossings = calendar_crossings(rules, date(2026, 11, 20), date(2026, 11, 23))
    # 31 days late on 21/11, 22/11 or 23/11 (30 on 20/11): due on 21/10, 22/10 or 23/10
    assert crossings.due_ranges == ((date(2026, 10, 21), date(2026, 10, 23)),)
    # 90 days since the first invoice on 21/11 to 23/11: first invoice 23/08 to 25/08
    assert crossings.first_day_ranges == ((date(2026, 8, 23), date(2026, 8, 25)),)
    # became overdue: none, as Friday 20/11 is a national holiday and the weekend follows; an
    # invoice due then (or on Saturday or Sunday) may be paid on Monday 23/11
    assert crossings.overdue_business is None
    assert crossings.overdue_due is None
    # Monday to Thursday: due on Monday 23/11 to Wednesday 25/11
    crossings = calendar_crossings(rules, date(2026, 11, 23), date(2026, 11, 26))
    assert crossings.overdue_business == (date(2026, 11, 23), date(2026, 11, 25))
    assert crossings.overdue_due == (date(2026, 11, 20), date(2026, 11, 25))
    assert calendar_crossings(rules, date(2026, 11, 23), date(2026, 11, 23)) == CalendarCrossings(
        None, None, (), ()
    )


def test_every_anchor_whose_outcome_changes_is_searched() -> None:
    # Exhaustive over small numbers: every operator, whole and fractional thresholds, a few
    # days elapsed, anchors before and after, counts of days alone or in a maximum.
    last = date(2026, 3, 1)
    missed = []
    for op, value, elapsed, offset, extra in itertools.product(
        OPERATORS, (0, 1, 2.5, 3, 7), range(7), range(-10, 16), (None, 0, 3, 8)
    ):
        today = last + timedelta(days=elapsed)
        anchor = last - timedelta(days=offset)
        before, after = (last - anchor).days, (today - anchor).days
        if extra is not None:
            before, after = max(extra, before), max(extra, after)
        if OPERATORS[op](before, value) == OPERATORS[op](after, value):
            continue
        searched = anchors_crossing(op, value, last, today)
        if searched is None or not searched[0] <= anchor <= searched[1]:
            missed.append((op, value, elapsed, offset, extra))
    assert missed == []


def test_rules_without_days_need_no_calendar_search() -> None:
    rules = (
        SegmentRule("bom", "Bom", (parse_condition("on_time_rate", ">=0.9"),)),
        SegmentRule("novo", "Novo"),
    )
    assert calendar_crossings(rules, date(2026, 11, 1), date(2026, 11, 23)) == CalendarCrossings(
        None, None, (), ()
    )
    with pytest.raises(ValueError):
        calendar_crossings(rules, date(2026, 11, 24), date(2026, 11, 23))
