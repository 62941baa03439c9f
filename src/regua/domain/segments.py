"""Segments: a customer's payment behaviour summarised in features, and ordered rules over them.

A policy lists segment rules in order; the first rule whose conditions all hold names the
customer's segment (an empty rule matches everyone and closes the list). Conditions are written
the way a collections manager writes them in the policy file: ``on_time_rate: ">=0.9"``.

The features themselves are computed by the store in bulk (SQL); this module only evaluates
rules over them, and exposes the parsed conditions so a store can translate them to SQL.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from types import MappingProxyType

from regua.domain.calendar import effective_due_date
from regua.error_codes import ErrorCode
from regua.errors import InputError, RuleViolation


@dataclass(frozen=True)
class BehaviourFeatures:
    """One customer's payment history, as numbers.

    Rates are fractions (0 to 1) of the paid invoices and are 0 when none was paid yet;
    ``avg_days_late`` averages the late payments only. ``oldest_overdue_days`` is how many days
    the oldest open overdue invoice is late today (0 if none).
    """

    invoices_total: int = 0
    invoices_paid: int = 0
    paid_on_time: int = 0
    paid_late: int = 0
    on_time_rate: float = 0.0
    late_rate: float = 0.0
    avg_days_late: float = 0.0
    max_days_late: int = 0
    open_overdue_cents: int = 0
    oldest_overdue_days: int = 0
    tenure_days: int = 0
    broken_promises: int = 0  # promises to pay not kept (services.promises)

    @classmethod
    def from_counts(
        cls,
        *,
        invoices_total: int,
        paid_on_time: int,
        paid_late: int,
        total_days_late: int = 0,
        max_days_late: int = 0,
        open_overdue_cents: int = 0,
        oldest_overdue_days: int = 0,
        tenure_days: int = 0,
        broken_promises: int = 0,
    ) -> BehaviourFeatures:
        """Build the features from raw counts, deriving the rates and the average delay."""
        paid = paid_on_time + paid_late
        return cls(
            invoices_total=invoices_total,
            invoices_paid=paid,
            paid_on_time=paid_on_time,
            paid_late=paid_late,
            on_time_rate=paid_on_time / paid if paid else 0.0,
            late_rate=paid_late / paid if paid else 0.0,
            avg_days_late=total_days_late / paid_late if paid_late else 0.0,
            max_days_late=max_days_late,
            open_overdue_cents=open_overdue_cents,
            oldest_overdue_days=oldest_overdue_days,
            tenure_days=tenure_days,
            broken_promises=broken_promises,
        )


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(BehaviourFeatures))
RATE_FEATURES = frozenset({"on_time_rate", "late_rate"})

OPERATORS: Mapping[str, Callable[[float, float], bool]] = MappingProxyType(
    {
        ">=": operator.ge,
        "<=": operator.le,
        ">": operator.gt,
        "<": operator.lt,
        "==": operator.eq,
        "!=": operator.ne,
    }
)

# The default segments, named as collections teams name them.
DEFAULT_SEGMENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "bom_pagador": "Bom pagador",
        "atrasador_habitual": "Atrasador habitual",
        "risco": "Risco",
        "novo": "Novo",
    }
)


def default_label(name: str) -> str:
    """The pt-BR label of a segment name: the known one, else ``"nome_assim"`` -> "Nome assim"."""
    return DEFAULT_SEGMENT_LABELS.get(name) or name.replace("_", " ").replace("-", " ").capitalize()


@dataclass(frozen=True)
class Condition:
    """``feature op value``, e.g. ``on_time_rate >= 0.9``."""

    feature: str
    op: str
    value: float | int

    def holds(self, features: BehaviourFeatures) -> bool:
        return OPERATORS[self.op](getattr(features, self.feature), self.value)

    def __str__(self) -> str:
        return f"{self.feature} {self.op} {self.value:g}"


@dataclass(frozen=True)
class SegmentRule:
    """A named segment and the conditions (all must hold) that put a customer in it."""

    name: str
    label_pt: str
    conditions: tuple[Condition, ...] = ()

    @property
    def is_catch_all(self) -> bool:
        return not self.conditions

    def matches(self, features: BehaviourFeatures) -> bool:
        return all(condition.holds(features) for condition in self.conditions)


_CONDITION = re.compile(r"^(>=|<=|==|!=|>|<|=)?\s*(-?\d+(?:[.,]\d+)?)\s*(%?)$")


def parse_condition(feature: str, text: str) -> Condition:
    """Read ``">=0.9"``, ``"<= 10"``, ``">30"``, ``"==0"`` or ``">=90%"`` for ``feature``.

    Raises InputError (field = the feature) with a pt-BR message naming what is wrong.
    """
    if feature not in FEATURES:
        raise InputError(
            f"atributo desconhecido {feature!r}; use um de: {', '.join(FEATURES)}",
            field=feature,
            code=ErrorCode.UNKNOWN_FEATURE,
        )
    match = _CONDITION.match(text.strip())
    if not match or match.group(1) is None:
        raise InputError(
            f"condição inválida {text!r}: use um operador (>=, <=, >, <, ==, !=) e um número, "
            "por exemplo '>=0.9'",
            field=feature,
            code=ErrorCode.INVALID_CONDITION,
        )
    op, number, percent = match.groups()
    value: float | int
    if "." in number or "," in number or percent:
        value = float(number.replace(",", "."))
        if percent:
            value /= 100
    else:
        value = int(number)
    if value < 0:
        raise InputError(
            f"condição inválida {text!r}: o valor não pode ser negativo",
            field=feature,
            code=ErrorCode.INVALID_CONDITION,
        )
    if feature in RATE_FEATURES and value > 1:
        raise InputError(
            f"condição inválida {text!r}: uma taxa vai de 0 a 1 (ou use porcentagem, como '90%')",
            field=feature,
            code=ErrorCode.INVALID_CONDITION,
        )
    return Condition(feature=feature, op="==" if op == "=" else op, value=value)


def classify(features: BehaviourFeatures, rules: Iterable[SegmentRule]) -> str:
    """The name of the first rule whose conditions all hold.

    A policy always ends with a catch-all rule; if none matches, RuleViolation is raised.
    """
    for rule in rules:
        if rule.matches(features):
            return rule.name
    raise RuleViolation(
        "nenhum segmento se aplica ao cliente: o último segmento da régua deve valer para todos",
        code=ErrorCode.NO_SEGMENT,
    )


def conditions_as_dict(rule: SegmentRule) -> dict[str, list[tuple[str, float | int]]]:
    """``{feature: [(op, value), ...]}``: a rule's conditions as data, e.g. to build SQL from."""
    table: dict[str, list[tuple[str, float | int]]] = {}
    for condition in rule.conditions:
        table.setdefault(condition.feature, []).append((condition.op, condition.value))
    return table


