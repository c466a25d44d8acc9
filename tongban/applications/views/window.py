"""The window's pages (综合窗口): the intake queue of any item of any department, one application with every
window action (accept, tolerate, one-time notice, refuse, record a visit), and 帮办 for the person at the window."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tongban.catalog import selectors as catalog_selectors
from tongban.core.auth import AuthedRequest
from tongban.core.models import Role

from .. import selectors
from ..errors import ApplicationError
from ..models import Application, ProxyAuthorisation
from ..services.common import DEFAULT_SUPPLEMENT_WORKING_DAYS, missing_materials
from ..services.proxies import authorise_proxy
from ..services.window import accept, issue_one_time_notice, record_visit, refuse
from .common import app_or_404, case_context, int_or_zero, only_for, page, perform


def _clerk_only(request: AuthedRequest) -> HttpResponse | None:
    return only_for(request, (Role.WINDOW_CLERK,), "该页面仅供综合窗口人员使用")


def _case_or_404(request: AuthedRequest, ref: str) -> Application:
    """A case as the window sees it: any submitted one; a draft only when the clerk prepares it (帮办)."""
    app = app_or_404(ref)
    if not selectors.can_view(request.user, app):
        raise Http404("办件不存在或尚未提交")
    return app


@login_required
def window_queue(request: AuthedRequest) -> HttpResponse:
    """综合窗口: submitted and incomplete applications of any item of any department."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    return page(request, "window_queue.html", {"apps": list(selectors.window_queue(request.user)[:300])})


@login_required
def window_application(request: AuthedRequest, ref: str) -> HttpResponse:
    """The window's view of one application: check each material, accept, tolerate, notify, refuse, visit."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    app = _case_or_404(request, ref)
    context = case_context(app, staff=True)
    context.update({
        "pending": app.status in Application.PENDING_STATUSES,
        "missing": missing_materials(app), "missing_tolerated": missing_materials(app, tolerate=True),
        "windows": selectors.windows_of(request.user), "default_days": DEFAULT_SUPPLEMENT_WORKING_DAYS,
    })
    return page(request, "window_case.html", context)


@login_required
@require_POST
def window_action(request: AuthedRequest, ref: str) -> HttpResponse:
    """One window action: accept / tolerate / one_time / refuse / visit."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    app = _case_or_404(request, ref)
    user, post = request.user, request.POST

    def do_accept() -> str:
        accept(app, user)
        return "已受理，已出具受理通知书"

    def tolerate() -> str:
        raw = (post.get("supplement_days") or "").strip()
        if not raw.isdecimal() or not 1 <= int(raw) <= 60:
            raise ApplicationError("补齐期限须为 1–60 个工作日", code="window.invalid_days")
        accept(app, user, tolerate=True, supplement_days=int(raw))
        return "已容缺受理，已设定补齐期限"

    def one_time() -> str:
        notice = issue_one_time_notice(app, user, note=(post.get("note") or "").strip())
        return f"已出具一次性告知书（查验码 {notice.code}）"

    def do_refuse() -> str:
        refuse(app, user, (post.get("reason") or "").strip())
        return "已作出不予受理决定，已出具不予受理通知书"

    def visit() -> str:
        window_org = selectors.windows_of(user).filter(pk=int_or_zero(post.get("window"))).first()
        if window_org is None:
            raise ApplicationError("请选择窗口", code="window.unknown_window")
        record_visit(app, user, window_org, (post.get("purpose") or "").strip()[:100])
        return "已登记现场跑动"

    perform(request, post.get("action", ""), {"accept": do_accept, "tolerate": tolerate, "one_time": one_time,
                                              "refuse": do_refuse, "visit": visit})
    return redirect("applications:window_application", ref=app.ref)


@login_required
@require_http_methods(["GET", "POST"])
def window_assist(request: AuthedRequest) -> HttpResponse:
    """帮办: register a window-clerk authorisation for the person at the window, then apply for them."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    error, values = "", {}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in ("principal_name", "principal_id_number", "target")}
        if (request.POST.get("item_code") or "").strip():
            values["target"] = "item:" + request.POST["item_code"].strip()
        kind, _, code = values["target"].partition(":")
        try:
            if kind not in {"item", "bundle"} or not code:
                raise ApplicationError("请选择要办理的一件事或填写事项编码", code="window.target_required")
            target = (catalog_selectors.get_bundle(code) if kind == "bundle" else catalog_selectors.get_item(code))
            if target is None:
                raise ApplicationError(f"“{code}”不存在或未发布", code="application.unknown_target", status=404)
            proxy = authorise_proxy(
                agent=request.user, principal_name=values["principal_name"],
                principal_id_number=values["principal_id_number"], scope=f"窗口帮办：{target.name}",
                valid_until=timezone.localdate(), kind=ProxyAuthorisation.Kind.CLERK, recorded_by=request.user)
        except ApplicationError as exc:
            error = exc.message
        else:
            return redirect(reverse(f"applications:apply_{kind}", args=[code]) + f"?proxy={proxy.pk}")
    return page(request, "window_assist.html", {"bundles": catalog_selectors.list_bundles(), "error": error,
                                                "values": values}, status=400 if error else 200)
