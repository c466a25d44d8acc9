"""HTML pages of the feedback context: the person (rate a service, my 12345 requests), the 12345 operator (intake,
classify, dispatch, import), the department (orders to handle, ratings to rectify and revisit), the service office
(appeals), the evaluator, and the public rating statistics. Thin: writes through the services, reads through the
selectors; a refused action goes back with its message and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tongban.core.auth import AuthedRequest
from tongban.core.models import Organisation
from tongban.core.services import audit

from . import evaluation, selectors, services
from .errors import FeedbackError, NotFound
from .models import Rating, Rectification, WorkOrder

MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "feedback/forbidden.html", {"message": message}, status=403)


def _act(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    try:
        action()
    except FeedbackError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- public -----------------------------------------------------------------------------------------------------


def stats_page(request: HttpRequest) -> HttpResponse:
    """Public: rating statistics of the city, a department, centre or window, and the per-department ranking."""
    org = request.GET.get("org", "")
    try:
        stats = selectors.rating_stats(org_code=org)
    except NotFound:
        raise Http404("机构不存在") from None
    return render(request, "feedback/stats.html", {
        "stats": stats, "org": org, "departments": selectors.ranking("department"),
        "windows": selectors.ranking("window"), "items": selectors.ranking("item"),
        "organisations": Organisation.objects.filter(kind__in=["department", "service_centre", "window"])
        .order_by("code")})


@require_http_methods(["GET", "POST"])
def pad_page(request: HttpRequest, token: str) -> HttpResponse:
    """The window's rating pad (评价器): no sign-in, the signed link the clerk's system opened is the credential."""
    try:
        record = services.service_for_pad(token)
    except NotFound:
        raise Http404("服务记录不存在") from None
    except FeedbackError as exc:
        return render(request, "feedback/forbidden.html", {"message": exc.message}, status=exc.status)
    if request.method == "POST":
        indicators = {name: _int(request.POST.get(f"ind-{name}", "")) for name in services.ratings.INDICATORS
                      if request.POST.get(f"ind-{name}")}
        _act(request, lambda: services.rate_by_pad(token, _int(request.POST.get("level", "")), indicators=indicators,
                                                   comment=request.POST.get("comment", "")), "感谢您的评价")
        return redirect("feedback:pad", token=token)
    return render(request, "feedback/rate.html", {
        "record": record, "rating": getattr(record, "rating", None), "levels": Rating.Level.choices,
        "indicators": ("服务效率", "服务水平", "服务态度"), "pad": True})


# --- the person -------------------------------------------------------------------------------------------------


@login_required
def rate_list(request: AuthedRequest) -> HttpResponse:
    """The person's services, the ones still open to rating first (``?case=REF``: the services of one case)."""
    records = selectors.services_for_person(request.user)
    case = request.GET.get("case", "")
    if case:
        records = records.filter(application_ref=case)
    return render(request, "feedback/rate_list.html", {"records": records[:200], "case": case})


@login_required
@require_http_methods(["GET", "POST"])
def rate_page(request: AuthedRequest, ref: str) -> HttpResponse:
    try:
        record = selectors.get_service(ref)
    except NotFound:
        raise Http404("服务记录不存在") from None
    if not selectors.owns_service(request.user, record):
        return _forbidden(request, "只能评价本人办理的服务")
    if request.method == "POST":
        indicators = {name: _int(request.POST.get(f"ind-{name}", "")) for name in services.ratings.INDICATORS
                      if request.POST.get(f"ind-{name}")}
        done = _act(request, lambda: services.rate(
            request.user, ref, _int(request.POST.get("level", "")), indicators=indicators,
            comment=request.POST.get("comment", ""), channel=request.POST.get("channel", Rating.Channel.WEB),
            real_name=request.POST.get("anonymous") != "1"), "感谢您的评价")
        return redirect("feedback:rate_list") if done else redirect("feedback:rate", ref=ref)
    online = record.window_id is None
    names = ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性") if online else ("服务效率", "服务水平", "服务态度")
    return render(request, "feedback/rate.html", {"record": record, "rating": getattr(record, "rating", None),
                                                  "levels": Rating.Level.choices, "indicators": names})


@login_required
@require_http_methods(["GET", "POST"])
def my_orders(request: AuthedRequest) -> HttpResponse:
    """The person's 12345 requests, and a form to file one."""
    if request.method == "POST":
        if request.user.kind == "staff":
            messages.error(request, "工作人员请通过12345热线话务员受理诉求")
            return redirect("feedback:my_orders")
        data = {k: request.POST.get(k, "") for k in ("text", "type", "division", "address", "contact_phone")}
        data["anonymous"] = request.POST.get("anonymous") == "1"
        try:
            order = services.create_order(data, actor=request.user, channel=WorkOrder.Channel.WEB)
        except FeedbackError as exc:
            messages.error(request, exc.message)
            return redirect("feedback:my_orders")
        messages.success(request, f"诉求已受理，工单编号 {order.number}")
        return redirect("feedback:my_order", number=order.number)
    return render(request, "feedback/my_orders.html", {
        "orders": selectors.orders_for_person(request.user)[:200], "types": WorkOrder.Type.choices})


