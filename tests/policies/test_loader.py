"""Policy files with mistakes get one pt-BR line naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from regua.domain.policy import Step
from regua.policies.loader import PolicyError, load_policy, load_policy_text

GOOD = """\
name: teste
steps:
  - id: vence-hoje
    offset: 0
    channels: [whatsapp, sms]
    template: vence_hoje
  - id: atraso-3
    offset: 3
    channels: [whatsapp, email]
    template: atraso_amigavel
"""

ONE_STEP = "name: x\nsteps:\n  - {id: a, offset: 1, channels: [email], template: t}\n"


def test_minimal_policy_gets_the_defaults() -> None:
    policy = load_policy_text(GOOD, "teste.yaml")
    assert policy.name == "teste"
    assert policy.steps[1] == Step(
        "atraso-3", 3, ("whatsapp", "email"), template="atraso_amigavel", kind="collection"
    )
    assert [rule.name for rule in policy.segment_rules] == ["todos"]
    assert policy.limits.per_customer_per_week == 3
    assert policy.contact_window.sunday is None
    assert policy.timezone == "America/Sao_Paulo"


def test_a_daily_cap_of_one_is_still_accepted_and_changes_nothing() -> None:
    # Files written when the cap could be set keep loading, and keep their version.
    with_cap = GOOD + "limits:\n  per_customer_per_week: 3\n  per_customer_per_day: 1\n"
    assert load_policy_text(with_cap, "a.yaml").digest == load_policy_text(GOOD, "b.yaml").digest


def test_comments_and_layout_do_not_change_the_version() -> None:
    reformatted = (
        "# régua de teste\nname: teste\nsteps:\n"
        "  - {id: vence-hoje, offset: 0, channels: [whatsapp, sms], template: vence_hoje}\n"
        "  - {id: atraso-3, offset: 3, channels: [whatsapp, email], template: atraso_amigavel}\n"
    )
    assert load_policy_text(reformatted, "b.yaml").digest == load_policy_text(GOOD, "a.yaml").digest


MISTAKES = [
    (
        "wrong type",
        GOOD.replace("offset: 3", 'offset: "três"'),
        "teste.yaml:8: steps[1].offset: esperado um número inteiro",
    ),
    (
        "a fraction where an integer goes",
        GOOD.replace("offset: 3", "offset: 3.5"),
        "teste.yaml:8: steps[1].offset: esperado um número inteiro",
    ),
    (
        "misspelt key",
        GOOD.replace("template: atraso_amigavel", "templat: atraso_amigavel"),
        "teste.yaml:10: steps[1].templat: campo desconhecido; você quis dizer 'template'?",
    ),
    (
        "unknown key",
        GOOD + "    cor: azul\n",
        "teste.yaml:11: steps[1].cor: campo desconhecido; campos aceitos: id, offset, channels, "
        "template, script, segments, kind, min_amount_cents",
    ),
    (
        "unknown top-level key",
        GOOD.replace("steps:", "etapas:"),
        "teste.yaml:2: etapas: campo desconhecido; campos aceitos: name, description, timezone, "
        "contact_window, limits, segments, steps, thank_you, prescription_years, prices, assign, "
        "negotiation",
    ),
    (
        "unknown channel",
        GOOD.replace("[whatsapp, email]", "[whatsapp, telegram]"),
        "teste.yaml:9: steps[1].channels[1]: canal desconhecido 'telegram'; "
        "use um de: email, sms, whatsapp, phone, letter",
    ),
    (
        "phone step without script",
        GOOD.replace(
            "channels: [whatsapp, email]\n    template: atraso_amigavel", "channels: [phone]"
        ),
        "teste.yaml:7: steps[1].script: uma etapa com o canal phone precisa de um roteiro (script)",
    ),
    (
        "message step without template",
        GOOD.replace("    template: atraso_amigavel\n", ""),
        "teste.yaml:7: steps[1].template: uma etapa com mensagem (email, sms, whatsapp, letter) "
        "precisa de um modelo (template)",
    ),
    (
        "duplicate step id",
        GOOD.replace("id: atraso-3", "id: vence-hoje"),
        "teste.yaml:7: steps[1].id: etapa 'vence-hoje' repetida (já definida em steps[0])",
    ),
    (
        "bad indentation",
        GOOD.replace("    channels: [whatsapp, email]", "   channels: [whatsapp, email]"),
        "teste.yaml:9: YAML inválido: indentação inconsistente",
    ),
    (
        "over-indented key",
        GOOD.replace("    channels: [whatsapp, email]", "      channels: [whatsapp, email]"),
        "teste.yaml:9: YAML inválido: ':' inesperado; verifique a indentação ou use aspas",
    ),
    (
        "tab",
        GOOD.replace("    offset: 3", "\toffset: 3"),
        "teste.yaml:8: YAML inválido: tabulação não é permitida; use espaços",
    ),
    (
        "unclosed list",
        GOOD.replace("[whatsapp, email]", "[whatsapp, email"),
        "teste.yaml:9: YAML inválido: lista entre colchetes não fechada (falta ',' ou ']')",
    ),
    (
        "repeated key",
        GOOD.replace("    offset: 3\n", "    offset: 3\n    offset: 4\n"),
        "teste.yaml:9: steps[1].offset: chave repetida",
    ),
    ("empty file", "", "teste.yaml:1: arquivo vazio: esperado um bloco com name e steps"),
    (
        "a list instead of a policy",
        "- a\n- b\n",
        "teste.yaml:1: esperado um bloco de campos (name, steps, ...) no topo do arquivo",
    ),
    ("no steps", "name: x\n", "teste.yaml:1: steps: campo obrigatório"),
    ("empty steps", "name: x\nsteps: []\n", "teste.yaml:2: steps: a lista não pode ser vazia"),
    (
        "missing step id",
        "name: x\nsteps:\n  - offset: 1\n    channels: [email]\n    template: t\n",
        "teste.yaml:3: steps[0].id: campo obrigatório",
    ),
    (
        "bad name",
        ONE_STEP.replace("name: x", "name: Régua X"),
        "teste.yaml:1: name: nome inválido 'Régua X': use letras minúsculas sem acento, números, "
        "'-' e '_' (ex.: padrao, atraso-3, vence_hoje)",
    ),
    (
        "bad hours",
        ONE_STEP + "contact_window:\n  weekdays: 8h-20h\n",
        "teste.yaml:5: contact_window.weekdays: horário inválido '8h-20h': "
        "use 'HH:MM-HH:MM' ou 'closed'",
    ),
    (
        "yes/no where closed/open goes",
        ONE_STEP + "contact_window:\n  holidays: no\n",
        "teste.yaml:5: contact_window.holidays: use 'closed' ou 'open' "
        "(yes/no/true/false não servem aqui)",
    ),
    (
        "bad date",
        ONE_STEP + "contact_window:\n  closed_days: [24/12/2025]\n",
        "teste.yaml:5: contact_window.closed_days[0]: data inválida: use AAAA-MM-DD",
    ),
    (
        "unknown time zone",
        ONE_STEP + "timezone: Brasil/Sampa\n",
        "teste.yaml:4: timezone: fuso horário desconhecido 'Brasil/Sampa' (ex.: America/Sao_Paulo)",
    ),
    (
        "unknown kind",
        ONE_STEP.replace("template: t}", "template: t, kind: aviso}"),
        "teste.yaml:3: steps[0].kind: valor 'aviso' não aceito; "
        "use 'reminder', 'notice', 'collection', 'call' ou 'bureau_notice'",
    ),
    (
        "limit below one",
        ONE_STEP + "limits:\n  per_customer_per_week: 0\n",
        "teste.yaml:5: limits.per_customer_per_week: deve ser maior ou igual a 1",
    ),
    (
        "a daily cap other than one",
        ONE_STEP + "limits:\n  per_customer_per_day: 2\n",
        "teste.yaml:5: limits.per_customer_per_day: o limite por dia não é configurável: cada "
        "cliente recebe no máximo um contato de cobrança por dia; remova per_customer_per_day "
        "da régua (ou use 1)",
    ),
    (
        "unknown price channel",
        ONE_STEP + "prices:\n  pombo: 3\n",
        "teste.yaml:5: prices.pombo: canal desconhecido 'pombo'; "
        "use um de: email, sms, whatsapp, phone, letter",
    ),
    (
        "bureau notice by whatsapp",
        "name: x\nsteps:\n  - id: aviso\n    offset: 30\n    channels: [whatsapp]\n"
        "    template: aviso\n    kind: bureau_notice\n",
        "teste.yaml:5: steps[0].channels: o aviso de negativação deve ser por escrito "
        "(CDC art. 43 §2): inclua letter ou email",
    ),
]


@pytest.mark.parametrize(("case", "text", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_mistakes_get_one_line_with_file_line_and_field(case: str, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "teste.yaml")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


SEGMENTS = """\
name: x
segments:
  - name: bom
    when:
      on_time_rate: {condition}
  - name: resto
