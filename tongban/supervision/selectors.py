"""Supervision read functions: entities, credit, queues of a supervisor, plans, draws, the public draw view."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import organisations_for_role
from tongban.workflow import selectors as workflow_selectors

from .errors import NotFound
from .models import (
    CreditEvent,
    CreditRepair,
    Draw,
    DrawPlan,
    EnforcementLead,
    Inspection,
    Inspector,
    LogEntry,
    MarketEntity,
    PostCheck,
    SupervisionRecord,
)

RECEIPT_WORKING_DAYS = 5  # 审管联动: a result is received (认领) within 5 working days
POST_CHECK_WORKING_DAYS = 20  # 告知承诺: the post-check within 20 working days of the approval
INSPECTION_WORKING_DAYS = 20  # 双随机: a drawn entity is inspected within 20 working days
LEAD_WORKING_DAYS = 10  # an enforcement lead is handled within 10 working days


def due_after(working_days: int, start: date | None = None) -> date:
    """The date ``working_days`` working days after ``start`` (today) on the statutory calendar."""
    return workflow_selectors.working_day_due(start or timezone.localdate(), working_days)


def light(start: date, due: date, today: date | None = None, done: bool = False) -> str:
    """The clock light of a deadline on the statutory working-day calendar: green, yellow or red."""
    if done:
        return "green"
    return workflow_selectors.working_day_light(start, due, today or timezone.localdate())


# --- entities and credit ---------------------------------------------------------------------------------------

def get_entity(uscc: str) -> MarketEntity:
    entity = MarketEntity.objects.select_related("division").filter(uscc=(uscc or "").strip().upper()).first()
    if entity is None:
        raise NotFound(f"市场主体 {uscc} 不存在")
    return entity


def find_entity(uscc: str) -> MarketEntity | None:
    return MarketEntity.objects.filter(uscc=(uscc or "").strip().upper()).first()


def entities(q: str = "", division: str = "", grade: str = "") -> QuerySet[MarketEntity]:
    qs = MarketEntity.objects.select_related("division")
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(uscc__startswith=q.upper()))
    if division:
        qs = qs.filter(division__code=division)
    if grade:
        qs = qs.filter(grade=grade)
    return qs


def credit_of(uscc: str) -> dict[str, Any]:
    entity = get_entity(uscc)
    return {"uscc": entity.uscc, "name": entity.name, "grade": entity.grade, "score": entity.credit_score,
            "reasons": list(entity.grade_reasons or []),
            "graded_at": entity.graded_at.isoformat() if entity.graded_at else None}


def credit_events(entity: MarketEntity) -> QuerySet[CreditEvent]:
    return entity.credit_events.select_related("department").prefetch_related("repairs")


def can_supervise(user: User, department: Organisation | int) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    pk = department.pk if isinstance(department, Organisation) else department
    return organisations_for_role(user, Role.SUPERVISOR).filter(pk=pk).exists()


def supervised_departments(user: User) -> QuerySet[Organisation]:
    if user.is_authenticated and user.is_superuser:
        return Organisation.objects.all()
    return organisations_for_role(user, Role.SUPERVISOR)


def is_supervisor(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or supervised_departments(user).exists())


def can_see_entity(user: User, entity: MarketEntity) -> bool:
    """Supervisors and the entity itself (a legal-person account with its code) see its page."""
    if not user.is_authenticated:
        return False
    return is_supervisor(user) or (bool(user.id_number) and user.id_number.upper() == entity.uscc)


# --- a supervisor's queues -----------------------------------------------------------------------------------

def records_for(user: User) -> QuerySet[SupervisionRecord]:
    return SupervisionRecord.objects.filter(department__in=supervised_departments(user)).select_related(
        "department", "entity")


def post_checks_for(user: User) -> QuerySet[PostCheck]:
    return PostCheck.objects.filter(department__in=supervised_departments(user)).select_related("department")


def post_checks_of_application(ref: str) -> QuerySet[PostCheck]:
    return PostCheck.objects.filter(application_ref=ref).select_related("department")


def inspections_for(user: User) -> QuerySet[Inspection]:
    mine = Q(department__in=supervised_departments(user))
    if user.is_authenticated:
        mine |= Q(inspectors__user=user)
    return Inspection.objects.filter(mine).distinct().select_related("entity", "draw__plan", "department")


def leads_for(user: User) -> QuerySet[EnforcementLead]:
    return EnforcementLead.objects.filter(department__in=supervised_departments(user)).select_related("department")


def repairs_for(user: User) -> QuerySet[CreditRepair]:
    """Pending repairs of events recorded by the user's departments (or of entities they supervise)."""
    depts = supervised_departments(user)
    return CreditRepair.objects.filter(Q(event__department__in=depts)
                                       | Q(event__department__isnull=True, event__entity__supervising_departments__in=depts)
                                       ).distinct().select_related("event__entity")


