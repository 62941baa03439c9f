"""The daily plan's rules, as a pure function over plain rows, with the dates that matter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from regua.domain.planning import (
    ContactPoint,
    CustomerState,
    OpenInvoice,
    add_years,
    choose_channel,
    next_step_day,
    plan_day,
    prescribed_through,
)
from regua.policies.loader import load_policy_text

POLICY = load_policy_text(
    """
name: teste
contact_window: {weekdays: "08:00-20:00", saturday: "08:00-14:00", sunday: closed,
                 holidays: closed}
limits: {per_customer_per_week: 2}
segments:
  - {name: bom_pagador, when: {on_time_rate: ">=0.9", invoices_paid: ">=3"}}
  - {name: novo}
steps:
  - {id: lembrete, offset: -3, channels: [email], template: lembrete_vencimento,
     segments: [novo]}
  - {id: vence-hoje, offset: 0, channels: [whatsapp, sms, email], template: vence_hoje}
  - {id: atraso-3, offset: 3, channels: [whatsapp, email], template: atraso_amigavel}
  - {id: ligacao, offset: 10, channels: [phone], script: roteiro_negociacao}
  - {id: atraso-20, offset: 20, channels: [email], template: atraso_firme}
prices: {email: 0, whatsapp: 35, sms: 9, phone: 120}
""",
    "teste.yaml",
)

MOBILE = ContactPoint("+5511987654321")
REACHABLE = {
    "email": (ContactPoint("ana@ex.com"),),
    "whatsapp": (MOBILE,),
    "sms": (MOBILE,),
    "phone": (MOBILE,),
}


def customer(
    cid: int = 1, segment: str = "novo", uf: str | None = "SP", week: int = 0, **contacts: object
) -> CustomerState:
    points = dict(REACHABLE)
    points.update(contacts)  # type: ignore[arg-type]
    return CustomerState(
        cid, segment, uf, (), {k: v for k, v in points.items() if v}, contacts_last_7_days=week
    )


def invoice(iid: int, due: date, cid: int = 1, last: int | None = None) -> OpenInvoice:
    return OpenInvoice(iid, cid, due, 10_000, last)


def summary(actions: list) -> list[tuple]:
    return [
        (a.customer_id, a.status, a.step.id, a.channel, [i.invoice_id for i in a.invoices])
        for a in actions
    ]


# Named dates: Mon 23/11/2026, Fri 20/11/2026 (Consciência Negra, national since 2024),
# Sun 22/11/2026, Fri 25/12/2026 (Natal), Thu 09/07/2026 (SP state holiday),
# Thu 23/04/2026 (São Jorge, RJ state holiday), Tue 17/02/2026 (Carnival Tuesday).


@pytest.mark.parametrize(
    ("today", "due", "last", "expected_step"),
    [
        (date(2026, 11, 23), date(2026, 11, 26), None, "lembrete"),  # D-3
        (date(2026, 11, 23), date(2026, 11, 23), -3, "vence-hoje"),  # D0
        (date(2026, 11, 23), date(2026, 11, 20), 0, "atraso-3"),  # D+3
        (date(2026, 11, 23), date(2026, 11, 13), 3, "ligacao"),  # D+10
        (date(2026, 11, 23), date(2026, 11, 22), 0, None),  # D+1: no step that day
        (date(2026, 11, 23), date(2026, 11, 27), None, None),  # D-4: too early
    ],
)
def test_step_applies_when_days_since_due_equal_its_offset(
    today: date, due: date, last: int | None, expected_step: str | None
) -> None:
    actions = plan_day([POLICY], {1: customer()}, [invoice(1, due, last=last)], today)
    if expected_step is None:
        assert actions == []
    else:
        assert summary(actions) == [(1, "planned", expected_step, actions[0].channel, [1])]


def test_preventive_reminder_is_not_for_good_payers() -> None:
    today = date(2026, 11, 23)
    actions = plan_day(
        [POLICY], {1: customer(segment="bom_pagador")}, [invoice(1, date(2026, 11, 26))], today
    )
    assert actions == []


def test_skipped_days_send_only_the_latest_step() -> None:
    # last contact was D0; the run did not happen for 12 days: D+3 and D+10 are both past,
    # only the call (D+10) is planned, never a burst of both
    today = date(2026, 11, 23)
    actions = plan_day([POLICY], {1: customer()}, [invoice(1, date(2026, 11, 11), last=0)], today)
    assert summary(actions) == [(1, "planned", "ligacao", "phone", [1])]
    # and a step already planned is never repeated
    again = plan_day([POLICY], {1: customer()}, [invoice(1, date(2026, 11, 11), last=10)], today)
    assert again == []


def test_several_invoices_become_one_action_under_the_most_advanced_step() -> None:
    today = date(2026, 11, 23)
    invoices = [
        invoice(1, date(2026, 11, 23)),  # D0
        invoice(2, date(2026, 11, 20), last=0),  # D+3
        invoice(3, date(2026, 11, 3), last=10),  # D+20
    ]
    actions = plan_day([POLICY], {1: customer()}, invoices, today)
    assert summary(actions) == [(1, "planned", "atraso-20", "email", [1, 2, 3])]
    assert [(i.invoice_id, i.step_id) for i in actions[0].invoices] == [
        (1, "vence-hoje"),
        (2, "atraso-3"),
        (3, "atraso-20"),
    ]


def test_first_reachable_channel_is_used() -> None:
    today = date(2026, 11, 23)
    opted_out = (ContactPoint("+5511987654321", opted_out=True),)
    state = customer(whatsapp=opted_out)
    actions = plan_day([POLICY], {1: state}, [invoice(1, today)], today)
    assert (actions[0].channel, actions[0].contact_value, actions[0].cost_cents) == (
        "sms",
        "+5511987654321",
        9,
    )
    assert actions[0].evidence["channels_tried"] == {"whatsapp": "descadastrado", "sms": "usado"}


def test_unreachable_customer_is_recorded_as_skipped_with_the_reason() -> None:
    today = date(2026, 11, 23)
    state = CustomerState(1, "novo", "SP", (), {"email": (ContactPoint("a@b.c", invalid=True),)})
    actions = plan_day([POLICY], {1: state}, [invoice(1, date(2026, 11, 20), last=0)], today)
    assert summary(actions) == [(1, "skipped", "atraso-3", None, [1])]
    assert actions[0].reason == (
        "sem canal disponível: whatsapp: sem contato; email: contato inválido"
    )


@pytest.mark.parametrize(
    ("today", "uf", "reopens", "why"),
    [
        (date(2026, 11, 22), "SP", date(2026, 11, 23), "domingo"),
        (date(2026, 12, 25), "SP", date(2026, 12, 26), "feriado (Natal)"),
        (
            date(2026, 11, 20),
            "SP",
            date(2026, 11, 21),
            "feriado (Dia Nacional de Zumbi e da Consciência Negra)",
        ),
        (date(2026, 7, 9), "SP", date(2026, 7, 10), "feriado (Revolução Constitucionalista)"),
        (date(2026, 4, 23), "RJ", date(2026, 4, 24), "feriado (São Jorge)"),
        # RJ law closes Saturdays: Saturday 28/11 moves to Monday 30/11
        (date(2026, 11, 28), "RJ", date(2026, 11, 30), "sábado"),
    ],
)
def test_closed_day_defers_the_contact(today: date, uf: str, reopens: date, why: str) -> None:
    actions = plan_day([POLICY], {1: customer(uf=uf)}, [invoice(1, today)], today)
    assert [a.status for a in actions] == ["deferred"]
    assert actions[0].reason == (
        f"{why}: fora da janela de contato; adiado para {reopens:%d/%m/%Y}"
    )
    assert not actions[0].consumes_steps


def test_state_holiday_does_not_close_other_states() -> None:
    today = date(2026, 7, 9)  # São Paulo only
    actions = plan_day([POLICY], {1: customer(uf="MG")}, [invoice(1, today)], today)
    assert [a.status for a in actions] == ["planned"]


def test_carnival_closes_only_when_the_policy_says_so() -> None:
    today = date(2026, 2, 17)
    open_carnival = plan_day([POLICY], {1: customer()}, [invoice(1, today)], today)
    assert [a.status for a in open_carnival] == ["planned"]
    closed = load_policy_text(POLICY_TEXT_CARNIVAL, "carnaval.yaml")
    actions = plan_day([closed], {1: customer()}, [invoice(1, today)], today)
    assert [(a.status, a.reason.split(":")[0]) for a in actions] == [("deferred", "carnaval")]


POLICY_TEXT_CARNIVAL = """
name: carnaval
contact_window: {weekdays: "08:00-20:00", saturday: closed, sunday: closed, holidays: closed,
                 carnival: closed}
