"""Workflow read functions: definitions, task lists, overdue tasks, instance positions, clocks."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from tongban.core.models import Organisation, Role, RoleAssignment, User
from tongban.core.selectors import has_role, organisation_descendant_ids, organisations_for_role

from .config import OPEN_TASK_STATES, yellow_share
from .lookups import calendar_for
from .models import DecisionDefinition, Event, Notification, ProcessDefinition, ProcessInstance, Task, Token
from .times import parse_suspensions


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


def is_admin(user: User) -> bool:
    """The platform's administrator (a superuser, or the administrator role anywhere): sees every instance."""
    return has_role(user, Role.ADMINISTRATOR)


def member_org_ids(user: User) -> set[int]:
    """The organisations a staff member belongs to: their own and every one where they hold a current role
    (with the sub-organisations where the role is granted so)."""
    if not user.is_authenticated:
        return set()
    ids = {user.organisation_id} if user.organisation_id else set()
    today = timezone.localdate()
    for a in RoleAssignment.objects.filter(user=user).select_related("organisation"):
        if (a.valid_from and a.valid_from > today) or (a.valid_until and a.valid_until < today):
            continue
        ids |= organisation_descendant_ids(a.organisation) if a.include_children else {a.organisation_id}
    return ids


def may_see_overdue(user: User, organisation: Organisation) -> bool:
    """An organisation's overdue list is for its own staff and the administrator."""
    return user.is_authenticated and user.is_staff and (
        is_admin(user) or organisation.pk in member_org_ids(user))


def instances_visible_to(user: User, qs: QuerySet[ProcessInstance] | None = None) -> QuerySet[ProcessInstance]:
    """Process instances ``user`` may read (of ``qs``, default all): those of an instance tree (a bundle with its
    item processes) in which a task is for them (a candidate role they hold in the task's organisation) or held
    by them or they were notified about (督办: an overdue task escalated to its organisation's supervisors), and
    those they started themselves; every instance for the administrator. The organisations not
    involved in a case do not see it, nor the applicant's data in its variables."""
    qs = ProcessInstance.objects.all() if qs is None else qs
    if not user.is_authenticated or not user.is_staff:
        return qs.none()
    if is_admin(user):
        return qs
    involved = (ProcessInstance.objects
                .filter(Q(pk__in=Task.objects.filter(candidate_filter(user)).values("instance_id"))
                        | Q(pk__in=Notification.objects.filter(recipient=user, task__isnull=False)
                            .values("task__instance_id"))
                        | Q(started_by=user))
                .annotate(tree=Coalesce(F("root_id"), F("id"))).values("tree"))
    return qs.filter(Q(pk__in=involved) | Q(root_id__in=involved))


def may_start(user: User, graph: dict[str, Any]) -> bool:
    """Whether ``user`` may start a process by hand (the API): the administrator, or a staff member the
    definition's starters name (``tongban:starterUsers``; ``tongban:starterRoles`` held in one of
    ``tongban:starterOrgs``, in any organisation when none is named; membership of ``tongban:starterOrgs`` when
    no role is named). A definition that names no starter is started by the platform only (and the admin)."""
    if not user.is_authenticated or not user.is_staff:
        return False
    if is_admin(user):
        return True
    starters = graph.get("starters") or {}
    roles, orgs, users = (list(starters.get(k) or []) for k in ("roles", "orgs", "users"))
    if user.get_username() in users:
        return True
    if roles:
        held = Organisation.objects.none()
        for role in roles:
            held = held | organisations_for_role(user, role)
        return held.filter(code__in=orgs).exists() if orgs else held.exists()
    if orgs:
        return Organisation.objects.filter(pk__in=member_org_ids(user), code__in=orgs).exists()
    return False


def starter_names(graph: dict[str, Any]) -> dict[str, list[str]]:
    """The definition's starters as the pages show them: role, organisation and account names (codes unknown
    here are shown as written)."""
    starters = graph.get("starters") or {}
    roles = dict(Role.objects.filter(code__in=starters.get("roles") or []).values_list("code", "name"))
    orgs = dict(Organisation.objects.filter(code__in=starters.get("orgs") or []).values_list("code", "name"))
    users = {u.username: str(u) for u in User.objects.filter(username__in=starters.get("users") or [])}
    return {"roles": [roles.get(c, c) for c in starters.get("roles") or []],
            "orgs": [orgs.get(c, c) for c in starters.get("orgs") or []],
            "users": [users.get(c, c) for c in starters.get("users") or []]}


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
    division = task.candidate_org.division_id if task.candidate_org is not None else None
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


def with_generated_diagram(xml: str, graph: dict[str, Any]) -> str:
    """BPMN XML with diagram information generated by the engine's layered layout, for a model made elsewhere (e.g.
    the process model that insight's process mining discovers). ``graph`` has the shape of a parsed process
    (``key``, ``elements`` with ``type``/``name``/``scope``/``in``/``out``, ``flows``, ``starts``,
    ``boundaries``)."""
    from lxml import etree

    from .layout import with_diagram

    return with_diagram(etree.fromstring(xml.encode("utf-8")), [graph])


def element_names(events: list[Event]) -> dict[tuple[int, str], str]:
    """(instance id, element id) → the element's name in its process definition, for the events given
    (one query): pages show 受理 or 审查, never the BPMN ids ``accepted`` or ``review``."""
    ids = {e.instance_id for e in events}
    names: dict[tuple[int, str], str] = {}
    for inst in ProcessInstance.objects.filter(pk__in=ids).select_related("definition"):
        for eid, node in (inst.definition.graph or {}).get("elements", {}).items():
            if node.get("name"):
                names[(inst.pk, eid)] = node["name"]
    return names
