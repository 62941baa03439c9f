"""FileOutboxChannel writes real files; letters are real PDFs."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from regua.channels.base import ChannelPermanentError, ChannelTransientError, OutgoingMessage
from regua.channels.file_outbox import FileOutboxChannel
from regua.channels.letter import (
    LetterHeader,
    letter_metadata,
    letter_pdf_from_message,
    render_letter_pdf,
)
from regua.channels.rendering import render
from regua.channels.template_samples import sample_context
from regua.clock import FixedClock

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def pdf_text(pdf: bytes) -> str:
    """Text drawn by fpdf2's core fonts: decompress the content streams, read the Tj strings."""
    chunks = []
    # By each stream's /Length: compressed data may itself end in a carriage return.
    for found in re.finditer(rb"/Length (\d+)\s*>>\s*stream\r?\n", pdf):
        stream = pdf[found.end() : found.end() + int(found.group(1))]
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            continue
    strings = re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", b"\n".join(chunks), re.S)
    return " ".join(s.replace(rb"\(", b"(").replace(rb"\)", b")").decode("cp1252") for s in strings)


def outbox(folder: Path, channel: str, now: datetime = NOW) -> FileOutboxChannel:
    return FileOutboxChannel(
        folder, channel, sender="cobranca@conectafibra.com.br", sender_name="Conecta Fibra Ltda",
        clock=FixedClock(now),
    )  # fmt: skip


def email_message(key: str = "act-123") -> OutgoingMessage:
    rendered = render("atraso_amigavel", "email", sample_context(TODAY, offset=3))
    return rendered.to_outgoing(
        to="maria@example.com.br", to_name="Maria da Conceição Souza", idempotency_key=key
    )


def test_email_is_an_eml_file_named_by_date_and_key(tmp_path: Path) -> None:
    receipt = outbox(tmp_path, "email").send(email_message())

    assert receipt.provider_message_id == "2026-11-23_act-123.email.eml"
    email = message_from_bytes((tmp_path / receipt.provider_message_id).read_bytes(),
                               policy=default_policy)  # fmt: skip
    assert email["Subject"] == "Não identificamos o pagamento da fatura de 20/11/2026"
    assert email["Message-ID"] == "<act-123@conectafibra.com.br>"
    assert email["To"] == "Maria da Conceição Souza <maria@example.com.br>"
    plain = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Multa: R$ 3,00" in plain
    assert email.get_body(("html",)) is not None


def test_resending_the_same_action_overwrites_the_file(tmp_path: Path) -> None:
    channel = outbox(tmp_path, "email")
    channel.send(email_message())
    channel.send(email_message())
    outbox(tmp_path, "email", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)).send(email_message())

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11-23_act-123.email.eml",
        "2026-11-24_act-123.email.eml",
    ]


