"""JSON API of supervision, mounted at /api/supervision/ (and the post-check endpoints also at their old address
/api/post-checks, where applications had them before issue 10).

Public (双随机一公开, credit disclosure): ``plans``, ``draws/{id}``, ``draws/{id}/verify``, ``entities/{uscc}/credit``,
``log``. Supervisors (监管执法人员) of the department concerned: everything else; an entity also reads its own page
data and applies for credit repair. Errors: ``{"code": "supervision.<...>", "message": "...", "detail": {"field"}}``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from tongban.core.auth import API_AUTH
from tongban.core.openapi import public

from . import selectors, services
from .errors import Forbidden, NotFound
from .models import CreditEvent, CreditRepair, Inspection, PostCheck, SupervisionRecord

router = Router(tags=["supervision 事中事后监管"], auth=API_AUTH)
legacy = Router(tags=["supervision 事中事后监管"], auth=API_AUTH)
ROUTERS = [("/supervision", router), ("", legacy)]


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] | None = None


class PostCheckIn(Schema):
    passed: bool
    result: str


class InspectionIn(Schema):
    passed: bool
    findings: str
    publish: bool = True


class PlanIn(Schema):
    code: str
    name: str
    department: str
    ratios: dict[str, Any]
    period_start: str
    period_end: str
    checklist: list[str]
    item_codes: list[str] = []
    industries: list[str] = []
    division_codes: list[str] = []
    inspectors_per_entity: int = 2


class DrawIn(Schema):
    seed: str = ""


class RepairIn(Schema):
    reason: str


class ReviewIn(Schema):
    approve: bool
    note: str = ""


PUBLIC_ERRORS: dict[int, Any] = {404: ErrorOut}
AUTH_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _require_supervisor(request: HttpRequest) -> None:
    if not selectors.is_supervisor(request.user):
        raise Forbidden("仅供监管执法人员使用")


def _record(r: SupervisionRecord) -> dict[str, Any]:
    return {"id": r.pk, "application_ref": r.application_ref, "item_code": r.item_code, "item_name": r.item_name,
            "kind": r.kind, "subject_name": r.subject_name, "uscc": r.subject_id_number,
            "department": r.department.code, "follow_up": r.follow_up, "created_at": r.created_at.isoformat(),
            "receipt_due": r.receipt_due.isoformat(), "status": r.status,
            "light": selectors.light(r.created_at.date(), r.receipt_due,
                                     done=r.status == SupervisionRecord.Status.RECEIVED)}


def _check(p: PostCheck) -> dict[str, Any]:
    return {"id": p.pk, "application_ref": p.application_ref, "title": p.title, "department": p.department.code,
            "subject_name": p.subject_name, "due_on": p.due_on.isoformat(), "status": p.status, "result": p.result,
            "light": selectors.light(p.created_at.date(), p.due_on, done=p.status != PostCheck.Status.PENDING)}


# --- public ------------------------------------------------------------------------------------------------------

@router.get("/entities/{uscc}/credit", summary="信用等级与理由（公开）", auth=None, response={200: dict[str, Any], **PUBLIC_ERRORS})
@public
def entity_credit(request: HttpRequest, uscc: str) -> dict[str, Any]:
    """Public credit disclosure: the grade (A–D) and the reasons. 404 ``supervision.not_found``."""
    return selectors.credit_of(uscc)


@router.get("/plans", summary="双随机抽查计划（公开）", auth=None, response={200: list[dict[str, Any]]})
@public
def plans(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"code": p.code, "name": p.name, "department": p.department.code, "department_name": p.department.name,
             "ratios": p.ratios, "item_codes": p.item_codes, "industries": p.industries,
             "division_codes": p.division_codes, "period": [p.period_start.isoformat(), p.period_end.isoformat()],
             "checklist": p.checklist, "inspectors_per_entity": p.inspectors_per_entity}
            for p in selectors.plans()]


@router.get("/draws/{draw_id}", summary="抽取结果（公开，检查人员姓名脱敏）", auth=None, response={200: dict[str, Any], **PUBLIC_ERRORS})
@public
def draw_detail(request: HttpRequest, draw_id: int) -> dict[str, Any]:
    """Plan, seed, algorithm, entities drawn, inspectors per entity (masked), results when published; the inputs
    are at ``/draws/{id}/inputs``. 404 ``supervision.not_found``."""
    return selectors.public_draw(selectors.get_draw(draw_id))


@router.get("/draws/{draw_id}/inputs", summary="抽取输入快照（公开，供复算）", auth=None, response={200: dict[str, Any], **PUBLIC_ERRORS})
@public
def draw_inputs(request: HttpRequest, draw_id: int) -> dict[str, Any]:
    draw = selectors.get_draw(draw_id)
    return {"id": draw.pk, "seed": draw.seed, "algorithm": draw.algorithm, "inputs": draw.inputs,
            "inputs_sha256": draw.inputs_sha256}


@router.get("/draws/{draw_id}/verify", summary="按公开种子与输入复算抽取结果", auth=None, response={200: dict[str, Any], **PUBLIC_ERRORS})
@public
def draw_verify(request: HttpRequest, draw_id: int) -> dict[str, Any]:
    difference = services.redraw(selectors.get_draw(draw_id))
    return {"identical": difference is None, "difference": difference}


@router.get("/log", summary="监管日志树头（Merkle）", auth=None, response={200: dict[str, Any]})
@public
def log_head(request: HttpRequest) -> dict[str, Any]:
    last = selectors.log_entries().order_by("-index").first()
    return {"size": last.index + 1 if last else 0, "root": last.root if last else None}


# --- supervisors -------------------------------------------------------------------------------------------------

@router.get("/entities", summary="市场主体名录（监管人员）", response={200: list[dict[str, Any]], **AUTH_ERRORS})
def entities(request: HttpRequest, q: str = "", grade: str = "", division: str = "") -> list[dict[str, Any]]:
    """401 without sign-in; 403 ``supervision.forbidden`` for non-supervisors. At most 200 rows."""
    _require_supervisor(request)
    return [{"uscc": e.uscc, "name": e.name, "kind": e.kind, "division": e.division.code, "industry": e.industry,
             "grade": e.grade, "status": e.status}
            for e in selectors.entities(q, division, grade)[:200]]


@router.get("/entities/{uscc}", summary="市场主体详情（监管人员或主体本身）", response={200: dict[str, Any], **AUTH_ERRORS})
def entity_detail(request: HttpRequest, uscc: str) -> dict[str, Any]:
    entity = selectors.get_entity(uscc)
    if not selectors.can_see_entity(request.user, entity):
        raise NotFound(f"市场主体 {uscc} 不存在")
    return {"uscc": entity.uscc, "name": entity.name, "kind": entity.kind, "address": entity.address,
            "division": entity.division.code, "industry": entity.industry,
            "departments": list(entity.supervising_departments.values_list("code", flat=True)),
            "licences": entity.licences, "grade": entity.grade, "score": entity.credit_score,
            "reasons": entity.grade_reasons,
            "events": [{"id": e.pk, "kind": e.kind, "points": e.points, "description": e.description,
                        "occurred_on": e.occurred_on.isoformat(), "repaired": e.repaired}
                       for e in selectors.credit_events(entity)]}


@router.get("/records", summary="审管联动：待认领与已认领的审批结果", response={200: list[dict[str, Any]], **AUTH_ERRORS})
def records(request: HttpRequest, status: str = "") -> list[dict[str, Any]]:
    qs = selectors.records_for(request.user)
    if status:
        qs = qs.filter(status=status)
    return [_record(r) for r in qs[:300]]


@router.post("/records/{record_id}/receive", summary="认领审批结果", response={200: dict[str, Any], **WRITE_ERRORS})
def receive(request: HttpRequest, record_id: int) -> dict[str, Any]:
    """403 ``supervision.forbidden`` (not this department's supervisor), 409 ``supervision.already_received``."""
    record = SupervisionRecord.objects.filter(pk=record_id).first()
    if record is None:
        raise NotFound("记录不存在")
    return _record(services.receive_record(record, request.user))


@router.get("/post-checks", summary="事后核查任务（告知承诺）", response={200: list[dict[str, Any]], **AUTH_ERRORS})
def post_checks(request: HttpRequest) -> list[dict[str, Any]]:
    return [_check(p) for p in selectors.post_checks_for(request.user)[:300]]


@router.post("/post-checks/{check_id}", summary="完成事后核查（不通过：撤销审批与证照、记入信用、移送执法线索）",
             response={200: dict[str, Any], **WRITE_ERRORS})
def complete_post_check(request: HttpRequest, check_id: int, payload: PostCheckIn) -> dict[str, Any]:
    """400 ``post_check.result_required``, 403 ``post_check.forbidden``, 409 ``post_check.done``."""
    check = PostCheck.objects.filter(pk=check_id).first()
    if check is None:
        raise NotFound("核查任务不存在")
    check = services.complete_post_check(check, request.user, passed=payload.passed, result=payload.result)
    return {"id": check.pk, "status": check.status,
            "application_status": "revoked" if check.status == PostCheck.Status.FAILED else "approved"}


legacy.add_api_operation("/post-checks", ["GET"], post_checks, summary="事后核查任务（旧地址，同 /supervision/post-checks）",
                         response={200: list[dict[str, Any]], **AUTH_ERRORS}, operation_id="legacy_post_checks")
legacy.add_api_operation("/post-checks/{check_id}", ["POST"], complete_post_check,
                         summary="完成事后核查（旧地址，同 /supervision/post-checks/{check_id}）",
                         response={200: dict[str, Any], **WRITE_ERRORS}, operation_id="legacy_complete_post_check")


@router.get("/leads", summary="执法线索与风险预警（本部门）", response={200: list[dict[str, Any]], **AUTH_ERRORS})
def leads(request: HttpRequest, source: str = "") -> list[dict[str, Any]]:
    """The enforcement leads of the caller's departments as supervisor (``source``: post_check, inspection,
    warning), with their deadline light."""
    qs = selectors.leads_for(request.user)
    if source:
        qs = qs.filter(source=source)
    return [{"id": x.pk, "source": x.source, "uscc": x.entity.uscc if x.entity else None, "name": x.subject_name,
             "department": x.department.code, "description": x.description, "status": x.status,
             "due_on": x.due_on.isoformat() if x.due_on else None,
             "light": selectors.light(x.created_at.date(), x.due_on or x.created_at.date(), done=x.status != "open")}
            for x in qs.select_related("entity")[:300]]


@router.post("/plans", summary="制定或修改抽查计划", response={200: dict[str, Any], **WRITE_ERRORS})
def save_plan(request: HttpRequest, payload: PlanIn) -> dict[str, Any]:
    """422 ``supervision.invalid`` / ``supervision.ratio_out_of_range`` / ``supervision.unknown_department`` /
    ``supervision.unknown_item`` / ``supervision.no_eligible_inspectors`` with ``detail.field``."""
    _require_supervisor(request)
    plan = services.save_plan(**payload.dict(), actor=request.user)
    return {"code": plan.code, "department": plan.department.code, "ratios": plan.ratios}


@router.post("/plans/{code}/draw", summary="按计划抽取（双随机）", response={200: dict[str, Any], **WRITE_ERRORS})
def draw(request: HttpRequest, code: str, payload: DrawIn) -> dict[str, Any]:
    """403 for other departments; 422 ``supervision.draw_refused`` (fewer than two inspectors after 回避)."""
    d = services.run_draw(selectors.get_plan(code), seed=payload.seed or None, actor=request.user)
    return {"id": d.pk, "seed": d.seed, "algorithm": d.algorithm, "entities": len(d.outcome)}


@router.get("/inspections", summary="我的抽查检查任务", response={200: list[dict[str, Any]], **AUTH_ERRORS})
def inspections(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"id": i.pk, "draw": i.draw_id, "plan": i.draw.plan.code, "uscc": i.entity.uscc, "name": i.entity.name,
             "due_on": i.due_on.isoformat(), "status": i.status, "findings": i.findings}
            for i in selectors.inspections_for(request.user)[:300]]


