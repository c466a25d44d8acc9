"""JSON API of administrative enforcement, under ``/api/enforcement/``.

Public: the enforcement items with their benchmarks (``GET items``), the discretion calculator (``POST discretion``)
and the published decisions (``GET public``, personal data masked). Everything else needs a signed-in user (session
with CSRF, or ``Authorization: Bearer``) holding an enforcement role in the case's department: 行政执法人员
(``enforcement_officer``), 法制审核人员 (``legal_reviewer``), 执法部门负责人 (``enforcement_head``).

Errors are ``{"code", "message", "detail"?}``: ``enforcement.unknown_item`` (404), ``enforcement.invalid_facts``
(400), ``enforcement.no_matching_level`` (422), ``enforcement.outside_benchmark`` (422; ``detail.statutory`` when the
statute is exceeded too), ``enforcement.legal_review_required`` / ``enforcement.notice_required`` / ``enforcement.hearing_pending`` /
``enforcement.hearing_request_too_late`` / ``enforcement.heavier_than_notified`` / ``enforcement.bad_state`` (409),
``enforcement.forbidden`` (403), ``enforcement.not_found`` (404), ``enforcement.invalid`` (400); 401 without sign-in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import codes_4xx

from tongban.core.auth import API_AUTH, AuthedRequest
from tongban.core.openapi import public as public_operation

from . import selectors, services
from .errors import EnforcementError, NotFound
from .models import CaseRecord, EnforcementCase, EnforcementItem, Lead

router = Router(tags=["enforcement 行政执法"])
ROUTERS = [("enforcement/", router)]


class ErrorOut(Schema):
    code: str
    message: str
    detail: Any = None


# --- items, benchmarks, discretion (public) ------------------------------------------------------------------


class LevelOut(Schema):
    level: str
    level_label: str
    facts: str
    measure_from: float
    measure_to: float | None
    conditions: dict[str, Any]
    penalty_kinds: list[str]
    penalty_labels: list[str]
    fine_min: str
    fine_max: str
    law_min: str
    law_max: str


class ItemOut(Schema):
    code: str
    name: str
    department: str | None
    department_name: str | None
    law: str
    article: str
    legal_basis: str
    basis_text: str
    measure: str
    measure_label: str
    step_limits: dict[str, int]
    levels: list[LevelOut]


def _item_out(item: EnforcementItem) -> dict[str, Any]:
    from .discretion import KIND_LABELS

    return {
        "code": item.code, "name": item.name, "department": item.department.code if item.department else None,
        "department_name": item.department.name if item.department else None, "law": item.law,
        "article": item.article, "legal_basis": item.legal_basis, "basis_text": item.basis_text,
        "measure": item.measure, "measure_label": item.measure_label, "step_limits": item.step_limits or {},
        "levels": [{"level": lv.level, "level_label": lv.get_level_display(), "facts": lv.facts,
                    "measure_from": float(lv.measure_from),
                    "measure_to": float(lv.measure_to) if lv.measure_to is not None else None,
                    "conditions": lv.conditions or {}, "penalty_kinds": lv.penalty_kinds,
                    "penalty_labels": [KIND_LABELS.get(k, k) for k in lv.penalty_kinds],
                    "fine_min": lv.fine_min, "fine_max": lv.fine_max, "law_min": lv.law_min, "law_max": lv.law_max}
                   for lv in item.levels.all()],
    }


@router.get("items", response=list[ItemOut], summary="执法事项与裁量基准（公开）")
@public_operation
def list_items(request: HttpRequest):
    """Every active enforcement item with its legal basis and benchmark levels (fine ranges: yuan, or ``10x`` =
    times the item's measure). Public, no sign-in."""
    return [_item_out(i) for i in selectors.items()]


@router.get("items/{code}", response={200: ItemOut, 404: ErrorOut}, summary="执法事项详情（公开）")
@public_operation
def get_item(request: HttpRequest, code: str):
    return _item_out(services.get_item(code))


class DiscretionIn(Schema):
    item: str
    facts: dict[str, Any]


class DiscretionOut(Schema):
    item: str
    item_name: str
    legal_basis: dict[str, str]
    level: str
    level_label: str
    level_facts: str
    measure: dict[str, Any]
    penalty_kinds: list[dict[str, str]]
    fine_min: float | None
    fine_max: float | None
    level_fine_min: float | None
    level_fine_max: float | None
    statutory_min: float | None
    statutory_max: float | None
    factors: list[dict[str, str]]
    exempt_possible: bool


@router.post("discretion", response={200: DiscretionOut, codes_4xx: ErrorOut}, summary="裁量计算（公开）")
@public_operation
def discretion(request: HttpRequest, payload: DiscretionIn):
    """The circumstance level the facts fall in, the legal basis and the allowed penalty range (with the factors
    the facts claim: 首违不罚, 从轻, 减轻, 从重). Unknown item: 404 ``enforcement.unknown_item``; a missing or bad
    measure: 400 ``enforcement.invalid_facts``; facts matching no level: 422 ``enforcement.no_matching_level``
    (``detail.field`` names the field). Public, no sign-in."""
    return services.assess(payload.item, payload.facts).as_dict()


class StaffOut(Schema):
    name: str
    certificate_no: str
    field: str
    valid_until: dt.date


class BodyOut(Schema):
    code: str
    name: str
    items: list[dict[str, str]]
    staff: list[StaffOut]


@router.get("bodies", response=list[BodyOut], summary="执法主体、执法人员与执法证（公开）")
@public_operation
def bodies(request: HttpRequest):
    """事前公开: each enforcement body with its items and its staff holding a valid certificate (name and
    certificate number). Public, no sign-in."""
    return selectors.bodies()


# --- published decisions (public) ----------------------------------------------------------------------------


class PublicOut(Schema):
    case_no: str
    party_kind: str
    party_name: str
    party_id_number: str
    item: str
    item_name: str
    legal_basis: str
    department: str
    level: str
    level_label: str
    penalty_kinds: list[str]
    penalty: str
    fine: float | None
    decided_on: dt.date | None
    published_at: dt.datetime | None


@router.get("public", response=list[PublicOut], summary="行政处罚决定公示（公开，个人信息已脱敏）")
@public_operation
def public(request: HttpRequest, limit: int = 200):
    """Published decisions, newest first, not withdrawn; a natural person's name and ID number are masked."""
    return [selectors.public_row(c) for c in selectors.published()[: max(1, min(limit, 1000))]]


# --- leads ---------------------------------------------------------------------------------------------------


class LeadIn(Schema):
    source: str = "manual"
    entity_name: str
    entity_uscc: str = ""
    item_code: str = ""
    description: str
    department_code: str = ""


class LeadOut(Schema):
    ref: str
    source: str
    source_label: str
    entity_name: str
    entity_uscc: str
    item_code: str
    description: str
    department: str | None
    status: str
    reported_at: dt.datetime


def _lead_out(lead: Lead) -> dict[str, Any]:
    return {"ref": lead.ref, "source": lead.source, "source_label": lead.get_source_display(),
            "entity_name": lead.entity_name, "entity_uscc": lead.entity_uscc, "item_code": lead.item_code,
            "description": lead.description, "department": lead.department.code if lead.department else None,
            "status": lead.status, "reported_at": lead.reported_at}


@router.get("leads", response={200: list[LeadOut], 401: ErrorOut}, auth=API_AUTH, summary="案件线索（本部门）")
def list_leads(request: AuthedRequest, status: str = ""):
    """Leads of the departments where the caller holds an enforcement role (others: an empty list)."""
    qs = selectors.leads_for(request.user)
    return [_lead_out(lead) for lead in (qs.filter(status=status) if status else qs)[:500]]


@router.post("leads", response={201: LeadOut, codes_4xx: ErrorOut}, auth=API_AUTH, summary="登记案件线索")
def create_lead(request: AuthedRequest, payload: LeadIn):
    """An officer registers a lead by hand (source ``manual``, ``complaint`` ...) for their department.
    403 ``enforcement.forbidden`` without the officer role there."""
    lead = services.report_lead(source=payload.source, entity_name=payload.entity_name,
                                entity_uscc=payload.entity_uscc, item_code=payload.item_code,
                                description=payload.description, department_code=payload.department_code,
                                actor=request.user)
    return 201, _lead_out(lead)


# --- cases ---------------------------------------------------------------------------------------------------


class CaseIn(Schema):
    item: str = ""
    lead: str = ""
    party_name: str = ""
    party_id_number: str = ""
    party_kind: str | None = None
    facts: dict[str, Any] = {}
    summary: str = ""
    department: str = ""


class ClockOut(Schema):
    limit_days: int
    elapsed: int
    remaining: int
    due: dt.date
    light: str
    suspended: bool


class CaseOut(Schema):
    case_no: str
    item: str
    item_name: str
    legal_basis: str
    department: str
    department_name: str
    party_kind: str
    party_name: str
    party_id_number: str
    summary: str
    facts: dict[str, Any]
    stage: str
    stage_label: str
    filed_on: dt.date | None
    decision_clock: ClockOut | None
    proposal: dict[str, Any]
    review_status: str
    review_opinion: str
    notified_on: dt.date | None
    hearing_deadline: dt.date | None
    hearing_requested_on: dt.date | None
    hearing_held_on: dt.date | None
    penalty_kinds: list[str]
    fine: float | None
    decision_level: str
    decided_on: dt.date | None
    served_on: dt.date | None
    executed_on: dt.date | None
    closed_on: dt.date | None
    publish_due_on: dt.date | None
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    process_instance: str


def _case_out(case: EnforcementCase) -> dict[str, Any]:
    clock = selectors.decision_clock(case)
    return {
        "case_no": case.case_no, "item": case.item.code, "item_name": case.item.name,
        "legal_basis": case.item.legal_basis, "department": case.department.code,
        "department_name": case.department.name, "party_kind": case.party_kind, "party_name": case.party_name,
        "party_id_number": case.party_id_number, "summary": case.summary, "facts": case.facts, "stage": case.stage,
        "stage_label": case.get_stage_display(), "filed_on": case.filed_on,
        "decision_clock": clock.__dict__ if clock else None, "proposal": case.proposal,
        "review_status": case.review_status, "review_opinion": case.review_opinion, "notified_on": case.notified_on,
        "hearing_deadline": case.hearing_deadline, "hearing_requested_on": case.hearing_requested_on,
        "hearing_held_on": case.hearing_held_on, "penalty_kinds": case.decision_kinds,
        "fine": float(case.fine) if case.fine is not None else None, "decision_level": case.decision_level,
        "decided_on": case.decided_on, "served_on": case.served_on, "executed_on": case.executed_on,
        "closed_on": case.closed_on, "publish_due_on": case.publish_due_on, "published_at": case.published_at,
        "withdrawn_at": case.withdrawn_at, "process_instance": case.process_instance_id,
    }


def _case(request: AuthedRequest, case_no: str) -> EnforcementCase:
    case = selectors.case_by_no(case_no)
    if case is None or not selectors.can_see(request.user, case):
        raise NotFound(f"案件 {case_no} 不存在")
    return case


@router.get("cases", response={200: list[CaseOut], 401: ErrorOut}, auth=API_AUTH, summary="行政处罚案件（本部门）")
def list_cases(request: AuthedRequest, stage: str = ""):
    """Cases of the departments where the caller holds an enforcement role (others: an empty list)."""
    qs = selectors.cases_for(request.user)
    return [_case_out(c) for c in (qs.filter(stage=stage) if stage else qs)[:500]]


@router.post("cases", response={201: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH, summary="登记案件（立案审批）")
def create_case(request: AuthedRequest, payload: CaseIn):
    """An officer registers a case, from a lead (``lead``: its ref) or by hand, with the item and (optionally) the
    facts; it waits for 立案审批 on the workflow engine. 403 without the officer role in the item's department."""
    lead = None
    if payload.lead:
        lead = Lead.objects.filter(ref=payload.lead, department_id__in=selectors.staff_department_ids(
            request.user)).first()
        if lead is None:
            raise NotFound(f"线索 {payload.lead} 不存在")
    case = services.open_case(request.user, item_code=payload.item, party_name=payload.party_name,
                              party_id_number=payload.party_id_number, party_kind=payload.party_kind,
                              facts=payload.facts, summary=payload.summary, lead=lead,
                              department_code=payload.department)
    return 201, _case_out(case)


@router.get("cases/{case_no}", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH, summary="案件详情")
def get_case(request: AuthedRequest, case_no: str):
    return _case_out(_case(request, case_no))


class FilingIn(Schema):
    approve: bool
    opinion: str = ""


@router.post("cases/{case_no}/filing", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="立案审批（部门负责人）")
def filing(request: AuthedRequest, case_no: str, payload: FilingIn):
    return _case_out(services.decide_filing(_case(request, case_no), request.user, approve=payload.approve,
                                            opinion=payload.opinion))


class FactsIn(Schema):
    facts: dict[str, Any]
    note: str = ""


@router.post("cases/{case_no}/facts", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="认定裁量情节（执法人员）")
def facts(request: AuthedRequest, case_no: str, payload: FactsIn):
    return _case_out(services.update_facts(_case(request, case_no), request.user, payload.facts, payload.note))


class AttachmentIn(Schema):
    name: str
    kind: str = "file"
    content_base64: str = ""
    uri: str = ""
    sha256: str = ""
    size: int = 0


def _attachments(items: list[AttachmentIn]) -> list[dict[str, Any]]:
    out = []
    for a in items:
        entry: dict[str, Any] = {"name": a.name, "kind": a.kind}
        if a.content_base64:
            try:
                entry["content"] = base64.b64decode(a.content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise EnforcementError(f"附件“{a.name}”的内容不是有效的 base64",
                                       detail={"field": "attachments"}) from None
        else:
            entry.update(uri=a.uri, sha256=a.sha256, size=a.size)
        out.append(entry)
    return out


class InvestigationIn(Schema):
    penalty_kinds: list[str]
    fine: float | str | None = None
    justification: str = ""
    facts: dict[str, Any] | None = None
    note: str = ""
    attachments: list[AttachmentIn] = []


@router.post("cases/{case_no}/investigation", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="调查终结，提出拟处罚意见（执法人员）")
def investigation(request: AuthedRequest, case_no: str, payload: InvestigationIn):
    """A major proposal (``conf``: fine above the amount, revocation, suspension) or one outside the benchmark with
    a 减轻/从重 justification goes to 法制审核; outside without justification: 422 ``enforcement.outside_benchmark``."""
    return _case_out(services.finish_investigation(
        _case(request, case_no), request.user, penalty_kinds=payload.penalty_kinds, fine=payload.fine,
        justification=payload.justification, facts=payload.facts, note=payload.note,
        attachments=_attachments(payload.attachments)))


class ReviewIn(Schema):
    approve: bool
    opinion: str


@router.post("cases/{case_no}/legal-review", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="法制审核（法制审核人员）")
def legal_review(request: AuthedRequest, case_no: str, payload: ReviewIn):
    return _case_out(services.legal_review(_case(request, case_no), request.user, approve=payload.approve,
                                           opinion=payload.opinion))


class NoticeIn(Schema):
    action: str = "give"  # give | hearing_request | end
    text: str = ""
    waived: bool = False
    on: dt.date | None = None


@router.post("cases/{case_no}/notice", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="告知、听证申请、告知结束（执法人员）")
def notice(request: AuthedRequest, case_no: str, payload: NoticeIn):
    """``give``: notify the intended decision (a hearing window of 5 working days when the penalty qualifies);
    ``hearing_request``: the party asked for a hearing (409 ``enforcement.hearing_request_too_late`` after the
    window); ``end``: no hearing (waived, or the window passed; 409 ``enforcement.hearing_pending`` before)."""
    case = _case(request, case_no)
    if payload.action == "give":
        case = services.give_notice(case, request.user, payload.text)
    elif payload.action == "hearing_request":
        case = services.request_hearing(case, request.user, payload.on, payload.text)
    elif payload.action == "end":
        case = services.end_notice(case, request.user, waived=payload.waived, text=payload.text)
    else:
        raise EnforcementError(f"未知的操作“{payload.action}”，应为 give、hearing_request 或 end",
                               detail={"field": "action"})
    return _case_out(case)


class HearingIn(Schema):
    transcript: str
    attachments: list[AttachmentIn] = []


@router.post("cases/{case_no}/hearing", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="听证（执法人员）")
def hearing(request: AuthedRequest, case_no: str, payload: HearingIn):
    return _case_out(services.hold_hearing(_case(request, case_no), request.user, transcript=payload.transcript,
                                           attachments=_attachments(payload.attachments)))


class ExtensionIn(Schema):
    days: int
    reason: str


@router.post("cases/{case_no}/extension", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="延长办案期限（部门负责人）")
def extension(request: AuthedRequest, case_no: str, payload: ExtensionIn):
    return _case_out(services.extend_deadline(_case(request, case_no), request.user, days=payload.days,
                                              reason=payload.reason))


class DecisionIn(Schema):
    penalty_kinds: list[str]
    fine: float | str | None = None
    justification: str = ""
    decision_text: str = ""
    facts: dict[str, Any] | None = None  # only when the case has no facts yet


@router.post("cases/{case_no}/decision", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="作出处罚决定（部门负责人）")
def decision(request: AuthedRequest, case_no: str, payload: DecisionIn):
    """Checked in this order: the benchmark (422 ``enforcement.outside_benchmark``), the
    legal review of a major decision (409 ``enforcement.legal_review_required``), the notice and hearing (409
    ``enforcement.notice_required``)."""
    return _case_out(services.decide(_case(request, case_no), request.user, penalty_kinds=payload.penalty_kinds,
                                     fine=payload.fine, justification=payload.justification,
                                     decision_text=payload.decision_text, facts=payload.facts))


class StepIn(Schema):
    note: str = ""
    attachments: list[AttachmentIn] = []


@router.post("cases/{case_no}/service", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="送达（执法人员）")
def service(request: AuthedRequest, case_no: str, payload: StepIn):
    return _case_out(services.serve(_case(request, case_no), request.user, method=payload.note or "直接送达",
                                    attachments=_attachments(payload.attachments)))


@router.post("cases/{case_no}/execution", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="执行（执法人员）")
def execution(request: AuthedRequest, case_no: str, payload: StepIn):
    return _case_out(services.execute(_case(request, case_no), request.user, note=payload.note,
                                      attachments=_attachments(payload.attachments)))


@router.post("cases/{case_no}/closure", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="结案（执法人员）")
def closure(request: AuthedRequest, case_no: str, payload: StepIn):
    return _case_out(services.close(_case(request, case_no), request.user, payload.note))


class RecordIn(Schema):
    action: str
    text: str = ""
    attachments: list[AttachmentIn] = []
    amends: int | None = None


class RecordOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    step: str
    action: str
    text: str
    data: dict[str, Any]
    attachments: list[dict[str, Any]]
    amends: int | None


def _record_out(r: CaseRecord) -> dict[str, Any]:
    return {"seq": r.seq, "at": r.at, "actor": r.actor_label, "step": r.step, "action": r.action, "text": r.text,
            "data": r.data, "attachments": r.attachments, "amends": r.amends.seq if r.amends else None}


@router.get("cases/{case_no}/records", response={200: list[RecordOut], codes_4xx: ErrorOut}, auth=API_AUTH,
            summary="执法全过程记录")
def records(request: AuthedRequest, case_no: str):
    return [_record_out(r) for r in selectors.records(_case(request, case_no))]


@router.post("cases/{case_no}/records", response={201: RecordOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="追加记录或更正（不可修改原记录）")
def add_record(request: AuthedRequest, case_no: str, payload: RecordIn):
    """Append a record (photos, inspection records by content; audio/video by ``uri`` + ``sha256``); with
    ``amends`` it corrects an earlier record by a new one. Officers, reviewers and heads of the department."""
    case = _case(request, case_no)
    if payload.amends:
        record = services.amend_record(case, request.user, payload.amends, payload.text,
                                       _attachments(payload.attachments))
    else:
        record = services.append_record(case, request.user, payload.action, payload.text,
                                        _attachments(payload.attachments))
    return 201, _record_out(record)


class WithdrawIn(Schema):
    reason: str


@router.post("cases/{case_no}/publication", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="公示决定（执法人员）")
def publication(request: AuthedRequest, case_no: str):
    return _case_out(services.publish(_case(request, case_no), request.user))


@router.post("cases/{case_no}/withdrawal", response={200: CaseOut, codes_4xx: ErrorOut}, auth=API_AUTH,
             summary="撤下公示（部门负责人）")
def withdrawal(request: AuthedRequest, case_no: str, payload: WithdrawIn):
    return _case_out(services.withdraw(_case(request, case_no), request.user, payload.reason))
