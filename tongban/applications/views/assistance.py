"""帮办预约 pages: the public form that asks a service centre for assisted service, and the clerks' list of the
requests of their centres (window workbench), where each is marked handled."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from tongban.catalog import selectors as catalog_selectors
from tongban.core.auth import AuthedRequest
from tongban.core.models import Role

from .. import selectors
from ..errors import ApplicationError
from ..models import AssistanceRequest
from ..services.assistance import mark_assistance_handled, request_assistance
from .common import only_for, page, perform

FIELDS = ("name", "phone", "service", "centre", "channel", "preferred_date", "preferred_period", "note", "item")


def _date_or_none(raw: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ApplicationError("希望日期格式不正确", code="assistance.invalid_date") from exc


@require_http_methods(["GET", "POST"])
def assist(request: HttpRequest) -> HttpResponse:
    """帮办预约: ask for help at a window or by phone (no account needed)."""
    values = {k: (request.POST.get(k) or request.GET.get(k) or "").strip() for k in FIELDS}
    error = ""
    if request.method == "POST":
        try:
            done = request_assistance(
                name=values["name"], phone=values["phone"], service=values["service"], centre_code=values["centre"],
                channel=values["channel"] or AssistanceRequest.Channel.WINDOW,
                preferred_date=_date_or_none(values["preferred_date"]),
                preferred_period=values["preferred_period"] or AssistanceRequest.Period.ANY, note=values["note"],
                item_code=values["item"], user=request.user)  # type: ignore[arg-type]
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已收到您的帮办预约，{done.centre.name}的工作人员会打电话与您联系。")
            return redirect("applications:assist_done")
    if request.method == "GET" and values["item"] and not values["service"]:
        item = catalog_selectors.get_item(values["item"])
        values["service"] = item.name if item is not None else ""
    centres = list(selectors.assistance_centres())
    if not values["centre"] and centres:
        values["centre"] = centres[0].code
    return page(request, "assist.html", {
        "values": values, "error": error, "centres": centres, "channels": AssistanceRequest.Channel.choices,
        "periods": AssistanceRequest.Period.choices}, status=400 if error else 200)


def assist_done(request: HttpRequest) -> HttpResponse:
    return page(request, "assist_done.html", {})


@login_required
def window_assistance(request: AuthedRequest) -> HttpResponse:
    """The clerks' list: open requests of their centres, oldest first, and the latest handled ones."""
    if (denied := only_for(request, (Role.WINDOW_CLERK,), "该页面仅供综合窗口人员使用")) is not None:
        return denied
    return page(request, "window_assistance.html", {
        "open": list(selectors.assistance_requests_for(request.user)[:200]),
        "handled": list(selectors.assistance_requests_for(request.user, handled=True)[:30])})


@login_required
@require_POST
def window_assistance_handled(request: AuthedRequest, pk: int) -> HttpResponse:
    if (denied := only_for(request, (Role.WINDOW_CLERK,), "该页面仅供综合窗口人员使用")) is not None:
        return denied
    target = get_object_or_404(selectors.assistance_requests_for(request.user), pk=pk)

    def handled() -> str:
        mark_assistance_handled(target, request.user, request.POST.get("note") or "")
        return f"已办理：{target.name}的帮办预约"

    perform(request, "handled", {"handled": handled})
    return redirect("applications:window_assistance")
