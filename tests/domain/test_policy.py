"""Policy rules: steps per segment, catch-up without bursts, consistency checks, diff, digest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regua.domain.calendar import ContactWindow
from regua.domain.policy import (
    Assignment,
    Limits,
    Policy,
    Step,
    ThankYou,
    derive_kind,
    format_offset,
    latest_step_due,
    policy_as_dict,
    select_policy,
    step_for_days_late,
    steps_for_segment,
)
from regua.domain.policy_checks import PolicyProblem, check_policy
from regua.domain.policy_diff import StepChange, diff, settings_changes
from regua.domain.segments import SegmentRule, parse_condition
from regua.errors import NotFound

RULES = (
    SegmentRule("bom_pagador", "Bom pagador", (parse_condition("on_time_rate", ">=0.9"),)),
    SegmentRule("novo", "Novo"),
)

STEPS = (
    Step("lembrete", -3, ("email", "whatsapp"), template="lembrete", segments=("novo",)),
    Step("vence-hoje", 0, ("whatsapp", "sms"), template="vence_hoje"),
    Step("atraso-3", 3, ("whatsapp", "email"), template="atraso_amigavel"),
    Step("ligacao", 15, ("phone",), script="roteiro"),
    Step("atraso-20", 20, ("email",), template="atraso_firme", min_amount_cents=5000),
    Step("aviso", 30, ("letter", "email"), template="aviso", kind="bureau_notice"),
)

POLICY = Policy(name="teste", segment_rules=RULES, steps=STEPS)


def ids(steps: tuple[Step, ...]) -> list[str]:
    return [s.id for s in steps]


def test_kind_is_derived_when_not_given() -> None:
    assert [s.kind for s in STEPS] == [
        "reminder",
        "notice",
        "collection",
        "call",
        "collection",
        "bureau_notice",
    ]
    assert derive_kind(-1, ["sms"]) == "reminder"


@pytest.mark.parametrize(("offset", "label"), [(-3, "D-3"), (0, "D0"), (3, "D+3"), (30, "D+30")])
def test_format_offset(offset: int, label: str) -> None:
    assert format_offset(offset) == label


def test_preventive_reminder_is_not_for_good_payers() -> None:
    assert ids(steps_for_segment(POLICY, "bom_pagador")) == [
        "vence-hoje",
        "atraso-3",
        "ligacao",
        "atraso-20",
        "aviso",
    ]
    assert ids(steps_for_segment(POLICY, "novo"))[0] == "lembrete"


@pytest.mark.parametrize(
    ("segment", "days", "expected"),
    [
        ("novo", -3, "lembrete"),
        ("bom_pagador", -3, None),
        ("bom_pagador", 0, "vence-hoje"),
        ("novo", 3, "atraso-3"),
        ("novo", 4, None),
        ("novo", 15, "ligacao"),
    ],
)
def test_step_for_days_late(segment: str, days: int, expected: str | None) -> None:
    step = step_for_days_late(POLICY, segment, days)
    assert (step.id if step else None) == expected


def test_small_invoices_skip_steps_with_a_minimum() -> None:
    assert step_for_days_late(POLICY, "novo", 20, amount_cents=4999) is None
    big = step_for_days_late(POLICY, "novo", 20, amount_cents=5000)
    assert big is not None and big.id == "atraso-20"


@pytest.mark.parametrize(
    ("days_late", "last_sent", "expected"),
    [
        (0, None, "vence-hoje"),
        (-3, None, "lembrete"),
        (-5, None, None),
        (10, None, "atraso-3"),  # imported late: only the latest step, no burst
        (16, 0, "ligacao"),  # missed D+3 and D+15: only D+15
        (16, 15, None),  # already sent
        (3, 3, None),
        (100, 20, "aviso"),
        (100, 30, None),
    ],
)
def test_catch_up_sends_only_the_latest_step(
    days_late: int, last_sent: int | None, expected: str | None
) -> None:
    step = latest_step_due(POLICY, "novo", days_late, last_sent)
    assert (step.id if step else None) == expected


def test_catch_up_skips_a_step_the_invoice_is_too_small_for() -> None:
    step = latest_step_due(POLICY, "novo", 25, 15, amount_cents=1000)
    assert step is None
    step = latest_step_due(POLICY, "novo", 25, 3, amount_cents=1000)
    assert step is not None and step.id == "ligacao"


offsets = st.lists(st.integers(-10, 60), min_size=1, max_size=12, unique=True)


@given(
    step_offsets=offsets,
    days_late=st.integers(-20, 100),
    last_sent=st.one_of(st.none(), st.integers(-20, 100)),
)
def test_catch_up_never_runs_ahead_nor_repeats(
    step_offsets: list[int], days_late: int, last_sent: int | None
) -> None:
    steps = tuple(Step(f"s{o}", o, ("email",), template="t") for o in sorted(step_offsets))
    policy = Policy(name="p", steps=steps)
    step = latest_step_due(policy, "todos", days_late, last_sent)
    candidates = [
        o for o in step_offsets if o <= days_late and (last_sent is None or o > last_sent)
    ]
    if step is None:
        assert candidates == []
    else:
        assert step.offset <= days_late
        assert last_sent is None or step.offset > last_sent
        assert step.offset == max(candidates)


def test_default_policy_object_is_valid() -> None:
    assert check_policy(POLICY) == []


BROKEN = [
    (
        "duplicate id",
        (Step("a", 1, ("email",), template="t"), Step("a", 2, ("email",), template="t")),
        PolicyProblem(("steps", 1, "id"), "etapa 'a' repetida (já definida em steps[0])"),
    ),
    (
        "phone without script",
        (Step("ligar", 10, ("phone",)),),
        PolicyProblem(
            ("steps", 0, "script"), "uma etapa com o canal phone precisa de um roteiro (script)"
        ),
    ),
    (
        "message without template",
        (Step("msg", 3, ("sms",)),),
        PolicyProblem(
            ("steps", 0, "template"),
            "uma etapa com mensagem (email, sms, whatsapp, letter) precisa de um modelo (template)",
        ),
    ),
    (
        "unknown channel",
        (Step("msg", 3, ("telegram",), template="t"),),
        PolicyProblem(
            ("steps", 0, "channels", 0),
            "canal desconhecido 'telegram'; use um de: email, sms, whatsapp, phone, letter",
        ),
    ),
    (
        "bureau notice by sms",
        (Step("aviso", 30, ("sms",), template="t", kind="bureau_notice"),),
        PolicyProblem(
            ("steps", 0, "channels"),
            "o aviso de negativação deve ser por escrito (CDC art. 43 §2): inclua letter ou email",
        ),
    ),
    (
        "bureau notice before due date",
        (Step("aviso", -1, ("letter",), template="t", kind="bureau_notice"),),
        PolicyProblem(
            ("steps", 0, "offset"), "o aviso de negativação só cabe depois do vencimento"
        ),
    ),
    (
        "unknown segment",
        (Step("msg", 3, ("sms",), template="t", segments=("vip",)),),
        PolicyProblem(
            ("steps", 0, "segments", 0),
            "segmento desconhecido 'vip'; segmentos da régua: bom_pagador, novo",
        ),
    ),
    (
        "two steps on the same day for the same segment",
        (
            Step("a", 3, ("sms",), template="t", segments=("novo",)),
            Step("b", 3, ("email",), template="t"),
        ),
        PolicyProblem(
            ("steps", 1, "offset"),
            "a etapa 'a' (steps[0]) já está em D+3 para novo: separe os segmentos ou mude o dia",
        ),
    ),
]


@pytest.mark.parametrize(("case", "steps", "problem"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_steps_are_reported_with_their_path(
    case: str, steps: tuple[Step, ...], problem: PolicyProblem
) -> None:
    assert check_policy(replace(POLICY, steps=steps)) == [problem]


def test_same_day_for_disjoint_segments_is_fine() -> None:
    steps = (
        Step("a", 3, ("sms",), template="t", segments=("novo",)),
        Step("b", 3, ("email",), template="t", segments=("bom_pagador",)),
    )
    assert check_policy(replace(POLICY, steps=steps)) == []


def test_last_segment_must_match_everyone() -> None:
    rules = (RULES[0],)
    assert check_policy(replace(POLICY, segment_rules=rules, steps=())) == [
        PolicyProblem(
            ("segments", 0),
            "o último segmento deve valer para todos os clientes (sem condições em 'when'), "
            "para que todo cliente tenha um segmento",
        )
    ]


def test_segment_after_a_catch_all_is_unreachable() -> None:
    rules = (SegmentRule("novo", "Novo"), RULES[0], SegmentRule("resto", "Resto"))
    problems = check_policy(replace(POLICY, segment_rules=rules, steps=()))
    assert problems[0].path == ("segments", 1)
    assert "segmento 'bom_pagador' nunca será usado" in problems[0].message


def test_other_rules() -> None:
    policy = replace(
        POLICY,
        limits=Limits(per_customer_per_week=0),
        thank_you=ThankYou("obrigado", ("phone",)),
        channel_prices_cents={"pombo": 1, "sms": -1},
        prescription_years=0,
        assign=Assignment(segments=("vip",)),
    )
    assert [(p.path, p.message) for p in check_policy(policy)] == [
        (
            ("thank_you", "channels", 0),
            "canal 'phone' não serve para o agradecimento; use um de: email, letter, sms, whatsapp",
        ),
        (("limits", "per_customer_per_week"), "deve ser pelo menos 1"),
        (("prescription_years",), "deve estar entre 1 e 20 anos"),
        (
            ("prices", "pombo"),
            "canal desconhecido 'pombo'; use um de: email, sms, whatsapp, phone, letter",
        ),
        (("prices", "sms"), "o preço não pode ser negativo"),
        (
            ("assign", "segments", 0),
            "segmento desconhecido 'vip'; segmentos da régua: bom_pagador, novo",
        ),
    ]


def test_digest_depends_on_content_only() -> None:
    same = Policy(name="teste", segment_rules=RULES, steps=STEPS)
    assert same.digest == POLICY.digest
    assert len(POLICY.version) == 12
    moved = replace(POLICY, steps=(*STEPS[:-1], replace(STEPS[-1], offset=35)))
    assert moved.digest != POLICY.digest
    narrower = replace(
        POLICY,
        contact_window=ContactWindow(weekdays=(time(9), time(18)), saturday=None, sunday=None),
    )
    assert narrower.digest != POLICY.digest


def test_digest_of_a_version_stored_before_the_daily_cap_was_dropped() -> None:
    # Digests from before `per_customer_per_day` left the domain: stored versions and the
    # actions planned under them name these.
    assert Policy(name="x").digest == (
        "bf3fa335754d877080f8ba4a6e651f787e915f6d3e31fde9430f1d7477bcf77e"
    )
    assert "per_customer_per_day" not in policy_as_dict(POLICY)["limits"]


def test_policy_as_dict_is_json_ready() -> None:
    data = policy_as_dict(POLICY)
    assert data["steps"][0] == {
        "id": "lembrete",
        "offset": -3,
        "day": "D-3",
        "channels": ["email", "whatsapp"],
        "template": "lembrete",
        "script": None,
        "segments": ["novo"],
        "kind": "reminder",
        "min_amount_cents": 0,
    }
    assert data["contact_window"]["weekdays"] == "08:00-20:00"
    assert data["segments"][0]["when"] == [["on_time_rate", ">=", 0.9]]


def test_diff_matches_steps_by_id() -> None:
    new_steps = (
        STEPS[0],
        replace(STEPS[1], channels=("whatsapp", "email")),  # changed
        STEPS[2],
        replace(STEPS[3], offset=10),  # moved
        Step("atraso-7", 7, ("email",), template="atraso_lembrete"),  # added
        # atraso-20 removed
        STEPS[5],
    )
    assert diff(POLICY, replace(POLICY, steps=new_steps)) == [
        StepChange("changed", "vence-hoje", 0, 0, "canais: WhatsApp, SMS → WhatsApp, e-mail"),
        StepChange(
            "added",
            "atraso-7",
            None,
            7,
            "nova etapa em D+7 por e-mail; modelo atraso_lembrete; segmentos: todos",
        ),
        StepChange("moved", "ligacao", 15, 10, "movida de D+15 para D+10"),
        StepChange(
            "removed",
            "atraso-20",
            20,
            None,
            "etapa removida (era D+20 por e-mail; modelo atraso_firme; segmentos: todos)",
        ),
    ]


def test_diff_of_a_move_also_lists_other_changes() -> None:
    moved = replace(STEPS[2], offset=5, template="atraso_gentil", segments=("novo",))
    changes = diff(POLICY, replace(POLICY, steps=(*STEPS[:2], moved, *STEPS[3:])))
    assert changes == [
        StepChange(
            "moved",
            "atraso-3",
            3,
            5,
            "movida de D+3 para D+5; modelo: atraso_amigavel → atraso_gentil; "
            "segmentos: todos → novo",
        )
    ]


def test_diff_of_equal_policies_is_empty() -> None:
    assert diff(POLICY, POLICY) == []
    assert settings_changes(POLICY, POLICY) == []


def test_settings_changes() -> None:
    new = replace(
        POLICY,
        contact_window=ContactWindow(
            weekdays=(time(9), time(18)),
            saturday=None,
            sunday=None,
            carnival_closed=True,
            extra_closed_days=frozenset({date(2025, 12, 24)}),
        ),
        limits=Limits(per_customer_per_week=2),
        segment_rules=(
            SegmentRule("bom_pagador", "Bom pagador", (parse_condition("on_time_rate", ">=0.95"),)),
            SegmentRule("novo", "Novo"),
        ),
        channel_prices_cents={"sms": 8},
        thank_you=ThankYou("agradecimento", ("email",)),
    )
    assert settings_changes(POLICY, new) == [
        "janela de contato: segunda a sexta: 08:00 às 20:00 → 09:00 às 18:00",
        "janela de contato: sábado: 08:00 às 14:00 → fechado",
        "janela de contato: carnaval: aberto → fechado",
        "janela de contato: outros dias fechados: nenhum → 24/12/2025",
        "limite por semana: 3 → 2",
        "segmento bom_pagador: on_time_rate >= 0.9 → on_time_rate >= 0.95",
        "agradecimento: nenhum → agradecimento por e-mail",
        "preço de SMS: — → R$ 0,08",
    ]


def test_select_policy_by_tag_then_segment_then_default() -> None:
    default = Policy(name="padrao")
    for_risk = Policy(name="risco", assign=Assignment(segments=("risco",)))
    for_b2b = Policy(name="empresas", assign=Assignment(customer_tags=("b2b",)))
    b2b_risk = Policy(
        name="empresas-risco", assign=Assignment(segments=("risco",), customer_tags=("b2b",))
    )
    policies = [default, for_risk, for_b2b, b2b_risk]
    assert select_policy(policies, "novo", []).name == "padrao"
    assert select_policy(policies, "risco", []).name == "risco"
    assert select_policy(policies, "novo", ["b2b"]).name == "empresas"
    assert select_policy(policies, "risco", ["b2b", "sp"]).name == "empresas-risco"


def test_select_policy_breaks_ties_by_priority_then_name() -> None:
    a = Policy(name="a", assign=Assignment(customer_tags=("x",)))
    b = Policy(name="b", assign=Assignment(customer_tags=("x",)))
    urgent = Policy(name="c", assign=Assignment(customer_tags=("x",), priority=5))
    assert select_policy([b, a], "novo", ["x"]).name == "a"
    assert select_policy([b, a, urgent], "novo", ["x"]).name == "c"


def test_select_policy_without_default_is_refused() -> None:
    only_risk = Policy(name="risco", assign=Assignment(segments=("risco",)))
    with pytest.raises(NotFound, match="nenhuma régua se aplica ao segmento 'novo'"):
        select_policy([only_risk], "novo", [])


def test_policy_step_lookup() -> None:
    assert POLICY.step("ligacao").script == "roteiro"
    with pytest.raises(NotFound, match="etapa 'nada' não existe na régua 'teste'"):
        POLICY.step("nada")
