"""Exports of the figures: a table of every indicator for the platform and per organisation (CSV, XLSX), and the
monthly report (PDF, reportlab's built-in CID font STSong-Light: no font file needed)."""

from __future__ import annotations

import io
from typing import Any

import tablib
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import dashboard
from .indicators import Period, compute, current

FONT = "STSong-Light"
HEADERS = ["统计月份", "维度", "指标标识", "指标名称", "机构代码", "机构", "值", "单位", "目标", "方向"]
DIRECTIONS = {"higher": "越高越好", "lower": "越低越好"}


def table(period: Period, org: str = "") -> tablib.Dataset:
    """The platform's (or ``org``'s) figures, then every organisation's, one row per indicator."""
    defs = current()
    names = dashboard.Names()
    data = tablib.Dataset(headers=HEADERS, title=period.text)
    rows = [(org, True, f) for f in compute(period, org=org, definitions=defs)]
    if not org:
        rows += [(f.group, False, f) for f in compute(period, group_by="org", definitions=defs)]
    for code, whole, f in rows:
        ind = f.indicator
        data.append([period.text, defs.dimensions.get(ind.dimension, ind.dimension), ind.id, ind.name, code,
                     "全平台" if whole and not code else names.of("org", code), "" if f.value is None else f.value, ind.unit,
                     "" if ind.target is None else ind.target, DIRECTIONS[ind.direction]])
    return data


def csv_bytes(period: Period, org: str = "") -> bytes:
    return ("\ufeff" + table(period, org).export("csv")).encode("utf-8")  # BOM: Excel opens it as UTF-8


def xlsx_bytes(period: Period, org: str = "") -> bytes:
    return table(period, org).export("xlsx")


def _font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def report_pdf(period: Period, org: str = "") -> bytes:
    """The monthly report: every indicator by dimension with its target and whether it is met, then the department
    rankings of the on-time completion and good-rating rates."""
    _font()
    title = ParagraphStyle("t", fontName=FONT, fontSize=16, leading=22)
    h2 = ParagraphStyle("h", fontName=FONT, fontSize=12, leading=18, spaceBefore=8)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9, leading=13)
    names = dashboard.Names()
    view = dashboard.overview(period, org)
    who = names.of("org", org) if org else "全平台"
    story: list[Any] = [
        Paragraph(f"政务服务评估月报 · {dashboard.period_label(period)} · {who}", title),
        Paragraph(f"指标体系 v{view['definitions'].version}；生成时间 "
                  f"{timezone.localtime():%Y年%m月%d日 %H:%M}（北京时间）", body), Spacer(1, 6)]
    style = TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
                        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE")])
    for _key, label, cards in view["dimensions"]:
        story.append(Paragraph(label, h2))
        rows = [["指标", "值", "单位", "目标", "达标"]]
        for c in cards:
            rows.append([Paragraph(c.indicator.name, body), _fmt(c.figure.value), c.indicator.unit,
                         _fmt(c.indicator.target), {"met": "是", "missed": "否"}.get(c.status, "—")])
        t = Table(rows, colWidths=[200, 60, 60, 60, 40])
        t.setStyle(style)
        story.append(t)
    if not org:
        defs = view["definitions"]
        for iid in ("on_time_rate", "good_rating_rate"):
            ind = defs.indicator(iid)
            if ind is None:
                continue
            story.append(Paragraph(f"各部门{ind.name}", h2))
            rows = [["排名", "部门", f"{ind.name}（{ind.unit}）"]]
            for n, r in enumerate(dashboard.ranking(ind, period, "org", names, defs=defs), 1):
                rows.append([str(n), Paragraph(r["name"], body), _fmt(r["value"])])
            t = Table(rows, colWidths=[40, 260, 120])
            t.setStyle(style)
            story.append(t)
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=f"政务服务评估月报 {period.text}", author="通办 tongban",
                      leftMargin=40, rightMargin=40, topMargin=40, bottomMargin=40).build(story)
    return buf.getvalue()
