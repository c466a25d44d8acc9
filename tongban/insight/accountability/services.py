"""Writes of 容错纠错 (insight's own tables only): raise leads from the platform's records, apply for fault
tolerance, decide.

Leads are raised by :func:`raise_leads`, idempotently (one lead per source record):

- ``red_light``: a workflow task whose clock light is red (overdue: open past its due date, or completed late),
  against the task's department and the official who held it;
- ``post_check``: a failed post-check (事后核查不通过) of an approval by commitment — the check upheld against
  the approval — against the approving department (the application's item) and the approver;
- ``rectification``: a bad-rating rectification missed (still rectifying past its deadline, or rectified after
  it), against the rated department.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.applications.models import ApplicationItem
from tongban.core.models import User
from tongban.feedback.models import Rectification
from tongban.supervision.models import PostCheck
from tongban.workflow.models import Task

from . import criteria, selectors
from .errors import AccountabilityError, BadState, Forbidden, NotFound
from .models import AccountabilityLead, ToleranceApplication

Lead = AccountabilityLead


def _label(user: Any) -> str:
    return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else ""


def _create(source: str, ref: str, department_id: int, subject: str, occurred_on: dt.date,
            official: User | None = None, official_label: str = "") -> AccountabilityLead | None:
    if Lead.objects.filter(source=source, source_ref=ref).exists():
        return None
    try:
        with transaction.atomic():
            return Lead.objects.create(source=source, source_ref=ref, department_id=department_id,
                                       subject=subject[:300], occurred_on=occurred_on, official=official,
                                       official_label=official_label or _label(official))
    except IntegrityError:  # raised meanwhile by a concurrent scan
        return None


def raise_leads(today: dt.date | None = None, since: dt.date | None = None) -> dict[str, int]:
    """Scan the records and raise the leads not raised yet; returns the number of new leads per source."""
    created = {s: 0 for s in Lead.Source.values}
    for lead in raise_new_leads(today, since):
        created[lead.source] += 1
    return created


def raise_new_leads(today: dt.date | None = None, since: dt.date | None = None) -> list[AccountabilityLead]:
    """Scan the records (those that occurred on or after ``since``, when given) and raise the leads not raised
    yet, at most one per source record; returns the new leads, in the order raised."""
    today = today or timezone.localdate()
    new: list[AccountabilityLead] = []

    def add(lead: AccountabilityLead | None) -> None:
        if lead is not None:
            new.append(lead)

    known = {s: set(Lead.objects.filter(source=s).values_list("source_ref", flat=True)) for s in Lead.Source.values}
    for t in (Task.objects.filter(light="red", candidate_org__isnull=False)
              .exclude(state=Task.State.CANCELLED).select_related("assignee", "instance").order_by("pk")):
        if str(t.pk) in known["red_light"]:
            continue
        day = t.due_on or timezone.localdate(t.completed_at or timezone.now())
        if since and day < since:
            continue
        who = f"（{t.instance.business_key}）" if t.instance.business_key else ""
        subject = f"「{t.name}」超过时限{who}，到期日 {t.due_on or '—'}"
        add(_create(Lead.Source.RED_LIGHT, str(t.pk), t.candidate_org_id, subject, day, t.assignee))
    for pc in PostCheck.objects.filter(status=PostCheck.Status.FAILED).order_by("pk"):
        if str(pc.pk) in known["post_check"]:
            continue
        day = timezone.localdate(pc.checked_at) if pc.checked_at else today
        if since and day < since:
            continue
        items = list(ApplicationItem.objects.filter(application__ref=pc.application_ref).select_related("item"))
        item = next((i for i in items if i.by_commitment), items[0] if items else None)
        department_id = item.department_id if item else pc.department_id
        approver = item.decided_by if item else ""
        official = User.objects.filter(display_name=approver).first() if approver else None
        subject = f"告知承诺审批的事后核查不通过：{pc.title or pc.application_ref}（办件 {pc.application_ref}）"
        add(_create(Lead.Source.POST_CHECK, str(pc.pk), department_id, subject, day, official, approver))
    rects = Rectification.objects.filter(due_on__isnull=False).select_related("rating__service").order_by("pk")
    if since:
        rects = rects.filter(due_on__gte=since)
    for r in rects:
        late = (r.status == Rectification.Status.RECTIFYING and r.due_on < today) or (
            r.rectified_at is not None and timezone.localdate(r.rectified_at) > r.due_on)
        if not late or str(r.pk) in known["rectification"]:
            continue
        subject = f"差评整改逾期（服务 {r.rating.service.ref}，整改期限 {r.due_on}）"
        add(_create(Lead.Source.RECTIFICATION, str(r.pk), r.department_id, subject, r.due_on))
    return new


def _lead(pk: int) -> AccountabilityLead:
    lead = Lead.objects.select_for_update().filter(pk=pk).first()
    if lead is None:
        raise NotFound("问责线索不存在")
    return lead


@transaction.atomic
def apply_for_tolerance(lead_id: int, user: User, reform_reason: str, claimed: list[str]) -> ToleranceApplication:
    """The official applies for fault tolerance with the reform-innovation reason and the criteria they claim."""
    lead = _lead(lead_id)
    if not selectors.may_view(user, lead):
        raise NotFound("问责线索不存在")
    if not selectors.may_apply(user, lead):
        raise Forbidden("只有线索所列责任人可以申请容错")
    if lead.status != Lead.Status.OPEN:
        raise BadState("该线索已申请容错或已认定")
    reason = (reform_reason or "").strip()
    if len(reason) < 10:
        raise AccountabilityError("请写明改革创新事由（至少10个字）", detail={"field": "reform_reason"})
    unknown = [c for c in claimed if c not in criteria.CRITERIA]
    if unknown or "reform" not in claimed:
        raise AccountabilityError("容错申请须主张“改革创新”情形，且只能选择规定的情形",
                                  detail={"field": "criteria", "allowed": list(criteria.CRITERIA)})
    app = ToleranceApplication.objects.create(lead=lead, applicant=user, applicant_label=_label(user),
                                              reform_reason=reason, criteria_claimed=list(dict.fromkeys(claimed)))
    lead.status = Lead.Status.APPLIED
    lead.save(update_fields=["status"])
    return app


@transaction.atomic
def decide(lead_id: int, user: User, decision: str, met: list[str], reason: str) -> ToleranceApplication:
    """The reviewer decides 免责 / 从轻 / 不予容错; the criteria found met must support the decision."""
    lead = _lead(lead_id)
    if not selectors.may_view(user, lead) and not selectors.may_decide(user, lead):
        raise NotFound("问责线索不存在")
    if not selectors.may_decide(user, lead):
        raise Forbidden("只有政务服务管理机构或本部门纪检监察人员可以认定，责任人本人不能认定")
    if lead.status != Lead.Status.APPLIED:
        raise BadState("该线索没有待认定的容错申请")
    if decision not in ("exempt", "lenient", "refused"):
        raise AccountabilityError("认定结果须为免责、从轻或不予容错", detail={"field": "decision"})
    met_set = set(met)
    if met_set - set(criteria.CRITERIA):
        raise AccountabilityError("只能选择规定的容错情形", detail={"field": "criteria_met"})
    if decision not in criteria.allowed_determination(met_set):
        need = "全部五项情形" if decision == "exempt" else "“改革创新”“未谋私利”及至少一项其他情形"
        raise AccountabilityError(f"所认定的情形不支持该结果：{dict(Lead.Determination.choices)[decision]}须符合{need}",
                                  detail={"field": "criteria_met"})
    if not (reason or "").strip():
        raise AccountabilityError("请写明认定理由", detail={"field": "reason"})
    app = lead.application
    app.decision = decision
    app.criteria_met = sorted(met_set, key=list(criteria.CRITERIA).index)
    app.decision_reason = reason.strip()
    app.decided_by = user
    app.decided_by_label = _label(user)
    app.decided_at = timezone.now()
    app.save()
    lead.status = Lead.Status.DECIDED
    lead.determination = decision
    lead.save(update_fields=["status", "determination"])
    return app

