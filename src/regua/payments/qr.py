"""QR code images of Pix BR Codes (segno): inline SVG for HTML pages and e-mails, PNG bytes."""

from __future__ import annotations

import io

import segno

# Error correction "M" (15 %) is what PSP apps print; the payload is short enough that it keeps
# the symbol at a version phones read easily from a screen or paper.
_ERROR = "m"


def _make(code: str) -> segno.QRCode:
    # micro=False: Micro QR cannot hold a BR Code and payer apps do not read it.
    return segno.make_qr(code, error=_ERROR)


def qr_svg(code: str, *, scale: int = 4) -> str:
    """SVG markup (no XML declaration) ready to be embedded in an HTML page or e-mail."""
    buffer = io.BytesIO()
    _make(code).save(
        buffer,
        kind="svg",
        scale=scale,
        xmldecl=False,
        svgns=True,
        nl=False,
        title="QR Code Pix",
        svgclass="pix-qr",
    )
    return buffer.getvalue().decode("utf-8")


def qr_png(code: str, *, scale: int = 6) -> bytes:
    """PNG image bytes, quiet zone included."""
    buffer = io.BytesIO()
    _make(code).save(buffer, kind="png", scale=scale)
    return buffer.getvalue()
