"""Every collection message carries the customer's portal link when the portal is configured:
e-mail (text and HTML), SMS, WhatsApp (free text and the approved template), and the letter,
which prints it as a QR code a phone's camera opens, captioned, with the address in the text.
Without a portal, no message speaks of one."""

from __future__ import annotations

from datetime import date
from typing import Any

import pypdfium2
import pytest

from regua.channels.letter import (
    PORTAL_QR_CAPTION,
    LetterHeader,
    letter_metadata,
    letter_pdf_from_message,
    render_letter_pdf,
)
from regua.channels.rendering import RenderedMessage, TemplateRenderer
from regua.channels.template_samples import sample_context
from regua.domain.customer_links import LinkPurpose, read_link_token
from regua.services.message_context import PortalLinks
from tests.pdf_codes import qr_codes_in_pdf

TODAY = date(2026, 11, 23)
SECRET = "segredo-dos-links-de-teste"
CUSTOMER_ID = 4321
LINK = PortalLinks("https://pagar.conectafibra.com.br/p", SECRET).for_customer(CUSTOMER_ID, TODAY)
RENDERER = TemplateRenderer()
# Collection messages: every template but the thank-you (about invoices already paid).
COLLECTING = [name for name in RENDERER.template_names() if name != "agradecimento"]


def _context(name: str, portal_url: str | None, invoices: int = 1) -> dict[str, Any]:
    context = sample_context(TODAY, offset=RENDERER.meta(name)["offset"], invoices=invoices)
    context["payment"]["portal_url"] = portal_url
    return context


def _texts(rendered: RenderedMessage) -> list[str]:
    """What the customer reads: each part of the message."""
    if rendered.channel == "email":
        return [rendered.text, rendered.html or ""]
    if rendered.channel == "whatsapp":
        return [rendered.text, rendered.whatsapp_template_text or ""]
    return [rendered.text]


def _pdf_text(pdf: bytes) -> str:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


@pytest.mark.parametrize("name", COLLECTING)
@pytest.mark.parametrize("invoices", [1, 3])
def test_every_collection_message_carries_the_customers_portal_link(
    name: str, invoices: int
) -> None:
    assert LINK is not None and len(LINK.rsplit("/", 1)[1]) == 35
    context = _context(name, LINK, invoices)
    for channel in RENDERER.channels_of(name):
        rendered = RENDERER.render(name, channel, context)
        for text in _texts(rendered):
            if channel == "sms" and context["payment"]["early"] is not None:
                # The discount's SMS pays with the PIX of the discounted amount: no room left.
                assert context["payment"]["early"]["pix_code"] in text
                continue
            assert LINK in text, (name, channel)
        if channel == "sms":
            budget = 3 if context["payment"]["early"] is not None else 2
            assert rendered.sms_segments is not None and rendered.sms_segments <= budget


@pytest.mark.parametrize("name", COLLECTING)
def test_without_a_portal_no_message_speaks_of_one(name: str) -> None:
    context = _context(name, None)
    for channel in RENDERER.channels_of(name):
        for text in _texts(RENDERER.render(name, channel, context)):
            assert "None" not in text, (name, channel)
            lowered = text.lower()
            for wording in ("pela internet", "negocie em", "pague em", "qr code do portal"):
                assert wording not in lowered, (name, channel, wording)


def test_the_link_leads_to_the_customer_and_no_one_else() -> None:
    assert LINK is not None
    token = LINK.rsplit("/", 1)[1]
    assert read_link_token(SECRET, LinkPurpose.PORTAL, token, TODAY) == CUSTOMER_ID
    assert str(CUSTOMER_ID) not in token  # the id cannot be read out of it


def test_the_letter_prints_the_portal_link_as_a_qr_code_a_phone_reads() -> None:
    context = _context("atraso_amigavel", LINK)
    letter = RENDERER.render("atraso_amigavel", "letter", context).to_outgoing(
        to="Rua Augusta, 500, apto 12\nConsolação, São Paulo - SP\n01304-000",
        to_name="Maria da Conceição Souza",
        idempotency_key="act-90",
        metadata=letter_metadata(context),
    )
    pdf = letter_pdf_from_message(letter)

    codes = qr_codes_in_pdf(pdf)
    assert codes == [context["payment"]["pix_code"], LINK]  # the PIX first, then the portal
    token = codes[1].rsplit("/", 1)[1]
    assert read_link_token(SECRET, LinkPurpose.PORTAL, token, TODAY) == CUSTOMER_ID
    text = _pdf_text(pdf)
    lines = [line.strip() for line in text.splitlines()]
    assert PORTAL_QR_CAPTION in lines
    flat = " ".join(text.split())
    assert 'leia o QR Code "Pague ou negocie aqui" com a câmera do celular' in flat
    assert LINK in lines  # on a line of its own, to be typed as it stands
    assert "[QR Code do portal]" not in text


def test_a_letter_without_a_place_for_it_prints_the_portal_code_after_the_text() -> None:
    # A creditor's own letter template that never mentions the portal.
    pdf = render_letter_pdf(
        "Prezado(a) cliente,\n\nTexto da carta.",
        header=LetterHeader("Conecta Fibra Ltda", "11.222.333/0001-81"),
        recipient_name="Maria",
        recipient_address="Rua Augusta, 500",
        portal_url=LINK,
    )
    assert qr_codes_in_pdf(pdf) == [LINK]
    text = _pdf_text(pdf)
    assert "leia o QR Code com a câmera do celular" in text
    assert LINK in [line.strip() for line in text.splitlines()]
