"""JSON API of security operations, mounted under ``/api/security/`` (信息安全管理人员 only).

Authentication: ``Authorization: Bearer <token>`` (``POST /api/auth/token``) or the browser session (with CSRF for
the POST). The incident operations need the role ``security_admin`` (superusers hold every role); ``GET my-notices`` answers
any signed-in user with their own notices.

Errors are ``{"code", "message", "detail"?}``: 401 ``auth.required`` (not signed in), 403 ``security.forbidden``
(not the security team), 404 ``security.not_found``, 400 ``security.invalid`` (unknown action, missing note or
report), 409 ``security.bad_transition`` (the incident's status does not allow the action) or a workflow error of
the step's task (e.g. ``workflow.task_not_held``, 403), 422 ``request.invalid`` (malformed body or parameters).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from tongban.core.auth import API_AUTH, AuthedRequest

from . import selectors, services
from .errors import NotFound
from .models import SecurityIncident

router = Router(tags=["security 信息安全运营"], auth=API_AUTH)
ROUTERS = [("security/", router)]


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] | None = None


class IncidentOut(Schema):
    id: int
    rule: str
    title: str
    severity: str
    severity_label: str
    status: str
    status_label: str
    dismissed: bool
    opened_at: datetime
    closed_at: datetime | None
    subject: str
    subject_user: str | None
    subject_org: str
    affected_count: int
    notices: int
    process_instance_id: int | None
    actions: list[str]


class AffectedOut(Schema):
    subject_id: str
    username: str | None
    detail: dict[str, Any]
    notified: bool


class IncidentDetailOut(IncidentOut):
    window_start: datetime | None
    window_end: datetime | None
    evidence: dict[str, Any]
    triage_note: str
    containment_note: str
    notified_at: datetime | None
    report: str
    closed_by: str | None
    affected: list[AffectedOut]


class NoticeOut(Schema):
    id: int
    incident_id: int
    incident_status: str
    incident_status_label: str
    text: str
    created_at: datetime
    read_at: datetime | None


class TransitionIn(Schema):
    action: str  # confirm | dismiss (at triage), contain, close
    note: str = ""  # the triage opinion, the containment measures, or the closing report


READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def _summary(i: SecurityIncident) -> dict[str, Any]:
    return {"id": i.pk, "rule": i.rule, "title": i.title, "severity": i.severity,
            "severity_label": i.get_severity_display(), "status": i.status, "status_label": i.get_status_display(),
            "dismissed": i.dismissed, "opened_at": i.opened_at, "closed_at": i.closed_at, "subject": i.subject_label,
            "subject_user": i.subject_user.username if i.subject_user else None, "subject_org": i.subject_org,
            "affected_count": getattr(i, "affected_count", 0), "notices": getattr(i, "notice_count", 0),
            "process_instance_id": i.process_instance_id, "actions": list(selectors.actions(i))}


def _detail(i: SecurityIncident) -> dict[str, Any]:
    notified = set(i.notices.values_list("person_id", flat=True))
    affected = [{"subject_id": p.subject_id, "username": p.user.username if p.user else None, "detail": p.detail,
                 "notified": p.user_id in notified} for p in selectors.affected_persons(i)]
    return {**_summary(i), "window_start": i.window_start, "window_end": i.window_end, "evidence": i.evidence,
            "triage_note": i.triage_note, "containment_note": i.containment_note, "notified_at": i.notified_at,
            "report": i.report, "closed_by": i.closed_by.username if i.closed_by else None, "affected": affected}


def _incident(incident_id: int) -> SecurityIncident:
    incident = selectors.incident(incident_id)
    if incident is None:
        raise NotFound(f"安全事件 {incident_id} 不存在")
    return incident


@router.get("incidents", response={200: list[IncidentOut], **READ_ERRORS},
            summary="安全事件列表（信息安全管理人员）")
def list_incidents(request: AuthedRequest, status: str = "", severity: str = "", rule: str = ""):
    services.require_security_admin(request.user)
    rows = selectors.incidents(status=status, severity=severity, rule=rule)[:500]
    return 200, [_summary(i) for i in rows]


@router.get("incidents/{incident_id}", response={200: IncidentDetailOut, 404: ErrorOut, **READ_ERRORS},
            summary="一个安全事件：证据、涉及人员、处置记录")
def get_incident(request: AuthedRequest, incident_id: int):
    services.require_security_admin(request.user)
    return 200, _detail(_incident(incident_id))


@router.post("incidents/{incident_id}/transitions",
             response={200: IncidentDetailOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, **READ_ERRORS},
             summary="处置一步：研判（confirm/dismiss）、控制与处置（contain）、结案报告（close）")
def transition(request: AuthedRequest, incident_id: int, payload: TransitionIn):
    services.require_security_admin(request.user)
    incident = services.transition(_incident(incident_id), payload.action, request.user, payload.note)
    return 200, _detail(_incident(incident.pk))


@router.get("my-notices", response={200: list[NoticeOut], 401: ErrorOut},
            summary="我的安全事件告知（仅本人）")
def my_notices(request: AuthedRequest):
    """The notices about security incidents that involved the caller's data (never anyone else's)."""
    return 200, [{"id": n.pk, "incident_id": n.incident_id, "incident_status": n.incident.status,
                  "incident_status_label": n.incident.get_status_display(), "text": n.text,
                  "created_at": n.created_at, "read_at": n.read_at}
                 for n in selectors.notices_for(request.user)[:200]]
