"""negotiation.installment_steps: the steps an agreement's installments follow, read, checked
(`regua policy check`) and diffed; and the planner giving them to installments only."""

from __future__ import annotations

from datetime import date

import pytest

from regua.domain.planning import ContactPoint, CustomerState, OpenInvoice, plan_day
from regua.domain.policy_checks import KnownNames
from regua.domain.policy_diff import settings_changes
from regua.domain.policy_terms import DEFAULT_INSTALLMENT_STEPS
from regua.policies.loader import PolicyError, default_policy, load_policy_text
from tests.policies.test_negotiation_terms import BASE, TERMS

STEPS = """\
  installment_steps:
    - {id: lembra, offset: -5, channels: [sms, email], template: acordo_parcela_lembrete}
    - {id: atrasou, offset: 10, channels: [whatsapp], template: acordo_parcela_atraso}
"""
KNOWN = KnownNames(
    templates={
        "vence_hoje",
        "acordo_parcela_lembrete",
        "acordo_parcela_vence_hoje",
        "acordo_parcela_atraso",
    },
    scripts=set(),
)


def test_the_default_policy_gives_installments_a_reminder_a_notice_and_a_warning() -> None:
    terms = default_policy().negotiation
    assert terms is not None
    assert [(s.offset, s.template) for s in terms.installment_steps] == [
        (-3, "acordo_parcela_lembrete"),
        (0, "acordo_parcela_vence_hoje"),
        (3, "acordo_parcela_atraso"),
    ]
    assert terms.installment_steps == DEFAULT_INSTALLMENT_STEPS
    assert terms.installment_steps[-1].offset < terms.breaking.days_late


def test_installment_steps_are_read_and_diffed() -> None:
    old = load_policy_text(BASE + TERMS, "a.yaml", KNOWN)
    new = load_policy_text(BASE + TERMS + STEPS, "b.yaml", KNOWN)
    assert new.negotiation is not None
    assert [(s.id, s.offset, s.channels) for s in new.negotiation.installment_steps] == [
        ("lembra", -5, ("sms", "email")),
        ("atrasou", 10, ("whatsapp",)),
    ]
    assert old.digest != new.digest
    assert settings_changes(old, new) == [
        "negociação: etapas das parcelas: D-3 email/whatsapp/sms (acordo_parcela_lembrete); "
        "D0 whatsapp/sms/email (acordo_parcela_vence_hoje); D+3 whatsapp/sms/email "
        "(acordo_parcela_atraso) → D-5 sms/email (acordo_parcela_lembrete); D+10 whatsapp "
        "(acordo_parcela_atraso)"
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("offset: 10,", "offset: 20,"),
            "t.yaml:31: negotiation.installment_steps[1].offset: a etapa cai em D+20, quando o "
            "acordo já está quebrado (breaking.days_late: 20); use um dia anterior",
        ),
        (
            ("channels: [whatsapp]", "channels: [letter]"),
            "t.yaml:31: negotiation.installment_steps[1].channels[0]: canal 'letter' não serve "
            "para as parcelas; use um de: email, sms, whatsapp",
        ),
        (
            ("template: acordo_parcela_atraso", "template: acordo_parcela_atrazo"),
            "t.yaml:31: negotiation.installment_steps[1].template: modelo "
            "'acordo_parcela_atrazo' não existe (etapa das parcelas 'atrasou'); você quis dizer "
            "acordo_parcela_atraso?",
        ),
    ],
)
def test_installment_step_mistakes_name_line_and_field(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(BASE + TERMS + STEPS.replace(*change), "t.yaml", KNOWN)
    assert str(caught.value) == message


def test_an_installment_gets_its_own_step_and_an_ordinary_invoice_the_regua_s() -> None:
    policy = default_policy()
    customer = CustomerState(
        id=1, segment="novo", uf="SP", contacts={"sms": (ContactPoint("+5511987654321"),)}
    )
    today = date(2026, 11, 26)  # Thursday
    installment = OpenInvoice(10, 1, date(2026, 11, 23), 6_667, agreement_id=7)
    ordinary = OpenInvoice(11, 1, date(2026, 11, 23), 6_667)
    (alone,) = plan_day([policy], {1: customer}, [installment], today)
    assert (alone.step.id, alone.step.template) == ("parcela-atraso", "acordo_parcela_atraso")
    (regua,) = plan_day([policy], {1: customer}, [ordinary], today)
    assert not regua.step.id.startswith("parcela-")
    # Both due the same day: one action, about the ordinary invoice only; the installment's
    # step waits for the next day.
    (both,) = plan_day([policy], {1: customer}, [installment, ordinary], today)
    assert both.step == regua.step
    assert [item.invoice_id for item in both.invoices] == [11]