@login_required
@require_http_methods(["GET", "POST"])
def my_order(request: AuthedRequest, number: str) -> HttpResponse:
    try:
        order = selectors.get_order(number)
    except NotFound:
        raise Http404("工单不存在") from None
    if order.person_id != request.user.pk:
        return _forbidden(request, "只能查看本人的诉求")
    if request.method == "POST":
        _act(request, lambda: services.confirm_order(order, request.user,
                                                     satisfied=request.POST.get("satisfied") == "1",
                                                     note=request.POST.get("note", "")), "已提交评价")
        return redirect("feedback:my_order", number=number)
    return render(request, "feedback/my_order.html", {"order": order, "events": order.events.all()})


# --- the 12345 operator -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def hotline_page(request: AuthedRequest) -> HttpResponse:
    """Operator: record a call (the classifier proposes type and department), the orders waiting for dispatch."""
    if not selectors.is_operator(request.user):
        return _forbidden(request, "仅12345热线话务员可以访问")
    if request.method == "POST":
        fields = ("text", "type", "urgency", "division", "address", "contact_name", "contact_phone", "subject",
                  "subject_name", "subject_code")
        data: dict[str, Any] = {k: request.POST.get(k, "") for k in fields}
        data["anonymous"] = request.POST.get("anonymous") == "1"
        try:
            order = services.create_order(data, actor=request.user, channel=WorkOrder.Channel.PHONE)
        except FeedbackError as exc:
            messages.error(request, exc.message)
            return redirect("feedback:hotline")
        messages.success(request, f"已受理 {order.number}，请确认分类后派单")
        return redirect("feedback:hotline_order", number=order.number)
    status = request.GET.get("status", "")
    waiting = selectors.orders(status=status) if status else selectors.orders().filter(
        status__in=[WorkOrder.Status.NEW, WorkOrder.Status.RETURNED])
    return render(request, "feedback/hotline.html", {
        "orders": waiting[:200], "status": status, "statuses": WorkOrder.Status.choices,
        "types": WorkOrder.Type.choices, "subjects": WorkOrder.Subject.choices, "urgencies": WorkOrder.Urgency.choices,
        "overdue": selectors.overdue_orders().count()})


@login_required
@require_http_methods(["GET", "POST"])
def hotline_order(request: AuthedRequest, number: str) -> HttpResponse:
    """Operator: one order: dispatch (confirm or correct), duplicates and merge, knowledge answers, answer at once,
    record the person's confirmation after a call-back."""
    if not selectors.is_operator(request.user):
        return _forbidden(request, "仅12345热线话务员可以访问")
    try:
        order = selectors.get_order(number)
    except NotFound:
        raise Http404("工单不存在") from None
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        actions: dict[str, tuple[Callable[[], Any], str]] = {
            "dispatch": (lambda: services.dispatch_order(order, request.user, department=post.get("department", ""),
                                                         type=post.get("type", "")), "已派单"),
            "merge": (lambda: services.merge_orders(order, post.get("into", ""), request.user), "已合并"),
            "answer": (lambda: services.answer_order(order, request.user, text=post.get("text", ""),
                                                     close=post.get("close") == "1"), "已答复"),
            "confirm": (lambda: services.confirm_order(order, request.user, satisfied=post.get("satisfied") == "1",
                                                       note=post.get("note", "")), "已记录回访评价"),
        }
        if action not in actions:
            messages.error(request, "未知操作")
        else:
            _act(request, *actions[action])
        return redirect("feedback:hotline_order", number=number)
    knowledge = services.knowledge_answers(order.text) if order.type == WorkOrder.Type.CONSULT else []
    return render(request, "feedback/hotline_order.html", {
        "order": order, "events": order.events.all(), "duplicates": selectors.duplicate_candidates(order),
        "knowledge": [(k, services.orders.knowledge_text(k)) for k in knowledge], "types": WorkOrder.Type.choices,
        "departments": Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).order_by("code")})


@login_required
@require_http_methods(["GET", "POST"])
def hotline_import(request: AuthedRequest) -> HttpResponse:
    """Operator: batch import of call transcripts (CSV/XLSX): all rows or none."""
    if not selectors.is_operator(request.user):
        return _forbidden(request, "仅12345热线话务员可以访问")
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None or upload.size > MAX_IMPORT_BYTES:
            messages.error(request, "请选择不超过 10 MB 的 CSV 或 XLSX 文件")
            return redirect("feedback:hotline_import")
        try:
            orders = services.import_orders(services.parse_import_file(upload.name or "", upload.read()),
                                            actor=request.user)
        except FeedbackError as exc:
            messages.error(request, f"未导入：{exc.message}")
            return redirect("feedback:hotline_import")
        messages.success(request, f"已导入 {len(orders)} 张工单")
        return redirect("feedback:hotline")
    return render(request, "feedback/hotline_import.html", {"headers": services.orders.HEADERS})


