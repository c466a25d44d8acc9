"""Post-checks (事后核查) of commitment approvals (告知承诺制)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import events, pii
from tongban.core.models import Organisation, User
from tongban.core.services import audit
from tongban.notifications import conf as notification_conf
from tongban.notifications import selectors as notification_selectors
from tongban.notifications import services as notifications
from tongban.notifications.messages import POST_CHECK_DUE

from .. import selectors
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import EnforcementLead, MarketEntity, PostCheck
from .crediting import add_credit_event
from .records import supervising_department
from .register import _entity_for_subject

# --- post-checks of commitment approvals -------------------------------------------------------------------------

def open_post_checks(payload: dict[str, Any]) -> list[PostCheck]:
    """告知承诺制: one post-check per supervising department of the approved items, due in 20 working days."""
    ref = str(payload.get("application_ref") or "")
    holder = payload.get("holder") or {}
    by_dept: dict[int, tuple[Organisation, list[str]]] = {}
    for item in payload.get("items") or []:
        dept, _follow, _name, _kind = supervising_department(str(item.get("item_code") or ""),
                                                             str(item.get("department_code") or ""))
        if dept is not None:
            by_dept.setdefault(dept.pk, (dept, []))[1].append(str(item.get("item_code") or ""))
    start = date.fromisoformat(payload["approved_on"]) if payload.get("approved_on") else timezone.localdate()
    due = selectors.due_after(selectors.POST_CHECK_WORKING_DAYS, start)
    checks = []
    with transaction.atomic():
        for dept, codes in by_dept.values():
            entity = _entity_for_subject(str(holder.get("id_number") or ""), str(holder.get("name") or ""), dept,
                                         MarketEntity.Source.APPLICATION)
            check, _ = PostCheck.objects.get_or_create(
                application_ref=ref, department=dept,
                defaults={"title": str(payload.get("title") or ""), "item_codes": codes, "entity": entity,
                          "subject_name": str(holder.get("name") or ""),
                          "subject_id_number": str(holder.get("id_number") or ""), "due_on": due})
            checks.append(check)
    return checks


def remind_post_checks(today: date | None = None) -> int:
    """Remind each person whose commitment approval is checked within ``TONGBAN_NOTIFY_POST_CHECK_DAYS`` (once per
    post-check; the engine's periodic check runs this). Returns how many were told."""
    from datetime import timedelta

    today = today or timezone.localdate()
    horizon = today + timedelta(days=notification_conf.post_check_days())
    due = list(PostCheck.objects.filter(status=PostCheck.Status.PENDING, due_on__gte=today, due_on__lte=horizon)
               .select_related("department").order_by("due_on", "pk")[:500])
    keys = {check.pk: f"post-check-due:{check.pk}" for check in due}
    told = notification_selectors.already_told(list(keys.values()))
    sent = 0
    for check in due:
        if keys[check.pk] in told or not check.subject_id_number:
            continue
        person = User.objects.filter(pii.matching("id_number", check.subject_id_number)).order_by("pk").first()
        if person is None:
            continue
        message = notifications.notify(person, POST_CHECK_DUE, {
            "title": check.title, "ref": check.application_ref, "name": check.subject_name,
            "department": check.department.name,
            "due_on": f"{check.due_on.year}年{check.due_on.month}月{check.due_on.day}日"},
            link=f"/my/applications/{check.application_ref}/", ref=check.application_ref, dedupe_key=keys[check.pk])
        sent += message is not None
    return sent


@transaction.atomic
def complete_post_check(check: PostCheck, user: User, *, passed: bool, result: str) -> PostCheck:
    """Record a post-check's findings. A failure: credit event (告知承诺不实), enforcement lead, and
    ``post_check_failed`` (applications revokes the approval, credentials revokes the licences)."""
    check = PostCheck.objects.select_for_update().get(pk=check.pk)
    if not selectors.can_supervise(user, check.department_id):
        raise Forbidden("只有该部门监管执法人员可以核查", code="post_check.forbidden")
    if check.status != PostCheck.Status.PENDING:
        raise Conflict("该核查已完成", code="post_check.done")
    if not (result or "").strip():
        raise InvalidInput("请填写核查情况", field="result", code="post_check.result_required",
                           status=400)
    check.status = PostCheck.Status.PASSED if passed else PostCheck.Status.FAILED
    check.result, check.checked_by, check.checked_at = result.strip(), user, timezone.now()
    check.save(update_fields=["status", "result", "checked_by", "checked_at"])
    audit("post_check.complete", actor=user, obj=check, detail={"passed": passed}, reason=result)
    if passed:
        if check.entity is not None:
            add_credit_event(check.entity, "post_check_passed", f"{check.title}：告知承诺事后核查通过",
                             department=check.department, source_ref=check.application_ref)
        return check
    if check.entity is not None:
        add_credit_event(check.entity, "commitment_breach", f"{check.title}：告知承诺不实（{result.strip()}）",
                         department=check.department, source_ref=check.application_ref)
    EnforcementLead.objects.create(
        entity=check.entity, subject_name=check.subject_name, department=check.department,
        source=EnforcementLead.Source.POST_CHECK, source_ref=check.application_ref,
        description=f"告知承诺事后核查不通过：{result.strip()}",
        due_on=selectors.due_after(selectors.LEAD_WORKING_DAYS))
    events.post_check_failed.send(sender=PostCheck, application_ref=check.application_ref,
                                  holder={"name": check.subject_name, "id_number": check.subject_id_number},
                                  reason=result.strip(), checked_by=user.pk)
    return check

