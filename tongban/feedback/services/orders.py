"""12345 work orders (接诉即办): intake (web form, API, batch import), classification, dispatch with a receipt
deadline, return (退单) and reassignment, answer, confirmation by the person (不满意 → reopened once), merging of
duplicates, knowledge-base answers for consultations, and complaint/report routing.

Routing: a complaint about a staff member goes to the discipline staff (纪检监察) of the department, not to its
ordinary staff; a report about a market entity also becomes a lead for supervision (``core.events.entity_reported``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.catalog import selectors as catalog
from tongban.catalog.models import ItemStatus, ServiceItem
from tongban.core import events
from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Division, Organisation, User
from tongban.core.services import audit

from .. import classifier, conf, selectors
from ..errors import IMPORT_ROW, BadState, FeedbackError, Forbidden, NotFound
from ..models import TrainingExample, WorkOrder, WorkOrderEvent

MAX_TEXT = 4000
MAX_IMPORT_ROWS = 5000


def _log(order: WorkOrder, kind: str, actor: User | None, message: str = "", **detail: Any) -> None:
    WorkOrderEvent.objects.create(order=order, at=timezone.now(), kind=kind, message=message, detail=detail,
                                  actor_label=str(actor) if actor is not None and actor.is_authenticated else "系统")


def _require_operator(user: User) -> None:
    if not selectors.is_operator(user):
        raise Forbidden("只有12345热线话务员可以办理此操作")


# --- classification ---------------------------------------------------------------------------------------------


def _corrections() -> list[classifier.Example]:
    return [classifier.Example(t, ty, d) for t, ty, d in
            TrainingExample.objects.values_list("text", "type", "department_code")]


def classify(text: str) -> classifier.Proposal:
    """The classifier's proposal for ``text`` (the stored model, or one trained now on the corpus)."""
    text = (text or "").strip()
    if not text:
        raise FeedbackError("诉求内容不能为空", detail={"field": "text"})
    return classifier.load(conf.model_path(), extra=_corrections()).propose(text[:MAX_TEXT])


def train(folds: int = 5) -> classifier.Evaluation:
    """Retrain on the corpus and the operators' corrections, store the model, and cross-validate it."""
    examples = classifier.load_corpus() + _corrections()
    evaluation = classifier.cross_validate(examples, folds=folds)
    classifier.save(classifier.fit(examples), conf.model_path())
    return evaluation


# --- intake -----------------------------------------------------------------------------------------------------


@dataclass
class Clean:
    fields: dict[str, Any]


_BOOL = {"1": True, "true": True, "是": True, "yes": True, "y": True, "0": False, "false": False, "否": False,
         "no": False, "n": False, "": False}


def _choice(value: Any, choices: type[Any], field: str, label: str) -> str:
    text = str(value or "").strip()
    if text in choices.values:
        return text
    by_label = {str(lbl): val for val, lbl in choices.choices}
    if text in by_label:
        return by_label[text]
    raise FeedbackError(f"{label}“{text}”无效，可选：{'、'.join(str(lbl) for _, lbl in choices.choices)}",
                        detail={"field": field})


def clean_order(data: dict[str, Any]) -> Clean:
    """Validate one work order's fields (shared by the form, the API and each import row)."""
    text = str(data.get("text") or "").strip()
    if not text:
        raise FeedbackError("诉求内容不能为空", detail={"field": "text"})
    if len(text) > MAX_TEXT:
        raise FeedbackError(f"诉求内容过长（最多 {MAX_TEXT} 字）", detail={"field": "text"})
    out: dict[str, Any] = {"text": text}
    out["type"] = _choice(data["type"], WorkOrder.Type, "type", "诉求类型") if data.get("type") else ""
    out["urgency"] = (_choice(data["urgency"], WorkOrder.Urgency, "urgency", "紧急程度")
                      if data.get("urgency") else WorkOrder.Urgency.NORMAL)
    division_code = str(data.get("division") or "").strip()
    out["division"] = None
    if division_code:
        out["division"] = Division.objects.filter(code=division_code).first()
        if out["division"] is None:
            raise FeedbackError(f"行政区划代码 {division_code} 不存在", detail={"field": "division"})
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        key = str(anonymous).strip().lower()
        if key not in _BOOL:
            raise FeedbackError(f"匿名一栏须为 是/否，不是“{anonymous}”", detail={"field": "anonymous"})
        anonymous = _BOOL[key]
    out["anonymous"] = anonymous
    out["address"] = str(data.get("address") or "").strip()[:200]
    out["contact_name"] = "" if anonymous else str(data.get("contact_name") or "").strip()[:60]
    phone = str(data.get("contact_phone") or "").strip()
    if phone and not phone.replace("-", "").isdigit():
        raise FeedbackError(f"联系电话“{phone}”只能包含数字", detail={"field": "contact_phone"})
    out["contact_phone"] = "" if anonymous else phone[:20]
    subject = str(data.get("subject") or "").strip()
    out["subject"] = _choice(subject, WorkOrder.Subject, "subject", "对象类型") if subject else ""
    out["subject_name"] = str(data.get("subject_name") or "").strip()[:200]
    out["subject_code"] = str(data.get("subject_code") or "").strip()[:18]
    if out["subject"] and not out["subject_name"]:
        raise FeedbackError("请填写被投诉/举报对象的名称或姓名", detail={"field": "subject_name"})
    return Clean(out)


