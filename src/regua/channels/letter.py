"""Printed letters: the letter text laid out on A4 as a PDF, with the creditor's header,
the recipient block for a window envelope and, when there is a PIX code, its QR code.

fpdf2's core fonts (Helvetica) cover Windows-1252, which holds every pt-BR letter, so no font
file is bundled; characters outside it (emoji, rare symbols) print as "?".

The letter's body comes from ``letter.txt.j2`` (see `regua.channels.rendering`). The creditor
header and PIX code travel with an `OutgoingMessage` in its metadata (`letter_metadata` builds
those keys from a render context), so the file outbox can print a letter from the message alone.

A letter is read on paper: nothing to click or copy. Its PIX code is the QR code, printed where
the body has the line `QR_PLACEHOLDER` (beside the ways to pay), or after the text when it has
none. So are the PIX code of an early-payment discount (`EARLY_QR_PLACEHOLDER`) and the
customer's portal link (`PORTAL_QR_PLACEHOLDER`): a phone's camera opens the page, and the
short address stands in the text, on a line of its own, for whoever types it. Each code beside
the text has a caption saying which it is. A debt of a few invoices fits one sheet.
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
_BOTTOM_MM = 15.0  # below the last line: a letter of four invoices and its codes on one sheet
_QR_SIZE_MM = 30.0
_QR_GAP_MM = 5.0
_LINE_MM = 4.7
# The line of a letter's body where the PIX QR code is printed (it is not printed itself): a
# reader of the text preview sees what stands there on paper.
QR_PLACEHOLDER = "[QR Code Pix]"
EARLY_QR_PLACEHOLDER = "[QR Code Pix com desconto]"
PORTAL_QR_PLACEHOLDER = "[QR Code do portal]"
# Under each QR code beside the text: which one it is, when a letter has two or three.
PIX_QR_CAPTION = "Pix"
EARLY_QR_CAPTION = "Pix com desconto"
PORTAL_QR_CAPTION = "Pague ou negocie aqui"
_CAPTION_MM = 4.0


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
        "early_pix_code": (payment.get("early") or {}).get("pix_code"),
        "portal_url": payment.get("portal_url"),
    }
    return {key: str(value) for key, value in keys.items() if value}


def qr_png(code: str, *, scale: int = 8) -> bytes:
    """PNG of the QR code of a PIX copia e cola payload or a link (error correction M, quiet
    zone 4; never a Micro QR, which phone cameras do not read)."""
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
    early_pix_code: str | None = None,
    portal_url: str | None = None,
    created_at: datetime | None = None,
) -> bytes:
    """Lay the letter out on A4 and return the PDF bytes."""
    codes = {
        QR_PLACEHOLDER: (pix_code, PIX_QR_CAPTION),
        EARLY_QR_PLACEHOLDER: (early_pix_code, EARLY_QR_CAPTION),
        PORTAL_QR_PLACEHOLDER: (portal_url, PORTAL_QR_CAPTION),
    }
    # fpdf2 pulls fontTools in: half a second that every command would pay for letters it
    # does not print.
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=_BOTTOM_MM)
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
        if paragraph.strip() in codes:
            payload, caption = codes[paragraph.strip()]
            if payload:
                below = None
                if qr_bottom is not None:
                    # Under the code still beside the text, which runs on beside both.
                    below = qr_bottom + _QR_GAP_MM
                    if below + _QR_SIZE_MM + _CAPTION_MM > pdf.h - _BOTTOM_MM:
                        pdf.set_y(max(pdf.get_y(), below))
                        below = None
                qr_bottom = _draw_qr(pdf, payload, right=True, caption=caption, top=below)
            continue
        if qr_bottom is not None and pdf.get_y() >= qr_bottom:
            qr_bottom = None
        if not paragraph.strip():
            pdf.ln(2.5)
            continue
        if qr_bottom is not None and pdf.will_page_break(_LINE_MM):
            qr_bottom = None
        line_width = width - _QR_SIZE_MM - _QR_GAP_MM if qr_bottom is not None else width
        if _is_address(paragraph):
            # A web address is typed from paper: on one line, smaller if it must be.
            _address_line(pdf, paragraph.strip(), line_width)
            continue
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
    if portal_url and PORTAL_QR_PLACEHOLDER not in text:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 10)
        if pdf.will_page_break(_QR_SIZE_MM + _CAPTION_MM + 12):
            pdf.add_page()
        pdf.cell(
            width,
            6,
            _printable("Pague ou negocie pela internet: leia o QR Code com a câmera do celular"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("helvetica", "", 10)
        pdf.cell(
            width,
            5,
            _printable("ou digite no navegador o endereço"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        _address_line(pdf, portal_url, width)
        _draw_qr(pdf, portal_url, right=False)
    return bytes(pdf.output())


def _is_address(paragraph: str) -> bool:
    text = paragraph.strip()
    return text.startswith(("https://", "http://")) and " " not in text


def _address_line(pdf: Any, address: str, width: float) -> None:
    size = 10.0
    room = width - 2 * pdf.c_margin  # a cell's text stands inside its margins
    while size > 7 and pdf.get_string_width(_printable(address)) > room:
        size -= 0.5
        pdf.set_font("helvetica", "", size)
    pdf.multi_cell(width, _LINE_MM, _printable(address), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)


def _draw_qr(
    pdf: Any, payload: str, *, right: bool, caption: str | None = None, top: float | None = None
) -> float:
    """Print a QR code at the current line (at the right margin, or the left) or at `top`, with
    a caption under it, on the next page if it does not fit; the bottom of what was printed."""
    height = _QR_SIZE_MM + (_CAPTION_MM if caption else 0)
    if top is None:
        if pdf.will_page_break(height):
            pdf.add_page()
        top = pdf.get_y()
    x = pdf.w - _MARGIN_MM - _QR_SIZE_MM if right else _MARGIN_MM
    pdf.image(io.BytesIO(qr_png(payload)), x=x, y=top, w=_QR_SIZE_MM, h=_QR_SIZE_MM)
    if caption:
        line_y = pdf.get_y()
        pdf.set_font("helvetica", "", 7.5)
        pdf.set_xy(x, top + _QR_SIZE_MM)
        pdf.cell(_QR_SIZE_MM, _CAPTION_MM - 0.5, _printable(caption), align="C")
        pdf.set_font("helvetica", "", 10)
        pdf.set_xy(_MARGIN_MM, line_y)
    bottom = top + height
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
        early_pix_code=message.metadata.get("early_pix_code"),
        portal_url=message.metadata.get("portal_url"),
        created_at=created_at,
    )