@router.post("/inspections/{inspection_id}", summary="登记并公示检查结果", response={200: dict[str, Any], **WRITE_ERRORS})
def record_inspection(request: HttpRequest, inspection_id: int, payload: InspectionIn) -> dict[str, Any]:
    inspection = Inspection.objects.filter(pk=inspection_id).first()
    if inspection is None:
        raise NotFound("检查任务不存在")
    i = services.record_inspection(inspection, request.user, passed=payload.passed, findings=payload.findings,
                                   publish=payload.publish)
    return {"id": i.pk, "status": i.status, "published": i.published}


@router.post("/credit-events/{event_id}/repair", summary="申请信用修复", response={200: dict[str, Any], **WRITE_ERRORS})
def apply_repair(request: HttpRequest, event_id: int, payload: RepairIn) -> dict[str, Any]:
    """The entity itself or its supervising department; 409 ``supervision.repair_pending`` / ``repair_done``."""
    event = CreditEvent.objects.select_related("entity").filter(pk=event_id).first()
    if event is None or not (selectors.can_see_entity(request.user, event.entity)):
        raise NotFound("信用记录不存在")
    repair = services.apply_repair(event, request.user, payload.reason)
    return {"id": repair.pk, "status": repair.status}


@router.post("/repairs/{repair_id}/review", summary="审核信用修复", response={200: dict[str, Any], **WRITE_ERRORS})
def review_repair(request: HttpRequest, repair_id: int, payload: ReviewIn) -> dict[str, Any]:
    repair = CreditRepair.objects.filter(pk=repair_id).first()
    if repair is None:
        raise NotFound("修复申请不存在")
    repair = services.review_repair(repair, request.user, approve=payload.approve, note=payload.note)
    entity = repair.event.entity
    entity.refresh_from_db()
    return {"id": repair.pk, "status": repair.status, "grade": entity.grade}
