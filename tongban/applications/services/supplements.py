"""Supplements and corrections (补正): materials owed after acceptance with tolerance (容缺补正, with daily
reminders; the result is held until they arrive) and the applicant's answer to an approver's return (退回补正)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from tongban.core.calendar import default_calendar
from tongban.core.models import User
from tongban.core.services import audit

from .. import workflow_bridge
from ..errors import ApplicationError
from ..models import Application, ApplicationItem, ApplicationMaterial, StoredFile, Supplement
from ..selectors import application_item_for_task, may_supplement, open_correction_tasks
from . import messages
from .common import log, material_row, require_party
from .decisions import combined_status, release_result


@transaction.atomic
def supplement_material(app: Application, key: str, stored: StoredFile, user: User) -> ApplicationMaterial:
    """Provide an owed material (by the applicant's side or at a window); the last one releases a held result."""
    row = material_row(app, key)
    if not may_supplement(user, app):
        raise ApplicationError("无权为该办件补正材料（申请提交前仅申请人一方可以提供材料）", code="application.forbidden",
                               status=403)
    if row.status not in {ApplicationMaterial.Status.TOLERATED, ApplicationMaterial.Status.MISSING}:
        raise ApplicationError(f"“{row.name}”无需补正", code="material.not_owed", status=409)
    row.file, row.status, row.provided_at = stored, ApplicationMaterial.Status.SUPPLEMENTED, timezone.now()
    row.save(update_fields=["file", "status", "provided_at"])
    log(app, "supplemented", f"补齐材料“{row.name}”", user)
    for sup in app.supplements.filter(fulfilled_at__isnull=True):
        owed = app.materials.filter(key__in=sup.material_keys, status=ApplicationMaterial.Status.TOLERATED)
        if not owed.exists():
            sup.fulfilled_at = timezone.now()
            sup.save(update_fields=["fulfilled_at"])
            log(app, "supplement_done", "容缺材料已全部补齐", user)
            if sup.suspends_clock:
                workflow_bridge.resume_clock(app, "补正材料")
    app.refresh_from_db()
    if app.status == Application.Status.RESULT_HELD and not app.supplements.filter(fulfilled_at__isnull=True).exists():
        release_result(app, combined_status(list(app.items.values_list("status", flat=True))))
    return row


def send_supplement_reminders(today: dt.date | None = None) -> int:
    """Remind applicants of owed materials (once a day per supplement); returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for sup in Supplement.objects.filter(fulfilled_at__isnull=True).select_related("application"):
        if any(r.get("on") == today.isoformat() for r in sup.reminders):
            continue
        left = default_calendar().working_days_between(today, sup.deadline)
        message = (f"请于 {sup.deadline:%Y-%m-%d} 前补齐容缺材料（剩余 {left} 个工作日）" if sup.deadline >= today
                   else f"容缺材料已超过补齐期限 {sup.deadline:%Y-%m-%d}，请尽快补齐")
        sup.reminders = [*sup.reminders, {"on": today.isoformat(), "message": message}]
        sup.save(update_fields=["reminders"])
        log(sup.application, "reminder", message)
        names = list(sup.application.materials.filter(key__in=sup.material_keys).values_list("name", flat=True))
        messages.supplement_due(sup, today, names)
        sent += 1
    return sent


@transaction.atomic
def complete_correction(app: Application, user: User, *, note: str = "",
                        replacements: dict[str, StoredFile] | None = None) -> int:
    """申请人补正: answer a return for correction, optionally replacing material files; the review resumes.
    Returns the number of correction tasks completed."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    require_party(app, user)
    tasks = open_correction_tasks(app)
    if not tasks:
        raise ApplicationError("该办件没有待补正的事项", code="correction.none", status=409)
    for key, stored in (replacements or {}).items():
        row = material_row(app, key)
        row.file, row.provided_at = stored, timezone.now()
        if row.status in {ApplicationMaterial.Status.MISSING, ApplicationMaterial.Status.TOLERATED}:
            row.status = ApplicationMaterial.Status.SUPPLEMENTED
        row.save(update_fields=["file", "status", "provided_at"])
        log(app, "material", f"补正材料“{row.name}”", user, sha256=stored.sha256)
    for task in tasks:
        ai = application_item_for_task(task)
        workflow_bridge.PROCESSES.complete(task, user, "corrected", opinion=note)  # the applicant: checked above
        if ai is not None and ai.status == ApplicationItem.Status.RETURNED:
            ai.status = ApplicationItem.Status.IN_REVIEW
            ai.save(update_fields=["status"])
    log(app, "corrected", "申请人已补正" + (f"：{note}" if note.strip() else ""), user)
    audit("application.correct", actor=user, obj=app, detail={"materials": sorted(replacements or {})})
    return len(tasks)
