"""Reads of 容错纠错, including the hook the indicators use: which penalty records a determination excludes.

``tolerated(source=..., department=...)`` is the set of source record ids (task ids for red lights, post-check ids,
rectification ids) whose lead got an accepted determination (免责 or 从轻). The indicators do not call it: their
facts in ``indicators/definitions.yaml`` find the same leads in SQL (``tolerated_lead``), leave those records out of
the department's penalty indicators and count them ("已剔除 N 件（容错）"); this is the same rule for Python callers.
``department_summary()`` gives, per department, the leads raised, tolerated and still counted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from tongban.core.models import Role
from tongban.core.selectors import has_role
from tongban.workflow.selectors import member_org_ids

from .models import AccountabilityLead


def tolerated(source: str | None = None, department: str | None = None, *, since: dt.date | None = None,
              until: dt.date | None = None) -> set[str]:
    """Source record ids excluded from the penalty indicators (accepted determinations), optionally of one source
    (``red_light`` / ``post_check`` / ``rectification``), one department (its code) and a period of occurrence
    [since, until)."""
    qs = AccountabilityLead.objects.filter(determination__in=AccountabilityLead.ACCEPTED)
    if source:
        qs = qs.filter(source=source)
    if department:
        qs = qs.filter(department__code=department)
    if since:
        qs = qs.filter(occurred_on__gte=since)
    if until:
        qs = qs.filter(occurred_on__lt=until)
    return set(qs.values_list("source_ref", flat=True))


def department_summary(*, since: dt.date | None = None, until: dt.date | None = None,
                       department_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Per department: leads raised, tolerated (免责/从轻, excluded from its penalty indicators), still counted."""
    qs = AccountabilityLead.objects.all()
    if since:
        qs = qs.filter(occurred_on__gte=since)
    if until:
        qs = qs.filter(occurred_on__lt=until)
    if department_ids is not None:
        qs = qs.filter(department_id__in=department_ids)
    rows = qs.values("department__code", "department__name").annotate(
        leads=Count("pk"), tolerated=Count("pk", filter=Q(determination__in=AccountabilityLead.ACCEPTED)),
        pending=Count("pk", filter=Q(status=AccountabilityLead.Status.APPLIED))).order_by("-leads",
                                                                                         "department__code")
    return [{"code": r["department__code"], "name": r["department__name"], "leads": r["leads"],
             "tolerated": r["tolerated"], "counted": r["leads"] - r["tolerated"], "pending": r["pending"]}
            for r in rows]


def is_office(user: Any) -> bool:
    """The service-management office (administrators) sees every lead and decides applications."""
    return has_role(user, Role.ADMINISTRATOR)


def discipline_department_ids(user: Any) -> set[int]:
    from tongban.core.selectors import organisations_for_role

    return set(organisations_for_role(user, Role.DISCIPLINE).values_list("pk", flat=True))


def visible_department_ids(user: Any) -> set[int] | None:
    """None: every department (the office); else the departments whose leads the user sees (their own)."""
    if not user.is_authenticated:
        return set()
    if is_office(user):
        return None
    if getattr(user, "kind", "") != "staff":
        return set()
    return member_org_ids(user) | discipline_department_ids(user)


def leads_for(user: Any) -> QuerySet[AccountabilityLead]:
    qs = AccountabilityLead.objects.select_related("department", "application").order_by("-occurred_on", "-pk")
    ids = visible_department_ids(user)
    return qs if ids is None else qs.filter(department_id__in=ids)


def may_view(user: Any, lead: AccountabilityLead) -> bool:
    ids = visible_department_ids(user)
    return ids is None or lead.department_id in ids


def may_apply(user: Any, lead: AccountabilityLead) -> bool:
    """The official named on the lead; with none named, the department's staff."""
    if not user.is_authenticated:
        return False
    if lead.official_id is not None:
        return lead.official_id == user.pk
    return getattr(user, "kind", "") == "staff" and lead.department_id in member_org_ids(user)


def may_decide(user: Any, lead: AccountabilityLead) -> bool:
    """The office, or the department's discipline officers (纪检监察); never the official on the lead."""
    if not user.is_authenticated or (lead.official_id is not None and lead.official_id == user.pk):
        return False
    return is_office(user) or lead.department_id in discipline_department_ids(user)
