"""QR images of BR Codes: PNG bytes and inline SVG markup."""

from __future__ import annotations

import io
import struct

from PIL import Image

from regua.payments import qr

CODE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_png_is_a_decodable_square_image() -> None:
    data = qr.qr_png(CODE)

    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert width == height > 0
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size == (width, height)


def test_png_scale_changes_the_size() -> None:
    small = struct.unpack(">I", qr.qr_png(CODE, scale=2)[16:20])[0]
    large = struct.unpack(">I", qr.qr_png(CODE, scale=6)[16:20])[0]
    assert large == 3 * small


def test_svg_is_inline_markup_without_xml_declaration() -> None:
    svg = qr.qr_svg(CODE)

    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert svg.rstrip().endswith("</svg>")
    assert "<title>QR Code Pix</title>" in svg
