"""Locks and guards of every service call: lock the instance tree's root and read the instance or the task fresh
(``statements``), check variables, and check that a task is open and the user may act on it."""

from __future__ import annotations

import json
from typing import Any

from tongban.core.models import Organisation, User
from tongban.core.selectors import has_role

from .. import statements
from ..config import OPEN_TASK_STATES
from ..errors import WorkflowError
from ..lookups import ROLE_GENERATION
from ..models import ProcessInstance, Task

RUNNING = ProcessInstance.Status.RUNNING


def _check_variables(variables: Any) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, dict) or any(not isinstance(k, str) or not k for k in variables):
        raise WorkflowError("流程变量必须是以非空字符串为键的对象（variables must be an "
                                                          "object with string keys）", code="workflow.invalid_variables")
    try:
        json.dumps(variables)
    except (TypeError, ValueError) as exc:
        raise WorkflowError(f"流程变量无法保存为 JSON: {exc}", code="workflow.invalid_variables") from exc
    return variables


def _lock_instance(instance_id: int, root_id: int | None = -1) -> ProcessInstance:
    """Lock the root of the instance tree, then return the (locked) instance. Call inside a transaction."""
    if root_id == -1:
        row = ProcessInstance.objects.filter(pk=instance_id).values_list("root_id", flat=True)
        if not row:
            raise WorkflowError(f"流程实例 {instance_id} 不存在", code="workflow.not_found", status=404)
        root_id = row[0]
    found = statements.lock_instances(instance_id, root_id)
    if not found:
        raise WorkflowError(f"流程实例 {instance_id} 不存在", code="workflow.not_found", status=404)
    return found[0]


def _task_id(task: Task | int) -> int:
    return task.pk if isinstance(task, Task) else int(task)


def _lock_task(task: Task | int, with_tokens: bool = False) -> Task:
    """Lock the instance tree of a task and read the task with its instance fresh — and, with ``with_tokens``,
    the instance's live tokens as ``task.live_tokens`` — in one round trip (``statements.read_task``)."""
    task_id = _task_id(task)
    found = statements.read_task(task_id, with_tokens=with_tokens)
    if found is None:
        raise WorkflowError(f"任务 {task_id} 不存在", code="workflow.not_found", status=404)
    fresh, instance, tokens = found
    fresh.instance = instance  # the row's instance_id is this instance: Django caches it, no query later
    fresh.live_tokens = tokens
    return fresh


def is_candidate(task: Task, user: User) -> bool:
    """Whether ``user`` holds the task's candidate role in its candidate organisation. The answer is kept on the
    user object for its lifetime (one request), like Django's own permission cache."""
    if not task.candidate_role:
        return bool(user.is_superuser)
    cache = user.__dict__.get("_tongban_role_cache")
    if cache is None or cache.get("generation") != ROLE_GENERATION[0]:
        cache = user.__dict__["_tongban_role_cache"] = {"generation": ROLE_GENERATION[0]}
    key = (task.candidate_role, task.candidate_org_id)
    if key not in cache:
        org = Organisation(pk=task.candidate_org_id) if task.candidate_org_id else None
        cache[key] = has_role(user, task.candidate_role, org)
    return cache[key]


def _require_open(task: Task) -> None:
    if task.state not in OPEN_TASK_STATES:
        raise WorkflowError(f"任务「{task.name}」已{task.get_state_display()}，不能再办理", code="workflow.task_not_open", status=409, detail={"state": task.state})
    if task.instance.status != RUNNING:
        raise WorkflowError("流程实例已结束", code="workflow.instance_not_running", status=409)


def _require_candidate(task: Task, user: User | None) -> User:
    """``user``, when signed in and a candidate of the task; raises otherwise."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise WorkflowError("请先登录", code="workflow.not_authenticated", status=401)
    if not is_candidate(task, user):
        org_name = (Organisation.objects.filter(pk=task.candidate_org_id).values_list("name", flat=True).first()
                    if task.candidate_org_id is not None else None)
        org = org_name or "-"
        raise WorkflowError(f"您不是「{org}」的{task.candidate_role}，不能办理任务「{task.name}」"
                            f"（user lacks role {task.candidate_role} in the candidate organisation）", code="workflow.not_candidate", status=403)
    return user


def _require_holder(task: Task, user: User | None) -> None:
    """The user may act on the task: it is theirs, or it is unclaimed and they are a candidate."""
    user = _require_candidate(task, user)
    if task.assignee_id and task.assignee_id != user.pk:
        raise WorkflowError(f"任务「{task.name}」由他人办理中，您未认领此任务（task is claimed by another user）", code="workflow.task_not_held", status=403, detail={"assignee": task.assignee_id})
