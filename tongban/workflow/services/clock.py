"""The statutory clock (法定时限): suspending and resuming a task's or an instance's clock (中止 / 特殊环节), the
periodic check that refreshes lights and due dates and escalates overdue tasks (督办), and notifications."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tongban.core.models import Organisation, Role, RoleAssignment, User
from tongban.core.services import audit

from ..config import OPEN_TASK_STATES, yellow_share
from ..errors import WorkflowError
from ..lookups import actor_id, actor_label, calendar_for, division_of
from ..models import Event, Notification, ProcessInstance, Task
from ..times import parse_suspensions
from .locks import RUNNING, _lock_instance, _lock_task, _require_holder, _require_open


def _suspend(obj: Task | ProcessInstance, on: date, reason: str) -> bool:
    if obj.limit_days is None or obj.suspended_since is not None:
        return False
    obj.suspended_since = on
    obj.suspensions = [*obj.suspensions, {"start": on.isoformat(), "end": None, "reason": reason}]
    return True


def _resume(obj: Task | ProcessInstance, on: date, cal: Any) -> bool:
    from ..clock import due_date

    if obj.suspended_since is None:
        return False
    sus = [dict(s) for s in obj.suspensions]
    if sus and sus[-1].get("end") is None:
        sus[-1]["end"] = max(on, date.fromisoformat(sus[-1]["start"])).isoformat()
        start = date.fromisoformat(sus[-1]["start"])
        if isinstance(obj, Task):
            obj.suspended_days += cal.working_days_between(start - timedelta(days=1),
                                                           date.fromisoformat(sus[-1]["end"]))
    obj.suspensions = sus
    obj.suspended_since = None
    if obj.limit_days is not None and obj.started_on:
        obj.due_on = due_date(cal, obj.started_on, obj.limit_days, parse_suspensions(sus), on=on)
        if isinstance(obj, ProcessInstance) and obj.statutory_limit_days is not None:
            obj.statutory_due_on = due_date(cal, obj.started_on, obj.statutory_limit_days, parse_suspensions(sus),
                                            on=on)
    return True


_CLOCK_FIELDS_TASK = ["suspended_since", "suspensions", "suspended_days", "due_on"]
_CLOCK_FIELDS_INSTANCE = ["suspended_since", "suspensions", "due_on", "statutory_due_on"]


def suspend_clock(target: Task | ProcessInstance, actor: User | None, reason: str, on: date | None = None, *,
                  check_permissions: bool = True) -> None:
    """Stop the clock (中止计时) for 补正材料/专家评审/听证/公示...: the working days of the suspension (from ``on``,
    default today, to the day it is resumed, both included) do not count. On a task, its case clock stops
    too; on an instance, every open task with a clock stops as well."""
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("请填写中止原因（如 补正材料、专家评审、听证、公示）", code="workflow.reason_required")
    on = on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if isinstance(target, Task):
            t = _lock_task(target)
            _require_open(t)
            if check_permissions:
                _require_holder(t, actor)
            if t.limit_days is None:
                raise WorkflowError(f"任务「{t.name}」没有时限", code="workflow.no_clock", status=409)
            if not _suspend(t, on, reason):
                raise WorkflowError("计时已中止", code="workflow.clock_already_suspended", status=409)
            t.save(update_fields=_CLOCK_FIELDS_TASK)
            inst = t.instance
            tasks = [t]
        else:
            inst = _lock_instance(target.pk)
            if inst.status != RUNNING:
                raise WorkflowError("流程实例已结束", code="workflow.instance_not_running", status=409)
            if inst.limit_days is None and not Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES,
                                                                   limit_days__isnull=False).exists():
                raise WorkflowError("该流程实例没有时限", code="workflow.no_clock", status=409)
            if inst.suspended_since is not None:
                raise WorkflowError("计时已中止", code="workflow.clock_already_suspended", status=409)
            tasks = list(Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES, limit_days__isnull=False,
                                             suspended_since__isnull=True))
            for t in tasks:
                _suspend(t, on, reason)
            if tasks:
                Task.objects.bulk_update(tasks, _CLOCK_FIELDS_TASK)
        if _suspend(inst, on, reason):
            inst.save(update_fields=_CLOCK_FIELDS_INSTANCE)
        for t in tasks:
            Event.objects.create(instance=inst, element_id=t.element_id, type="clock.suspended", task=t,
                                 actor_id=actor_id(actor), actor_label=actor_label(actor), at=now,
                                 data={"reason": reason, "on": on.isoformat()})
        if not tasks:
            Event.objects.create(instance=inst, type="clock.suspended", actor_id=actor_id(actor),
                                 actor_label=actor_label(actor), at=now, data={"reason": reason, "on": on.isoformat()})
        if actor_id(actor):
            audit("workflow.clock.suspend", actor=actor, obj=target, reason=reason, detail={"on": on.isoformat()})


def resume_clock(target: Task | ProcessInstance, actor: User | None, on: date | None = None, *,
                 check_permissions: bool = True) -> None:
    """Restart a suspended clock (恢复计时); the due date moves out by the suspended working days."""
    on = on or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if isinstance(target, Task):
            t = _lock_task(target)
            _require_open(t)
            if check_permissions:
                _require_holder(t, actor)
            if t.suspended_since is None:
                raise WorkflowError("计时未中止", code="workflow.clock_not_suspended", status=409)
            _resume(t, on, calendar_for(division_of(t.candidate_org_id)))
            t.save(update_fields=_CLOCK_FIELDS_TASK)
            inst = t.instance
            tasks = [t]
        else:
            inst = _lock_instance(target.pk)
            if inst.suspended_since is None:
                raise WorkflowError("计时未中止", code="workflow.clock_not_suspended", status=409)
            tasks = list(Task.objects.filter(instance=inst, state__in=OPEN_TASK_STATES,
                                             suspended_since__isnull=False))
            for t in tasks:
                _resume(t, on, calendar_for(division_of(t.candidate_org_id)))
            if tasks:
                Task.objects.bulk_update(tasks, _CLOCK_FIELDS_TASK)
        if _resume(inst, on, calendar_for(None)):
            inst.save(update_fields=_CLOCK_FIELDS_INSTANCE)
        resumed: list[Task | None] = [*tasks] or [None]  # one event per resumed task, or one for the instance
        for task in resumed:
            Event.objects.create(instance=inst, element_id=task.element_id if task else "", type="clock.resumed",
                                 task=task, actor_id=actor_id(actor), actor_label=actor_label(actor), at=now,
                                 data={"on": on.isoformat()})
        if actor_id(actor):
            audit("workflow.clock.resume", actor=actor, obj=target, detail={"on": on.isoformat()})


def escalation_recipients(org_id: int | None, role_code: str) -> list[User]:
    """Users holding ``role_code`` in the organisation or any organisation above it; if nobody does, the
    administrators along the same chain."""
    chain: list[int] = []
    current = org_id
    while current is not None and current not in chain:
        chain.append(current)
        current = Organisation.objects.filter(pk=current).values_list("parent_id", flat=True).first()
    for code in (role_code, Role.ADMINISTRATOR):
        user_ids = set(RoleAssignment.objects.filter(role__code=code, organisation_id__in=chain)
                       .values_list("user_id", flat=True))
        if user_ids:
            return list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))
    return []


def _escalate(task: Task, now: datetime, status: Any) -> int:
    from django.conf import settings

    role = task.escalate_role or getattr(settings, "TONGBAN_CLOCK_ESCALATION_ROLE", Role.SUPERVISOR)
    # exactly once, even with two checkers running: only the one whose UPDATE matches escalates
    if not Task.objects.filter(pk=task.pk, escalated_at__isnull=True).update(escalated_at=now):
        return 0
    recipients = escalation_recipients(task.candidate_org_id, role)
    org_name = task.candidate_org.name if task.candidate_org is not None else ""
    subject = f"督办：{org_name}「{task.name}」已超期 {-status.remaining} 个工作日"[:200]
    Notification.objects.bulk_create([
        Notification(recipient=u, kind="escalation", task=task, created_at=now, subject=subject,
                     body=f"流程 {task.instance.process_key} · {task.instance.business_key} · 到期日 {status.due}")
        for u in recipients
    ])
    Event.objects.create(instance_id=task.instance_id, element_id=task.element_id, type="task.escalated", task=task,
                         at=now, actor_label="system",
                         data={"role": role, "recipients": [u.username for u in recipients],
                               "due": status.due.isoformat(), "overdue_days": -status.remaining})
    return 1


def check_clocks(today: date | None = None) -> dict[str, int]:
    """The periodic clock check (时限监控): refresh lights and due dates of open tasks and running instances;
    escalate newly overdue tasks to the supervising role (``tongban:escalateRole`` or the setting
    ``TONGBAN_CLOCK_ESCALATION_ROLE``, default supervisor) once, with an event and notifications."""
    from ..clock import clock_status

    today = today or timezone.localdate()
    now = timezone.now()
    share = yellow_share()
    counts = {"tasks": 0, "changed": 0, "escalated": 0, "instances": 0}
    tasks = (Task.objects.filter(state__in=OPEN_TASK_STATES, limit_days__isnull=False, started_on__isnull=False)
             .select_related("candidate_org", "instance").order_by("pk"))
    changed: list[Task] = []
    for task in tasks.iterator(chunk_size=500):
        counts["tasks"] += 1
        if task.started_on is None or task.limit_days is None:  # excluded by the query; narrows the types
            continue
        cal = calendar_for(task.candidate_org.division_id if task.candidate_org is not None else None)
        status = clock_status(cal, task.started_on, task.limit_days, today, parse_suspensions(task.suspensions),
                              share)
        if status.light != task.light or status.due != task.due_on:
            if status.light != task.light and status.light in ("yellow", "red"):
                Event.objects.create(instance_id=task.instance_id, element_id=task.element_id, type="clock.light",
                                     task=task, at=now, actor_label="system",
                                     data={"light": status.light, "was": task.light, "remaining": status.remaining})
            task.light = status.light
            task.due_on = status.due
            changed.append(task)
        if status.light == "red" and task.escalated_at is None and not status.suspended:
            counts["escalated"] += _escalate(task, now, status)
    if changed:
        Task.objects.bulk_update(changed, ["light", "due_on"], batch_size=500)
    counts["changed"] = len(changed)
    cal = calendar_for(None)
    instances = ProcessInstance.objects.filter(status=RUNNING, limit_days__isnull=False, started_on__isnull=False)
    inst_changed = []
    for inst in instances.iterator(chunk_size=500):
        counts["instances"] += 1
        if inst.started_on is None or inst.limit_days is None:  # excluded by the query; narrows the types
            continue
        status = clock_status(cal, inst.started_on, inst.limit_days, today, parse_suspensions(inst.suspensions),
                              share)
        if status.light != inst.light or status.due != inst.due_on:
            inst.light = status.light
            inst.due_on = status.due
            inst_changed.append(inst)
    if inst_changed:
        ProcessInstance.objects.bulk_update(inst_changed, ["light", "due_on"], batch_size=500)
    return counts


def mark_notification_read(notification: Notification, user: User) -> None:
    if notification.recipient_id != user.pk:
        raise WorkflowError("通知不存在", code="workflow.not_found", status=404)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def overdue_filter(today: date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(state__in=OPEN_TASK_STATES, due_on__lt=today, suspended_since__isnull=True)
