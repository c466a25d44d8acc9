"""Writes of the security operations context: the scan, opening incidents, the response steps, notices.

- :func:`scan` runs every detection rule (``rules.RULES``) and opens one incident per new finding; a finding whose
  incident is still being handled (or was opened within the same window) opens nothing;
- :func:`open_incident` records the incident and the persons involved and starts the response process;
- :func:`transition` applies a response step (``confirm``/``dismiss`` at triage, ``contain``, ``close`` with the
  report) and completes its task in the process, in one transaction;
- :func:`notify_affected` (the process's notify step) writes one notice per person involved who has an account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import crypto
from tongban.core.models import User
from tongban.core.services import audit
from tongban.notifications import services as notifications
from tongban.notifications.messages import SECURITY_NOTICE
from tongban.workflow import services as wf
from tongban.workflow.models import Task

from . import process, selectors
from .errors import BadTransition, Forbidden, SecurityError
from .models import AffectedPerson, IncidentNotice, ScanRun, SecurityIncident
from .rules import RULES, Finding

logger = logging.getLogger(__name__)

Status = SecurityIncident.Status
STATUS_ORDER = [Status.TRIAGE, Status.CONTAINMENT, Status.NOTIFICATION, Status.REPORT, Status.CLOSED]

# action → (the status it acts on, the process step it completes, the step's outcome, the note's field)
ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "confirm": (Status.TRIAGE, "triage", "confirm", "triage_note"),
    "dismiss": (Status.TRIAGE, "triage", "dismiss", "triage_note"),
    "contain": (Status.CONTAINMENT, "contain", "contained", "containment_note"),
    "close": (Status.REPORT, "close", "close", "report"),
}
NOTE_REQUIRED = {"dismiss": "请写明研判为误报的理由", "contain": "请写明已采取的控制与处置措施",
                 "close": "请填写结案报告"}

LAW = "《中华人民共和国个人信息保护法》第五十七条"


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    opened: list[SecurityIncident] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)  # already being handled
    errors: list[str] = field(default_factory=list)
    run: ScanRun | None = None


# --- detection --------------------------------------------------------------------------------------------


def scan(now: datetime | None = None, *, trigger: str = "manual", rules: list[str] | None = None) -> ScanResult:
    """Run the detection rules (all, or the named ones) and open an incident for each new finding. A failing rule
    is recorded and does not stop the others."""
    now = now or timezone.now()
    result = ScanResult()
    for key in rules if rules is not None else RULES.keys():
        rule = RULES.get(key)
        try:
            found = rule.detect(now)
        except Exception as exc:  # noqa: BLE001 - one broken rule must not hide what the others find
            logger.exception("security rule %s failed", key)
            result.errors.append(f"{key}: {type(exc).__name__}: {exc}")
            continue
        for finding in found:
            result.findings.append(finding)
            if is_duplicate(finding):
                result.skipped.append(finding)
                continue
            try:
                result.opened.append(open_incident(finding))
            except Exception as exc:  # noqa: BLE001 - recorded; the next scan tries again (nothing was kept)
                logger.exception("could not open the incident of %s (%s)", key, finding.dedup_key)
                result.errors.append(f"{key}: {finding.dedup_key}: {type(exc).__name__}: {exc}")
    result.run = ScanRun.objects.create(at=now, trigger=trigger, findings=len(result.findings),
                                        opened=len(result.opened), errors=result.errors)
    return result


def is_duplicate(finding: Finding) -> bool:
    """An incident with the same key is still being handled, or was opened within the finding's window (or, for a
    finding without a window, exists at all)."""
    same = SecurityIncident.objects.filter(dedup_key=finding.dedup_key)
    if same.exclude(status=Status.CLOSED).exists():
        return True
    if finding.window_start is None:
        return same.exists()
    return same.filter(opened_at__gte=finding.window_start).exists()


def users_for_subjects(subject_ids: list[str]) -> dict[str, int]:
    """Accounts of the persons with these ID numbers (or unified social credit codes)."""
    wanted = [s for s in subject_ids if s and not s.startswith("user:")]
    if not wanted:
        return {}
    by_hash = {crypto.lookup_hash(s): s for s in wanted}  # ID numbers are encrypted: found by their keyed hash
    return {by_hash[digest]: pk for digest, pk in
            User.objects.filter(id_number_hash__in=by_hash).values_list("id_number_hash", "pk")}


@transaction.atomic
def open_incident(finding: Finding) -> SecurityIncident:
    """Record the incident and the persons involved, audit it and start its response process."""
    incident = SecurityIncident.objects.create(
        rule=finding.rule, title=finding.title[:300], severity=finding.severity, subject_label=finding.subject_label,
        subject_user_id=finding.subject_user_id, subject_org=finding.subject_org, dedup_key=finding.dedup_key,
        window_start=finding.window_start, window_end=finding.window_end, evidence=finding.evidence,
        notice_text=finding.notice)
    users = {**users_for_subjects(list(finding.affected)), **finding.affected_users}
    AffectedPerson.objects.bulk_create([
        AffectedPerson(incident=incident, subject_id=subject[:64], user_id=users.get(subject), detail=detail)
        for subject, detail in finding.affected.items()])
    audit("security.incident.open", obj=incident, reason=incident.title,
          detail={"rule": incident.rule, "severity": incident.severity, "affected": len(finding.affected)})
    process.deploy()
    instance = wf.start(process.PROCESS_KEY, business_key=f"security:{incident.pk}",
                        variables={"incident_id": incident.pk, "rule": incident.rule, "severity": incident.severity})
    incident.process_instance_id = instance.pk
    incident.save(update_fields=["process_instance_id"])
    return incident


# --- the response steps -----------------------------------------------------------------------------------


def require_security_admin(user: User | None) -> User:
    if user is None or not getattr(user, "is_authenticated", False):
        raise SecurityError("请先登录", code="security.unauthenticated", status=401)
    if not selectors.is_security_admin(user):
        raise Forbidden("安全事件仅限信息安全管理人员处置")
    return user


def _later(current: str, target: str) -> bool:
    return STATUS_ORDER.index(Status(target)) > STATUS_ORDER.index(Status(current))


@transaction.atomic
def transition(incident: SecurityIncident | int, action: str, user: User | None, note: str = "") -> SecurityIncident:
    """Apply one response step and complete its task in the response process (one transaction)."""
    require_security_admin(user)
    if action not in ACTIONS:
        raise SecurityError(f"未知的处置动作“{action}”（可选：{'、'.join(ACTIONS)}）", status=400,
                            detail={"allowed": list(ACTIONS)})
    pk = incident.pk if isinstance(incident, SecurityIncident) else int(incident)
    locked = SecurityIncident.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise SecurityError(f"安全事件 {pk} 不存在", code="security.not_found", status=404)
    status, step, outcome, note_field = ACTIONS[action]
    note = (note or "").strip()
    if locked.status != status:
        raise BadTransition(f"安全事件当前为“{locked.get_status_display()}”，不能“{selectors.ACTION_LABELS[action]}”",
                            detail={"status": locked.status, "allowed": list(selectors.actions(locked))})
    if action in NOTE_REQUIRED and not note:
        raise SecurityError(NOTE_REQUIRED[action], status=400)
    now = timezone.now()
    setattr(locked, note_field, note)
    fields = [note_field]
    if action == "confirm":
        locked.status = Status.CONTAINMENT
    elif action == "dismiss":
        locked.status, locked.dismissed = Status.REPORT, True
        fields.append("dismissed")
    elif action == "contain":
        locked.status = Status.NOTIFICATION
    else:
        locked.status, locked.closed_at, locked.closed_by = Status.CLOSED, now, user
        fields += ["closed_at", "closed_by"]
    locked.save(update_fields=[*fields, "status"])
    audit(f"security.incident.{action}", actor=user, obj=locked, reason=note, detail={"status": locked.status})
    task = _open_task(locked, step)
    if task is not None:
        wf.complete(task, user, outcome=outcome, opinion=note, variables={note_field: note})
    locked.refresh_from_db()
    return locked


def _open_task(incident: SecurityIncident, step: str) -> Task | None:
    if not incident.process_instance_id:
        return None
    return (Task.objects.filter(instance_id=incident.process_instance_id, element_id=step,
                                state__in=Task.OPEN_STATES).order_by("-pk").first())


def advance_status(incident_id: Any, status: str) -> bool:
    """Move the incident forward to ``status`` (a step completed in the process, e.g. on the workbench); never
    backwards. Returns whether it changed."""
    incident = SecurityIncident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None or status not in STATUS_ORDER or not _later(incident.status, status):
        return False
    fields = ["status"]
    if incident.status == Status.TRIAGE and status == Status.REPORT:
        incident.dismissed = True  # triage went the dismiss way
        fields.append("dismissed")
    incident.status = status
    incident.save(update_fields=fields)
    return True


def notice_text(incident: SecurityIncident) -> str:
    measures = incident.containment_note.strip()
    parts = [f"【安全事件告知】{incident.notice_text or incident.title}"]
    if measures:
        parts.append(f"已采取的处置措施：{measures}")
    parts.append(f"依据{LAW}，我们告知您此事件涉及的个人信息种类、原因和可能的影响，以及您可以采取的措施。"
                 "如有疑问，请通过“12345”政务服务便民热线或政务服务中心联系我们。")
    return "\n".join(parts)


def notify_affected(incident_id: Any) -> int:
    """The notify step: one notice to each person involved who has an account (persons matched again, in case
    they registered since the incident opened). Idempotent. Returns the notices written now."""
    incident = SecurityIncident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None:
        return 0
    persons = list(incident.affected.all())
    late = users_for_subjects([p.subject_id for p in persons if p.user_id is None])
    for person in persons:
        if person.user_id is None and person.subject_id in late:
            person.user_id = late[person.subject_id]
            person.save(update_fields=["user"])
    text = notice_text(incident)
    already = set(incident.notices.values_list("person_id", flat=True))
    new = [IncidentNotice(incident=incident, person_id=uid, text=text)
           for uid in dict.fromkeys(p.user_id for p in persons if p.user_id) if uid not in already]
    IncidentNotice.objects.bulk_create(new)
    for notice in new:  # the inbox (我的消息) is the one place a person reads what they are told
        notifications.notify(notice.person_id, SECURITY_NOTICE, {"text": text}, link="/security/my-notices/",
                             ref=f"incident-{incident.pk}", dedupe_key=f"security-notice:{incident.pk}:{notice.person_id}")
    fields = ["notified_at"]
    incident.notified_at = incident.notified_at or timezone.now()
    if _later(incident.status, Status.REPORT):
        incident.status = Status.REPORT
        fields.append("status")
    incident.save(update_fields=fields)
    audit("security.incident.notify", obj=incident, detail={"notices": len(new), "persons": len(persons)})
    return len(new)


def close_from_process(incident_id: Any, instance_id: int, report: str = "") -> bool:
    """The close step reached the end of the process (completed here or on the workflow workbench)."""
    incident = SecurityIncident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None or incident.status == Status.CLOSED:
        return False
    incident.status = Status.CLOSED
    incident.closed_at = timezone.now()
    incident.report = incident.report or report or "（在流程工作台结案，未填写报告）"
    incident.save(update_fields=["status", "closed_at", "report"])
    return True


# --- notices ----------------------------------------------------------------------------------------------


def mark_notice_read(notice: IncidentNotice, user: User) -> IncidentNotice:
    """The person read their notice (only their own)."""
    if notice.person_id != user.pk:
        raise SecurityError("告知不存在", code="security.not_found", status=404)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice
