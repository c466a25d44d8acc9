"""Reads of the feedback context: who may do what, services to rate, rating statistics, work-order lists."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tongban.core import pii
from tongban.core.models import Organisation, Role, RoleAssignment, User
from tongban.core.selectors import has_role, organisation_descendant_ids

from .errors import NotFound
from .models import Rating, Rectification, ServiceRecord, WorkOrder

# --- who ------------------------------------------------------------------------------------------------------


def is_operator(user: Any) -> bool:
    """A 12345 operator (话务员) or the admin."""
    return bool(user.is_authenticated) and has_role(user, Role.HOTLINE_OPERATOR)


def is_evaluator(user: Any) -> bool:
    """A third-party evaluator (第三方评估), read-only; the admin too."""
    return bool(user.is_authenticated) and has_role(user, Role.EVALUATOR)


def is_service_office(user: Any) -> bool:
    """The service-management office (政务服务管理机构): decides appeals against bad ratings."""
    return bool(user.is_authenticated) and has_role(user, Role.ADMINISTRATOR)


#: Roles held in an organisation without working for it (an evaluator is granted at the city government).
NOT_DEPARTMENT_ROLES = (Role.EVALUATOR, Role.HOTLINE_OPERATOR)


def department_ids(user: Any) -> set[int]:
    """The departments a staff member works for: their own organisation and those they hold a role in."""
    if not user.is_authenticated or user.kind != User.Kind.STAFF:
        return set()
    ids = set(RoleAssignment.objects.filter(user=user).exclude(role__code__in=NOT_DEPARTMENT_ROLES)
              .values_list("organisation_id", flat=True))
    if user.organisation_id:
        ids.add(user.organisation_id)
    return ids


def is_department_staff(user: Any, department: Organisation | int | None) -> bool:
    if department is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    pk = department if isinstance(department, int) else department.pk
    return pk in department_ids(user)


def discipline_department_ids(user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(RoleAssignment.objects.filter(user=user, role__code=Role.DISCIPLINE)
               .values_list("organisation_id", flat=True))


# --- services and ratings ---------------------------------------------------------------------------------------


def get_service(ref: str) -> ServiceRecord:
    service = ServiceRecord.objects.select_related("department", "window").filter(ref=ref).first()
    if service is None:
        raise NotFound(f"服务记录 {ref} 不存在")
    return service


def owns_service(user: Any, service: ServiceRecord) -> bool:
    if not user.is_authenticated:
        return False
    if service.person_id is not None:
        return service.person_id == user.pk
    return bool(service.person_id_number) and service.person_id_number == user.id_number


def services_for_person(user: User) -> QuerySet[ServiceRecord]:
    """The person's services, newest first, with their rating (if any)."""
    condition = Q(person=user)
    if user.id_number:
        condition |= Q(person__isnull=True) & pii.matching("person_id_number", user.id_number)
    return (ServiceRecord.objects.filter(condition).select_related("department", "window", "rating")
            .order_by("-served_at", "-id"))


def services_for_application(user: User, application_ref: str) -> list[ServiceRecord]:
    return [s for s in services_for_person(user).filter(application_ref=application_ref)]


def get_rectification(pk: int) -> Rectification:
    rect = (Rectification.objects.select_related("rating", "rating__service", "department", "rating__window")
            .filter(pk=pk).first())
    if rect is None:
        raise NotFound(f"整改单 {pk} 不存在")
    return rect


def rectifications_for(user: Any, status: str = "") -> QuerySet[Rectification]:
    """Rectifications a staff member may see: their departments'; the service office and admin see all."""
    qs = Rectification.objects.select_related("rating", "rating__service", "department").order_by("-created_at")
    if not (user.is_superuser or is_service_office(user)):
        qs = qs.filter(department_id__in=department_ids(user))
    if status:
        qs = qs.filter(status=status)
    return qs


def _scope(org: Organisation) -> Q:
    """Ratings of a department, or of the windows of a service centre / a window."""
    ids = organisation_descendant_ids(org)
    return Q(department_id=org.pk) | Q(window_id__in=ids)


def rating_stats(org_code: str = "", item_code: str = "", since: dt.date | None = None) -> dict[str, Any]:
    """Public statistics: counts per level, the satisfaction rate and the share of real-name bad ratings
    rectified and revisited; for one organisation (department, centre or window) and/or one item."""
    ratings = Rating.objects.all()
    org = None
    if org_code:
        org = Organisation.objects.filter(code=org_code).first()
        if org is None:
            raise NotFound(f"机构 {org_code} 不存在")
        ratings = ratings.filter(_scope(org))
    if item_code:
        ratings = ratings.filter(item_code=item_code)
    if since:
        ratings = ratings.filter(created_at__date__gte=since)
    by_level = dict(ratings.values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    levels = [{"level": level.value, "label": level.label, "count": by_level.get(level.value, 0)}
              for level in Rating.Level]
    total = sum(by_level.values())
    bad = sum(by_level.get(v, 0) for v in Rating.BAD_LEVELS)
    rects = Rectification.objects.filter(rating__in=ratings).aggregate(
        n=Count("id"), rectified=Count("id", filter=Q(rectified_at__isnull=False) | Q(appeal_upheld=True)),
        revisited=Count("id", filter=Q(revisited_at__isnull=False)),
        appealed=Count("id", filter=Q(appealed_at__isnull=False)))
    n = rects["n"]
    good = sum(by_level.get(v, 0) for v in (5, 4, 3))
    return {
        "org": org.code if org else "", "org_name": org.name if org else "全部", "item_code": item_code,
        "total": total, "levels": levels, "bad": bad, "bad_real_name": n,
        "satisfaction_rate": round(good / total, 4) if total else None,
        "rectified": rects["rectified"], "revisited": rects["revisited"], "appealed": rects["appealed"],
        "rectified_share": round(rects["rectified"] / n, 4) if n else None,
        "revisited_share": round(rects["revisited"] / n, 4) if n else None,
    }


def ranking(by: str = "department") -> list[dict[str, Any]]:
    """Per department / window / item: total, bad, satisfaction rate (public lists)."""
    field = {"department": "department__code", "window": "window__code", "item": "item_code"}[by]
    name = {"department": "department__name", "window": "window__name", "item": "service__item_name"}[by]
    rows = (Rating.objects.exclude(**{f"{field}__isnull": True}).exclude(**{field: ""})
            .values(field, name).annotate(total=Count("id"), bad=Count("id", filter=Q(level__lte=2)))
            .order_by(field))
    out = []
    for r in rows:
        total = r["total"]
        out.append({"code": r[field], "name": r[name] or r[field], "total": total, "bad": r["bad"],
                    "satisfaction_rate": round((total - r["bad"]) / total, 4) if total else None})
    return out


# --- work orders ----------------------------------------------------------------------------------------------


def get_order(number: str) -> WorkOrder:
    order = (WorkOrder.objects.select_related("department", "division", "proposed_department", "duplicate_of")
             .filter(number=number).first())
    if order is None:
        raise NotFound(f"工单 {number} 不存在")
    return order


def can_handle(user: Any, order: WorkOrder) -> bool:
    """The department the order is dispatched to (its discipline staff for a complaint about staff)."""
    if order.department_id is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if order.discipline:
        return order.department_id in discipline_department_ids(user)
    return is_department_staff(user, order.department_id)


def can_view_order(user: Any, order: WorkOrder) -> bool:
    if not user.is_authenticated:
        return False
    return (order.person_id == user.pk or is_operator(user) or is_evaluator(user) or can_handle(user, order))


def orders_for_department(user: Any, status: str = "") -> QuerySet[WorkOrder]:
    """Orders dispatched to the user's departments (discipline matters only to the discipline staff)."""
    qs = WorkOrder.objects.select_related("department", "division").exclude(department__isnull=True)
    if not user.is_superuser:
        ordinary = Q(department_id__in=department_ids(user), discipline=False)
        qs = qs.filter(ordinary | Q(department_id__in=discipline_department_ids(user), discipline=True))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("handling_due", "-created_at")


def orders_for_person(user: User) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.filter(person=user).select_related("department").order_by("-created_at")


def orders(status: str = "", type: str = "", department: str = "") -> QuerySet[WorkOrder]:
    qs = WorkOrder.objects.select_related("department", "division", "proposed_department")
    if status:
        qs = qs.filter(status=status)
    if type:
        qs = qs.filter(type=type)
    if department:
        qs = qs.filter(department__code=department)
    return qs.order_by("-created_at", "-id")


def _bigrams(text: str) -> set[str]:
    chars = re.sub(r"[\s，。！？、,.!?:：；;（）()“”\"']", "", text)
    return {chars[i:i + 2] for i in range(len(chars) - 1)} or {chars}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams (Chinese text needs no segmentation for this)."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


DUPLICATE_DAYS = 7
DUPLICATE_THRESHOLD = 0.5


@dataclass
class Duplicate:
    order: WorkOrder
    score: float


def duplicate_candidates(order: WorkOrder) -> list[Duplicate]:
    """Orders within 7 days of this one with nearly the same text and place (proposed for merging)."""
    window = dt.timedelta(days=DUPLICATE_DAYS)
    qs = (WorkOrder.objects.exclude(pk=order.pk).exclude(status=WorkOrder.Status.MERGED)
          .filter(created_at__gte=order.created_at - window, created_at__lte=order.created_at + window)
          .select_related("department"))
    if order.division_id:
        qs = qs.filter(division_id=order.division_id)
    out = []
    for other in qs[:500]:
        score = similarity(order.text, other.text)
        if order.address and other.address:
            score = 0.7 * score + 0.3 * similarity(order.address, other.address)
        if score >= DUPLICATE_THRESHOLD:
            out.append(Duplicate(other, round(score, 3)))
    return sorted(out, key=lambda d: -d.score)


def overdue_orders(now: dt.datetime | None = None) -> QuerySet[WorkOrder]:
    today = timezone.localdate(now) if now else timezone.localdate()
    return WorkOrder.objects.filter(status__in=WorkOrder.OPEN_STATUSES, handling_due__lt=today)
