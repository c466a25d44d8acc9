"""Test helpers: read the text a reportlab CID font (UniGB-UCS2-H) wrote into a PDF page."""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils.reader import PdfFileReader

_LITERAL = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i:i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = raw[i + 1:i + 2]
        if nxt in _ESCAPES:
            out += _ESCAPES[nxt]
            i += 2
            continue
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
            continue
        i += 1
    return bytes(out)


def page_fonts(pdf: bytes) -> set[str]:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    fonts = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/Font"]
    return {str(fonts[name]["/BaseFont"]) for name in fonts}


def page_text(pdf: bytes) -> str:
    """Text drawn with the CID font, decoded from UTF-16BE (Latin text of other fonts is skipped)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    content = reader.root["/Pages"]["/Kids"][0]["/Contents"].data
    parts = []
    for match in _LITERAL.finditer(content):
        raw = _unescape(match.group(1))
        if len(raw) % 2 == 0:
            parts.append(raw.decode("utf-16-be", errors="replace"))
    return "\n".join(parts)
