"""The approver's pages (审批工作台): my departments' tasks with their clock lights, one task with the whole case
file (claim, decide, add an opinion); the post-checks (事后核查) moved to supervision (the old page redirects)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tongban.core import labels
from tongban.core.auth import AuthedRequest
from tongban.core.models import Role
from tongban.workflow import selectors as wf_selectors
from tongban.workflow import services as wf
from tongban.workflow.models import Task

from .. import selectors
from ..models import ApplicationItem
from ..services.decisions import decide_task
from .common import case_context, forbidden, only_for, page, perform

EVENT_LABELS = {
    "instance.started": "流程启动", "instance.completed": "流程结束", "instance.cancelled": "流程撤销",
    "element.started": "进入环节", "element.completed": "完成环节", "element.interrupted": "环节中断",
    "task.claimed": "认领任务", "task.unclaimed": "退回任务池", "task.opinion": "添加意见",
    "task.cancelled": "任务取消", "task.escalated": "超期督办", "clock.suspended": "计时中止",
    "clock.resumed": "恢复计时", "clock.light": "时限亮灯", "timer.fired": "定时器触发",
    "timer.scheduled": "设置定时器", "service.failed": "自动环节失败", "service.retried": "自动环节重试",
    "decision.evaluated": "规则决策", "variables.set": "更新流程变量",
}
LIGHT_TEXT = {"green": "绿灯：正常", "yellow": "黄灯：临近到期", "red": "红灯：已超期"}
OUTCOME_LABELS = {"approve": "准予许可", "reject": "不予许可", "return": "退回补正"}
DECIDED = {"approve": "已准予许可", "reject": "已作出不予许可决定", "return": "已退回申请人补正"}


def _approver_only(request: AuthedRequest) -> HttpResponse | None:
    return only_for(request, (Role.APPROVER,), "该页面仅供审批人员使用")


@dataclass
class TaskRow:
    """A task as the workbench lists it: its application item, its live clock and light."""

    task: Task
    ai: ApplicationItem | None
    clock: Any
    light: str
    light_text: str

    @property
    def due(self) -> dt.date | None:
        return self.clock.due if self.clock is not None else self.task.due_on

    @property
    def overdue_days(self) -> int:
        return -self.clock.remaining if self.clock is not None and self.clock.remaining < 0 else 0


def _task_row(task: Task) -> TaskRow:
    clock = selectors.task_clock(task) if task.is_open else None
    light = (clock.light if clock else task.light) or "green"
    return TaskRow(task=task, ai=selectors.task_application(task), clock=clock, light=light,
                   light_text=LIGHT_TEXT.get(light, ""))


@login_required
def workbench(request: AuthedRequest) -> HttpResponse:
    """审批工作台: my departments' open tasks with clock lights, due dates and remaining working days."""
    if (denied := _approver_only(request)) is not None:
        return denied
    state = request.GET.get("state") or "open"
    state = state if state in {"open", "done"} else "open"
    rows = [_task_row(t) for t in selectors.workbench_tasks(request.user, state=state)[:300]]
    order = {"red": 0, "yellow": 1, "green": 2}
    rows.sort(key=lambda r: (order.get(r.light, 3), r.due or dt.date.max, r.task.pk))
    counts = {k: sum(1 for r in rows if r.light == k) for k in order}
    return page(request, "workbench.html", {"rows": rows, "state": state, "counts": counts})


def _task_for(request: AuthedRequest, task_id: int) -> Task | HttpResponse:
    task = get_object_or_404(Task.objects.select_related("instance", "candidate_org", "assignee"), pk=task_id)
    user = request.user
    if not (user.is_superuser or task.assignee_id == user.pk or wf.is_candidate(task, user)):
        return forbidden(request, "该任务不属于您所在的部门")
    return task


def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return timezone.localtime(dt.datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return None


@login_required
def task_detail(request: AuthedRequest, task_id: int) -> HttpResponse:
    """One task with the whole case file; claim, decide, add an opinion."""
    task = _task_for(request, task_id)
    if isinstance(task, HttpResponse):
        return task
    row = _task_row(task)
    context: dict[str, Any] = {"row": row, "task": task}
    if row.ai is not None:
        context.update(case_context(row.ai.application, staff=True))
        context["other_items"] = [ai for ai in context["case"].items if ai.pk != row.ai.pk]
        context["auto_decision"] = selectors.auto_decision_view(row.ai)
    if row.ai is not None:
        events = context["case"].workflow_events
        element_names = wf_selectors.element_names(events)
        context["wf_events"] = [{"at": e.at, "label": EVENT_LABELS.get(e.type, e.type),
                                 "element": element_names.get((e.instance_id, e.element_id), ""),
                                 "actor": labels.name("actor", e.actor_label), "text": (e.data or {}).get("text", "")}
                                for e in events]
    context["opinions"] = [{**o, "at": _parse_datetime(o.get("at", ""))} for o in task.opinions or []]
    context["can_decide"] = task.is_open and task.assignee_id in {None, request.user.pk}
    context["outcomes"] = [(o, OUTCOME_LABELS.get(o) or labels.name("outcome", o)) for o in task.outcomes]
    return page(request, "task.html", context)


@login_required
@require_POST
def task_action(request: AuthedRequest, task_id: int) -> HttpResponse:
    """claim / unclaim / decide / opinion on a task."""
    task = _task_for(request, task_id)
    if isinstance(task, HttpResponse):
        return task
    user, post = request.user, request.POST

    def claim() -> str:
        wf.claim(task, user)
        return f"已认领任务“{task.name}”"

    def unclaim() -> str:
        wf.unclaim(task, user)
        return "已退回任务池"

    def decide() -> str:
        outcome = post.get("outcome", "")
        decide_task(task, user, outcome, post.get("opinion", ""))
        return DECIDED.get(outcome, "已办理")

    def opinion() -> str:
        wf.add_opinion(task, user, post.get("text", ""))
        return "已添加意见"

    action = post.get("action", "")
    done = perform(request, action, {"claim": claim, "unclaim": unclaim, "decide": decide, "opinion": opinion})
    if done and action == "decide":
        return redirect("applications:workbench")
    return redirect("applications:task", task_id=task.pk)


@login_required
@require_GET
def post_checks(request: AuthedRequest) -> HttpResponse:
    """事后核查 moved to supervision (审管分离): the old address leads to the supervisor's post-check queue."""
    return redirect("supervision:post_checks", permanent=True)