def _next_number(now: dt.datetime) -> str:
    prefix = f"GD{timezone.localdate(now):%Y%m%d}"
    last = (WorkOrder.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:05d}"


def _create(clean: Clean, *, channel: str, actor: User | None, person: User | None, now: dt.datetime,
            proposal: classifier.Proposal | None) -> WorkOrder:
    fields = dict(clean.fields)
    if proposal is not None:
        fields["proposed_type"] = proposal.type
        fields["proposed_department"] = Organisation.objects.filter(code=proposal.department).first()
        fields["confidence"] = proposal.confidence
        fields["type"] = fields["type"] or proposal.type
    if not fields["type"]:
        raise FeedbackError("请选择诉求类型", detail={"field": "type"})
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = WorkOrder.objects.create(number=_next_number(now), channel=channel, person=person,
                                                 created_at=now, created_by=actor, **fields)
                break
        except IntegrityError:  # a concurrent intake took the number
            continue
    else:
        raise BadState("工单编号冲突，请重试")
    _log(order, "intake", actor, f"受理（{order.get_channel_display()}）",
         proposed_type=order.proposed_type, proposed_department=proposal.department if proposal else "",
         confidence=order.confidence)
    return order


@transaction.atomic
def create_order(data: dict[str, Any], *, actor: User | None, channel: str = WorkOrder.Channel.WEB,
                 now: dt.datetime | None = None, propose: bool = True) -> WorkOrder:
    """Take in one work order. A signed-in citizen files their own; an operator files for a caller."""
    clean = clean_order(data)
    person = actor if actor is not None and actor.is_authenticated and actor.kind != User.Kind.STAFF else None
    if person is not None and not clean.fields["anonymous"]:
        clean.fields["contact_name"] = clean.fields["contact_name"] or str(person)
        clean.fields["contact_phone"] = clean.fields["contact_phone"] or person.phone
    proposal = classify(clean.fields["text"]) if propose else None
    order = _create(clean, channel=channel, actor=actor, person=person, now=now or timezone.now(), proposal=proposal)
    audit("feedback.order.create", actor=actor, obj=order, detail={"number": order.number})
    return order


HEADERS = {
    "text": ("诉求内容", "内容", "通话内容", "text"), "type": ("诉求类型", "类型", "type"),
    "urgency": ("紧急程度", "urgency"), "division": ("区划代码", "行政区划代码", "division"),
    "address": ("事发地点", "地点", "address"), "contact_name": ("诉求人", "姓名", "contact_name"),
    "contact_phone": ("联系电话", "电话", "contact_phone"), "anonymous": ("匿名", "anonymous"),
    "subject": ("对象类型", "subject"), "subject_name": ("对象名称", "subject_name"),
    "subject_code": ("统一社会信用代码", "subject_code"),
}


def _map_header(header: list[str]) -> list[str | None]:
    lookup = {alias: field for field, aliases in HEADERS.items() for alias in aliases}
    mapped = [lookup.get(str(h or "").strip().lstrip("\ufeff")) for h in header]
    if "text" not in mapped:
        raise FeedbackError("导入文件第 1 行须为表头，且包含“诉求内容”一栏", code=IMPORT_ROW,
                            detail={"row": 1, "field": "text"})
    return mapped


