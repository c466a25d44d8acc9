"""Decisions (审批决定): an approver's decision on a review task, each item's final decision from the workflow,
and the one combined result (一次性送达) when every item is decided, with the closed case for the e-archive."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import events, site
from tongban.core.models import User
from tongban.workflow import services as wf
from tongban.workflow.models import Task

from .. import files, results, selectors
from ..errors import ApplicationError
from ..models import Application, ApplicationItem, Notice
from . import messages
from .common import base_facts, issue_notice, log

REASON_REQUIRED_OUTCOMES = {"reject": "不予许可", "return": "退回补正"}
# Retention of closed case files (电子档案保管期限) by item type, in years: licences and other decisions
# that create rights are kept 30 years, the rest 10 (local archive rules may set other periods).
RETENTION_YEARS = {"licensing": 30, "confirmation": 30, "adjudication": 30}


def decide_task(task: Task, user: User, outcome: str, opinion: str = "") -> Task:
    """An approver decides a review task: approve, reject (reason required) or return for correction (reason
    required). A returned item shows as 退回补正 to the applicant until the correction is made."""
    opinion = (opinion or "").strip()
    if outcome in REASON_REQUIRED_OUTCOMES and not opinion:
        raise ApplicationError(f"{REASON_REQUIRED_OUTCOMES[outcome]}须填写理由", code="decision.reason_required")
    with transaction.atomic():
        ai = selectors.application_item_for_task(task)
        wf.complete(task, user, outcome, opinion=opinion)
        if ai is not None and outcome == "return":
            ai.status = ApplicationItem.Status.RETURNED
            ai.save(update_fields=["status"])
            log(ai.application, "returned", f"{ai.department.name}：{ai.item.name} 退回补正（{opinion}）", user)
    return task


def record_item_decision(ai: ApplicationItem, outcome: str, *, opinion: str = "", decided_by: str = "",
                         application: Application | None = None) -> None:
    """Store one item's final decision and, when every item is decided, the combined result. ``application``:
    the item's application, when the caller read it locked (``select_for_update``) with the item."""
    if outcome not in {"approve", "reject"}:
        raise ApplicationError(f"未知的审批结果“{outcome}”", code="decision.unknown_outcome")
    ai.status = ApplicationItem.Status.APPROVED if outcome == "approve" else ApplicationItem.Status.REJECTED
    ai.opinion, ai.decided_by, ai.decided_at = opinion, decided_by, timezone.now()
    ai.result = {"outcome": outcome, "result_name": ai.item.result_name}
    ai.save(update_fields=["status", "opinion", "decided_by", "decided_at", "result"])
    app = application if application is not None else Application.objects.select_for_update().get(
        pk=ai.application_id)
    log(app, "item_decided", f"{ai.department.name}：{ai.item.name} —— {ai.get_status_display()}"
        + (f"（{opinion}）" if opinion else ""))
    _maybe_finish(app)


def combined_status(item_statuses: list[str]) -> str:
    """One result for the whole application from its decided items: all, some or none approved."""
    approved = item_statuses.count(ApplicationItem.Status.APPROVED)
    if approved == len(item_statuses):
        return Application.Status.APPROVED
    return Application.Status.REJECTED if approved == 0 else Application.Status.PARTIAL


def _maybe_finish(app: Application) -> None:
    """Close the case when every item is decided (its result is held while tolerated materials are owed)."""
    statuses = list(app.items.values_list("status", flat=True))
    if any(s in {ApplicationItem.Status.PENDING, ApplicationItem.Status.IN_REVIEW, ApplicationItem.Status.RETURNED}
           for s in statuses):
        return
    final = combined_status(statuses)
    app.decided_at = app.decided_at or timezone.now()
    if app.supplements.filter(fulfilled_at__isnull=True).exists():
        app.status = Application.Status.RESULT_HELD
        app.save(update_fields=["status", "decided_at"])
        log(app, "result_held", "审批已完成，容缺材料补齐后发放结果")
        return
    release_result(app, final)


def release_result(app: Application, final: str) -> None:
    """Close the case: one result notice for every item, ``decision_made`` per item, ``case_closed`` once."""
    app.status, app.completed_at = final, timezone.now()
    app.save(update_fields=["status", "decided_at", "completed_at"])
    items = list(app.items.select_related("item", "department"))
    log(app, "completed", f"办结：{app.get_status_display()}，结果一次性送达")
    issue_notice(app, Notice.Kind.RESULT, {
        "addressee": app.applicant_name, "paragraphs": [f"您申请的“{app.title}”已办结。"],
        "facts": base_facts(app),
        "lists": [("各事项审批结果：", [f"{ai.item.name}（{ai.department.name}）：{ai.get_status_display()}"
                                  + (f"，{ai.opinion}" if ai.opinion else "") for ai in items])],
    }, None)
    messages.decided(app, items)
    holder = {"kind": app.applicant_kind, "name": app.applicant_name, "id_number": app.applicant_id_number,
              "user_id": app.applicant_id}
    window_code = app.window.code if app.window is not None else ""  # who served, for the 好差评 invitation (feedback)
    for ai in items:
        approved = ai.status == ApplicationItem.Status.APPROVED
        licence_type, data = results.licence_data(ai) if approved else ("", {})
        events.decision_made.send(
            sender=Application, application_ref=app.ref, item_code=ai.item.code,
            outcome="approved" if approved else "rejected", holder=holder,
            result={"result_name": ai.item.result_name, "licence_type": licence_type, "data": data},
            organisation_code=ai.department.code, by_commitment=ai.by_commitment, window_code=window_code,
            served_by=app.accepted_by_id)
    events.case_closed.send(sender=Application, application_ref=app.ref, case_file=case_file_for_archive(app),
                            item_codes=[ai.item.code for ai in items])


def case_file_for_archive(app: Application) -> dict[str, Any]:
    """Everything of a closed case for its e-archive: form, materials, decisions, event log, notices."""
    items = list(app.items.select_related("item", "department"))
    materials = []
    for m in app.materials.select_related("file"):
        entry: dict[str, Any] = {"name": m.name, "status": m.status, "items": m.item_codes}
        if m.file is not None:
            entry.update(filename=m.file.original_name or m.key, path=str(files.blob_path(m.file.sha256)),
                         sha256=m.file.sha256)
        elif m.evidence:
            entry.update(filename=f"{m.key}.json", content=json.dumps(m.evidence, ensure_ascii=False, indent=2))
        else:
            continue
        materials.append(entry)
    return {
        "application_ref": app.ref, "title": app.title, "organisation": site.current().issuer,
        "closed_at": (app.completed_at or timezone.now()).isoformat(),
        "retention_years": max(RETENTION_YEARS.get(ai.item.item_type, 10) for ai in items),
        "applicant": {"name": app.applicant_name, "id_number": app.applicant_id_number},
        "form_data": app.form_data, "materials": materials,
        "decisions": [{"item_code": ai.item.code, "item_name": ai.item.name, "department": ai.department.code,
                       "status": ai.status, "opinion": ai.opinion, "decided_by": ai.decided_by,
                       "decided_at": ai.decided_at.isoformat() if ai.decided_at else None} for ai in items],
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "message": e.message, "actor": e.actor_label}
                   for e in app.events.all()]
        + [{"at": e.at.isoformat(), "kind": f"workflow.{e.type}", "element": e.element_id, "actor": e.actor_label}
           for e in selectors.events_for_application(app)],
        "results": [{"filename": f"{n.kind}-{n.code}.pdf", "path": str(files.blob_path(n.file.sha256)),
                     "notice_code": n.code} for n in app.notices.select_related("file")],
    }
