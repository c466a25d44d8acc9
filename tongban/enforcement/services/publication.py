"""Publication (公示) of decisions, its withdrawal and the overdue warning."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from tongban.core.models import Role, User

from .. import selectors
from ..errors import (
    BadState,
    EnforcementError,
)
from ..models import EnforcementCase
from .common import _locked, _require
from .records import add_record

# --- publication (公示) ---------------------------------------------------------------------------------------


@transaction.atomic
def publish(case: EnforcementCase, actor: User) -> EnforcementCase:
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "公示")
    if case.decided_on is None:
        raise BadState("尚未作出决定，不能公示")
    if case.published_at is not None and case.withdrawn_at is None:
        raise BadState("已公示")
    case.published_at = timezone.now()
    case.withdrawn_at = None
    case.withdrawal_reason = ""
    case.save(update_fields=["published_at", "withdrawn_at", "withdrawal_reason"])
    late = case.publish_due_on is not None and timezone.localdate() > case.publish_due_on
    add_record(case, actor, "公示", "逾期公示" if late else "", data={"due": case.publish_due_on, "late": late})
    return case


@transaction.atomic
def withdraw(case: EnforcementCase, actor: User, reason: str) -> EnforcementCase:
    """撤下公示 (e.g. after 信用修复, or the decision was revoked), by the department head, with the reason."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_HEAD, case, "撤下公示")
    if case.published_at is None or case.withdrawn_at is not None:
        raise BadState("该决定未在公示中")
    if not str(reason or "").strip():
        raise EnforcementError("请填写撤下理由（如 信用修复、决定被撤销）", detail={"field": "reason"})
    case.withdrawn_at = timezone.now()
    case.withdrawal_reason = reason[:300]
    case.save(update_fields=["withdrawn_at", "withdrawal_reason"])
    add_record(case, actor, "撤下公示", reason)
    return case


def warn_overdue_publications(on: date | None = None) -> int:
    """公示逾期预警: tell the department heads (workflow notifications) about each overdue publication, once."""
    from tongban.workflow.models import Notification

    count = 0
    for case in selectors.overdue_publications(on):
        if Notification.objects.filter(kind="enforcement.publication_overdue", subject__contains=case.case_no).exists():
            continue
        heads = User.objects.filter(role_assignments__role__code=Role.ENFORCEMENT_HEAD,
                                    role_assignments__organisation=case.department).distinct()
        for head in heads:
            Notification.objects.create(recipient=head, kind="enforcement.publication_overdue",
                                        subject=f"公示逾期：{case.case_no}",
                                        body=f"{case.party_name} 的处罚决定应于 {case.publish_due_on} 前公示")
        count += 1
    return count