segments:
  - {name: novo}
steps:
  - {id: vence-hoje, offset: 0, channels: [email], template: vence_hoje}
"""


def test_weekly_cap_defers_what_exceeds_it() -> None:
    today = date(2026, 11, 23)
    actions = plan_day([POLICY], {1: customer(week=2)}, [invoice(1, today)], today)
    assert [(a.status, a.reason) for a in actions] == [
        ("deferred", "limite de 2 contatos por semana atingido; adiado")
    ]
    assert actions[0].evidence["weekly_count"] == 2


def test_prescribed_debt_is_never_contacted() -> None:
    today = date(2026, 11, 23)
    old = invoice(1, date(2021, 11, 20), last=10)  # five years and three days
    assert plan_day([POLICY], {1: customer()}, [old], today) == []


def test_every_action_records_why_it_was_allowed() -> None:
    today = date(2026, 11, 23)
    action = plan_day([POLICY], {1: customer(week=1)}, [invoice(7, today)], today)[0]
    evidence = dict(action.evidence)
    assert evidence["policy"] == "teste"
    assert evidence["policy_version"] == POLICY.version
    assert evidence["step"] == "vence-hoje"
    assert evidence["segment"] == "novo"
    assert evidence["window"] == {
        "uf": "SP",
        "day": "2026-11-23",
        "hours": "08:00-20:00",
        "holiday": None,
        "open": True,
    }
    assert (evidence["weekly_count"], evidence["weekly_cap"]) == (1, 2)
    assert evidence["invoices"] == [
        {
            "id": 7,
            "due_date": "2026-11-23",
            "days": 0,
            "step": "vence-hoje",
            "balance_cents": 10_000,
        }
    ]


def test_inline_catch_up_agrees_with_the_policy_rule() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from regua.domain.policy import latest_step_due, latest_step_in, steps_for_segment

    ladder = steps_for_segment(POLICY, "novo")

    @given(st.integers(-10, 40), st.one_of(st.none(), st.sampled_from([-3, 0, 3, 10, 20])))
    def check(days: int, last: int | None) -> None:
        assert latest_step_in(ladder, days, last, 10_000) == latest_step_due(
            POLICY, "novo", days, last, amount_cents=10_000
        )

    check()


def test_week_after_a_long_weekend_sends_one_consolidated_contact() -> None:
    # Fri 20/11/2026 (Consciência Negra), Sat 21 and Sun 22 were closed for this RJ customer:
    # steps due then were deferred, nothing consumed. On Monday one action goes out, under the
    # latest step, listing every invoice.
    monday = date(2026, 11, 23)
    invoices = [
        invoice(1, date(2026, 11, 20)),  # D0 fell on the holiday: now D+3
        invoice(2, date(2026, 11, 22), last=-3),  # D0 on Sunday: now D+1, D0 still owed
        invoice(3, date(2026, 11, 11), last=3),  # D+10 fell on Saturday 21: now D+12
    ]
    state = customer(uf="RJ")
    for closed in (date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)):
        deferred = plan_day([POLICY], {1: state}, invoices, closed)
        assert [a.status for a in deferred] in ([], ["deferred"])
    actions = plan_day([POLICY], {1: state}, invoices, monday)
    assert summary(actions) == [(1, "planned", "ligacao", "phone", [2, 1, 3])]
    assert [(i.invoice_id, i.step_id) for i in actions[0].invoices] == [
        (2, "vence-hoje"),
        (1, "atraso-3"),
        (3, "ligacao"),
    ]


@pytest.mark.parametrize(
    ("due", "today", "expected"),
    [
        (date(2026, 11, 30), date(2026, 11, 24), date(2026, 11, 27)),  # D-3 still ahead
        (date(2026, 11, 27), date(2026, 11, 24), date(2026, 11, 27)),  # D0 ahead, D-3 today
        (date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 30)),  # D+3 today: D+10 next
        (date(2026, 11, 20), date(2026, 11, 29), date(2026, 11, 30)),  # a day before D+10
        (date(2026, 10, 21), date(2026, 11, 20), None),  # D+30 today: nothing after it
        (date(2025, 1, 2), date(2026, 11, 20), None),  # long past the last step
    ],
)
def test_next_step_day_is_the_first_offset_after_today(
    due: date, today: date, expected: date | None
) -> None:
    assert next_step_day(due, [-3, 0, 3, 10, 30], today) == expected


def test_prescription_counts_calendar_years_across_two_leap_days() -> None:
    # Due 15/01/2024: 29/02/2024 and 29/02/2028 lie in the five years. The term ends on
    # 15/01/2029 (CC art. 132 §3), which may still be collected; 1,826 days ended it on the 14th.
    due = date(2024, 1, 15)
    old = invoice(1, due, last=10)
    last_day, first_prescribed = date(2029, 1, 15), date(2029, 1, 16)
    assert [a.step.id for a in plan_day([POLICY], {1: customer()}, [old], last_day)] == [
        "atraso-20"
    ]
    assert plan_day([POLICY], {1: customer()}, [old], first_prescribed) == []


def test_a_term_begun_on_29_february_ends_on_1_march_of_a_common_year() -> None:
    assert add_years(date(2024, 2, 29), 5) == date(2029, 3, 1)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert prescribed_through(date(2029, 3, 1), 5) == date(2024, 2, 28)
    assert prescribed_through(date(2029, 3, 2), 5) == date(2024, 3, 1)


@pytest.mark.parametrize("years", [1, 4, 5])
def test_prescribed_through_is_the_last_due_date_whose_term_ended_before_today(
    years: int,
) -> None:
    dues = [date(2019, 12, 1) + timedelta(days=n) for n in range(3 * 366)]
    for today in (date(2024, 2, 1) + timedelta(days=n) for n in range(2 * 366 + 60)):
        cutoff = prescribed_through(today, years)
        for due in dues:
            assert (due <= cutoff) == (add_years(due, years) < today), (today, due)


def test_a_plan_step_and_a_thank_you_are_skipped_with_the_same_reason() -> None:
    today = date(2026, 11, 23)
    unreachable = customer(email=(), whatsapp=(), sms=(), phone=())
    action = plan_day([POLICY], {1: unreachable}, [invoice(1, today)], today)[0]
    choice = choose_channel(("whatsapp", "sms", "email"), unreachable.contacts)
    assert (action.status, action.reason) == (choice.status, choice.reason)
    assert action.reason == (
        "sem canal disponível: whatsapp: sem contato; sms: sem contato; email: sem contato"
    )
