"""Post-checks (事后核查) of approvals by commitment: a failed check revokes the approval, records a credit event
and sends ``core.events.post_check_failed``."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tongban.core import events
from tongban.core.models import Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from ..errors import ApplicationError
from ..models import Application, ApplicationItem, CreditEvent, PostCheck
from .common import log


@transaction.atomic
def complete_post_check(check: PostCheck, user: User, *, passed: bool, result: str) -> PostCheck:
    """Record a post-check's findings (by the department's approvers or supervisors); a failure revokes."""
    check = PostCheck.objects.select_for_update().get(pk=check.pk)
    if not has_role(user, Role.APPROVER, check.department) and not has_role(user, Role.SUPERVISOR, check.department):
        raise ApplicationError("只有该部门审批或监管人员可以核查", code="post_check.forbidden", status=403)
    if check.status != PostCheck.Status.PENDING:
        raise ApplicationError("该核查已完成", code="post_check.done", status=409)
    if not result.strip():
        raise ApplicationError("请填写核查情况", code="post_check.result_required")
    check.status = PostCheck.Status.PASSED if passed else PostCheck.Status.FAILED
    check.result, check.checked_by, check.checked_at = result, user, timezone.now()
    check.save(update_fields=["status", "result", "checked_by", "checked_at"])
    app = check.application
    audit("post_check.complete", actor=user, obj=check, detail={"passed": passed}, reason=result)
    if passed:
        log(app, "post_check_passed", f"事后核查通过：{result}", user)
        return check
    app.items.update(status=ApplicationItem.Status.REVOKED)
    app.status = Application.Status.REVOKED
    app.save(update_fields=["status"])
    CreditEvent.objects.create(subject_id_number=app.applicant_id_number, subject_name=app.applicant_name,
                               kind="commitment_breach", description=f"{app.title}：告知承诺不实（{result}）",
                               application=app)
    log(app, "revoked", f"事后核查不通过，撤销审批决定并记入信用记录：{result}", user)
    events.post_check_failed.send(sender=Application, application_ref=app.ref,
                                  holder={"name": app.applicant_name, "id_number": app.applicant_id_number},
                                  reason=result)
    return check