def test_sms_and_whatsapp_are_json_records(tmp_path: Path) -> None:
    context = sample_context(TODAY, offset=0)
    sms = render("vence_hoje", "sms", context).to_outgoing(
        to="+5511987654321", idempotency_key="act/55"
    )
    receipt = outbox(tmp_path, "sms").send(sms)

    assert receipt.provider_message_id == "2026-11-23_act_55.sms.json"
    assert json.loads((tmp_path / receipt.provider_message_id).read_text("utf-8")) == {
        "channel": "sms",
        "to": "+5511987654321",
        "to_name": "",
        "text": sms.text,
        "template": None,
        "params": [],
        "key": "act/55",
        "at": "2026-11-23T13:00:00+00:00",
        "metadata": {},
    }
    whatsapp = render("vence_hoje", "whatsapp", context).to_outgoing(
        to="+5511987654321", idempotency_key="act-56"
    )
    record = json.loads(
        (tmp_path / outbox(tmp_path, "whatsapp").send(whatsapp).provider_message_id).read_text()
    )
    assert record["template"] == "regua_vence_hoje"
    assert record["params"][0] == "Maria"
    assert record["metadata"] == {"whatsapp_language": "pt_BR"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_letter_is_a_pdf_with_header_recipient_text_and_pix_qr(tmp_path: Path) -> None:
    context = sample_context(TODAY, offset=30)
    letter = render("aviso_negativacao", "letter", context).to_outgoing(
        to="Rua Augusta, 500, apto 12\nConsolação, São Paulo - SP\n01304-000",
        to_name="Maria da Conceição Souza",
        idempotency_key="act-77",
        metadata=letter_metadata(context),
    )
    receipt = outbox(tmp_path, "letter").send(letter)

    pdf = (tmp_path / receipt.provider_message_id).read_bytes()
    assert receipt.provider_message_id == "2026-11-23_act-77.letter.pdf"
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    for expected in (
        "Conecta Fibra",  # the name the customer knows, first
        "Conecta Fibra Ltda - CNPJ 11.222.333/0001-81",  # then who the law names
        "Maria da Conceição Souza",
        "Consolação, São Paulo - SP",
        "comunicação prévia",
        "leia o QR Code ao lado com a câmera",
    ):
        assert expected in text
    assert "[QR Code Pix]" not in text  # the QR code stands there, not the words
    assert b"/Subtype /Image" in pdf


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


@pytest.mark.parametrize("invoices", [1, 4])
@pytest.mark.parametrize(
    "template",
    ["lembrete_vencimento", "vence_hoje", "atraso_amigavel", "atraso_lembrete", "atraso_firme",
     "aviso_negativacao"],
)  # fmt: skip
def test_a_letter_fits_one_sheet_and_asks_nothing_paper_cannot_do(
    template: str, invoices: int
) -> None:
    offset = {"lembrete_vencimento": -3, "vence_hoje": 0}.get(template, 30)
    context = sample_context(TODAY, offset=offset, invoices=invoices)
    letter = render(template, "letter", context).to_outgoing(
        to="Rua Augusta, 500, apto 12\nConsolação, São Paulo - SP\n01304-000",
        to_name="Maria da Conceição Souza",
        idempotency_key="act-78",
        metadata=letter_metadata(context),
    )
    pdf = letter_pdf_from_message(letter)

    assert pages(pdf) == 1  # the QR code beside the ways to pay, not alone on a second sheet
    assert b"/Subtype /Image" in pdf
    text = pdf_text(pdf).lower()
    for screen_only in ("copie", "cole ", "clique", "copia e cola", "link"):
        assert screen_only not in text, screen_only
    assert "leia o qr code" in text
    assert "digite a linha digitável" in text


def test_a_long_letter_still_prints_every_line_and_its_qr_code() -> None:
    text = "\n".join(["Como pagar:", "[QR Code Pix]"] + [f"Linha {n} da carta." for n in range(90)])
    pdf = render_letter_pdf(
        text,
        header=LetterHeader("Conecta Fibra Ltda", "11.222.333/0001-81"),
        recipient_name="Maria",
        recipient_address="Rua Augusta, 500",
        pix_code="00020126580014br.gov.bcb.pix",
    )
    assert pages(pdf) == 2
    assert "Linha 89 da carta." in pdf_text(pdf)
    assert pdf.count(b"/Subtype /Image") == 1


def test_letter_without_pix_has_no_image() -> None:
    pdf = render_letter_pdf(
        "Prezado(a) cliente,\n\nTexto da carta.",
        header=LetterHeader("Conecta Fibra Ltda", "11.222.333/0001-81"),
        recipient_name="Maria",
        recipient_address="Rua Augusta, 500",
    )
    assert b"/Subtype /Image" not in pdf
    assert "Texto da carta." in pdf_text(pdf)


def test_an_attached_pdf_is_used_as_is() -> None:
    from regua.channels.base import Attachment

    message = OutgoingMessage(
        channel="letter", to="Rua A, 1", text="x", idempotency_key="k",
        attachments=(Attachment("carta.pdf", b"%PDF-1.7 pronto", "application/pdf"),),
    )  # fmt: skip
    assert letter_pdf_from_message(message) == b"%PDF-1.7 pronto"


def test_message_of_another_channel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChannelPermanentError, match="caixa de saída de sms"):
        outbox(tmp_path, "sms").send(email_message())


def test_unwritable_folder_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ChannelTransientError, match="Não foi possível gravar"):
        outbox(blocker, "email").send(email_message())
