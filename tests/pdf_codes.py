"""What a phone's camera reads on a printed letter: the PDF's pages drawn as images
(pypdfium2, the PDF engine of Chromium) and every QR code found on them (zxing-cpp)."""

from __future__ import annotations

import pypdfium2
import zxingcpp


def qr_codes_in_pdf(pdf: bytes, *, scale: float = 3.0) -> list[str]:
    """The text of every QR code on the pages of `pdf`, top to bottom, page by page."""
    document = pypdfium2.PdfDocument(pdf)
    found: list[str] = []
    try:
        for page in document:
            image = page.render(scale=scale).to_pil()
            codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            found.extend(code.text for code in sorted(codes, key=lambda c: c.position.top_left.y))
    finally:
        document.close()
    return found