# --- plans, inspectors, draws --------------------------------------------------------------------------------

def plans() -> QuerySet[DrawPlan]:
    return DrawPlan.objects.select_related("department")


def get_plan(code: str) -> DrawPlan:
    plan = DrawPlan.objects.select_related("department").filter(code=code).first()
    if plan is None:
        raise NotFound(f"抽查计划 {code} 不存在")
    return plan


def get_draw(draw_id: int | str) -> Draw:
    try:
        pk = int(draw_id)
    except (TypeError, ValueError):
        raise NotFound(f"抽取记录 {draw_id} 不存在") from None
    draw = Draw.objects.select_related("plan__department").filter(pk=pk).first()
    if draw is None:
        raise NotFound(f"抽取记录 {draw_id} 不存在")
    return draw


def draws(plan: DrawPlan | None = None) -> QuerySet[Draw]:
    qs = Draw.objects.select_related("plan__department")
    return qs.filter(plan=plan) if plan is not None else qs


def inspectors_of(department: Organisation) -> QuerySet[Inspector]:
    return Inspector.objects.filter(department=department, active=True).select_related("division")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the family name stays (names of inspectors are published masked)."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def public_draw(draw: Draw) -> dict[str, Any]:
    """The published view of a draw (公开): everything needed to recompute it, inspectors' names masked, and the
    results of the checks once published."""
    inspections = {i.entity.uscc: i for i in draw.inspections.select_related("entity")}
    inspectors = {i.code: i for i in Inspector.objects.filter(code__in={c for row in draw.outcome
                                                                          for c in row["inspectors"]})}
    entities = []
    for row in draw.outcome:
        insp = inspections.get(row["uscc"])
        entities.append({
            "uscc": row["uscc"], "name": insp.entity.name if insp else "", "grade": row["grade"],
            "inspectors": [{"code": c, "name": mask_name(inspectors[c].name) if c in inspectors else ""}
                           for c in row["inspectors"]],
            "result": ({"status": insp.status, "status_name": insp.get_status_display(), "findings": insp.findings,
                        "checked_at": insp.checked_at.isoformat() if insp.checked_at else None}
                       if insp is not None and insp.published else None),
        })
    plan = draw.plan
    entry = LogEntry.objects.filter(index=draw.log_index).first() if draw.log_index is not None else None
    return {
        "id": draw.pk, "drawn_at": draw.drawn_at.isoformat(),
        "plan": {"code": plan.code, "name": plan.name, "department": plan.department.code,
                 "department_name": plan.department.name, "ratios": plan.ratios,
                 "period": [plan.period_start.isoformat(), plan.period_end.isoformat()],
                 "checklist": plan.checklist},
        "seed": draw.seed, "algorithm": draw.algorithm,
        "inputs_sha256": draw.inputs_sha256, "outcome_sha256": draw.outcome_sha256,
        "log": {"index": entry.index, "leaf_hash": entry.leaf_hash, "root": entry.root} if entry else None,
        "entities": entities,
    }


def log_entries() -> QuerySet[LogEntry]:
    return LogEntry.objects.all()