def parse_import_file(filename: str, data: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8 or GB18030) or XLSX file of call transcripts, keyed by field name."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the caller's bad input
            raise FeedbackError(f"无法读取 XLSX 文件：{exc}", code=IMPORT_ROW) from None
        table = [["" if v is None else str(v) for v in row] for row in book.active.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FeedbackError("CSV 文件须为 UTF-8 或 GB18030 编码", code=IMPORT_ROW)
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise FeedbackError("只能导入 .csv 或 .xlsx 文件", code=IMPORT_ROW)
    if not table:
        raise FeedbackError("导入文件是空的", code=IMPORT_ROW)
    fields = _map_header(table[0])
    rows = []
    for cells in table[1:]:
        if not any(str(c).strip() for c in cells):
            rows.append({})  # kept so row numbers stay those of the file; skipped on import
            continue
        rows.append({f: v for f, v in zip(fields, cells, strict=False) if f})
    if len(rows) > MAX_IMPORT_ROWS:
        raise FeedbackError(f"一次最多导入 {MAX_IMPORT_ROWS} 行", code=IMPORT_ROW)
    return rows


@transaction.atomic
def import_orders(rows: list[dict[str, Any]], *, actor: User) -> list[WorkOrder]:
    """Import call transcripts: every row is checked first; a bad row names its row (file line) and field, and
    nothing is written. Rows without a type get the classifier's."""
    _require_operator(actor)
    cleaned: list[Clean] = []
    for index, row in enumerate(rows, start=2):  # line 1 is the header
        if not row:
            continue
        try:
            cleaned.append(clean_order(row))
        except FeedbackError as exc:
            field = (exc.detail or {}).get("field", "")
            raise FeedbackError(f"第 {index} 行：{exc.message}", code=IMPORT_ROW,
                                detail={"row": index, "field": field}) from None
    if not cleaned:
        raise FeedbackError("导入文件没有数据行", code=IMPORT_ROW)
    now = timezone.now()
    orders = [_create(c, channel=WorkOrder.Channel.IMPORT, actor=actor, person=None, now=now,
                      proposal=classify(c.fields["text"])) for c in cleaned]
    audit("feedback.order.import", actor=actor, detail={"count": len(orders)})
    return orders


# --- dispatch and handling --------------------------------------------------------------------------------------


def _lock(order: WorkOrder | str) -> WorkOrder:
    number = order if isinstance(order, str) else order.number
    found = WorkOrder.objects.select_for_update().filter(number=number).first()
    if found is None:
        raise NotFound(f"工单 {number} 不存在")
    return found


def _require_status(order: WorkOrder, *statuses: str) -> None:
    if order.status not in statuses:
        allowed = "、".join(str(WorkOrder.Status(s).label) for s in statuses)
        raise BadState(f"工单当前为“{order.get_status_display()}”，此操作只能在“{allowed}”时进行")


def handling_due(order: WorkOrder, start: dt.date) -> dt.date:
    days = conf.deadline_days(order.type, order.urgency)
    return WorkingCalendar.load(order.division).add_working_days(start, days)


@transaction.atomic
def dispatch_order(order: WorkOrder | str, user: User, *, department: str, type: str = "") -> WorkOrder:
    """派单: the operator confirms or corrects the type and department and sends the order; a correction of the
    classifier's proposal is kept for retraining."""
    order = _lock(order)
    _require_operator(user)
    _require_status(order, WorkOrder.Status.NEW, WorkOrder.Status.RETURNED)
    target = Organisation.objects.filter(code=department).first()
    if target is None:
        raise FeedbackError(f"部门 {department} 不存在", detail={"field": "department"})
    if type:
        order.type = _choice(type, WorkOrder.Type, "type", "诉求类型")
    proposed_department = order.proposed_department.code if order.proposed_department_id else ""
    if order.proposed_type and (order.type != order.proposed_type or department != proposed_department):
        TrainingExample.objects.create(text=order.text, type=order.type, department_code=department, order=order,
                                       created_by=user)
    now = timezone.now()
    order.department, order.status, order.dispatched_at = target, WorkOrder.Status.DISPATCHED, now
    order.receipt_due = now + dt.timedelta(hours=conf.receipt_hours())
    order.handling_due = handling_due(order, timezone.localdate(now))
    order.discipline = order.type == WorkOrder.Type.COMPLAINT and order.subject == WorkOrder.Subject.STAFF
    order.save()
    route = "（转纪检监察）" if order.discipline else ""
    _log(order, "dispatch", user, f"派单至{target.name}{route}，签收期限 {timezone.localtime(order.receipt_due):%m-%d %H:%M}，"
         f"办理期限 {order.handling_due}", department=department, type=order.type)
    if order.type == WorkOrder.Type.REPORT and order.subject == WorkOrder.Subject.ENTITY and not \
            order.events.filter(kind="lead").exists():
        _log(order, "lead", user, "举报线索已推送监管执法")
        payload = {"order_number": order.number, "entity_name": order.subject_name, "credit_code": order.subject_code,
                   "text": order.text, "division_code": order.division.code if order.division_id else "",
                   "department_code": department, "received_at": order.created_at.isoformat()}
        transaction.on_commit(lambda: events.entity_reported.send(sender=WorkOrder, **payload))
    audit("feedback.order.dispatch", actor=user, obj=order, detail={"department": department})
    return order


def _require_handler(user: User, order: WorkOrder) -> None:
    if not selectors.can_handle(user, order):
        raise Forbidden("只有承办部门的工作人员可以办理该工单")


@transaction.atomic
def receive_order(order: WorkOrder | str, user: User) -> WorkOrder:
    order = _lock(order)
    _require_handler(user, order)
    _require_status(order, WorkOrder.Status.DISPATCHED)
    order.status, order.received_at = WorkOrder.Status.RECEIVED, timezone.now()
    order.save(update_fields=["status", "received_at"])
    late = order.receipt_due is not None and order.received_at > order.receipt_due
    _log(order, "receive", user, "签收" + ("（超过签收期限）" if late else ""))
    return order


@transaction.atomic
def return_order(order: WorkOrder | str, user: User, *, reason: str) -> WorkOrder:
    """退单: the department sends back an order that is not theirs; the operator reassigns it."""
    order = _lock(order)
    _require_handler(user, order)
    _require_status(order, WorkOrder.Status.DISPATCHED, WorkOrder.Status.RECEIVED)
    if not reason.strip():
        raise FeedbackError("退单须说明理由", detail={"field": "reason"})
    department = order.department
    order.status, order.department, order.discipline = WorkOrder.Status.RETURNED, None, False
    order.received_at = order.receipt_due = order.handling_due = None
    order.save()
    _log(order, "return", user, f"{department.name if department else ''}退单：{reason.strip()}",
         department=department.code if department else "", reason=reason.strip())
    return order


@transaction.atomic
def answer_order(order: WorkOrder | str, user: User, *, text: str, close: bool = False) -> WorkOrder:
    """The department answers; an operator may answer a consultation at once (knowledge base) and, when the
    caller is satisfied on the line (``close``), close it at once."""
    order = _lock(order)
    operator_consult = order.type == WorkOrder.Type.CONSULT and selectors.is_operator(user) and \
        order.status in (WorkOrder.Status.NEW, WorkOrder.Status.RETURNED)
    if not operator_consult:
        _require_handler(user, order)
        _require_status(order, WorkOrder.Status.DISPATCHED, WorkOrder.Status.RECEIVED)
    if not text.strip():
        raise FeedbackError("答复内容不能为空", detail={"field": "text"})
    order.answer, order.answered_at, order.status = text.strip(), timezone.now(), WorkOrder.Status.ANSWERED
    order.received_at = order.received_at or order.answered_at
    order.save()
    _log(order, "answer", user, "答复" + ("（话务员直接答复）" if operator_consult else ""))
    if close:
        if not operator_consult:
            raise FeedbackError("只有话务员直接答复的咨询可以当场办结", detail={"field": "close"})
        return confirm_order(order, user, satisfied=True, note="来电人当场表示满意")
    return order


@transaction.atomic
def confirm_order(order: WorkOrder | str, user: User, *, satisfied: bool, note: str = "") -> WorkOrder:
    """The person (or the operator on their behalf, after a call-back) confirms the answer. 不满意 reopens the
    order once (back to the department with a new deadline); a second 不满意 closes it as unsatisfied."""
    order = _lock(order)
    if order.person_id != user.pk and not selectors.is_operator(user):
        raise Forbidden("只有诉求人（或回访的话务员）可以评价答复")
    _require_status(order, WorkOrder.Status.ANSWERED)
    now = timezone.now()
    if satisfied or order.reopen_count >= 1 or order.department_id is None:
        order.satisfaction = WorkOrder.Satisfaction.SATISFIED if satisfied else WorkOrder.Satisfaction.DISSATISFIED
        order.status, order.confirmed_at = WorkOrder.Status.CLOSED, now
        order.save()
        _log(order, "confirm", user, f"诉求人评价：{order.get_satisfaction_display()}，办结", note=note)
        return order
    order.reopen_count += 1
    order.status, order.answer, order.answered_at = WorkOrder.Status.DISPATCHED, "", None
    order.received_at = None
    order.receipt_due = now + dt.timedelta(hours=conf.receipt_hours())
    order.handling_due = handling_due(order, timezone.localdate(now))
    order.save()
    _log(order, "reopen", user, f"诉求人不满意，重新交办（办理期限 {order.handling_due}）", note=note)
    return order


@transaction.atomic
def merge_orders(order: WorkOrder | str, into: WorkOrder | str, user: User) -> WorkOrder:
    """Merge a duplicate into the order that carries on (its person is told the same answer)."""
    _require_operator(user)
    order, target = _lock(order), _lock(into)
    if order.pk == target.pk:
        raise FeedbackError("不能把工单合并到它自己", detail={"field": "into"})
    if target.status == WorkOrder.Status.MERGED:
        raise BadState(f"工单 {target.number} 已合并到其他工单")
    _require_status(order, WorkOrder.Status.NEW, WorkOrder.Status.RETURNED, WorkOrder.Status.DISPATCHED)
    order.status, order.duplicate_of = WorkOrder.Status.MERGED, target
    order.save(update_fields=["status", "duplicate_of"])
    _log(order, "merge", user, f"与 {target.number} 重复，已合并", into=target.number)
    _log(target, "merged_in", user, f"合并重复工单 {order.number}", merged=order.number)
    return order


# --- deadlines ---------------------------------------------------------------------------------------------------


def flag_overdue(now: dt.datetime | None = None) -> dict[str, int]:
    """The periodic check (督办): each order that missed its receipt deadline or its handling deadline gets one
    event in its history (the operator's page counts overdue orders); returns how many were flagged."""
    from django.db.models import Exists, OuterRef

    now = now or timezone.now()
    flagged = {"receipt": 0, "handling": 0}
    checks = {
        "receipt": (WorkOrder.objects.filter(status=WorkOrder.Status.DISPATCHED, receipt_due__lt=now),
                    "签收超时，提请话务员督办"),
        "handling": (WorkOrder.objects.filter(status__in=WorkOrder.OPEN_STATUSES,
                                              handling_due__lt=timezone.localdate(now)), "办理超期，提请话务员督办"),
    }
    for name, (qs, message) in checks.items():
        kind = f"{name}_overdue"
        marked = WorkOrderEvent.objects.filter(order=OuterRef("pk"), kind=kind)
        for order in qs.exclude(Exists(marked)).only("pk", "number"):
            _log(order, kind, None, message)
            flagged[name] += 1
    return flagged


# --- knowledge base ---------------------------------------------------------------------------------------------


def knowledge_answers(text: str, limit: int = 3) -> list[dict[str, Any]]:
    """Guide entries of the service catalogue that answer a consultation: items whose name shares the most words
    with the question, with conditions, materials, legal basis, place and hours."""
    words = {w for w in classifier.tokenize(text) if len(w) >= 2}
    if not words:
        return []
    scored = []
    for code, name in ServiceItem.objects.filter(status=ItemStatus.PUBLISHED).values_list("code", "name"):
        name_words = set(classifier.tokenize(name))
        score = len(words & name_words) + 0.5 * sum(1 for w in words if w in name and w not in name_words)
        if score:
            scored.append((score, code))
    out = []
    for _score, code in sorted(scored, key=lambda s: (-s[0], s[1]))[:limit]:
        guide = catalog.item_guide(code)
        if guide is None:
            continue
        item = guide.item
        out.append({
            "item_code": item.code, "item_name": item.name, "department": item.competent_department.name,
            "conditions": item.conditions, "materials": [m.name for m in guide.materials],
            "legal_basis": [f"{b.get('law', '')}{b.get('article', '')}" if isinstance(b, dict) else str(b)
                            for b in item.legal_basis],
            "handling_place": item.handling_place, "handling_hours": item.handling_hours,
            "consultation": item.consultation, "promised_limit_days": item.promised_limit_days,
            "guide_url": f"/catalog/items/{item.code}/",
        })
    return out


def knowledge_text(entry: dict[str, Any]) -> str:
    """A consultation answer composed from a guide entry (the operator may edit it before answering)."""
    parts = [f"您咨询的“{entry['item_name']}”由{entry['department']}办理。"]
    if entry["conditions"]:
        parts.append(f"办理条件：{entry['conditions']}")
    if entry["materials"]:
        parts.append("所需材料：" + "；".join(entry["materials"]) + "。")
    if entry["promised_limit_days"]:
        parts.append(f"承诺办结时限：{entry['promised_limit_days']} 个工作日。")
    if entry["handling_place"]:
        parts.append(f"办理地点：{entry['handling_place']}。")
    if entry["legal_basis"]:
        parts.append("依据：" + "；".join(entry["legal_basis"]) + "。")
    parts.append(f"办事指南：{entry['guide_url']}")
    return "\n".join(parts)
