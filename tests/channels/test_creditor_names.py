"""The creditor under the name its customers know (trade name), identified as the law asks
(legal name and CNPJ, CDC art. 42-A), in every channel."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

import pytest

from regua.channels.call_scripts import load_call_script, render_call_script
from regua.channels.letter import letter_metadata, letter_pdf_from_message
from regua.channels.rendering import render
from regua.channels.template_samples import sample_context
from tests.channels.test_file_outbox_and_letter import pdf_text

TODAY = date(2026, 11, 23)
TRADE, LEGAL = "Pet Shop Cão Feliz", "Souza & Lima Comércio de Rações Ltda"
CNPJ = "11.222.333/0001-81"


def context(offset: int = 3) -> dict[str, Any]:
    found = sample_context(TODAY, offset=offset)
    found["creditor"] = {**found["creditor"], "name": LEGAL, "trade_name": TRADE}
    return found


@pytest.mark.parametrize(
    "template",
    ["lembrete_vencimento", "vence_hoje", "atraso_amigavel", "atraso_lembrete", "atraso_firme",
     "aviso_negativacao", "agradecimento"],
)  # fmt: skip
def test_every_message_names_the_trade_name_and_the_legal_identification(template: str) -> None:
    for channel in ("email", "sms", "whatsapp", "letter"):
        rendered = render(template, channel, context())
        text = rendered.text
        if channel == "sms":  # written in GSM-7: accents it lacks are dropped
            assert "Pet Shop Cao Feliz (Souza & Lima Comércio de Racoes Ltda, CNPJ" in text
            continue
        assert TRADE in text, (template, channel)
        assert f"{LEGAL} - CNPJ {CNPJ}" in text or f"{LEGAL}, CNPJ {CNPJ}" in text, channel
        if channel == "whatsapp":
            assert f"Aqui é da {TRADE}." in text
        if channel == "email":
            assert f'margin:0 0 16px;">{TRADE}</p>' in (rendered.html or "")
            assert f"{escape(LEGAL)} - CNPJ {CNPJ}" in (rendered.html or "")


def test_the_letterhead_leads_with_the_trade_name() -> None:
    found = context(30)
    letter = render("aviso_negativacao", "letter", found).to_outgoing(
        to="Rua Augusta, 500", to_name="Maria", idempotency_key="k", metadata=letter_metadata(found)
    )
    text = pdf_text(letter_pdf_from_message(letter))
    assert text.startswith(f"{TRADE} {LEGAL} - CNPJ {CNPJ}")
    # The notice names the creditor as the law does, and as the customer knows it.
    assert f"com {LEGAL} ({TRADE}), atualizado" in text


def test_the_caller_introduces_the_company_by_its_trade_name() -> None:
    script = render_call_script(load_call_script("roteiro_negociacao"), context(15))
    assert f"falo em nome da {TRADE}." in script.step("apresentacao").say