def describe_rule(rule: SegmentRule) -> str:
    """A short text of the rule's conditions ("on_time_rate >= 0.9 e invoices_paid >= 3")."""
    return " e ".join(str(c) for c in rule.conditions) if rule.conditions else "todos os demais"


# Features that move with the calendar alone, with no write to the customer's invoices: the
# overdue ones as invoices pass their due dates, tenure as days go by. The rest (counts, rates,
# the delay of paid invoices) change only when an invoice is written.
OVERDUE_FEATURES = frozenset({"oldest_overdue_days", "max_days_late", "open_overdue_cents"})
OVERDUE_DAY_FEATURES = frozenset({"oldest_overdue_days", "max_days_late"})
TENURE_FEATURES = frozenset({"tenure_days"})
# How far a due date on a weekend or bank holiday can move to its business day (CC art. 132
# §1): four days at most (a Saturday before Carnival), a week to leave room for new holidays.
MAX_DUE_DATE_SHIFT_DAYS = 7

DayRange = tuple[date, date]


@dataclass(frozen=True)
class CalendarCrossings:
    """Where to look for customers whose segment may have changed with the calendar alone.

    Between a classification on `last` and one on `today`, a customer's calendar-driven
    features can only change a rule's outcome through one of its invoices: an open one that
    became overdue (due in `overdue_due`, business due date in `overdue_business`), one whose
    due date lies in one of `due_ranges` (its delay crossed a threshold of days), or one whose
    first day (issue date, else due date) lies in one of `first_day_ranges` (tenure crossed a
    threshold). Ranges are inclusive.
    """

    overdue_due: DayRange | None
    overdue_business: DayRange | None
    due_ranges: tuple[DayRange, ...]
    first_day_ranges: tuple[DayRange, ...]


def calendar_crossings(rules: Iterable[SegmentRule], last: date, today: date) -> CalendarCrossings:
    """The date ranges to search for calendar-driven segment changes from `last` to `today`.

    Args:
        rules: the segment rules in force on both days.
        last: the day of the previous classification (at most `today`).
        today: the day being classified.
    """
    if last > today:
        raise ValueError("the previous classification is after today")
    overdue_due = overdue_business = None
    due: set[DayRange] = set()
    first: set[DayRange] = set()
    for rule in rules:
        for condition in rule.conditions:
            if condition.feature in OVERDUE_FEATURES and last < today:
                # overdue means `effective_due_date < day`: it flipped for the business due
                # dates from `last` to the day before today, and these are the due dates that
                # move to them
                business = (last, today - timedelta(days=1))
                overdue_due = _due_dates_moving_to(business)
                overdue_business = business if overdue_due else None
            anchors = anchors_crossing(condition.op, condition.value, last, today)
            if anchors is None:
                continue
            if condition.feature in OVERDUE_DAY_FEATURES:
                due.add(anchors)
            elif condition.feature in TENURE_FEATURES:
                first.add(anchors)
    return CalendarCrossings(
        overdue_due, overdue_business, tuple(sorted(due)), tuple(sorted(first))
    )


def _due_dates_moving_to(business: DayRange) -> DayRange | None:
    """The first and last due dates whose business due date lies in `business` (None: none,
    as on a weekend after a Friday holiday)."""
    start, end = business
    day = start - timedelta(days=MAX_DUE_DATE_SHIFT_DAYS)
    found = []
    while day <= end:
        if start <= effective_due_date(day) <= end:
            found.append(day)
        day += timedelta(days=1)
    return (found[0], found[-1]) if found else None


def anchors_crossing(op: str, value: float, last: date, today: date) -> DayRange | None:
    """The anchor days `a` for which ``(day - a) op value`` may differ between `last` and
    `today` (None: none can).

    Days since an anchor only grow, so a comparison with < or > flips at most once, for the
    anchors whose count passed the threshold; `==` and `!=` (and a maximum with another
    number, as `max_days_late` is) may change for any count that passed through the value.
    """
    if last == today:
        return None
    if op in (">", ">="):
        first_true = math.floor(value) + 1 if op == ">" else math.ceil(value)
        start, end = last - timedelta(days=first_true - 1), today - timedelta(days=first_true)
    elif op in ("<", "<="):
        last_true = math.ceil(value) - 1 if op == "<" else math.floor(value)
        start, end = last - timedelta(days=last_true), today - timedelta(days=last_true + 1)
    else:
        start, end = (
            last - timedelta(days=math.ceil(value)),
            today - timedelta(days=math.floor(value)),
        )
    return (start, end) if start <= end else None
