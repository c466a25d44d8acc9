"""Back-office pages of the workflow engine (staff only): definitions and diagrams, instances with their position,
and "my tasks" with claim/complete forms."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tongban.core.auth import AuthedRequest

from . import selectors, services
from .bpmn import TYPE_LABELS
from .errors import WorkflowError
from .models import ProcessInstance, Task

EVENT_LABELS = {
    "instance.started": "流程启动", "instance.completed": "流程办结", "instance.cancelled": "流程撤销",
    "element.started": "环节开始", "element.completed": "环节完成", "element.interrupted": "环节被定时中断",
    "task.claimed": "认领", "task.unclaimed": "退回待认领", "task.cancelled": "任务取消", "task.opinion": "填写意见",
    "task.escalated": "超期督办", "timer.scheduled": "定时器设定", "timer.fired": "定时器触发",
    "timer.failed": "定时器故障", "decision.evaluated": "规则决策", "service.failed": "服务任务失败",
    "service.retried": "服务任务重试", "clock.suspended": "暂停计时", "clock.resumed": "恢复计时",
    "clock.light": "时限亮灯", "variables.set": "更新变量",
}
LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("仅限工作人员")
        return view(request, *args, **kwargs)

    return wrapper


def _for_display(obj: Model, **values: Any) -> None:
    """Put display-only values for the template on a model instance (not columns, never saved): the one place
    the views do so."""
    for name, value in values.items():
        setattr(obj, name, value)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return redirect(target)


@staff_required
def definition_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "workflow/definition_list.html", {
        "definitions": selectors.latest_definitions(), "decisions": selectors.decisions()[:100],
    })


@staff_required
def definition_diagram(request: AuthedRequest, key: str) -> HttpResponse:
    version = request.GET.get("version")
    definition = selectors.definition(key, int(version) if version and version.isdigit() else None)
    if definition is None:
        raise Http404("没有该流程")
    elements = sorted(definition.graph.get("elements", {}).items(), key=lambda kv: kv[1].get("line", 0))
    return render(request, "workflow/definition_diagram.html", {
        "definition": definition,
        "versions": selectors.definition_versions(key),
        "elements": [(eid, node, TYPE_LABELS.get(node["type"], node["type"])) for eid, node in elements],
        "instances": selectors.instances_visible_to(request.user, selectors.instances(process_key=key))[:20],
        "diagram_xml": definition.display_xml or definition.bpmn_xml,
        "starters": selectors.starter_names(definition.graph),
        "marks": {},
    })


@staff_required
def instance_list(request: AuthedRequest) -> HttpResponse:
    qs = selectors.instances_visible_to(
        request.user, selectors.instances(request.GET.get("process") or None, request.GET.get("status") or None))
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "workflow/instance_list.html", {"page": page, "statuses": ProcessInstance.Status.choices})


@staff_required
def instance_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(
        selectors.instances_visible_to(request.user).select_related("definition", "parent"), pk=pk)
    tasks = list(instance.tasks.select_related("candidate_org", "assignee").order_by("created_at", "pk"))
    for t in tasks:
        _for_display(t, clock=selectors.task_clock(t))
    names = {eid: n.get("name") or "" for eid, n in instance.definition.graph.get("elements", {}).items()}
    events = list(selectors.instance_events(instance))
    for e in events:
        _for_display(e, label=EVENT_LABELS.get(e.type, e.type), element_name=names.get(e.element_id, ""))
    return render(request, "workflow/instance_detail.html", {
        "instance": instance, "tasks": tasks, "events": events,
        "children": instance.children.order_by("parent_index", "pk"),
        "clock": selectors.instance_clock(instance),
        "diagram_xml": instance.definition.display_xml or instance.definition.bpmn_xml,
        "marks": selectors.instance_position(instance),
        "light_labels": LIGHT_LABELS,
    })


@staff_required
def my_tasks(request: AuthedRequest) -> HttpResponse:
    qs = selectors.tasks_for_user(request.user)
    light = request.GET.get("light")
    if light in LIGHT_LABELS:
        qs = qs.filter(light=light)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    for t in page:
        _for_display(t, clock=selectors.task_clock(t))
    return render(request, "workflow/my_tasks.html", {
        "page": page, "light": light, "light_labels": LIGHT_LABELS,
        "notifications": selectors.notifications_for(request.user, unread_only=True)[:10],
    })


def _task_action(request: AuthedRequest, pk: int, action: Callable[[Task], Any], done: str) -> HttpResponse:
    task = get_object_or_404(Task.objects.select_related("instance"), pk=pk)
    try:
        action(task)
    except WorkflowError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        messages.success(request, done)
    return _back(request, "/workflow/tasks/")


@require_POST
@staff_required
def task_claim(request: AuthedRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, lambda t: services.claim(t, request.user), "已认领")


@require_POST
@staff_required
def task_unclaim(request: AuthedRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, lambda t: services.unclaim(t, request.user), "已退回待认领")


@require_POST
@staff_required
def task_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    opinion = request.POST.get("opinion", "")
    return _task_action(request, pk, lambda t: services.complete(t, request.user, outcome, opinion=opinion),
                        "已办结")


@require_POST
@staff_required
def task_opinion(request: AuthedRequest, pk: int) -> HttpResponse:
    text = request.POST.get("opinion", "")
    return _task_action(request, pk, lambda t: services.add_opinion(t, request.user, text), "意见已保存")


@require_POST
@staff_required
def task_clock(request: AuthedRequest, pk: int) -> HttpResponse:
    if request.POST.get("action") == "resume":
        return _task_action(request, pk, lambda t: services.resume_clock(t, request.user), "已恢复计时")
    reason = request.POST.get("reason", "")
    return _task_action(request, pk, lambda t: services.suspend_clock(t, request.user, reason), "已暂停计时")
