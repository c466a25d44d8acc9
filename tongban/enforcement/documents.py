"""The decision document (行政处罚决定书 / 不予行政处罚决定书) as a PDF (reportlab, built-in CID font STSong-Light:
no font file), part of the exported case file. Content per 《行政处罚法》第五十九条: the party, the facts and
evidence, the legal basis, the penalty, the way and time limit of performance, the remedies, the body and date."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _lines(text: str, width: float, size: float) -> list[str]:
    """Wrap Chinese text by measured width (no word boundaries needed)."""
    out: list[str] = []
    for para in str(text).splitlines() or [""]:
        line = ""
        for ch in para:
            if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
                out.append(line)
                line = ""
            line += ch
        out.append(line)
    return out


def decision_pdf(case: Any) -> bytes:
    """The decision document of a decided case."""
    _font()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"{case.case_no} 行政处罚决定书")
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm
    penalty = case.is_penalty
    c.setFont(FONT, 20)
    c.drawCentredString(width / 2, y, case.department.name)
    y -= 12 * mm
    c.drawCentredString(width / 2, y, "行政处罚决定书" if penalty else "不予行政处罚决定书")
    y -= 9 * mm
    c.setFont(FONT, 11)
    c.drawRightString(right, y, f"编号：{case.case_no}")
    y -= 10 * mm
    fine = f"，罚款人民币 {case.fine} 元" if case.fine else ""
    paragraphs = [
        f"当事人：{case.party_name}（{case.party_id_number or '—'}）",
        f"违法事实：{case.summary or case.item.name}",
        f"违法行为：{case.item.name}",
        f"法律依据：{case.item.legal_basis}。{case.item.basis_text}",
        f"情节等级：{case.get_decision_level_display() or '—'}；裁量理由：{case.justification or '依裁量基准'}",
        f"处罚决定：{case.kinds_display()}{fine}。{case.decision_text}",
        "履行方式和期限：罚款自收到本决定书之日起十五日内缴纳（《中华人民共和国行政处罚法》第六十七条）。" if case.fine else "",
        "救济途径：如不服本决定，可以在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。",
    ]
    c.setFont(FONT, 12)
    for para in paragraphs:
        if not para:
            continue
        for line in _lines(para, right - left, 12):
            if y < 40 * mm:
                c.showPage()
                c.setFont(FONT, 12)
                y = height - 30 * mm
            c.drawString(left, y, line)
            y -= 7 * mm
        y -= 2 * mm
    y -= 10 * mm
    c.drawRightString(right, y, case.department.name)
    y -= 7 * mm
    decided = case.decided_on
    c.drawRightString(right, y, f"{decided.year}年{decided.month}月{decided.day}日" if decided else "")
    c.showPage()
    c.save()
    return buffer.getvalue()
