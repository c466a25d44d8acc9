"""HTML pages: the supervisor's workbench (records to receive, post-checks, inspections, leads, credit repairs, all
with clock lights), the entity page (licences, grade and reasons, history, credit repair) and the public draw
results (双随机一公开)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .errors import NotFound, SupervisionError
from .models import CreditEvent, CreditRepair, Inspection, PostCheck, SupervisionRecord


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/forbidden.html", status=403)


def _rows(items: list[Any], start: Any, due: Any, done: Any) -> list[dict[str, Any]]:
    return [{"obj": o, "light": selectors.light(start(o), due(o), done=done(o))} for o in items]


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """监管工作台: every queue of the supervisor's departments, overdue first."""
    if not selectors.is_supervisor(request.user):
        return _forbidden(request)
    user = request.user
    records = _rows(list(selectors.records_for(user).filter(status=SupervisionRecord.Status.PENDING)[:200]),
                    lambda r: timezone.localdate(r.created_at), lambda r: r.receipt_due, lambda r: False)
    checks = _rows(list(selectors.post_checks_for(user).filter(status=PostCheck.Status.PENDING)[:200]),
                   lambda p: timezone.localdate(p.created_at), lambda p: p.due_on, lambda p: False)
    inspections = _rows(list(selectors.inspections_for(user).filter(status=Inspection.Status.ASSIGNED)[:200]),
                        lambda i: timezone.localdate(i.draw.drawn_at), lambda i: i.due_on, lambda i: False)
    leads = _rows(list(selectors.leads_for(user).filter(status="open")[:200]),
                  lambda x: timezone.localdate(x.created_at), lambda x: x.due_on or timezone.localdate(x.created_at),
                  lambda x: False)
    order = {"red": 0, "yellow": 1, "green": 2}
    for rows in (records, checks, inspections, leads):
        rows.sort(key=lambda r: order[r["light"]])
    repairs = list(selectors.repairs_for(user).filter(status=CreditRepair.Status.PENDING)[:200])
    plans = list(selectors.plans().filter(department__in=selectors.supervised_departments(user)))
    return render(request, "supervision/workbench.html", {
        "records": records, "checks": checks, "inspections": inspections, "leads": leads, "repairs": repairs,
        "plans": plans, "departments": list(selectors.supervised_departments(user)[:20]),
    })


@login_required
@require_http_methods(["GET", "POST"])
def post_checks(request: HttpRequest) -> HttpResponse:
    """事后核查 of commitment approvals: pass, or fail with the findings (revokes, credit, enforcement lead)."""
    if not selectors.is_supervisor(request.user):
        return _forbidden(request)
    checks = selectors.post_checks_for(request.user)
    if request.method == "POST":
        check = checks.filter(pk=_int(request.POST.get("check"))).first()
        if check is None:
            raise Http404("核查任务不存在")
        try:
            services.complete_post_check(check, request.user, passed=request.POST.get("passed") == "yes",
                                         result=request.POST.get("result", ""))
        except SupervisionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记核查结果")
        return redirect("supervision:post_checks")
    rows = _rows(list(checks.order_by("status", "due_on")[:300]), lambda p: timezone.localdate(p.created_at),
                 lambda p: p.due_on, lambda p: p.status != PostCheck.Status.PENDING)
    return render(request, "supervision/post_checks.html", {"checks": rows})


@login_required
@require_POST
def receive(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.records_for(request.user).filter(pk=record_id).first()
    if record is None:
        raise Http404("记录不存在")
    try:
        services.receive_record(record, request.user)
    except SupervisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已认领：{record.subject_name} {record.item_name}")
    return redirect("supervision:workbench")


@login_required
@require_POST
def inspection_result(request: HttpRequest, inspection_id: int) -> HttpResponse:
    inspection = selectors.inspections_for(request.user).filter(pk=inspection_id).first()
    if inspection is None:
        raise Http404("检查任务不存在")
    try:
        services.record_inspection(inspection, request.user, passed=request.POST.get("passed") == "yes",
                                   findings=request.POST.get("findings", ""))
    except SupervisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已登记并公示检查结果")
    return redirect("supervision:workbench")


@login_required
@require_POST
def review_repair(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = selectors.repairs_for(request.user).filter(pk=repair_id).first()
    if repair is None:
        raise Http404("修复申请不存在")
    try:
        services.review_repair(repair, request.user, approve=request.POST.get("approve") == "yes",
                               note=request.POST.get("note", ""))
    except SupervisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已审核信用修复申请")
    return redirect("supervision:workbench")


def _entity_or_404(request: HttpRequest, uscc: str) -> Any:
    try:
        entity = selectors.get_entity(uscc)
    except NotFound:
        raise Http404("市场主体不存在") from None
    if not selectors.can_see_entity(request.user, entity):
        raise Http404("市场主体不存在")
    return entity


@login_required
def entity_page(request: HttpRequest, uscc: str) -> HttpResponse:
    """The entity: licences, grade and its reasons, credit history, post-checks, inspections, records."""
    entity = _entity_or_404(request, uscc)
    return render(request, "supervision/entity.html", {
        "entity": entity, "events": list(selectors.credit_events(entity)),
        "departments": list(entity.supervising_departments.all()),
        "checks": list(entity.post_checks.select_related("department")[:50]),
        "inspections": list(entity.inspections.select_related("draw__plan", "department")[:50]),
        "records": list(entity.records.select_related("department")[:50]),
        "is_self": bool(request.user.id_number) and request.user.id_number.upper() == entity.uscc,
    })


@login_required
@require_POST
def apply_repair(request: HttpRequest, uscc: str) -> HttpResponse:
    entity = _entity_or_404(request, uscc)
    event = CreditEvent.objects.filter(entity=entity, pk=_int(request.POST.get("event"))).first()
    if event is None:
        raise Http404("信用记录不存在")
    try:
        services.apply_repair(event, request.user, request.POST.get("reason", ""))
    except SupervisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已提交信用修复申请，等待监管部门审核")
    return redirect("supervision:entity", uscc=entity.uscc)


def draws_page(request: HttpRequest) -> HttpResponse:
    """Public: the draw plans and the draws (双随机一公开)."""
    return render(request, "supervision/draws.html", {"plans": list(selectors.plans()),
                                                      "draws": list(selectors.draws()[:100])})


def draw_page(request: HttpRequest, draw_id: int) -> HttpResponse:
    """Public: one draw, its seed and algorithm, entities and masked inspectors, published results."""
    try:
        draw = selectors.get_draw(draw_id)
    except NotFound:
        raise Http404("抽取记录不存在") from None
    return render(request, "supervision/draw.html", {"draw": selectors.public_draw(draw)})
