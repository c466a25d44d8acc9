"""Workflow read functions: definitions, task lists, overdue tasks, instance positions, clocks."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from tongban.core.models import Organisation, RoleAssignment, User
from tongban.core.selectors import organisation_descendant_ids

from .engine import OPEN_TASK_STATES, calendar_for, parse_suspensions, yellow_share
from .models import DecisionDefinition, Event, Notification, ProcessDefinition, ProcessInstance, Task, Token


def latest_definitions() -> list[ProcessDefinition]:
    """The latest version of every process, with ``versions`` and ``running`` counts."""
    latest = ProcessDefinition.objects.values("key").annotate(v=Max("version"), n=Count("id"))
    wanted = Q()
    counts: dict[str, int] = {}
    for row in latest:
        wanted |= Q(key=row["key"], version=row["v"])
        counts[row["key"]] = row["n"]
    if not counts:
        return []
    running = dict(ProcessInstance.objects.filter(status=ProcessInstance.Status.RUNNING).values("process_key")
                   .annotate(n=Count("id")).values_list("process_key", "n"))
    defs = list(ProcessDefinition.objects.filter(wanted).defer("bpmn_xml", "display_xml").order_by("key"))
    for d in defs:
        d.versions = counts[d.key]
        d.running = running.get(d.key, 0)
    return defs


def definition(key: str, version: int | None = None) -> ProcessDefinition | None:
    qs = ProcessDefinition.objects.filter(key=key)
    if version is not None:
        return qs.filter(version=version).first()
    return qs.order_by("-version").first()


def decisions() -> QuerySet[DecisionDefinition]:
    return DecisionDefinition.objects.defer("dmn_xml").order_by("key", "-version")


def candidate_filter(user: User) -> Q:
    """Tasks ``user`` may work on: theirs, or open ones for a role they hold in the candidate organisation."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(assignee=user)
    if user.is_superuser:
        return Q()
    today = timezone.localdate()
    by_role: dict[str, set[int]] = {}
    for a in RoleAssignment.objects.filter(user=user).select_related("role", "organisation"):
        if (a.valid_from and a.valid_from > today) or (a.valid_until and a.valid_until < today):
            continue
        ids = organisation_descendant_ids(a.organisation) if a.include_children else {a.organisation_id}
        by_role.setdefault(a.role.code, set()).update(ids)
    for role, org_ids in by_role.items():
        q |= Q(candidate_role=role, candidate_org_id__in=sorted(org_ids)) | Q(candidate_role=role,
                                                                             candidate_org__isnull=True)
    return q


def tasks_for_user(user: User, states: tuple[str, ...] = OPEN_TASK_STATES) -> QuerySet[Task]:
    """"My tasks" (我的待办): tasks of the organisations where the user holds the candidate role, and their own."""
    return (Task.objects.filter(candidate_filter(user), state__in=states)
            .select_related("instance", "candidate_org", "assignee").order_by("due_on", "created_at", "pk"))


def can_work_on(user: User, task: Task) -> bool:
    return tasks_for_user(user, tuple(Task.State.values)).filter(pk=task.pk).exists()


def overdue_tasks(organisation: Organisation | int, today: date | None = None) -> QuerySet[Task]:
    """All overdue open tasks of an organisation: ONE query on the index (candidate_org, state, due_on)."""
    today = today or timezone.localdate()
    org_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return Task.objects.filter(candidate_org_id=org_id, state__in=OPEN_TASK_STATES, due_on__lt=today,
                               suspended_since__isnull=True)


def task_clock(task: Task, today: date | None = None) -> Any:
    """The live clock of a task (``ClockStatus``), or None when it has no time limit."""
    if task.limit_days is None or task.started_on is None:
        return None
    from .clock import clock_status

    today = today or timezone.localdate()
    if task.state not in OPEN_TASK_STATES and task.completed_at:
        today = timezone.localdate(task.completed_at)
    division = task.candidate_org.division_id if task.candidate_org_id else None
    return clock_status(calendar_for(division), task.started_on, task.limit_days, today,
                        parse_suspensions(task.suspensions), yellow_share())


def instance_clock(instance: ProcessInstance, today: date | None = None) -> Any:
    if instance.limit_days is None or instance.started_on is None:
        return None
    from .clock import clock_status

    today = today or timezone.localdate()
    if instance.ended_at:
        today = timezone.localdate(instance.ended_at)
    return clock_status(calendar_for(None), instance.started_on, instance.limit_days, today,
                        parse_suspensions(instance.suspensions), yellow_share())


def instance_position(instance: ProcessInstance) -> dict[str, list[str]]:
    """Where an instance is: ``active`` element ids (live tokens), ``completed`` element ids and ``flows`` taken."""
    active = sorted(set(Token.objects.filter(instance=instance).exclude(state=Token.State.DONE)
                        .values_list("element_id", flat=True)))
    completed: set[str] = set()
    flows: set[str] = set()
    for element_id, data in Event.objects.filter(instance=instance, type="element.completed").values_list(
            "element_id", "data"):
        completed.add(element_id)
        flows.update((data or {}).get("flows") or [])
    return {"active": active, "completed": sorted(completed - set(active)), "flows": sorted(flows)}


def instance_events(instance: ProcessInstance) -> QuerySet[Event]:
    return Event.objects.filter(instance=instance).select_related("task").order_by("at", "pk")


def instances(process_key: str | None = None, status: str | None = None) -> QuerySet[ProcessInstance]:
    qs = ProcessInstance.objects.select_related("definition").order_by("-started_at", "-pk")
    if process_key:
        qs = qs.filter(process_key=process_key)
    if status:
        qs = qs.filter(status=status)
    return qs


def instance_for_business_key(business_key: str, process_key: str | None = None) -> ProcessInstance | None:
    qs = ProcessInstance.objects.filter(business_key=business_key, parent__isnull=True)
    if process_key:
        qs = qs.filter(process_key=process_key)
    return qs.order_by("-started_at", "-pk").first()


def notifications_for(user: User, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("task")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def definition_versions(key: str) -> list[ProcessDefinition]:
    return list(ProcessDefinition.objects.filter(key=key).defer("bpmn_xml", "display_xml").order_by("-version"))


def working_day_due(start: date, limit_days: int) -> date:
    """The due date ``limit_days`` working days after ``start`` on the statutory calendar (other contexts' deadlines,
    e.g. supervision's receipt and post-check deadlines)."""
    from .clock import due_date

    return due_date(calendar_for(None), start, limit_days)


def working_day_light(start: date, due: date, today: date | None = None) -> str:
    """The clock light of a deadline ``due`` counted from ``start`` in working days: red after the due date, yellow
    from the workflow's yellow share of the working days, green before."""
    from .clock import elapsed_working_days, light_for

    cal = calendar_for(None)
    today = today or timezone.localdate()
    if today > due:
        return "red"  # past the due date (also on a weekend after it, when no working day has passed yet)
    limit = elapsed_working_days(cal, start, due)
    return light_for(elapsed_working_days(cal, start, today), limit, yellow_share())
