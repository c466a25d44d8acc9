"""Reads of the enforcement context: items and benchmarks, leads, cases, their clocks, records and publications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role, organisations_for_role

from . import conf
from .models import BenchmarkLevel, CaseRecord, Certificate, EnforcementCase, EnforcementItem, Lead

STAFF_ROLES = (Role.ENFORCEMENT_OFFICER, Role.LEGAL_REVIEWER, Role.ENFORCEMENT_HEAD)
#: 公示期限 (国务院办公厅《关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见》):
#: administrative penalty decisions within 7 working days of the decision, other decisions within 20.
PUBLISH_PENALTY_DAYS = 7
PUBLISH_OTHER_DAYS = 20


def items(active_only: bool = True) -> QuerySet[EnforcementItem]:
    qs = EnforcementItem.objects.select_related("department").prefetch_related(
        Prefetch("levels", queryset=BenchmarkLevel.objects.order_by("position", "pk")))
    return qs.filter(active=True) if active_only else qs


def item(code: str) -> EnforcementItem | None:
    return items(active_only=False).filter(code=code).first()


def departments_for(user: User, role: str) -> QuerySet[Organisation]:
    if user.is_superuser:
        return Organisation.objects.all()
    return organisations_for_role(user, role)


def staff_department_ids(user: User) -> set[int]:
    """Departments in which the user holds any enforcement role (all of them for a superuser)."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Organisation.objects.values_list("pk", flat=True))
    ids: set[int] = set()
    for role in STAFF_ROLES:
        ids |= set(organisations_for_role(user, role).values_list("pk", flat=True))
    return ids


def is_enforcement_staff(user: User) -> bool:
    return user.is_authenticated and any(has_role(user, role) for role in STAFF_ROLES)


def cases_for(user: User) -> QuerySet[EnforcementCase]:
    """Cases of the departments where the user holds an enforcement role."""
    return (EnforcementCase.objects.filter(department_id__in=staff_department_ids(user))
            .select_related("item", "department"))


def leads_for(user: User) -> QuerySet[Lead]:
    """Leads of the user's departments (a superuser also sees leads no department could be found for)."""
    if user.is_authenticated and user.is_superuser:
        return Lead.objects.select_related("department")
    return Lead.objects.filter(department_id__in=staff_department_ids(user)).select_related("department")


def case_by_no(case_no: str) -> EnforcementCase | None:
    return EnforcementCase.objects.select_related("item", "department", "lead").filter(case_no=case_no).first()


def can_see(user: User, case: EnforcementCase) -> bool:
    return case.department_id in staff_department_ids(user)


def records(case: EnforcementCase) -> QuerySet[CaseRecord]:
    return case.records.select_related("amends").order_by("seq")


@dataclass(frozen=True)
class DecisionClock:
    """办案期限: 《行政处罚法》第六十条 (自立案之日起九十日内作出决定), natural days, hearing periods excluded."""

    limit_days: int
    elapsed: int
    remaining: int
    due: date
    light: str
    suspended: bool


def suspended_days(case: EnforcementCase, on: date) -> int:
    total = 0
    for s in case.suspensions or []:
        start = date.fromisoformat(s["start"])
        end = date.fromisoformat(s["end"]) if s.get("end") else on
        end = min(end, on)
        if end >= start:
            total += (end - start).days + 1
    return total


def decision_clock(case: EnforcementCase, on: date | None = None) -> DecisionClock | None:
    if case.filed_on is None:
        return None
    on = on or (case.decided_on or timezone.localdate())
    limit = conf.decision_days() + case.extension_days
    paused = suspended_days(case, on)
    elapsed = max(0, (on - case.filed_on).days - paused)
    remaining = limit - elapsed
    open_pause = any(not s.get("end") for s in case.suspensions or [])
    due = case.filed_on + timedelta(days=limit + paused)
    light = "red" if remaining < 0 else ("yellow" if elapsed >= limit * 0.8 else "green")
    return DecisionClock(limit, elapsed, remaining, due, light, open_pause)


def publish_due_on(decided_on: date, is_penalty: bool, cal: WorkingCalendar | None = None) -> date:
    from tongban.core.calendar import default_calendar

    cal = cal or default_calendar()
    return cal.add_working_days(decided_on, PUBLISH_PENALTY_DAYS if is_penalty else PUBLISH_OTHER_DAYS)


def published() -> QuerySet[EnforcementCase]:
    """Decisions on the public disclosure page: published and not withdrawn (one query with their items)."""
    return (EnforcementCase.objects.filter(published_at__isnull=False, withdrawn_at__isnull=True)
            .select_related("item", "department").order_by("-published_at", "-pk"))


def overdue_publications(on: date | None = None) -> QuerySet[EnforcementCase]:
    """Decided, not yet published, past the publication deadline (公示逾期)."""
    on = on or timezone.localdate()
    return EnforcementCase.objects.filter(decided_on__isnull=False, published_at__isnull=True,
                                          publish_due_on__lt=on).select_related("department", "item")


MASK = "*"


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧***."""
    name = name.strip()
    return name[:1] + MASK * max(1, len(name) - 1) if name else ""


def mask_id(number: str) -> str:
    """An ID number keeps its first 6 and last 4 characters."""
    number = number.strip()
    if len(number) <= 10:
        return MASK * len(number)
    return number[:6] + MASK * (len(number) - 10) + number[-4:]


def public_row(case: EnforcementCase) -> dict[str, Any]:
    """A published decision with personal data masked: a natural person's name and ID number are masked; an
    enterprise's name and unified social credit code are public (企业信息公示)."""
    natural = case.party_kind == EnforcementCase.PartyKind.NATURAL
    return {
        "case_no": case.case_no,
        "party_kind": case.party_kind,
        "party_name": mask_name(case.party_name) if natural else case.party_name,
        "party_id_number": mask_id(case.party_id_number) if natural else case.party_id_number,
        "item": case.item.code,
        "item_name": case.item.name,
        "legal_basis": case.item.legal_basis,
        "department": case.department.name,
        "level": case.decision_level,
        "level_label": case.get_decision_level_display() if case.decision_level else "",
        "penalty_kinds": list(case.decision_kinds),
        "penalty": case.kinds_display(),
        "fine": float(case.fine) if case.fine is not None else None,
        "decided_on": case.decided_on,
        "published_at": case.published_at,
    }


def bodies(on: date | None = None) -> list[dict[str, Any]]:
    """事前公开: the enforcement bodies (departments with enforcement items or certified staff), their items and their
    staff with valid certificates (name and certificate number only). Two queries."""
    on = on or timezone.localdate()
    by_org: dict[int, dict[str, Any]] = {}

    def body(org: Organisation) -> dict[str, Any]:
        return by_org.setdefault(org.pk, {"code": org.code, "name": org.name, "items": [], "staff": []})

    for item in EnforcementItem.objects.filter(active=True, department__isnull=False).select_related("department"):
        body(item.department)["items"].append({"code": item.code, "name": item.name})  # type: ignore[arg-type]
    for cert in (Certificate.objects.filter(active=True, valid_until__gte=on)
                 .select_related("user", "department").order_by("number")):
        body(cert.department)["staff"].append({"name": str(cert.user), "certificate_no": cert.number,
                                               "field": cert.field, "valid_until": cert.valid_until})
    return sorted(by_org.values(), key=lambda b: b["code"])
