"""Printed letters: the letter text laid out on A4 as a PDF, with the creditor's header,
the recipient block for a window envelope and, when there is a PIX code, its QR code.

fpdf2's core fonts (Helvetica) cover Windows-1252, which holds every pt-BR letter, so no font
file is bundled; characters outside it (emoji, rare symbols) print as "?".

The letter's body comes from ``letter.txt.j2`` (see `regua.channels.rendering`). The creditor
header and PIX code travel with an `OutgoingMessage` in its metadata (`letter_metadata` builds
those keys from a render context), so the file outbox can print a letter from the message alone.

A letter is read on paper: nothing to click or copy. Its PIX code is the QR code, printed where
the body has the line `QR_PLACEHOLDER` (beside the ways to pay), or after the text when it has
none. A debt of a few invoices fits one sheet.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno

from regua.channels.base import OutgoingMessage

_ENCODING = "cp1252"
# The recipient block sits where a DL/C5 window envelope shows it (NBR 13476 / common practice).
_ADDRESS_TOP_MM = 50.0
_MARGIN_MM = 20.0
_QR_SIZE_MM = 34.0
_QR_GAP_MM = 5.0
_LINE_MM = 4.8
# The line of a letter's body where the PIX QR code is printed (it is not printed itself): a
# reader of the text preview sees what stands there on paper.
QR_PLACEHOLDER = "[QR Code Pix]"


@dataclass(frozen=True)
class LetterHeader:
    """Who is writing (CDC art. 42-A: name, address and CPF/CNPJ on collection documents)."""

    name: str
    document: str
    trade_name: str = ""  # the name the customer knows; the legal name and CNPJ follow it
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str]) -> LetterHeader:
        return cls(
            name=metadata.get("creditor_name", ""),
            document=metadata.get("creditor_document", ""),
            trade_name=metadata.get("creditor_trade_name", ""),
            address=metadata.get("creditor_address", ""),
            phone=metadata.get("creditor_phone", ""),
            email=metadata.get("creditor_email", ""),
            website=metadata.get("creditor_website", ""),
        )


def letter_metadata(context: Mapping[str, Any]) -> dict[str, str]:
    """Metadata keys a letter `OutgoingMessage` carries, from a render context."""
    creditor = context.get("creditor") or {}
    payment = context.get("payment") or {}
    keys = {
        "creditor_name": creditor.get("name"),
        "creditor_document": creditor.get("document"),
        "creditor_trade_name": creditor.get("trade_name"),
        "creditor_address": creditor.get("address"),
        "creditor_phone": creditor.get("phone"),
        "creditor_email": creditor.get("email"),
        "creditor_website": creditor.get("website"),
        "pix_code": payment.get("pix_code"),
    }
    return {key: str(value) for key, value in keys.items() if value}


def pix_qr_png(code: str, *, scale: int = 8) -> bytes:
    """PNG of the QR code for a PIX copia e cola payload (error correction M, quiet zone 4)."""
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _printable(text: str) -> str:
    return text.encode(_ENCODING, "replace").decode(_ENCODING)


def _document_label(document: str) -> str:
    return "CNPJ" if len(document) > 14 else "CPF"


def render_letter_pdf(
    text: str,
    *,
    header: LetterHeader,
    recipient_name: str,
    recipient_address: str,
    pix_code: str | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """Lay the letter out on A4 and return the PDF bytes."""
    # fpdf2 pulls fontTools in: half a second that every command would pay for letters it
    # does not print.
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN_MM)
    pdf.set_title(_printable(f"Carta - {header.name}"))
    pdf.set_author(_printable(header.name))
    if created_at is not None:
        pdf.set_creation_date(created_at)
    pdf.add_page()
    width = pdf.w - 2 * _MARGIN_MM

    known = header.trade_name or header.name
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(width, 6.5, _printable(known), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 8.5)
    identity = f"{_document_label(header.document)} {header.document}" if header.document else ""
    if known != header.name:
        identity = " - ".join(filter(None, (header.name, identity)))
    details = [identity, header.address]
    details.append("  ".join(part for part in (header.phone, header.email, header.website) if part))
    for line in filter(None, details):
        pdf.cell(width, 4.2, _printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.line(_MARGIN_MM, pdf.get_y(), pdf.w - _MARGIN_MM, pdf.get_y())

    pdf.set_y(max(pdf.get_y() + 5, _ADDRESS_TOP_MM))
    pdf.set_font("helvetica", "", 10.5)
    for line in [recipient_name, *recipient_address.splitlines()]:
        if line.strip():
            pdf.cell(width, 5, _printable(line.strip()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    pdf.set_font("helvetica", "", 10)
    qr_bottom = None  # while text runs beside the QR code, it is narrower
    for paragraph in text.split("\n"):
        if paragraph.strip() == QR_PLACEHOLDER:
            if pix_code:
                qr_bottom = _draw_qr(pdf, pix_code, right=True)
            continue
        if qr_bottom is not None and pdf.get_y() >= qr_bottom:
            qr_bottom = None
        if not paragraph.strip():
            pdf.ln(2.5)
            continue
        if qr_bottom is not None and pdf.will_page_break(_LINE_MM):
            qr_bottom = None
        line_width = width - _QR_SIZE_MM - _QR_GAP_MM if qr_bottom is not None else width
        # Ragged right: justified lines beside the QR code, or holding an address or a code
        # that cannot break, open wide gaps.
        pdf.multi_cell(
            line_width,
            _LINE_MM,
            _printable(paragraph),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if qr_bottom is not None:
        pdf.set_y(max(pdf.get_y(), qr_bottom))
    if pix_code and QR_PLACEHOLDER not in text:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 10)
        if pdf.will_page_break(_QR_SIZE_MM + 8):
            pdf.add_page()
        pdf.cell(
            width,
            6,
            "Pague com Pix: leia o QR Code com o aplicativo do seu banco",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _draw_qr(pdf, pix_code, right=False)
    return bytes(pdf.output())


def _draw_qr(pdf: Any, pix_code: str, *, right: bool) -> float:
    """Print the PIX QR code at the current line (at the right margin, or the left), on the
    next page if it does not fit; the bottom of the code."""
    if pdf.will_page_break(_QR_SIZE_MM):
        pdf.add_page()
    top = pdf.get_y()
    x = pdf.w - _MARGIN_MM - _QR_SIZE_MM if right else _MARGIN_MM
    pdf.image(io.BytesIO(pix_qr_png(pix_code)), x=x, y=top, w=_QR_SIZE_MM, h=_QR_SIZE_MM)
    bottom = top + _QR_SIZE_MM
    if not right:
        pdf.set_y(bottom)
    return float(bottom)


def letter_pdf_from_message(
    message: OutgoingMessage, *, created_at: datetime | None = None
) -> bytes:
    """The PDF for a letter message: an attached PDF if the dispatcher made one, otherwise the
    message text laid out with the header and PIX code from its metadata."""
    for attachment in message.attachments:
        if attachment.mime == "application/pdf":
            return attachment.content
    return render_letter_pdf(
        message.text,
        header=LetterHeader.from_metadata(message.metadata),
        recipient_name=message.to_name,
        recipient_address=message.to,
        pix_code=message.metadata.get("pix_code"),
        created_at=created_at,
    )
