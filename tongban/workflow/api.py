"""Workflow JSON API (流程接口): definitions, starting instances, my tasks, claim/complete, instance detail.

Authentication: ``Authorization: Bearer <token>`` (``POST /api/auth/token``) or the browser session (with CSRF).
Errors: ``{"code": "workflow.<reason>", "message": "<中文说明>", "detail": {...}}`` with a 4xx status, e.g.
``workflow.task_not_held`` (403), ``workflow.not_candidate`` (403), ``workflow.unknown_outcome`` (400),
``workflow.task_not_open`` (409), ``workflow.not_found`` (404), ``workflow.not_starter`` (403).

Scoping: an instance is read only by staff of an organisation involved in it (a task of its tree is for them or
held by them) and by the administrator; others get 404 ``workflow.not_found``. A process is started by hand only
by the starters its definition names (``tongban:starterRoles``/``starterOrgs``/``starterUsers``), else 403
``workflow.not_starter``. An organisation's overdue list is for its own staff and the administrator.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Router, Schema

from tongban.core.auth import API_AUTH, AuthedRequest
from tongban.core.models import Organisation
from tongban.core.openapi import ErrorOut
from tongban.core.selectors import has_role

from . import selectors, services
from .errors import WorkflowError
from .models import ProcessInstance, Task

router = Router(tags=["workflow 流程引擎"], auth=API_AUTH)
ROUTERS = [("/workflow", router)]

ERROR_CODES = (400, 401, 403, 404, 409)



class DefinitionOut(Schema):
    key: str
    version: int
    name: str
    versions: int = 1
    running: int = 0
    deployed_at: datetime


class ElementOut(Schema):
    id: str
    type: str
    name: str
    candidate_role: str = ""
    candidate_org: str = ""
    outcomes: list[str] = []


class DefinitionDetailOut(DefinitionOut):
    versions_list: list[int]
    starters: dict[str, list[str]] = {}  # who may start it by hand: roles, orgs, users (none: the admin only)
    elements: list[ElementOut]
    bpmn_xml: str


class StartIn(Schema):
    process_key: str
    business_key: str = ""
    variables: dict[str, Any] = {}


class ClockOut(Schema):
    limit_days: int
    elapsed: int
    remaining: int
    due: date
    light: str
    suspended: bool


class TaskOut(Schema):
    id: int
    instance_id: int
    business_key: str
    process_key: str
    element_id: str
    name: str
    candidate_role: str
    candidate_org: str | None
    candidate_org_name: str | None
    state: str
    assignee: str | None
    outcomes: list[str]
    outcome: str
    opinions: list[dict[str, Any]]
    created_at: datetime
    due_on: date | None
    light: str
    clock: ClockOut | None
    excluded_step: str


class EventOut(Schema):
    id: int
    at: datetime
    type: str
    element_id: str
    actor: str
    task_id: int | None
    data: dict[str, Any]


class InstanceOut(Schema):
    id: int
    process_key: str
    version: int
    business_key: str
    status: str
    incident: str
    variables: dict[str, Any]
    parent_id: int | None
    started_at: datetime
    ended_at: datetime | None
    limit_days: int | None
    statutory_limit_days: int | None
    due_on: date | None
    statutory_due_on: date | None
    light: str
    position: dict[str, list[str]]
    children: list[int]
    tasks: list[TaskOut]
    events: list[EventOut]


class CompleteIn(Schema):
    outcome: str = ""
    variables: dict[str, Any] = {}
    opinion: str = ""


class TextIn(Schema):
    text: str


class ReasonIn(Schema):
    reason: str = ""


def _error(exc: WorkflowError) -> tuple[int, dict[str, Any]]:
    return exc.status, {"code": exc.code, "message": exc.message, "detail": exc.detail or None}


def _staff(request: AuthedRequest) -> None:
    if not request.user.is_staff:
        raise WorkflowError("仅限工作人员（staff only）", code="workflow.forbidden", status=403)


def _clock(status: Any) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"limit_days": status.limit_days, "elapsed": status.elapsed, "remaining": status.remaining,
            "due": status.due, "light": status.light, "suspended": status.suspended}


def _task(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk, "instance_id": t.instance_id, "business_key": t.instance.business_key,
        "process_key": t.instance.process_key, "element_id": t.element_id, "name": t.name,
        "candidate_role": t.candidate_role, "candidate_org": t.candidate_org.code if t.candidate_org is not None else None,
        "candidate_org_name": t.candidate_org.name if t.candidate_org is not None else None, "state": t.state,
        "assignee": t.assignee.username if t.assignee is not None else None, "outcomes": t.outcomes, "outcome": t.outcome,
        "opinions": t.opinions, "created_at": t.created_at, "due_on": t.due_on, "light": t.light,
        "clock": _clock(selectors.task_clock(t)), "excluded_step": t.excluded_step,
    }


def _get_task(request: AuthedRequest, task_id: int) -> Task:
    task = Task.objects.select_related("instance", "candidate_org", "assignee").filter(pk=task_id).first()
    if task is None or not selectors.can_work_on(request.user, task):
        raise WorkflowError(f"任务 {task_id} 不存在或不属于您的机构", code="workflow.not_found", status=404)
    return task


def _instance(inst: ProcessInstance) -> dict[str, Any]:
    tasks = inst.tasks.select_related("instance", "candidate_org", "assignee").order_by("created_at", "pk")
    return {
        "id": inst.pk, "process_key": inst.process_key, "version": inst.definition.version,
        "business_key": inst.business_key, "status": inst.status, "incident": inst.incident,
        "variables": inst.variables, "parent_id": inst.parent_id, "started_at": inst.started_at,
        "ended_at": inst.ended_at, "limit_days": inst.limit_days, "statutory_limit_days": inst.statutory_limit_days,
        "due_on": inst.due_on, "statutory_due_on": inst.statutory_due_on, "light": inst.light,
        "position": selectors.instance_position(inst),
        "children": list(inst.children.order_by("parent_index", "pk").values_list("pk", flat=True)),
        "tasks": [_task(t) for t in tasks],
        "events": [{"id": e.pk, "at": e.at, "type": e.type, "element_id": e.element_id, "actor": e.actor_label,
                    "task_id": e.task_id, "data": e.data} for e in selectors.instance_events(inst)],
    }


@router.get("/definitions", response={200: list[DefinitionOut], **dict.fromkeys(ERROR_CODES, ErrorOut)},
            summary="流程定义列表（最新版本）")
def list_definitions(request: AuthedRequest):
    try:
        _staff(request)
    except WorkflowError as exc:
        return _error(exc)
    return 200, selectors.latest_definitions()


@router.get("/definitions/{key}", response={200: DefinitionDetailOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
            summary="一个流程定义（可选 version）")
def get_definition(request: AuthedRequest, key: str, version: int | None = None):
    try:
        _staff(request)
        d = selectors.definition(key, version)
        if d is None:
            raise WorkflowError(f"没有流程 {key}", code="workflow.process_not_found", status=404)
    except WorkflowError as exc:
        return _error(exc)
    versions = [v.version for v in selectors.definition_versions(key)]
    elements = [{"id": eid, "type": n["type"], "name": n.get("name", ""),
                 "candidate_role": n.get("candidate_role", ""), "candidate_org": n.get("candidate_org", ""),
                 "outcomes": n.get("outcomes", [])}
                for eid, n in sorted(d.graph["elements"].items(), key=lambda kv: kv[1].get("line", 0))]
    return 200, {"key": d.key, "version": d.version, "name": d.name, "deployed_at": d.deployed_at,
                 "versions": len(versions), "versions_list": versions, "elements": elements,
                 "bpmn_xml": d.display_xml or d.bpmn_xml, "running": 0,
                 "starters": d.graph.get("starters") or {"roles": [], "orgs": [], "users": []}}


@router.post("/instances", response={201: InstanceOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="启动流程实例")
def start_instance(request: AuthedRequest, payload: StartIn):
    try:
        _staff(request)
        inst = services.start_by_user(payload.process_key, request.user, payload.business_key, payload.variables)
    except WorkflowError as exc:
        return _error(exc)
    inst = ProcessInstance.objects.select_related("definition").get(pk=inst.pk)
    return 201, _instance(inst)


@router.get("/instances/{instance_id}", response={200: InstanceOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
            summary="流程实例详情：当前位置、任务、事件日志")
def get_instance(request: AuthedRequest, instance_id: int):
    try:
        _staff(request)
        inst = (selectors.instances_visible_to(request.user).select_related("definition")
                .filter(pk=instance_id).first())
        if inst is None:
            raise WorkflowError(f"流程实例 {instance_id} 不存在或与您的机构无关", code="workflow.not_found", status=404)
    except WorkflowError as exc:
        return _error(exc)
    return 200, _instance(inst)


@router.post("/instances/{instance_id}/cancel", response={200: InstanceOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="撤销流程实例（含子流程）")
def cancel_instance(request: AuthedRequest, instance_id: int, payload: ReasonIn):
    try:
        _staff(request)
        if not has_role(request.user, "administrator"):
            raise WorkflowError("只有管理人员可以撤销流程", code="workflow.forbidden", status=403)
        inst = services.cancel_instance(instance_id, request.user, payload.reason)
    except WorkflowError as exc:
        return _error(exc)
    return 200, _instance(ProcessInstance.objects.select_related("definition").get(pk=inst.pk))


@router.get("/tasks", response={200: list[TaskOut], **dict.fromkeys(ERROR_CODES, ErrorOut)},
            summary="我的待办：本人可办理的任务（所在机构的候选角色）")
def my_tasks(request: AuthedRequest, state: str = "open", light: str = "", limit: int = 100):
    states = {"open": Task.OPEN_STATES, "all": tuple(Task.State.values)}.get(state, (state,))
    if any(s not in Task.State.values for s in states):
        return 400, {"code": "workflow.invalid_value", "message": f"未知的任务状态 {state}", "detail": None}
    qs = selectors.tasks_for_user(request.user, states)
    if light:
        qs = qs.filter(light=light)
    return 200, [_task(t) for t in qs[: max(1, min(limit, 500))]]


@router.get("/tasks/{task_id}", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)}, summary="一个任务")
def get_task(request: AuthedRequest, task_id: int):
    try:
        return 200, _task(_get_task(request, task_id))
    except WorkflowError as exc:
        return _error(exc)


def _act(request: AuthedRequest, task_id: int, action: Any) -> tuple[int, dict[str, Any]]:
    try:
        task = _get_task(request, task_id)
        action(task)
    except WorkflowError as exc:
        return _error(exc)
    return 200, _task(Task.objects.select_related("instance", "candidate_org", "assignee").get(pk=task_id))


@router.post("/tasks/{task_id}/claim", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="认领任务")
def claim(request: AuthedRequest, task_id: int):
    return _act(request, task_id, lambda t: services.claim(t, request.user))


@router.post("/tasks/{task_id}/unclaim", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="退回待认领")
def unclaim(request: AuthedRequest, task_id: int):
    return _act(request, task_id, lambda t: services.unclaim(t, request.user))


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="办结任务（结果 outcome 须为任务声明的可选结果之一）")
def complete(request: AuthedRequest, task_id: int, payload: CompleteIn):
    return _act(request, task_id, lambda t: services.complete(t, request.user, payload.outcome, payload.variables,
                                                              payload.opinion))


@router.post("/tasks/{task_id}/opinions", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="填写审批意见")
def add_opinion(request: AuthedRequest, task_id: int, payload: TextIn):
    return _act(request, task_id, lambda t: services.add_opinion(t, request.user, payload.text))


@router.post("/tasks/{task_id}/clock/suspend", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="暂停计时（补正材料、专家评审、听证、公示）")
def suspend(request: AuthedRequest, task_id: int, payload: ReasonIn):
    return _act(request, task_id, lambda t: services.suspend_clock(t, request.user, payload.reason))


@router.post("/tasks/{task_id}/clock/resume", response={200: TaskOut, **dict.fromkeys(ERROR_CODES, ErrorOut)},
             summary="恢复计时")
def resume(request: AuthedRequest, task_id: int):
    return _act(request, task_id, lambda t: services.resume_clock(t, request.user))


@router.get("/organisations/{code}/overdue", response={200: list[TaskOut], **dict.fromkeys(ERROR_CODES, ErrorOut)},
            summary="某机构全部超期未办结任务")
def overdue(request: AuthedRequest, code: str):
    try:
        _staff(request)
        org = Organisation.objects.filter(code=code).first()
        if org is None:
            raise WorkflowError(f"机构 {code} 不存在", code="workflow.not_found", status=404)
        if not selectors.may_see_overdue(request.user, org):
            raise WorkflowError("只能查看本机构的超期任务", code="workflow.forbidden", status=403)
    except WorkflowError as exc:
        return _error(exc)
    qs = selectors.overdue_tasks(org).select_related("instance", "candidate_org", "assignee").order_by("due_on")
    return 200, [_task(t) for t in qs[:500]]
