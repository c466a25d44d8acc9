"""The printable form of an e-licence: an A4 PDF with Chinese text (reportlab's built-in CID font
STSong-Light, no font file needed), a drawn seal mark and a QR code (segno) to the verification page.

The PDF's document info carries ``Subject = tongban-credential:<id>`` so that a verifier can find the
credential a sealed PDF names. The cryptographic seal (PAdES) is added afterwards by ``seal.py``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from tongban.core import site

FONT = "STSong-Light"
SUBJECT_PREFIX = "tongban-credential:"
SEAL_RED = colors.Color(0.80, 0.05, 0.05)
FRAME = colors.Color(0.55, 0.25, 0.10)

_font_registered = False


def _register_font() -> None:
    global _font_registered
    if not _font_registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_registered = True


@dataclass
class LicenceView:
    """Everything printed on the licence (plain values, already formatted)."""

    credential_id: str
    title: str
    licence_number: str
    holder_label: str  # 名称 / 持证人
    holder_name: str
    holder_id_label: str  # 统一社会信用代码 / 公民身份号码
    holder_id_number: str
    fields: list[tuple[str, str]]
    issuer_name: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    verify_url: str
    seal_name: str = ""
    notes: list[str] = field(default_factory=list)


def chinese_date(d: date | datetime | None) -> str:
    if d is None:
        return "长期"
    return f"{d.year}年{d.month}月{d.day}日"


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        parts = []
        for v in value:
            if isinstance(v, dict):
                parts.append("，".join(f"{x}" for x in v.values() if x not in (None, "")))
            else:
                parts.append(str(v))
        return "；".join(parts)
    if isinstance(value, dict):
        return "，".join(f"{k}：{v}" for k, v in value.items())
    return str(value)


def _draw_qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make(url, error="m", micro=False)
    matrix = qr.matrix
    border = 2
    n = len(matrix) + 2 * border
    module = size / n
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                c.rect(x + (col_index + border) * module, y + size - (row_index + border + 1) * module,
                       module, module, stroke=0, fill=1)


def _draw_seal(c: canvas.Canvas, name: str, cx: float, cy: float, radius: float) -> None:
    """A round red seal mark (the visible sign of the electronic seal)."""
    c.saveState()
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setLineWidth(2.2)
    c.circle(cx, cy, radius, stroke=1, fill=0)
    # the five-pointed star
    star = c.beginPath()
    outer, inner = radius * 0.28, radius * 0.11
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        px, py = cx + r * math.cos(angle), cy + r * math.sin(angle)
        if i == 0:
            star.moveTo(px, py)
        else:
            star.lineTo(px, py)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    # the organisation name along the upper arc
    text = name[:16]
    font_size = max(7.0, min(11.0, radius * 0.30))
    c.setFont(FONT, font_size)
    span = min(260.0, 18.0 * len(text))
    start = 90 + span / 2
    step = span / max(1, len(text) - 1) if len(text) > 1 else 0
    text_radius = radius - font_size - 2
    for i, ch in enumerate(text):
        angle = math.radians(start - i * step)
        c.saveState()
        c.translate(cx + text_radius * math.cos(angle), cy + text_radius * math.sin(angle))
        c.rotate(math.degrees(angle) - 90)
        c.drawCentredString(0, 0, ch)
        c.restoreState()
    c.setFont(FONT, font_size * 0.9)
    c.drawCentredString(cx, cy - radius * 0.55, "电子印章")
    c.restoreState()


def render_pdf(view: LicenceView) -> bytes:
    """Render the licence as a one-page A4 PDF (unsigned)."""
    _register_font()
    buffer = io.BytesIO()
    width, height = A4
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"{view.title} {view.licence_number}")
    c.setAuthor(view.issuer_name)
    c.setSubject(f"{SUBJECT_PREFIX}{view.credential_id}")
    c.setKeywords(f"电子证照 {view.licence_number}")
    c.setCreator("通办 tongban")

    # frame
    c.setStrokeColor(FRAME)
    c.setLineWidth(3)
    c.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    c.setLineWidth(0.8)
    c.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    # title and number
    c.setFillColor(colors.black)
    c.setFont(FONT, 30 if len(view.title) <= 8 else 18 if len(view.title) <= 16 else 14)
    c.drawCentredString(width / 2, height - 45 * mm, view.title)
    c.setFont(FONT, 11)
    c.drawCentredString(width / 2, height - 53 * mm, "（电子证照）")
    c.setFont(FONT, 10.5)
    c.drawRightString(width - 22 * mm, height - 25 * mm, f"编号：{view.licence_number}")

    # fields
    label_style = ParagraphStyle("label", fontName=FONT, fontSize=12, leading=17, alignment=TA_LEFT,
                                 wordWrap="CJK")
    value_style = ParagraphStyle("value", parent=label_style)
    rows: list[tuple[str, str]] = [(view.holder_label, view.holder_name)]
    if view.holder_id_number:
        rows.append((view.holder_id_label, view.holder_id_number))
    rows.extend((label, value) for label, value in view.fields if value not in ("", None))
    rows.append(("有效期限", f"{chinese_date(view.valid_from)} 至 {chinese_date(view.valid_until)}"
                 if view.valid_until else f"自{chinese_date(view.valid_from)}起长期有效"))
    x_label, x_value = 28 * mm, 70 * mm
    value_width = width - x_value - 28 * mm
    y = height - 72 * mm
    for label, value in rows:
        value_paragraph = Paragraph(_escape(value), value_style)
        _w, h = value_paragraph.wrap(value_width, 200 * mm)
        label_paragraph = Paragraph(_escape(label), label_style)
        label_paragraph.wrap(x_value - x_label - 4 * mm, 40 * mm)
        if y - h < 95 * mm:
            break  # keep the issuer block and QR clear; the full data is in the VC
        label_paragraph.drawOn(c, x_label, y - label_paragraph.height)
        value_paragraph.drawOn(c, x_value, y - h)
        y -= max(h, label_paragraph.height) + 4 * mm

    # issuer block with the seal mark
    c.setFont(FONT, 13)
    c.drawRightString(width - 35 * mm, 68 * mm, f"发证机关：{view.issuer_name}")
    c.drawRightString(width - 35 * mm, 60 * mm, chinese_date(view.issued_on))
    _draw_seal(c, view.seal_name or view.issuer_name, width - 62 * mm, 66 * mm, 20 * mm)

    # QR code to the public verification page
    qr_size = 30 * mm
    _draw_qr(c, view.verify_url, 24 * mm, 40 * mm, qr_size)
    c.setFont(FONT, 8.5)
    c.drawString(24 * mm, 36 * mm, "扫码核验证照状态")
    c.setFont(FONT, 7.5)
    c.setFillColor(colors.Color(0.35, 0.35, 0.35))
    footer = [
        f"本证照由{site.current().platform_name}平台（通办）签发，已加盖发证机关电子印章（PAdES），与纸质证照具有同等效力。",
        f"核验地址：{view.verify_url}",
        *view.notes,
    ]
    for i, line in enumerate(footer):
        c.drawString(24 * mm, 27 * mm - i * 4 * mm, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