steps:
  - {{id: a, offset: 1, channels: [email], template: t, segments: [{segment}]}}
"""

SEGMENT_MISTAKES = [
    (
        "number without operator",
        SEGMENTS.format(condition="0.9", segment="bom"),
        "teste.yaml:5: segments[0].when.on_time_rate: esperada uma condição entre aspas, "
        'com operador, como ">=0.9"',
    ),
    (
        "unquoted operator",
        SEGMENTS.format(condition=">=0.9", segment="bom"),
        "teste.yaml:5: YAML inválido: valor começando com '>' ou '|' precisa de aspas "
        '(ex.: ">=0.9")',
    ),
    (
        "rate above one",
        SEGMENTS.format(condition='">=90"', segment="bom"),
        "teste.yaml:5: segments[0].when.on_time_rate: condição inválida '>=90': "
        "uma taxa vai de 0 a 1 (ou use porcentagem, como '90%')",
    ),
    (
        "second condition of a range",
        SEGMENTS.format(condition="['>0.5', '<=x']", segment="bom"),
        "teste.yaml:5: segments[0].when.on_time_rate[1]: condição inválida '<=x': use um "
        "operador (>=, <=, >, <, ==, !=) e um número, por exemplo '>=0.9'",
    ),
    (
        "unknown feature",
        SEGMENTS.format(condition='">0.9"', segment="bom").replace("on_time_rate", "pontual"),
        "teste.yaml:5: segments[0].when.pontual: atributo desconhecido 'pontual'; use um de: "
        "invoices_total, invoices_paid, paid_on_time, paid_late, on_time_rate, late_rate, "
        "avg_days_late, max_days_late, open_overdue_cents, oldest_overdue_days, tenure_days, "
        "broken_promises",
    ),
    (
        "step for a segment that does not exist",
        SEGMENTS.format(condition='">=0.9"', segment="vip"),
        "teste.yaml:8: steps[0].segments[0]: segmento desconhecido 'vip'; "
        "segmentos da régua: bom, resto",
    ),
    (
        "no catch-all",
        SEGMENTS.format(condition='">=0.9"', segment="bom").replace("  - name: resto\n", ""),
        "teste.yaml:3: segments[0]: o último segmento deve valer para todos os clientes "
        "(sem condições em 'when'), para que todo cliente tenha um segmento",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "message"), SEGMENT_MISTAKES, ids=[m[0] for m in SEGMENT_MISTAKES]
)
def test_segment_mistakes(case: str, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "teste.yaml")
    assert str(caught.value) == message


def test_conditions_accept_a_range_and_percentages() -> None:
    text = SEGMENTS.format(condition="['>=50%', '<0,95']", segment="bom")
    rule = load_policy_text(text, "teste.yaml").segment_rules[0]
    assert [str(c) for c in rule.conditions] == ["on_time_rate >= 0.5", "on_time_rate < 0.95"]
    assert rule.label_pt == "Bom"


def test_the_first_mistake_in_the_file_is_reported() -> None:
    text = GOOD.replace("offset: 0", 'offset: "zero"').replace("offset: 3", 'offset: "três"')
    with pytest.raises(PolicyError, match=r"^teste.yaml:4: steps\[0\]\.offset: "):
        load_policy_text(text, "teste.yaml")


def test_error_carries_structured_fields() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(GOOD.replace("offset: 3", "offset: x"), "teste.yaml")
    error = caught.value
    assert (error.file, error.row, error.field, error.code) == (
        "teste.yaml",
        8,
        "steps[1].offset",
        "invalid_policy",
    )
    assert error.reason == "esperado um número inteiro"


def test_load_policy_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "minha.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_policy(path).name == "teste"


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    broken = tmp_path / "minha.yaml"
    broken.write_text(GOOD.replace("offset: 3", "offset: x"), encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^{broken}:8: steps\[1\]\.offset: "):
        load_policy(broken)
    with pytest.raises(PolicyError, match=r"nada.yaml: arquivo não encontrado$"):
        load_policy(tmp_path / "nada.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: régua\n".encode("latin-1"))
    with pytest.raises(PolicyError, match=r"latin.yaml: o arquivo não está em UTF-8$"):
        load_policy(latin)
