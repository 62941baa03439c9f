"""How a régua starts on old overdue invoices: catching up (the latest step at once) or from
its first day (only the steps that fall from that day on)."""

from __future__ import annotations

from datetime import date

import pytest

from regua.domain.planning import FIRST_RUN_START, plan_day, start_of
from tests.domain.test_planning import POLICY, customer, invoice, summary

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("choice", "fresh", "current", "expected"),
    [
        (None, True, None, MONDAY),  # a first run starts from today by default
        ("recuperar", True, None, None),
        ("hoje", True, None, MONDAY),
        (None, False, date(2026, 11, 2), date(2026, 11, 2)),  # carried from run to run
        (None, False, None, None),  # a régua that catches up goes on catching up
        ("recuperar", False, date(2026, 11, 2), None),  # asked for later: caught up then
        # "hoje" on a régua already started keeps its day: a contact deferred from the day
        # before stays due
        ("hoje", False, date(2026, 11, 2), date(2026, 11, 2)),
        ("hoje", False, None, MONDAY),
        ("hoje", True, date(2026, 11, 2), MONDAY),  # a new régua starts on its own day
    ],
)
def test_start_of(
    choice: str | None, fresh: bool, current: date | None, expected: date | None
) -> None:
    assert start_of(choice, MONDAY, fresh=fresh, current=current) == expected  # type: ignore[arg-type]


def test_the_default_first_run_starts_from_today() -> None:
    assert FIRST_RUN_START == "hoje"


def test_catching_up_sends_the_latest_step_starting_today_sends_only_todays() -> None:
    old = invoice(1, date(2026, 10, 1), cid=1)  # 53 days late: atraso-20 long passed
    due_today_step = invoice(2, date(2026, 11, 13), cid=2)  # D+10 today: ligacao today
    not_due = invoice(3, date(2026, 11, 26), cid=3)  # D-3 today: lembrete today
    customers = {1: customer(1), 2: customer(2), 3: customer(3)}
    invoices = [old, due_today_step, not_due]
    caught_up = plan_day([POLICY], customers, invoices, MONDAY, None)
    assert [(c, step) for c, _s, step, _ch, _i in summary(caught_up)] == [
        (1, "atraso-20"),
        (2, "ligacao"),
        (3, "lembrete"),
    ]
    from_today = plan_day([POLICY], customers, invoices, MONDAY, MONDAY)
    assert [(c, step) for c, _s, step, _ch, _i in summary(from_today)] == [
        (2, "ligacao"),
        (3, "lembrete"),
    ]


def test_after_the_start_a_missed_day_is_caught_up_but_never_a_step_before_it() -> None:
    start = date(2026, 11, 16)
    # Due 10/11: atraso-3 fell on 13/11, before the start; ligacao (D+10) on 20/11, after it.
    late = invoice(1, date(2026, 11, 10))
    on_21 = plan_day([POLICY], {1: customer()}, [late], date(2026, 11, 21), start)
    assert [a.step.id for a in on_21] == ["ligacao"]  # missed on 20/11, sent the day after
    on_19 = plan_day([POLICY], {1: customer()}, [late], date(2026, 11, 19), start)
    assert on_19 == []  # atraso-3 was before the start: never sent
