"""Negotiation terms in the policy YAML: read, checked with file/line/field, compared."""

from __future__ import annotations

import pytest

from regua.domain.policy_diff import settings_changes
from regua.domain.policy_terms import (
    AgreementInterest,
    DiscountCaps,
    InstallmentRules,
    may_approve,
    rule_for,
)
from regua.policies.loader import PolicyError, default_policy, load_policy_text

BASE = """\
name: teste
segments:
  - name: bom_pagador
    when: {invoices_paid: ">=3"}
  - name: novo
steps:
  - {id: vence-hoje, offset: 0, channels: [email], template: vence_hoje}
"""

TERMS = """\
negotiation:
  rules:
    - segments: [bom_pagador]
      aging: {min_days: 0, max_days: 30}
      amount: {min_cents: 0, max_cents: 100000}
      discount: {late_fee_bp: 10000, interest_bp: 5000}
      installments: {max_count: 3, min_installment_cents: 5000}
    - aging: {min_days: 0}
      discount: {late_fee_bp: 10000, interest_bp: 10000, principal_bp: 1000}
      installments:
        max_count: 12
        min_installment_cents: 5000
        min_down_payment_bp: 1000
        first_due_days: 15
        periodicity: biweekly
      interest: {kind: price, monthly_bp: 199}
  offer_validity_days: 5
  extension: {max_days: 10, with_fees: false}
  early_payment: {discount_bp: 200, days_before: 5}
  breaking: {days_late: 20}
  promise_tolerance_cents: 50
"""


def test_terms_are_read_by_segment_aging_and_amount_band() -> None:
    terms = load_policy_text(BASE + TERMS, "t.yaml").negotiation
    assert terms is not None
    first, second = terms.rules
    assert first.segments == ("bom_pagador",)
    assert (first.max_days, first.max_amount_cents) == (30, 100_000)
    assert first.discount == DiscountCaps(late_fee_bp=10_000, interest_bp=5_000, principal_bp=0)
    assert second.installments == InstallmentRules(
        max_count=12,
        min_installment_cents=5_000,
        min_down_payment_bp=1_000,
        first_due_days=15,
        periodicity="biweekly",
    )
    assert second.interest == AgreementInterest("price", 199)
    assert terms.offer_validity_days == 5
    assert (terms.extension.max_days, terms.extension.with_fees) == (10, False)
    assert (terms.early_payment.discount_bp, terms.early_payment.days_before) == (200, 5)
    assert terms.breaking.days_late == 20
    assert terms.promise_tolerance_cents == 50
    # first match wins: a good payer owing R$ 900 gets rule 1, one owing R$ 1.500 rule 2
    assert rule_for(terms, "bom_pagador", 10, 90_000) is first
    assert rule_for(terms, "bom_pagador", 10, 150_000) is second
    assert rule_for(terms, "bom_pagador", 45, 90_000) is second
    assert rule_for(terms, "novo", 3, 1_000) is second


def test_a_policy_without_terms_offers_nothing_and_keeps_its_digest() -> None:
    plain = load_policy_text(BASE, "t.yaml")
    assert plain.negotiation is None
    with_terms = load_policy_text(BASE + TERMS, "t.yaml")
    assert with_terms.digest != plain.digest


def test_the_default_policy_has_sensible_terms() -> None:
    terms = default_policy().negotiation
    assert terms is not None
    recent = rule_for(terms, "novo", 10, 30_000)
    old = rule_for(terms, "risco", 200, 300_000)
    assert recent is not None and old is not None
    assert recent.interest.kind == "none" and recent.discount.principal_bp == 0
    assert old.installments.max_count == 12 and old.interest.kind == "price"
    assert terms.early_payment.discount_bp == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("segments: [bom_pagador]", "segments: [vip]"),
            "t.yaml:10: negotiation.rules[0].segments[0]: segmento desconhecido 'vip'; "
            "segmentos da régua: bom_pagador, novo",
        ),
        (
            ("aging: {min_days: 0, max_days: 30}", "aging: {min_days: 40, max_days: 30}"),
            "t.yaml:11: negotiation.rules[0].aging: faixa de atraso vazia: max_days menor que "
            "min_days",
        ),
        (
            ("interest_bp: 5000}", "interest_bp: 15000}"),
            "t.yaml:13: negotiation.rules[0].discount.interest_bp: deve ser menor ou igual a 10000",
        ),
        (
            ("kind: price, monthly_bp: 199", "kind: price, monthly_bp: 0"),
            "t.yaml:23: negotiation.rules[1].interest.monthly_bp: juros price precisam de uma "
            "taxa mensal maior que zero",
        ),
        (
            ("kind: price, monthly_bp: 199", "kind: compound, monthly_bp: 199"),
            "t.yaml:23: negotiation.rules[1].interest.kind: valor 'compound' não aceito; use "
            "'none', 'simple' ou 'price'",
        ),
        (
            ("periodicity: biweekly", "periodicity: yearly"),
            "t.yaml:22: negotiation.rules[1].installments.periodicity: valor 'yearly' não "
            "aceito; use 'monthly', 'biweekly' ou 'weekly'",
        ),
        (
            ("max_count: 3,", "max_count: 0,"),
            "t.yaml:14: negotiation.rules[0].installments.max_count: deve ser maior ou igual a 1",
        ),
        (
            ("with_fees: false", "com_juros: false"),
            "t.yaml:25: negotiation.extension.com_juros: campo desconhecido; campos aceitos: "
            "max_days, with_fees",
        ),
        (
            (
                "early_payment: {discount_bp: 200, days_before: 5}",
                "early_payment: {discount_bp: 200}",
            ),
            "t.yaml:26: negotiation.early_payment.days_before: informe com quantos dias de "
            "antecedência vale o desconto",
        ),
    ],
)
def test_terms_mistakes_name_line_and_field(change: tuple[str, str], message: str) -> None:
    text = BASE + TERMS.replace(*change)
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "t.yaml")
    assert str(caught.value) == message


def test_diff_names_what_changed_in_the_terms() -> None:
    old = load_policy_text(BASE + TERMS, "a.yaml")
    new = load_policy_text(
        BASE
        + TERMS.replace("max_count: 12", "max_count: 10").replace(
            "discount_bp: 200", "discount_bp: 300"
        ),
        "b.yaml",
    )
    lines = settings_changes(old, new)
    assert len(lines) == 2
    assert lines[0].startswith("negociação: regra 2: todos os segmentos; 0 dias ou mais")
    assert "até 12x quinzenal" in lines[0] and "→" in lines[0]
    assert lines[0].split("→")[1].count("até 10x quinzenal") == 1
    assert lines[1] == (
        "negociação: desconto por antecipação: 2% se pago 5 dias antes do vencimento → "
        "3% se pago 5 dias antes do vencimento"
    )
    assert settings_changes(load_policy_text(BASE, "a.yaml"), old)[0] == (
        "negociação: condições novas"
    )


def test_only_a_gestor_approves_beyond_the_terms() -> None:
    terms = load_policy_text(BASE + TERMS, "t.yaml").negotiation
    assert terms is not None
    assert may_approve("operator", True, terms)
    assert not may_approve("operator", False, terms)
    assert may_approve("gestor", False, terms)
    strict = load_policy_text(
        BASE + TERMS + "  beyond_terms_approver: nobody\n", "t.yaml"
    ).negotiation
    assert strict is not None and not may_approve("gestor", False, strict)
