"""User tasks and the case clock of an engine step: the part of ``engine.Run`` that opens user tasks (candidate
role and organisation, assignee, time limit), completes them, and stops and restarts the instance's case clock
for a task that is an excluded step (特殊环节). A mixin of ``Run``; it uses the run's state and helpers, declared
below for the type checker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from tongban.core import store

from .config import yellow_share
from .errors import WorkflowError
from .lookups import calendar_for, organisation_ref
from .models import ProcessInstance, Task, Token
from .times import as_int, fresh_clock, parse_suspensions


class UserTaskSteps:
    """User tasks and the case clock (see the module docstring); mixed into ``engine.Run``."""

    instance: ProcessInstance
    tokens: dict[int, Token]
    new_tasks: list[Task]
    created_tasks: list[Task]
    instance_dirty: set[str]
    now: datetime
    today: date
    # helpers of ``Run`` (annotations only: the run's own methods are found at run time)
    event: Callable[..., None]
    execute: Callable[[], None]
    _leave: Callable[..., None]
    _value: Callable[..., Any]

    def _create_task(self, token: Token, node: dict[str, Any]) -> Task:
        eid = token.element_id
        role = str(self._value(node["candidate_role"], "candidateRole", eid) or "")
        org_code = node.get("candidate_org") or ""
        org_id = division_id = None
        resolved_org = ""
        if org_code:
            code = self._value(org_code, "candidateOrg", eid)
            if code:
                resolved_org = str(code)
                org_id, division_id = organisation_ref(resolved_org)
        limit = None
        if node.get("limit_days"):
            raw = self._value(node["limit_days"], "limitDays", eid)
            if raw not in (None, ""):
                limit = as_int(raw, f"{eid} limitDays")
        task = store.new(
            Task, instance_id=self.instance.id, token=token, element_id=eid, name=node["name"] or eid,
            candidate_role=role, candidate_org_id=org_id, outcomes=node.get("outcomes") or [],
            created_at=self.now, escalate_role=node.get("escalate_role") or "",
            excluded_step=node.get("excluded_step") or "",
            form={"form_key": node["form"]} if node.get("form") else {},
        )
        if node.get("assignee"):
            username = self._value(node["assignee"], "assignee", eid)
            if username:
                from tongban.core.models import User

                user_id = User.objects.filter(username=str(username)).values_list("pk", flat=True).first()
                if user_id is None:
                    raise WorkflowError(f"{eid}: 用户 {username} 不存在", code="workflow.unknown_user", status=400)
                task.assignee_id = user_id
                task.state = Task.State.CLAIMED
                task.claimed_at = self.now
        if limit is not None:
            task.limit_days = limit
            task.started_on = self.today
            task.due_on, task.light = fresh_clock(calendar_for(division_id), self.today, limit, yellow_share())
        self.new_tasks.append(task)
        self.created_tasks.append(task)
        self.event("element.started", eid, task=task, type="userTask", candidate_role=role,
                   candidate_org=resolved_org, limit_days=limit)
        if task.excluded_step:
            self._suspend_instance_clock(task.excluded_step, task=task)
        return task

    def _suspend_instance_clock(self, reason: str, task: Task | None = None) -> None:
        inst = self.instance
        if inst.suspended_since is not None or inst.limit_days is None or inst.status != "running":
            return
        inst.suspended_since = self.today
        inst.suspensions = [*inst.suspensions, {"start": self.today.isoformat(), "end": None, "reason": reason,
                                                "auto": True}]
        self.instance_dirty |= {"suspended_since", "suspensions"}
        self.event("clock.suspended", task.element_id if task else "", task=task, reason=reason, scope="instance")

    def _resume_instance_clock(self, reason: str, task_id: int | None = None) -> None:
        inst = self.instance
        if inst.suspended_since is None:
            return
        last = inst.suspensions[-1] if inst.suspensions else {}
        if not last.get("auto") or last.get("reason") != reason:
            return
        self._close_instance_suspension()
        self.event("clock.resumed", reason=reason, scope="instance")

    def _close_instance_suspension(self) -> None:
        from .clock import due_date

        inst = self.instance
        sus = [dict(s) for s in inst.suspensions]
        if sus and sus[-1].get("end") is None:
            sus[-1]["end"] = self.today.isoformat()
        inst.suspensions = sus
        inst.suspended_since = None
        if inst.limit_days is not None and inst.started_on:
            cal = calendar_for(None)
            parsed = parse_suspensions(sus)
            inst.due_on = due_date(cal, inst.started_on, inst.limit_days, parsed, on=self.today)
            if inst.statutory_limit_days is not None:
                inst.statutory_due_on = due_date(cal, inst.started_on, inst.statutory_limit_days, parsed,
                                                 on=self.today)
        self.instance_dirty |= {"suspended_since", "suspensions", "due_on", "statutory_due_on"}

    def complete_task(self, task: Task, outcome: str, opinion: str) -> None:
        token = self.tokens.get(task.token_id) if task.token_id is not None else None
        if token is None or token.element_id != task.element_id:
            raise WorkflowError("任务对应的流程位置已不存在（task token gone）", code="workflow.task_not_open", status=409)
        if task.excluded_step:
            self._resume_instance_clock(task.excluded_step, task_id=task.id)
        self._leave(token, task=task, outcome=outcome)
        self.execute()
