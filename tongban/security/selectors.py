"""Reads of the security operations context: incidents, the persons involved, notices, scans."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tongban.core.models import Role, User
from tongban.core.selectors import has_role
from tongban.workflow.models import Task

from .models import AffectedPerson, IncidentNotice, ScanRun, SecurityIncident

#: The response step (user task of the process) each status waits for, and the actions that complete it.
STEP_OF_STATUS: dict[str, str] = {
    SecurityIncident.Status.TRIAGE: "triage",
    SecurityIncident.Status.CONTAINMENT: "contain",
    SecurityIncident.Status.REPORT: "close",
}
ACTIONS_OF_STATUS: dict[str, tuple[str, ...]] = {
    SecurityIncident.Status.TRIAGE: ("confirm", "dismiss"),
    SecurityIncident.Status.CONTAINMENT: ("contain",),
    SecurityIncident.Status.REPORT: ("close",),
}
ACTION_LABELS: dict[str, str] = {"confirm": "确认为安全事件", "dismiss": "研判为误报", "contain": "完成控制与处置",
                                 "close": "提交结案报告并结案"}


def is_security_admin(user: User) -> bool:
    """Holds the security team's role (信息安全管理人员) in any organisation; superusers hold every role."""
    return bool(getattr(user, "is_authenticated", False)) and has_role(user, Role.SECURITY_ADMIN)


def _with_counts(qs: QuerySet[SecurityIncident]) -> QuerySet[SecurityIncident]:
    """Each incident with ``affected_count`` and ``notice_count`` (one query for a whole list)."""
    return qs.select_related("subject_user", "closed_by").annotate(
        affected_count=Count("affected", distinct=True), notice_count=Count("notices", distinct=True))


def incidents(*, status: str = "", severity: str = "", rule: str = "") -> QuerySet[SecurityIncident]:
    qs = _with_counts(SecurityIncident.objects.order_by("-opened_at", "-id"))
    if status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if rule:
        qs = qs.filter(rule=rule)
    return qs


def incident(pk: int) -> SecurityIncident | None:
    return _with_counts(SecurityIncident.objects.filter(pk=pk)).first()


def affected_persons(incident: SecurityIncident) -> QuerySet[AffectedPerson]:
    return incident.affected.select_related("user").order_by("id")


def actions(incident: SecurityIncident) -> tuple[str, ...]:
    """The transitions the incident's status allows now."""
    return ACTIONS_OF_STATUS.get(incident.status, ())


def open_step(incident: SecurityIncident) -> Task | None:
    """The open user task of the incident's response process (None when the process is between steps)."""
    if not incident.process_instance_id:
        return None
    return (Task.objects.filter(instance_id=incident.process_instance_id, state__in=Task.OPEN_STATES)
            .select_related("assignee").order_by("-pk").first())


def notices_for(user: User) -> QuerySet[IncidentNotice]:
    """The notices of one person (never anyone else's)."""
    return IncidentNotice.objects.filter(person=user).select_related("incident").order_by("-created_at", "-id")


def notice_for(user: User, pk: int) -> IncidentNotice | None:
    return notices_for(user).filter(pk=pk).first()


def unread_notice_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return IncidentNotice.objects.filter(person=user, read_at__isnull=True).count()


def last_scan() -> ScanRun | None:
    return ScanRun.objects.order_by("-at", "-id").first()
