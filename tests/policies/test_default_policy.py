"""The shipped pt-BR policy: the cadence other parts of regua rely on by name."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from regua.domain.calendar import DEFAULT_CONTACT_WINDOW
from regua.domain.offers import early_payment_offer
from regua.domain.policy import (
    Limits,
    ThankYou,
    latest_step_due,
    select_policy,
    steps_for_segment,
)
from regua.domain.policy_checks import check_policy
from regua.domain.segments import BehaviourFeatures, classify
from regua.policies.loader import (
    PolicyError,
    default_policy,
    load_policy_text,
    packaged_policy,
    packaged_policy_names,
    packaged_policy_text,
)

POLICY = default_policy()


def test_steps_ids_days_channels_and_templates() -> None:
    rows = [(s.id, s.offset, s.channels, s.template or s.script, s.kind) for s in POLICY.steps]
    assert rows == [
        ("lembrete", -7, ("email", "whatsapp", "sms"), "lembrete_vencimento", "reminder"),
        ("vence-hoje", 0, ("whatsapp", "sms", "email"), "vence_hoje", "notice"),
        ("atraso-3", 3, ("whatsapp", "email", "sms"), "atraso_amigavel", "collection"),
        ("atraso-10", 10, ("email", "whatsapp", "sms"), "atraso_lembrete", "collection"),
        ("ligacao", 15, ("phone",), "roteiro_negociacao", "call"),
        ("atraso-20", 20, ("whatsapp", "email", "sms"), "atraso_firme", "collection"),
        ("aviso-negativacao", 30, ("letter", "email"), "aviso_negativacao", "bureau_notice"),
    ]


def test_preventive_reminder_only_for_segments_that_need_it() -> None:
    assert POLICY.step("lembrete").segments == ("atrasador_habitual", "novo", "risco")
    good = [s.id for s in steps_for_segment(POLICY, "bom_pagador")]
    assert "lembrete" not in good
    assert good[0] == "vence-hoje"
    for segment in ("atrasador_habitual", "novo", "risco"):
        assert steps_for_segment(POLICY, segment)[0].id == "lembrete"


@pytest.mark.parametrize("name", ["padrao", "empresas"])
def test_the_preventive_reminder_comes_while_the_early_payment_discount_holds(name: str) -> None:
    # A discount no message states is never had: the reminder's day must be inside its window,
    # with days left to pay (a Sunday or a holiday defers the reminder by a day or two).
    policy = packaged_policy(name)
    assert policy.negotiation is not None
    terms = policy.negotiation.early_payment
    assert terms.discount_bp > 0
    due = date(2026, 12, 10)
    reminder = policy.step("lembrete")
    offer = early_payment_offer(10_000, due, due + timedelta(days=reminder.offset), terms)
    assert offer is not None
    assert (offer.pay_by - (due + timedelta(days=reminder.offset))).days >= 2


def test_segments_are_the_four_named_ones_with_a_catch_all_last() -> None:
    assert POLICY.segment_names == ("risco", "bom_pagador", "atrasador_habitual", "novo")
    labels = {rule.name: rule.label_pt for rule in POLICY.segment_rules}
    assert labels == {
        "risco": "Risco",
        "bom_pagador": "Bom pagador",
        "atrasador_habitual": "Atrasador habitual",
        "novo": "Novo",
    }
    assert POLICY.segment_rules[-1].is_catch_all


@pytest.mark.parametrize(
    ("features", "segment"),
    [
        (BehaviourFeatures(), "novo"),
        (
            BehaviourFeatures.from_counts(invoices_total=12, paid_on_time=12, paid_late=0),
            "bom_pagador",
        ),
        (
            BehaviourFeatures.from_counts(
                invoices_total=8, paid_on_time=4, paid_late=4, total_days_late=40
            ),
            "atrasador_habitual",
        ),
        (
            BehaviourFeatures.from_counts(
                invoices_total=3, paid_on_time=2, paid_late=0, oldest_overdue_days=31
            ),
            "risco",
        ),
        (
            BehaviourFeatures.from_counts(
                invoices_total=3, paid_on_time=2, paid_late=0, oldest_overdue_days=30
            ),
            "novo",
        ),
    ],
)
def test_default_segmentation(features: BehaviourFeatures, segment: str) -> None:
    assert classify(features, POLICY.segment_rules) == segment


def test_window_limits_thanks_and_prices() -> None:
    assert POLICY.contact_window == DEFAULT_CONTACT_WINDOW
    assert POLICY.contact_window.weekdays == (time(8), time(20))
    assert POLICY.limits == Limits(per_customer_per_week=3)
    assert POLICY.thank_you == ThankYou("agradecimento", ("whatsapp", "email", "sms"))
    assert dict(POLICY.channel_prices_cents) == {
        "email": 0,
        "sms": 9,
        "whatsapp": 35,
        "letter": 250,
        "phone": 120,
    }
    assert POLICY.prescription_years == 5
    assert POLICY.assign.is_default


def test_default_policy_passes_its_own_checks() -> None:
    assert check_policy(POLICY) == []


def test_a_month_late_good_payer_gets_only_the_bureau_notice() -> None:
    step = latest_step_due(POLICY, "bom_pagador", 31, 3)
    assert step is not None and step.id == "aviso-negativacao"


def test_packaged_policies_keep_their_versions() -> None:
    # The digests the packaged files had when they still set `per_customer_per_day: 1`:
    # dropping the line must not make stored versions unknown; nor may the negotiation terms,
    # added since, change the digest of a version written without them.
    # The reminder moved from D-3 to D-7 since (a new version): put back, the text is that one.
    for name, digest in (("padrao", "c9ff24f26dbdec6b"), ("empresas", "7ec9b2cdfae7d367")):
        text = packaged_policy_text(name)
        before_terms = text[: text.index("\n# Negociação")]
        start = before_terms.find("  # Preventivo: nunca para o bom pagador.")
        if start >= 0:
            end = before_terms.index("  - id: lembrete\n", start)
            before_terms = before_terms[:start] + before_terms[end:]
            before_terms = before_terms.replace(
                "  - id: lembrete\n    offset: -7\n",
                "  # Preventivo: nunca para o bom pagador.\n  - id: lembrete\n    offset: -3\n",
            )
        assert load_policy_text(before_terms, f"{name}.yaml").digest.startswith(digest)
    assert packaged_policy("padrao").digest.startswith("2d8fa353dada5b73")
    assert packaged_policy("empresas").digest.startswith("bd97e5b9868aa3cb")


def test_packaged_policies() -> None:
    assert packaged_policy_names() == ["empresas", "padrao"]
    text = packaged_policy_text("padrao")
    assert load_policy_text(text, "copia.yaml").digest == POLICY.digest
    with pytest.raises(
        PolicyError, match="régua 'nenhuma' não existe; disponíveis: empresas, padrao"
    ):
        packaged_policy_text("nenhuma")


def test_a_mistake_in_the_default_file_names_its_line() -> None:
    text = packaged_policy_text("padrao")
    lines = text.splitlines()
    row = lines.index("    offset: 10") + 1
    broken = text.replace("    offset: 10\n", '    offset: "dez"\n')
    with pytest.raises(PolicyError) as caught:
        load_policy_text(broken, "padrao.yaml")
    assert str(caught.value) == f"padrao.yaml:{row}: steps[3].offset: esperado um número inteiro"


def test_companies_policy_is_assigned_by_tag() -> None:
    companies = packaged_policy("empresas")
    assert companies.assign.customer_tags == ("empresa",)
    assert companies.contact_window.saturday is None
    assert companies.contact_window.carnival_closed
    assert check_policy(companies) == []
    policies = [POLICY, companies]
    assert select_policy(policies, "novo", ["empresa"]).name == "empresas"
    assert select_policy(policies, "novo", []).name == "padrao"


def test_shipped_policies_use_only_the_default_template_names() -> None:
    names = {s.template or s.script for s in POLICY.steps}
    assert POLICY.thank_you is not None
    names.add(POLICY.thank_you.template)
    companies = packaged_policy("empresas")
    used = {s.template or s.script for s in companies.steps}
    assert companies.thank_you is not None
    used.add(companies.thank_you.template)
    assert used <= names