# --- the department and the service office ----------------------------------------------------------------------


@login_required
def department_page(request: AuthedRequest) -> HttpResponse:
    """Department staff: work orders to handle, bad ratings to rectify and to revisit; the service office also sees
    the appeals to decide."""
    user = request.user
    office = selectors.is_service_office(user)
    if not (selectors.department_ids(user) or office or user.is_superuser):
        return _forbidden(request, "仅部门工作人员可以访问")
    rects = selectors.rectifications_for(user)
    return render(request, "feedback/department.html", {
        "orders": selectors.orders_for_department(user).filter(status__in=[
            WorkOrder.Status.DISPATCHED, WorkOrder.Status.RECEIVED])[:200],
        "to_rectify": rects.filter(status__in=[Rectification.Status.VERIFYING, Rectification.Status.RECTIFYING])[:200],
        "to_revisit": rects.filter(status=Rectification.Status.REVISITING)[:200],
        "appeals": rects.filter(status=Rectification.Status.APPEALED)[:200], "office": office})


@login_required
@require_http_methods(["GET", "POST"])
def department_order(request: AuthedRequest, number: str) -> HttpResponse:
    try:
        order = selectors.get_order(number)
    except NotFound:
        raise Http404("工单不存在") from None
    if not selectors.can_handle(request.user, order):
        return _forbidden(request, "只有承办部门的工作人员可以办理该工单")
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        actions: dict[str, tuple[Callable[[], Any], str]] = {
            "receive": (lambda: services.receive_order(order, request.user), "已签收"),
            "return": (lambda: services.return_order(order, request.user, reason=post.get("reason", "")), "已退单"),
            "answer": (lambda: services.answer_order(order, request.user, text=post.get("text", "")), "已答复"),
        }
        if action not in actions:
            messages.error(request, "未知操作")
        elif _act(request, *actions[action]) and action == "return":
            return redirect("feedback:department")
        return redirect("feedback:department_order", number=number)
    return render(request, "feedback/department_order.html", {"order": order, "events": order.events.all()})


@login_required
@require_http_methods(["GET", "POST"])
def rectification_page(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        rect = selectors.get_rectification(pk)
    except NotFound:
        raise Http404("整改单不存在") from None
    user = request.user
    office = selectors.is_service_office(user)
    if not (selectors.is_department_staff(user, rect.department) or office):
        return _forbidden(request, "只有被评价部门的工作人员可以办理整改")
    if request.method == "POST":
        post = request.POST
        actions: dict[str, tuple[Callable[[], Any], str]] = {
            "verify": (lambda: services.verify(rect, user, note=post.get("note", ""),
                                               days=_int(post.get("days", ""), -1)), "已核实"),
            "rectify": (lambda: services.rectify(rect, user, note=post.get("note", "")), "已记录整改"),
            "appeal": (lambda: services.appeal(rect, user, reason=post.get("reason", "")), "已提交申诉"),
            "decide": (lambda: services.decide_appeal(rect, user, upheld=post.get("upheld") == "1",
                                                      decision=post.get("decision", "")), "已裁定"),
            "revisit": (lambda: services.revisit(rect, user, result=post.get("result", ""),
                                                 note=post.get("note", "")), "已记录回访"),
        }
        action = post.get("action", "")
        if action not in actions:
            messages.error(request, "未知操作")
        else:
            _act(request, *actions[action])
        return redirect("feedback:rectification", pk=pk)
    return render(request, "feedback/rectification.html", {
        "rect": rect, "office": office, "can_act": selectors.is_department_staff(user, rect.department),
        "revisits": Rectification.Revisit.choices})


# --- the evaluator ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_page(request: AuthedRequest) -> HttpResponse:
    """Evaluator: masked previews of the data sets, CSV/Parquet exports (API), a seeded sample draw of cases."""
    if not selectors.is_evaluator(request.user):
        return _forbidden(request, "仅第三方评估人员可以访问")
    drawn = None
    if request.method == "POST":
        try:
            drawn = evaluation.sample_cases(_int(request.POST.get("size", ""), 0),
                                            _int(request.POST.get("seed", ""), 0))
            audit("feedback.evaluation.sample", actor=request.user, detail=drawn)
        except FeedbackError as exc:
            messages.error(request, exc.message)
    return render(request, "feedback/evaluation.html", {
        "stats": selectors.rating_stats(), "ratings": evaluation.rating_rows(20), "orders": evaluation.order_rows(20),
        "drawn": drawn, "datasets": list(evaluation.DATASETS)})
