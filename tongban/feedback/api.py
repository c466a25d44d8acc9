"""JSON API of the feedback context: 好差评 ratings (``/api/ratings``), 12345 work orders (``/api/hotline``) and
third-party evaluation (``/api/evaluation``).

Security: ``GET /api/ratings/stats``, ``/api/ratings/ranking`` and ``/api/hotline/knowledge`` are public; every
other operation needs a session (CSRF-checked writes) or a bearer token. Errors are ``{"code", "message",
"detail"?}`` from the one core handler: ``feedback.already_rated`` (409), ``feedback.not_your_service`` (403),
``feedback.rating_window_closed`` (422), ``feedback.invalid`` (422, ``detail.field`` names the field),
``feedback.import_bad_row`` (422, ``detail.row`` and ``detail.field``), ``feedback.forbidden`` (403),
``feedback.not_found`` (404), ``feedback.bad_state`` (409).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from tongban.core.auth import API_AUTH
from tongban.core.openapi import public
from tongban.core.services import audit

from . import evaluation, selectors, services
from .errors import FeedbackError, Forbidden
from .models import Rating, Rectification, ServiceRecord, WorkOrder

ratings = Router(tags=["feedback 好差评"])
hotline = Router(tags=["feedback 12345热线"])
evaluation_router = Router(tags=["feedback 第三方评估"], auth=API_AUTH)
ROUTERS = [("/ratings", ratings), ("/hotline", hotline), ("/evaluation", evaluation_router)]

MAX_LIST = 200
MAX_IMPORT_BYTES = 10 * 1024 * 1024


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] | None = None


AUTHED = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- ratings ----------------------------------------------------------------------------------------------------


class RatingIn(Schema):
    service: str
    level: int
    indicators: dict[str, int] = {}
    comment: str = ""
    channel: str = Rating.Channel.API
    real_name: bool = True


class RatingOut(Schema):
    id: int
    service: str
    level: int
    level_label: str
    indicators: dict[str, int]
    comment: str
    channel: str
    real_name: bool
    department: str
    rectification: str | None


def _rating_out(r: Rating) -> dict[str, Any]:
    rect = Rectification.objects.filter(rating=r).values_list("status", flat=True).first()
    return {"id": r.pk, "service": r.service.ref, "level": r.level, "level_label": r.get_level_display(),
            "indicators": r.indicators, "comment": r.comment, "channel": r.channel, "real_name": r.real_name,
            "department": r.department.code, "rectification": rect}


@ratings.post("", response={201: RatingOut, **AUTHED}, auth=API_AUTH, summary="评价一项本人的服务（每项一次）")
def rate(request: HttpRequest, payload: RatingIn):
    """Rate one of the caller's services: 201; a second rating of the same service is 409
    ``feedback.already_rated``; someone else's service 403 ``feedback.not_your_service``; after the rating window
    422 ``feedback.rating_window_closed``."""
    rating = services.rate(request.user, payload.service, payload.level, indicators=payload.indicators,
                           comment=payload.comment, channel=payload.channel, real_name=payload.real_name)
    return 201, _rating_out(rating)


class RatingLevelOut(Schema):
    level: int
    label: str
    count: int


class StatsOut(Schema):
    org: str
    org_name: str
    item_code: str
    total: int
    levels: list[RatingLevelOut]
    bad: int
    bad_real_name: int
    satisfaction_rate: float | None
    rectified: int
    revisited: int
    appealed: int
    rectified_share: float | None
    revisited_share: float | None


@ratings.get("/stats", response={200: StatsOut, 404: ErrorOut}, auth=None, summary="好差评统计（公开）")
@public
def stats(request: HttpRequest, org: str = "", item: str = ""):
    """Counts per level, satisfaction rate, and the share of real-name bad ratings rectified and revisited, for an
    organisation (department, service centre or window, by code) and/or an item. Public."""
    return selectors.rating_stats(org_code=org, item_code=item)


class RankOut(Schema):
    code: str
    name: str
    total: int
    bad: int
    satisfaction_rate: float | None


@ratings.get("/ranking", response={200: list[RankOut], 422: ErrorOut}, auth=None,
             summary="各部门/窗口/事项好差评（公开）")
@public
def ranking(request: HttpRequest, by: str = "department"):
    if by not in ("department", "window", "item"):
        raise FeedbackError("by 须为 department、window 或 item", detail={"field": "by"})
    return selectors.ranking(by)


class ServiceOut(Schema):
    ref: str
    kind: str
    item_name: str
    department: str
    department_name: str
    window: str
    served_at: str
    rate_until: str
    rating: int | None


def _service_out(s: ServiceRecord) -> dict[str, Any]:
    rating = getattr(s, "rating", None)
    return {"ref": s.ref, "kind": s.kind, "item_name": s.item_name, "department": s.department.code,
            "department_name": s.department.name, "window": s.window.name if s.window_id else "",
            "served_at": s.served_at.isoformat(), "rate_until": s.rate_until.isoformat(),
            "rating": rating.level if rating else None}


@ratings.get("/services", response={200: list[ServiceOut], 401: ErrorOut}, auth=API_AUTH,
             summary="本人可评价的服务")
def my_services(request: HttpRequest):
    return [_service_out(s) for s in selectors.services_for_person(request.user)[:MAX_LIST]]


class WindowServiceIn(Schema):
    window: str
    department: str
    kind: str = ServiceRecord.Kind.WINDOW_VISIT
    person_name: str = ""
    person_id_number: str = ""
    item_code: str = ""


class WindowServiceOut(Schema):
    ref: str
    pad_url: str


@ratings.post("/window-services", response={201: WindowServiceOut, **AUTHED}, auth=API_AUTH,
              summary="窗口登记一次服务，返回评价器链接（窗口人员）")
def window_service(request: HttpRequest, payload: WindowServiceIn):
    """A window clerk records a visit, one-time notice or refusal at their window; the window's rating pad opens
    ``pad_url`` (valid 30 minutes) so the person rates at once. 403 for another window."""
    record = services.record_window_service(request.user, window=payload.window, department=payload.department,
                                            kind=payload.kind, person_name=payload.person_name,
                                            person_id_number=payload.person_id_number, item_code=payload.item_code)
    return 201, {"ref": record.ref, "pad_url": f"/feedback/pad/{services.pad_token(record)}/"}


class RectificationOut(Schema):
    id: int
    service: str
    item_name: str
    department: str
    level: int
    comment: str
    status: str
    status_label: str
    due_on: str | None
    verification: str
    rectification: str
    appeal_reason: str
    appeal_upheld: bool | None
    revisit_result: str
    overdue: bool


def _rect_out(r: Rectification) -> dict[str, Any]:
    return {"id": r.pk, "service": r.rating.service.ref, "item_name": r.rating.service.item_name,
            "department": r.department.code, "level": r.rating.level, "comment": r.rating.comment,
            "status": r.status, "status_label": r.get_status_display(),
            "due_on": r.due_on.isoformat() if r.due_on else None, "verification": r.verification,
            "rectification": r.rectification, "appeal_reason": r.appeal_reason, "appeal_upheld": r.appeal_upheld,
            "revisit_result": r.revisit_result, "overdue": r.is_overdue()}


@ratings.get("/rectifications", response={200: list[RectificationOut], 401: ErrorOut}, auth=API_AUTH,
             summary="差评整改（本部门；政务服务管理机构看全部）")
def rectifications(request: HttpRequest, status: str = ""):
    return [_rect_out(r) for r in selectors.rectifications_for(request.user, status)[:MAX_LIST]]


class VerifyIn(Schema):
    note: str
    days: int = 0


class NoteIn(Schema):
    note: str


class ReasonIn(Schema):
    reason: str


class DecideIn(Schema):
    upheld: bool
    decision: str


class RevisitIn(Schema):
    result: str
    note: str = ""


def _rect_for(request: HttpRequest, pk: int) -> Rectification:
    rect = selectors.get_rectification(pk)
    if not (selectors.is_department_staff(request.user, rect.department) or selectors.is_service_office(request.user)):
        raise Forbidden("无权查看该整改单")
    return rect


@ratings.post("/rectifications/{pk}/verify", response={200: RectificationOut, **AUTHED}, auth=API_AUTH,
              summary="核实差评并确定整改时限（0 为立即整改，最多 15 个工作日）")
def verify(request: HttpRequest, pk: int, payload: VerifyIn):
    return _rect_out(services.verify(_rect_for(request, pk), request.user, note=payload.note, days=payload.days))


@ratings.post("/rectifications/{pk}/rectify", response={200: RectificationOut, **AUTHED}, auth=API_AUTH,
              summary="记录整改措施")
def rectify(request: HttpRequest, pk: int, payload: NoteIn):
    return _rect_out(services.rectify(_rect_for(request, pk), request.user, note=payload.note))


@ratings.post("/rectifications/{pk}/appeal", response={200: RectificationOut, **AUTHED}, auth=API_AUTH,
              summary="向政务服务管理机构申诉（差评不实）")
def appeal(request: HttpRequest, pk: int, payload: ReasonIn):
    return _rect_out(services.appeal(_rect_for(request, pk), request.user, reason=payload.reason))


@ratings.post("/rectifications/{pk}/decide", response={200: RectificationOut, **AUTHED}, auth=API_AUTH,
              summary="裁定申诉（政务服务管理机构）")
def decide(request: HttpRequest, pk: int, payload: DecideIn):
    rect = selectors.get_rectification(pk)
    return _rect_out(services.decide_appeal(rect, request.user, upheld=payload.upheld, decision=payload.decision))


@ratings.post("/rectifications/{pk}/revisit", response={200: RectificationOut, **AUTHED}, auth=API_AUTH,
              summary="记录回访结果")
def revisit_(request: HttpRequest, pk: int, payload: RevisitIn):
    return _rect_out(services.revisit(_rect_for(request, pk), request.user, result=payload.result,
                                      note=payload.note))


# --- 12345 hotline ----------------------------------------------------------------------------------------------


class ClassifyIn(Schema):
    text: str


class ClassifyOut(Schema):
    type: str
    department: str
    confidence: float
    type_confidence: float
    department_confidence: float


def _require_operator(request: HttpRequest) -> None:
    if not selectors.is_operator(request.user):
        raise Forbidden("只有12345热线话务员可以使用")


@hotline.post("/classify", response={200: ClassifyOut, **AUTHED}, auth=API_AUTH,
              summary="智能分类：建议诉求类型和承办部门（话务员）")
def classify(request: HttpRequest, payload: ClassifyIn):
    """``{"text"}`` → ``{"type", "department": ORG_CODE, "confidence": 0..1}``; 422 for an empty text."""
    _require_operator(request)
    p = services.classify(payload.text)
    return {"type": p.type, "department": p.department, "confidence": p.confidence,
            "type_confidence": p.type_confidence, "department_confidence": p.department_confidence}


class OrderIn(Schema):
    text: str
    type: str = ""
    urgency: str = ""
    division: str = ""
    address: str = ""
    anonymous: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    subject: str = ""
    subject_name: str = ""
    subject_code: str = ""


class EventOut(Schema):
    at: str
    kind: str
    actor: str
    message: str


class OrderOut(Schema):
    number: str
    channel: str
    text: str
    type: str
    type_label: str
    urgency: str
    division: str
    address: str
    anonymous: bool
    contact_name: str
    contact_phone: str
    subject: str
    subject_name: str
    discipline: bool
    status: str
    status_label: str
    department: str
    proposed_type: str
    proposed_department: str
    confidence: float | None
    receipt_due: str | None
    handling_due: str | None
    answer: str
    satisfaction: str
    reopen_count: int
    duplicate_of: str | None
    overdue: bool
    created_at: str
    events: list[EventOut] = []


def _order_out(o: WorkOrder, *, events: bool = False, mask: bool = False) -> dict[str, Any]:
    name, phone, text = o.contact_name, o.contact_phone, o.text
    if mask:
        name, phone, text = (evaluation.mask_name(name), evaluation.mask_phone(phone), evaluation.mask_text(text))
    return {
        "number": o.number, "channel": o.channel, "text": text, "type": o.type, "type_label": o.get_type_display(),
        "urgency": o.urgency, "division": o.division.code if o.division_id else "", "address": o.address,
        "anonymous": o.anonymous, "contact_name": name, "contact_phone": phone, "subject": o.subject,
        "subject_name": o.subject_name, "discipline": o.discipline, "status": o.status,
        "status_label": o.get_status_display(), "department": o.department.code if o.department_id else "",
        "proposed_type": o.proposed_type,
        "proposed_department": o.proposed_department.code if o.proposed_department_id else "",
        "confidence": o.confidence, "receipt_due": o.receipt_due.isoformat() if o.receipt_due else None,
        "handling_due": o.handling_due.isoformat() if o.handling_due else None, "answer": o.answer,
        "satisfaction": o.satisfaction, "reopen_count": o.reopen_count,
        "duplicate_of": o.duplicate_of.number if o.duplicate_of_id else None, "overdue": o.is_overdue(),
        "created_at": o.created_at.isoformat(),
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor_label, "message": e.message}
                   for e in o.events.all()] if events else [],
    }


@hotline.post("/orders", response={201: OrderOut, **AUTHED}, auth=API_AUTH, summary="提交诉求（市民本人或话务员代录）")
def create_order(request: HttpRequest, payload: OrderIn):
    """A citizen files their own request; an operator records a caller's. 422 ``feedback.invalid`` names the
    field (``detail.field``), e.g. an empty ``text``."""
    user = request.user
    if user.kind == "staff" and not selectors.is_operator(user):
        raise Forbidden("工作人员请通过12345热线话务员受理诉求")
    channel = WorkOrder.Channel.PHONE if selectors.is_operator(user) else WorkOrder.Channel.API
    order = services.create_order(payload.dict(), actor=user, channel=channel)
    return 201, _order_out(order)


@hotline.get("/orders", response={200: list[OrderOut], 401: ErrorOut}, auth=API_AUTH,
             summary="工单列表（话务员：全部；部门：本部门承办；市民：本人）")
def list_orders(request: HttpRequest, status: str = ""):
    user = request.user
    if selectors.is_operator(user):
        qs = selectors.orders(status=status)
    elif user.kind == "staff":
        qs = selectors.orders_for_department(user, status)
    else:
        qs = selectors.orders_for_person(user)
    return [_order_out(o) for o in qs.select_related("duplicate_of", "proposed_department")[:MAX_LIST]]


def _order_for(request: HttpRequest, number: str) -> WorkOrder:
    order = selectors.get_order(number)
    if not selectors.can_view_order(request.user, order):
        raise Forbidden("无权查看该工单")
    return order


@hotline.get("/orders/{number}", response={200: OrderOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             auth=API_AUTH, summary="工单详情（诉求人、话务员、承办部门；评估人员看脱敏数据）")
def get_order(request: HttpRequest, number: str):
    order = _order_for(request, number)
    mask = selectors.is_evaluator(request.user) and not request.user.is_superuser
    return _order_out(order, events=True, mask=mask)


class DispatchIn(Schema):
    department: str
    type: str = ""


class TextIn(Schema):
    text: str


class ConfirmIn(Schema):
    satisfied: bool
    note: str = ""


class MergeIn(Schema):
    into: str


@hotline.post("/orders/{number}/dispatch", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="派单（话务员确认或更正类型和部门）")
def dispatch(request: HttpRequest, number: str, payload: DispatchIn):
    return _order_out(services.dispatch_order(number, request.user, department=payload.department,
                                              type=payload.type))


@hotline.post("/orders/{number}/receive", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="签收（承办部门）")
def receive(request: HttpRequest, number: str):
    return _order_out(services.receive_order(_order_for(request, number), request.user))


@hotline.post("/orders/{number}/return", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="退单（承办部门，须说明理由）")
def return_(request: HttpRequest, number: str, payload: ReasonIn):
    return _order_out(services.return_order(_order_for(request, number), request.user, reason=payload.reason))


@hotline.post("/orders/{number}/answer", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="答复（承办部门；咨询类可由话务员直接答复）")
def answer(request: HttpRequest, number: str, payload: TextIn):
    return _order_out(services.answer_order(_order_for(request, number), request.user, text=payload.text))


@hotline.post("/orders/{number}/confirm", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="诉求人评价答复（不满意可重办一次）")
def confirm(request: HttpRequest, number: str, payload: ConfirmIn):
    return _order_out(services.confirm_order(_order_for(request, number), request.user, satisfied=payload.satisfied,
                                             note=payload.note))


@hotline.post("/orders/{number}/merge", response={200: OrderOut, **AUTHED}, auth=API_AUTH,
              summary="合并重复工单（话务员）")
def merge(request: HttpRequest, number: str, payload: MergeIn):
    return _order_out(services.merge_orders(number, payload.into, request.user))


class DuplicateOut(Schema):
    number: str
    score: float
    text: str
    status: str
    created_at: str


@hotline.get("/orders/{number}/duplicates", response={200: list[DuplicateOut], **AUTHED}, auth=API_AUTH,
             summary="疑似重复工单（7 日内内容和地点相近）")
def duplicates(request: HttpRequest, number: str):
    _require_operator(request)
    order = selectors.get_order(number)
    return [{"number": d.order.number, "score": d.score, "text": d.order.text, "status": d.order.status,
             "created_at": d.order.created_at.isoformat()} for d in selectors.duplicate_candidates(order)]


class ImportOut(Schema):
    count: int
    numbers: list[str]


@hotline.post("/import", response={200: ImportOut, **AUTHED}, auth=API_AUTH,
              summary="批量导入通话记录（CSV/XLSX；有错误行则整批不导入）")
def import_orders(request: HttpRequest, file: UploadedFile = File(...)):
    """A bad row is 422 ``feedback.import_bad_row`` with ``detail.row`` (the file's line) and ``detail.field``;
    nothing of the file is imported then."""
    _require_operator(request)
    if file.size and file.size > MAX_IMPORT_BYTES:
        raise FeedbackError("文件过大（最大 10 MB）", code="feedback.import_bad_row")
    rows = services.parse_import_file(file.name or "", file.read())
    orders = services.import_orders(rows, actor=request.user)
    return {"count": len(orders), "numbers": [o.number for o in orders]}


class KnowledgeOut(Schema):
    item_code: str
    item_name: str
    department: str
    conditions: str
    materials: list[str]
    legal_basis: list[str]
    handling_place: str
    handling_hours: str
    consultation: str
    promised_limit_days: int | None
    guide_url: str


@hotline.get("/knowledge", response=list[KnowledgeOut], auth=None, summary="知识库：从办事指南回答咨询（公开）")
@public
def knowledge(request: HttpRequest, q: str = ""):
    return services.knowledge_answers(q)


# --- third-party evaluation -------------------------------------------------------------------------------------


def _require_evaluator(request: HttpRequest) -> None:
    if not selectors.is_evaluator(request.user):
        raise Forbidden("只有第三方评估人员可以访问")


@evaluation_router.get("/data/{dataset}", response={200: list[dict[str, Any]], 401: ErrorOut, 403: ErrorOut,
                                               404: ErrorOut}, summary="评估数据（脱敏，只读）：ratings / orders / cases")
def dataset(request: HttpRequest, dataset: str, limit: int = 100):
    _require_evaluator(request)
    return evaluation.rows(dataset, max(1, min(limit, 1000)))


@evaluation_router.get("/data/{dataset}/export", response={200: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                                      422: ErrorOut},
                       summary="导出评估数据：format=csv 或 parquet")
def export(request: HttpRequest, dataset: str, format: str = "csv"):
    _require_evaluator(request)
    if format not in ("csv", "parquet"):
        raise FeedbackError("format 须为 csv 或 parquet", detail={"field": "format"})
    data = evaluation.rows(dataset)
    audit("feedback.evaluation.export", actor=request.user, detail={"dataset": dataset, "format": format,
                                                                    "rows": len(data)})
    if format == "csv":
        body, content_type = evaluation.to_csv(data), "text/csv; charset=utf-8"
    else:
        body, content_type = evaluation.to_parquet(data), "application/vnd.apache.parquet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{dataset}.{format}"'
    return response


class SampleIn(Schema):
    size: int = 20
    seed: int


class SampleOut(Schema):
    seed: int
    size: int
    population: int
    population_sha256: str
    cases: list[str]


@evaluation_router.post("/sample", response={200: SampleOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
                        summary="随机抽取办件（暗访核查；同一种子可复现）")
def sample(request: HttpRequest, payload: SampleIn):
    _require_evaluator(request)
    drawn = evaluation.sample_cases(payload.size, payload.seed)
    audit("feedback.evaluation.sample", actor=request.user, detail=drawn)
    return drawn
