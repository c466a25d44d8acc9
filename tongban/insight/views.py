"""HTML pages of insight: the public indicator dashboard, the staff dashboard with drill-down to the cases behind
a figure, CSV/XLSX exports and the monthly PDF report. Thin: the figures come from :mod:`.dashboard` and
:mod:`.exports`; a bad period or an unknown code is answered with its message (400/404), never a 500."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from . import dashboard, exports
from .errors import InsightError
from .indicators import Period


def _refused(request: HttpRequest, exc: InsightError) -> HttpResponse:
    return render(request, "insight/error.html", {"message": exc.message},
                  status=404 if exc.status == 404 else 400)


def _context(request: HttpRequest, *, org: str) -> dict[str, Any]:
    period = dashboard.parse_or_default(request.GET.get("period", ""))
    view = dashboard.overview(period, org)
    ind = dashboard.chosen_indicator(view["definitions"], request.GET.get("indicator", ""))
    names = dashboard.Names()
    charts = dashboard.charts(ind, period, org)
    return {"period": period, "period_label": dashboard.period_label(period), "org": org,
            "org_name": names.of("org", org) if org else "全平台", "view": view, "indicator": ind,
            "charts": charts,
            "chart_sections": [("departments", "各部门排名", charts["departments"]),
                               ("items", "各事项排名", charts["items"]),
                               ("divisions", "各区划分布", charts["divisions"])],
            "periods": [
                (p.text, dashboard.period_label(p)) for p in reversed(dashboard.recent_periods())],
            "organisations": dashboard.organisations(), "now": timezone.localtime(),
            "indicators": view["definitions"].indicators}


def public_page(request: HttpRequest) -> HttpResponse:
    """Public: every indicator of a month (platform or one organisation), trend, rankings, division breakdown."""
    try:
        context = _context(request, org=request.GET.get("org", ""))
    except InsightError as exc:
        return _refused(request, exc)
    return render(request, "insight/public.html", context)


@login_required
def staff_page(request: HttpRequest) -> HttpResponse:
    """Staff: the same figures with targets met or missed and a drill-down link on each figure."""
    if not dashboard.is_staff(request.user):
        return render(request, "insight/error.html", {"message": "仅工作人员可以访问"}, status=403)
    scope = dashboard.drill_scope(request.user)
    try:
        context = _context(request, org=request.GET.get("org", ""))
    except InsightError as exc:
        return _refused(request, exc)
    context["drill_scope"] = scope
    context["drill_scope_name"] = dashboard.Names().of("org", scope) if scope else ""
    return render(request, "insight/staff.html", context)


@login_required
def drill_page(request: HttpRequest) -> HttpResponse:
    """Staff: the cases (records) behind one figure; staff other than administrators and evaluators see their own
    organisation's only."""
    scope = dashboard.drill_scope(request.user)
    if scope is None:
        return render(request, "insight/error.html", {"message": "仅工作人员可以查看办件明细"}, status=403)
    org = request.GET.get("org", "")
    if scope and org and org != scope:
        return render(request, "insight/error.html", {"message": "只能查看本机构的办件明细"}, status=403)
    org = org or scope
    try:
        period = dashboard.parse_or_default(request.GET.get("period", ""))
        from .indicators import current

        ind = dashboard.chosen_indicator(current(), request.GET.get("indicator", ""))
        tolerated = request.GET.get("tolerated", "") == "1"
        rows = dashboard.drill_rows(ind, period, org, tolerated=tolerated)
    except InsightError as exc:
        return _refused(request, exc)
    names = dashboard.Names()
    return render(request, "insight/drill.html", {
        "indicator": ind, "period": period, "period_label": dashboard.period_label(period), "org": org,
        "org_name": names.of("org", org) if org else "全平台", "rows": rows, "tolerated": tolerated})


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    org = request.GET.get("org", "")
    try:
        period: Period = dashboard.parse_or_default(request.GET.get("period", ""))
        dashboard.overview(period, org)  # checks the organisation code
    except InsightError as exc:
        return _refused(request, exc)
    suffix = f"{period.text}{'-' + org if org else ''}"
    if kind == "csv":
        body, ctype, name = exports.csv_bytes(period, org), "text/csv; charset=utf-8", f"indicators-{suffix}.csv"
    elif kind == "xlsx":
        body, ctype, name = (exports.xlsx_bytes(period, org),
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             f"indicators-{suffix}.xlsx")
    else:
        body, ctype, name = exports.report_pdf(period, org), "application/pdf", f"report-{suffix}.pdf"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_csv(request: HttpRequest) -> HttpResponse:
    """Public: the month's figures, platform and per organisation, as CSV (UTF-8 with BOM)."""
    return _export(request, "csv")


def export_xlsx(request: HttpRequest) -> HttpResponse:
    """Public: the same table as an Excel workbook."""
    return _export(request, "xlsx")


def report_pdf(request: HttpRequest) -> HttpResponse:
    """Public: the monthly report (PDF)."""
    return _export(request, "pdf")
