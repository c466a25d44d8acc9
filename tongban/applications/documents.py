"""PDF notices (受理通知书 / 一次性告知书 / 不予受理通知书 / 办结通知书) with a verification code.

Rendered with reportlab's built-in CID font STSong-Light (no font file needed). The verification code is
printed on the notice and checked at /notices/verify/<code>/.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tongban.core import site

FONT = "STSong-Light"
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: easy to read aloud and type


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def new_code(length: int = 12) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def public_url(path: str) -> str:
    return site.absolute(path)


def render_notice(title: str, content: dict[str, Any], code: str) -> bytes:
    """A one-page notice: title, addressee, a table of facts, lists, the verification code and URL."""
    _register_font()
    styles = {
        "title": ParagraphStyle("t", fontName=FONT, fontSize=20, leading=28, alignment=1, spaceAfter=8),
        "body": ParagraphStyle("b", fontName=FONT, fontSize=11.5, leading=18),
        "small": ParagraphStyle("s", fontName=FONT, fontSize=9.5, leading=14, textColor=colors.grey),
    }
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=18 * mm, title=title, author=content.get("issuer", "通办"))
    story: list[Any] = [Paragraph(content.get("issuer", ""), styles["small"]), Paragraph(title, styles["title"])]
    if content.get("addressee"):
        story.append(Paragraph(f"{content['addressee']}：", styles["body"]))
        story.append(Spacer(1, 4))
    for para in content.get("paragraphs", []):
        story.append(Paragraph(para, styles["body"]))
        story.append(Spacer(1, 4))
    rows = [[Paragraph(k, styles["body"]), Paragraph(str(v), styles["body"])] for k, v in content.get("facts", [])]
    if rows:
        table = Table(rows, colWidths=[40 * mm, 120 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                   ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [table, Spacer(1, 8)]
    for heading, entries in content.get("lists", []):
        story.append(Paragraph(heading, styles["body"]))
        for i, entry in enumerate(entries, 1):
            story.append(Paragraph(f"{i}. {entry}", styles["body"]))
        story.append(Spacer(1, 6))
    story.append(Spacer(1, 12))
    story.append(Paragraph(f"查验码：{code}", styles["body"]))
    story.append(Paragraph(f"真伪查验：{public_url(f'/notices/verify/{code}/')}", styles["small"]))
    story.append(Paragraph(f"出具时间：{content.get('issued_at', '')}", styles["small"]))
    doc.build(story)
    return buf.getvalue()


def mask_name(name: str) -> str:
    """张三 → 张*, 李小明 → 李*明: the only personal datum shown when a notice is verified (page and API)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
