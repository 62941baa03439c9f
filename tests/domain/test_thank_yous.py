"""The thank-you after a settlement, as a pure function, and its evidence's shape."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from regua.domain.planning import ContactPoint, plan_day
from regua.domain.policy import ThankYou as ThankYouStep
from regua.domain.thank_yous import Payer, ThankYou, plan_thank_yous, thank_you_evidence
from regua.store.actions import thank_you_evidence_json
from tests.domain.test_planning import POLICY, customer, invoice

THANKING = replace(POLICY, thank_you=ThankYouStep("agradecimento", ("whatsapp", "email")))
MOBILE = ContactPoint("+5511987654321")


def test_each_payer_gets_one_thank_you_on_the_first_reachable_channel() -> None:
    contacts = {
        1: {
            "whatsapp": (ContactPoint("+5511900000000", opted_out=True),),
            "email": (ContactPoint("ana@ex.com"),),
        },
        2: {},
    }
    planned = plan_thank_yous(
        [THANKING], [Payer(1, None, None), Payer(2, "novo", "")], {1: [10, 11], 2: [12]}, contacts
    )
    assert [(t.customer_id, t.status, t.channel, t.contact_value, t.reason) for t in planned] == [
        (1, "planned", "email", "ana@ex.com", ""),
        (
            2,
            "skipped",
            None,
            None,
            "sem canal disponível: whatsapp: sem contato; email: sem contato",
        ),
    ]
    assert contacts == {}  # taken out as they were used
    assert planned[0].invoice_ids == (10, 11)


def test_a_policy_without_thank_you_thanks_nobody() -> None:
    assert plan_thank_yous([POLICY], [Payer(1, "novo", None)], {1: [10]}, {1: {}}) == []


def test_thank_you_evidence_has_the_shape_of_the_plans() -> None:
    today = date(2026, 11, 23)
    step = plan_day([POLICY], {1: customer()}, [invoice(7, today)], today)[0]
    thanks = plan_thank_yous(
        [THANKING], [Payer(1, "novo", None)], {1: [7]}, {1: {"whatsapp": (MOBILE,)}}
    )[0]
    evidence = thank_you_evidence(thanks)
    assert evidence == {
        "policy": "teste",
        "policy_version": THANKING.version,
        "step": "agradecimento",
        "step_offset": 0,
        "segment": "novo",
        "invoices": [{"id": 7, "step": "agradecimento"}],
        "channels_tried": {"whatsapp": "usado"},
    }
    # every key a thank-you records, the plan records too, with values of the same kinds
    assert set(evidence) <= set(step.evidence)
    assert set(evidence["invoices"][0]) <= set(step.evidence["invoices"][0])


def test_the_stored_evidence_text_is_the_evidence() -> None:
    thanks = ThankYou(
        5, "padrão", "v1", "bom_pagador", None, None, "agradecimento", "skipped",
        "sem canal disponível: sms: descadastrado", (3, 9), {"sms": "descadastrado"}, 0,
    )  # fmt: skip
    assert json.loads(thank_you_evidence_json(thanks)) == thank_you_evidence(thanks)
    empty = thanks._replace(invoice_ids=(), channels_tried={})
    assert json.loads(thank_you_evidence_json(empty)) == thank_you_evidence(empty)
