"""Tone lint: every rule fails on a bad example, and the default library lints clean."""

from __future__ import annotations

from datetime import date

import pytest

from regua.channels.call_scripts import lint_call_script
from regua.channels.rendering import default_renderer
from regua.channels.sms_length import sms_length
from regua.channels.template_lint import lint_template
from regua.domain.tone import LintIssue, lint_text

CREDITOR = "Conecta Fibra Ltda, CNPJ 11.222.333/0001-81."
OPT_OUT = "Para não receber mais mensagens, responda SAIR."
TODAY = date(2026, 11, 23)


def codes(issues: list[LintIssue]) -> list[tuple[str, str]]:
    return [(i.code, i.severity) for i in issues]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Se não pagar, você pode ir para a prisão.", "ameaca"),
        ("Vamos chamar a polícia.", "ameaca"),
        ("Abriremos processo criminal contra você.", "ameaca"),
        ("Se não pagar hoje, vamos acionar nosso jurídico.", "ameaca"),
        ("Esta é sua última chance de pagar.", "ameaca"),
        ("Protesto imediato do título.", "ameaca"),
        ("Não fique com o nome sujo.", "ameaca"),
        ("Nao pague e seu nome vai para prisao", "ameaca"),  # SMS without accents
        ("Deixe de ser caloteiro.", "constrangimento"),
        ("Que vergonha deixar a conta atrasar.", "constrangimento"),
        ("Você é um mau pagador.", "constrangimento"),
        ("Atitude irresponsável a sua.", "constrangimento"),
        ("Vamos avisar sua família sobre a dívida.", "terceiros"),
        ("Podemos ligar para o seu empregador.", "terceiros"),
        ("Informaremos os seus vizinhos.", "terceiros"),
        ("Vamos falar com o seu chefe.", "terceiros"),
        ("Pagamento urgente.", "pressao"),
    ],
)
def test_flags_forbidden_wording(text: str, code: str) -> None:
    issues = lint_text("email", f"Olá, Maria. {text}\n{CREDITOR}")
    assert code in [i.code for i in issues]
    assert [i.line for i in issues if i.code == code] == [1]


def test_capitals_are_shouting_but_acronyms_and_the_creditor_are_not() -> None:
    shouting = lint_text("email", f"Olá.\nPAGUE AGORA sua fatura.\n{CREDITOR}")
    assert codes(shouting) == [("caixa_alta", "warning")]
    assert shouting[0].line == 2
    calm = lint_text(
        "email",
        "Pague com PIX ou boleto; informe seu CPF.\nCONECTA FIBRA LTDA, CNPJ 11.222.333/0001-81",
        creditor_name="CONECTA FIBRA LTDA",
    )
    assert calm == []


@pytest.mark.parametrize("text", ["Pague hoje!!", "Ainda não pagou?!", "Oi! Sim! Pague! Já!"])
def test_pressure_punctuation(text: str) -> None:
    assert ("pontuacao", "warning") in codes(lint_text("email", f"{text}\n{CREDITOR}"))


def test_creditor_must_be_identified_by_name_and_document() -> None:
    [issue] = lint_text("email", "Olá, Maria. Sua fatura vence amanhã.")
    assert (issue.code, issue.severity) == ("credor_nao_identificado", "error")
    assert "CPF/CNPJ" in issue.message_pt and "42-A" in issue.message_pt
    [named] = lint_text(
        "email",
        "Olá. CNPJ 11.222.333/0001-81",
        creditor_name="Conecta Fibra Ltda",
        creditor_document="11.222.333/0001-81",
    )
    assert "Conecta Fibra Ltda" in named.message_pt
    assert (
        lint_text(
            "email",
            "Conecta Fibra Ltda (CNPJ 11222333000181)",
            creditor_name="Conecta Fibra Ltda",
            creditor_document="11.222.333/0001-81",
        )
        == []
    )


def test_sms_and_whatsapp_need_an_opt_out() -> None:
    assert codes(lint_text("sms", f"Olá. {CREDITOR}")) == [("sem_opt_out", "error")]
    assert codes(lint_text("whatsapp", f"Olá. {CREDITOR}")) == [("sem_opt_out", "error")]
    assert lint_text("sms", f"Olá. {CREDITOR} Para nao receber mais SMS, responda SAIR") == []
    assert lint_text("email", f"Olá. {CREDITOR}") == []


def test_length_limits_per_channel() -> None:
    long_sms = "Ola. " + "x" * 480 + f" {CREDITOR} responda SAIR"
    length = sms_length(long_sms)
    assert length.segments == 4
    assert codes(lint_text("sms", long_sms, sms_segments=length.segments)) == [("tamanho", "error")]
    assert codes(lint_text("sms", "x", sms_segments=3, check_identification=False)[1:]) == [
        ("tamanho", "warning")
    ]
    accented = lint_text("sms", f"Atenção {CREDITOR} responda SAIR", sms_segments=1,
                         sms_unicode=True)  # fmt: skip
    assert codes(accented) == [("tamanho", "warning")]
    body = f"{CREDITOR} {OPT_OUT} " + "a" * 1000
    assert codes(lint_text("whatsapp", body)) == [("tamanho", "error")]
    assert lint_text("whatsapp", body, whatsapp_free_text=True) == []
    subject = "Sua fatura da Conecta Fibra Ltda vence em breve e você pode pagar com PIX ou boleto"
    [issue] = lint_text("email", CREDITOR, subject=subject)
    assert (issue.code, issue.severity, issue.part) == ("tamanho", "warning", "subject")


def test_subject_is_linted_for_tone_too() -> None:
    [issue] = lint_text("email", CREDITOR, subject="Última chance, caloteiro")
    assert (issue.code, issue.part) == ("constrangimento", "subject")


def test_default_library_lints_clean() -> None:
    renderer = default_renderer()
    names = renderer.template_names()
    assert names == [
        "acordo_parcela_atraso",
        "acordo_parcela_lembrete",
        "acordo_parcela_vence_hoje",
        "acordo_quebrado",
        "agradecimento",
        "atraso_amigavel",
        "atraso_firme",
        "atraso_lembrete",
        "aviso_negativacao",
        "lembrete_vencimento",
        "vence_hoje",
    ]
    for name in names:
        # An installment's messages go by e-mail, SMS or WhatsApp (no letter in the steps).
        letter = [] if name.startswith("acordo_parcela_") else ["letter"]
        assert renderer.channels_of(name) == ["email", "sms", "whatsapp", *letter]
        assert lint_template(name, today=TODAY) == [], name
    assert lint_call_script("roteiro_negociacao", today=TODAY) == []
