"""Supervision write services: the entity register, 审管联动 records, post-checks, credit (events, grading, repair),
draw plans, draws and inspections, enforcement leads and the tamper-evident supervision log."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tongban.catalog.models import ServiceItem
from tongban.core import events
from tongban.core.merkle import Frontier, leaf_hash
from tongban.core.models import Division, Organisation, User
from tongban.core.services import audit

from . import credit, drawing, risk, selectors, uscc
from .errors import Conflict, Forbidden, InvalidInput, NotFound
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
    RiskModel,
    SupervisionRecord,
)

#: GB/T 4754-2017 industry sections (行业门类) used by the register and draw scopes.
INDUSTRIES: dict[str, str] = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业",
    "F": "批发和零售业", "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育", "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织",
}

KIND_ALIASES = {"legal_person": MarketEntity.Kind.LEGAL_PERSON, "法人": MarketEntity.Kind.LEGAL_PERSON,
                "企业": MarketEntity.Kind.LEGAL_PERSON, "individual_business": MarketEntity.Kind.INDIVIDUAL_BUSINESS,
                "个体工商户": MarketEntity.Kind.INDIVIDUAL_BUSINESS, "个体": MarketEntity.Kind.INDIVIDUAL_BUSINESS}

CSV_COLUMNS = ["uscc", "name", "kind", "division", "address", "industry", "legal_representative", "established_on",
               "departments"]


# --- the market-entity register --------------------------------------------------------------------------------

def division_of_code(code: str) -> Division | None:
    """The division a USCC's characters 3–8 name (its 6-digit division code, padded to 12), if it exists."""
    digits = code[2:8]
    if not digits.isdigit():
        return None
    return Division.objects.filter(code=digits + "000000").first()


def _clean_entity(row: dict[str, Any], *, row_no: int | None = None,
                  divisions: dict[str, Division] | None = None,
                  orgs: dict[str, Organisation] | None = None) -> dict[str, Any]:
    """Validate one entity's fields; raises :class:`InvalidInput` naming the field (and the row)."""
    def bad(field: str, message: str) -> InvalidInput:
        where = f"第 {row_no} 行 " if row_no is not None else ""
        return InvalidInput(f"{where}{field}：{message}", field=field, row=row_no)

    code = uscc.normalise(str(row.get("uscc") or ""))
    if not code:
        raise bad("uscc", "统一社会信用代码不能为空")
    if (problem := uscc.problem(code)) is not None:
        raise bad("uscc", problem)
    name = str(row.get("name") or "").strip()
    if not name:
        raise bad("name", "名称不能为空")
    kind_raw = str(row.get("kind") or "legal_person").strip()
    kind = KIND_ALIASES.get(kind_raw)
    if kind is None:
        raise bad("kind", f"主体类型“{kind_raw}”不正确（法人 / 个体工商户）")
    division_code = str(row.get("division") or "").strip()
    division = (divisions or {}).get(division_code) if divisions is not None else \
        Division.objects.filter(code=division_code).first()
    if division is None:
        raise bad("division", f"行政区划代码“{division_code}”不存在")
    industry = str(row.get("industry") or "").strip().upper()
    if industry and industry not in INDUSTRIES:
        raise bad("industry", f"行业门类“{industry}”不是 GB/T 4754 门类代码（A–S）")
    established: date | None = None
    raw_date = str(row.get("established_on") or "").strip()
    if raw_date:
        try:
            established = date.fromisoformat(raw_date)
        except ValueError:
            raise bad("established_on", f"成立日期“{raw_date}”不是 YYYY-MM-DD 格式") from None
    departments: list[Organisation] = []
    raw_depts = row.get("departments") or []
    dept_codes = raw_depts if isinstance(raw_depts, list) else \
        [c.strip() for c in str(raw_depts).replace("、", ";").replace(",", ";").split(";") if c.strip()]
    for dc in dept_codes:
        org = (orgs or {}).get(dc) if orgs is not None else Organisation.objects.filter(code=dc).first()
        if org is None:
            raise bad("departments", f"监管部门“{dc}”不存在")
        departments.append(org)
    return {"uscc": code, "name": name, "kind": kind, "division": division,
            "address": str(row.get("address") or "").strip(), "industry": industry,
            "legal_representative": str(row.get("legal_representative") or "").strip(),
            "established_on": established, "departments": departments}


def upsert_entity(*, source: str = MarketEntity.Source.REGISTER, **fields: Any) -> MarketEntity:
    """Create or update one entity (fields as :func:`_clean_entity` takes them); validates first."""
    data = _clean_entity(fields)
    departments = data.pop("departments")
    entity, created = MarketEntity.objects.update_or_create(uscc=data.pop("uscc"), defaults={**data, "source": source})
    if departments:
        entity.supervising_departments.add(*departments)
    if created:
        regrade(entity)
    return entity


def load_entities(source: str | Path | Iterable[dict[str, Any]], *,
                  origin: str = MarketEntity.Source.REGISTER) -> int:
    """Load a register file (CSV with the header ``CSV_COLUMNS``; departments separated by ``;``) or rows.

    Every row is checked before anything is written: the first bad row raises :class:`InvalidInput` naming the row
    (the header is row 1) and the field, and the register is unchanged. Returns the number of rows loaded."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InvalidInput(f"文件不存在：{path}", field="file") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"文件不是 UTF-8 编码：{path}", field="file") from None
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("uscc", "name", "division") if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"第 1 行（表头）缺少列：{', '.join(missing)}（应为 {','.join(CSV_COLUMNS)}）",
                               field=missing[0], row=1)
        rows: list[tuple[int, dict[str, Any]]] = [(i + 2, r) for i, r in enumerate(reader)]
    else:
        rows = [(i + 1, r) for i, r in enumerate(source)]
    divisions = {d.code: d for d in Division.objects.all()}
    orgs = {o.code: o for o in Organisation.objects.all()}
    cleaned = []
    seen: dict[str, int] = {}
    for row_no, row in rows:
        if None in row:  # DictReader puts surplus cells under the key None
            raise InvalidInput(f"第 {row_no} 行：列数多于表头", field="row", row=row_no)
        data = _clean_entity(row, row_no=row_no, divisions=divisions, orgs=orgs)
        if data["uscc"] in seen:
            raise InvalidInput(f"第 {row_no} 行 uscc：与第 {seen[data['uscc']]} 行重复", field="uscc", row=row_no)
        seen[data["uscc"]] = row_no
        cleaned.append(data)
    with transaction.atomic():
        existing = {e.uscc: e for e in MarketEntity.objects.filter(uscc__in=list(seen))}
        new = [MarketEntity(**{k: v for k, v in d.items() if k != "departments"}, source=origin)
               for d in cleaned if d["uscc"] not in existing]
        MarketEntity.objects.bulk_create(new, batch_size=1000)
        for d in cleaned:
            if d["uscc"] in existing:
                e = existing[d["uscc"]]
                for k, v in d.items():
                    if k not in ("departments", "uscc"):
                        setattr(e, k, v)
        MarketEntity.objects.bulk_update(list(existing.values()), ["name", "kind", "division", "address", "industry",
                                                                   "legal_representative", "established_on"],
                                         batch_size=1000)
        ids = dict(MarketEntity.objects.filter(uscc__in=list(seen)).values_list("uscc", "pk"))
        through = MarketEntity.supervising_departments.through
        links = [through(marketentity_id=ids[d["uscc"]], organisation_id=o.pk) for d in cleaned for o in d["departments"]]
        through.objects.bulk_create(links, ignore_conflicts=True, batch_size=1000)
        recompute_credit(MarketEntity.objects.filter(pk__in=[ids[e.uscc] for e in new]))
        audit("supervision.load_entities", detail={"rows": len(cleaned), "new": len(new)})
    return len(cleaned)


def _entity_for_subject(code: str, name: str, department: Organisation | None,
                        source: str = MarketEntity.Source.LICENCE) -> MarketEntity | None:
    """The register's entity for an approval's holder (created when the code is a valid USCC), or None."""
    code = uscc.normalise(code)
    if not uscc.is_valid(code):
        return None
    entity = MarketEntity.objects.filter(uscc=code).first()
    if entity is None:
        division = division_of_code(code) or (department.division if department is not None else None)
        if division is None:
            return None
        kind = MarketEntity.Kind.INDIVIDUAL_BUSINESS if code[:2] == "92" else MarketEntity.Kind.LEGAL_PERSON
        entity = MarketEntity.objects.create(uscc=code, name=name or code, kind=kind, division=division,
                                             source=source, established_on=timezone.localdate())
        regrade(entity)
    if department is not None:
        entity.supervising_departments.add(department)
    return entity


# --- 审管联动: approval results → supervision records ----------------------------------------------------------

def supervising_department(item_code: str, fallback_org: str = "") -> tuple[Organisation | None, str, str, str]:
    """``(department, follow-up, item name, handling kind)`` of an item, from the catalogue."""
    item = ServiceItem.objects.select_related("supervising_department", "competent_department").filter(
        code=item_code).first()
    if item is None:
        return Organisation.objects.filter(code=fallback_org).first(), "纳入日常监管", item_code, ""
    dept = item.supervising_department or item.competent_department
    return dept, item.post_approval_check or "纳入双随机抽查", item.name, item.handling_kind


def record_result(payload: dict[str, Any]) -> SupervisionRecord | None:
    """One approval result → one supervision record for the supervising department (idempotent: the same result
    delivered twice gives one record). Rejections create none."""
    if payload.get("outcome") != "approved":
        return None
    ref, item_code = str(payload.get("application_ref") or ""), str(payload.get("item_code") or "")
    department, follow_up, item_name, handling = supervising_department(item_code,
                                                                       str(payload.get("organisation_code") or ""))
    if not ref or department is None:
        return None
    holder = payload.get("holder") or {}
    data = (payload.get("result") or {}).get("data") or {}
    code = str(holder.get("id_number") or "")
    if not uscc.is_valid(uscc.normalise(code)) and isinstance(data, dict):
        code = str(data.get("credit_code") or code)
    name = str((data.get("name") if isinstance(data, dict) else "") or holder.get("name") or "")
    kind = (SupervisionRecord.Kind.COMMITMENT if payload.get("by_commitment")
            else SupervisionRecord.Kind.CHANGE if handling in ("change", "renew")
            else SupervisionRecord.Kind.CANCELLATION if handling == "cancel" else SupervisionRecord.Kind.APPROVAL)
    with transaction.atomic():
        existing = SupervisionRecord.objects.filter(application_ref=ref, item_code=item_code,
                                                    department=department).first()
        if existing is not None:
            return existing
        entity = _entity_for_subject(code, name, department)
        if entity is not None:
            licences = [lic for lic in entity.licences if lic.get("item_code") != item_code]
            licences.append({"item_code": item_code, "item_name": item_name, "application_ref": ref,
                             "on": timezone.localdate().isoformat(),
                             "status": "cancelled" if kind == SupervisionRecord.Kind.CANCELLATION else "valid"})
            entity.licences = licences
            entity.save(update_fields=["licences"])
        record = SupervisionRecord.objects.create(
            application_ref=ref, item_code=item_code, item_name=item_name, kind=kind, entity=entity,
            subject_name=name or code, subject_id_number=uscc.normalise(code), department=department,
            approving_department=str(payload.get("organisation_code") or ""), follow_up=follow_up,
            receipt_due=selectors.due_after(selectors.RECEIPT_WORKING_DAYS))
    return record


@transaction.atomic
def receive_record(record: SupervisionRecord, user: User) -> SupervisionRecord:
    """认领: the supervising department takes the result into its supervision."""
    record = SupervisionRecord.objects.select_for_update().get(pk=record.pk)
    if not selectors.can_supervise(user, record.department_id):
        raise Forbidden("只有监管部门的监管执法人员可以认领")
    if record.status == SupervisionRecord.Status.RECEIVED:
        raise Conflict("该记录已认领", code="supervision.already_received")
    record.status, record.received_at, record.received_by = (SupervisionRecord.Status.RECEIVED, timezone.now(),
                                                             user)
    record.save(update_fields=["status", "received_at", "received_by"])
    audit("supervision.receive", actor=user, obj=record)
    return record


# --- post-checks of commitment approvals -------------------------------------------------------------------------

def open_post_checks(payload: dict[str, Any]) -> list[PostCheck]:
    """告知承诺制: one post-check per supervising department of the approved items, due in 20 working days."""
    ref = str(payload.get("application_ref") or "")
    holder = payload.get("holder") or {}
    by_dept: dict[int, tuple[Organisation, list[str]]] = {}
    for item in payload.get("items") or []:
        dept, _follow, _name, _kind = supervising_department(str(item.get("item_code") or ""),
                                                             str(item.get("department_code") or ""))
        if dept is not None:
            by_dept.setdefault(dept.pk, (dept, []))[1].append(str(item.get("item_code") or ""))
    start = date.fromisoformat(payload["approved_on"]) if payload.get("approved_on") else timezone.localdate()
    due = selectors.due_after(selectors.POST_CHECK_WORKING_DAYS, start)
    checks = []
    with transaction.atomic():
        for dept, codes in by_dept.values():
            entity = _entity_for_subject(str(holder.get("id_number") or ""), str(holder.get("name") or ""), dept,
                                         MarketEntity.Source.APPLICATION)
            check, _ = PostCheck.objects.get_or_create(
                application_ref=ref, department=dept,
                defaults={"title": str(payload.get("title") or ""), "item_codes": codes, "entity": entity,
                          "subject_name": str(holder.get("name") or ""),
                          "subject_id_number": str(holder.get("id_number") or ""), "due_on": due})
            checks.append(check)
    return checks


@transaction.atomic
def complete_post_check(check: PostCheck, user: User, *, passed: bool, result: str) -> PostCheck:
    """Record a post-check's findings. A failure: credit event (告知承诺不实), enforcement lead, and
    ``post_check_failed`` (applications revokes the approval, credentials revokes the licences)."""
    check = PostCheck.objects.select_for_update().get(pk=check.pk)
    if not selectors.can_supervise(user, check.department_id):
        raise Forbidden("只有该部门监管执法人员可以核查", code="post_check.forbidden")
    if check.status != PostCheck.Status.PENDING:
        raise Conflict("该核查已完成", code="post_check.done")
    if not (result or "").strip():
        raise InvalidInput("请填写核查情况", field="result", code="post_check.result_required",
                           status=400)
    check.status = PostCheck.Status.PASSED if passed else PostCheck.Status.FAILED
    check.result, check.checked_by, check.checked_at = result.strip(), user, timezone.now()
    check.save(update_fields=["status", "result", "checked_by", "checked_at"])
    audit("post_check.complete", actor=user, obj=check, detail={"passed": passed}, reason=result)
    if passed:
        if check.entity is not None:
            add_credit_event(check.entity, "post_check_passed", f"{check.title}：告知承诺事后核查通过",
                             department=check.department, source_ref=check.application_ref)
        return check
    if check.entity is not None:
        add_credit_event(check.entity, "commitment_breach", f"{check.title}：告知承诺不实（{result.strip()}）",
                         department=check.department, source_ref=check.application_ref)
    EnforcementLead.objects.create(
        entity=check.entity, subject_name=check.subject_name, department=check.department,
        source=EnforcementLead.Source.POST_CHECK, source_ref=check.application_ref,
        description=f"告知承诺事后核查不通过：{result.strip()}",
        due_on=selectors.due_after(selectors.LEAD_WORKING_DAYS))
    events.post_check_failed.send(sender=PostCheck, application_ref=check.application_ref,
                                  holder={"name": check.subject_name, "id_number": check.subject_id_number},
                                  reason=result.strip(), checked_by=user.pk)
    return check


# --- credit ------------------------------------------------------------------------------------------------------

def add_credit_event(entity: MarketEntity, kind: str, description: str, *, points: float | None = None,
                     department: Organisation | None = None, source_ref: str = "",
                     occurred_on: date | None = None, actor: User | None = None) -> CreditEvent:
    if kind not in CreditEvent.Kind.values:
        raise InvalidInput(f"信用记录类型“{kind}”不正确", field="kind")
    if not (description or "").strip():
        raise InvalidInput("请填写信用记录说明", field="description")
    event = CreditEvent.objects.create(entity=entity, kind=kind, description=description.strip(),
                                       points=credit.POINTS[kind] if points is None else points,
                                       department=department, source_ref=source_ref,
                                       occurred_on=occurred_on or timezone.localdate())
    audit("supervision.credit_event", actor=actor, obj=event, detail={"uscc": entity.uscc, "kind": kind})
    regrade(entity)
    return event


def _grading(entity: MarketEntity, evs: Iterable[CreditEvent], today: date) -> credit.Grading:
    return credit.grade([credit.Event(e.kind, e.points, e.occurred_on, e.description) for e in evs], today,
                        entity.established_on)


def regrade(entity: MarketEntity, today: date | None = None) -> MarketEntity:
    """Recompute one entity's grade from its unrepaired events."""
    today = today or timezone.localdate()
    g = _grading(entity, entity.credit_events.filter(repaired=False), today)
    entity.grade, entity.credit_score, entity.grade_reasons, entity.graded_at = g.grade, g.score, g.reasons, \
        timezone.now()
    entity.save(update_fields=["grade", "credit_score", "grade_reasons", "graded_at"])
    return entity


def recompute_credit(entities: QuerySet[MarketEntity] | None = None, *, today: date | None = None,
                     batch: int = 5000) -> dict[str, int]:
    """Recompute the grade of every entity (or of ``entities``) in batches; only changed rows are written (one
    ``executemany`` per batch). Returns the count per grade."""
    today = today or timezone.localdate()
    qs = (entities if entities is not None else MarketEntity.objects.all()).order_by("pk")
    counts = dict.fromkeys(drawing.GRADES, 0)
    now = timezone.now()
    last_pk = 0
    no_events: dict[date | None, credit.Grading] = {}  # entities without records differ only by their age
    while True:
        chunk = list(qs.filter(pk__gt=last_pk).values_list("pk", "established_on", "grade", "credit_score",
                                                           "grade_reasons")[:batch])
        if not chunk:
            break
        last_pk = chunk[-1][0]
        by_entity: dict[int, list[credit.Event]] = defaultdict(list)
        # a range, not IN (5,000 ids): the chunk is consecutive in pk order (others in the range are skipped below)
        for ev in CreditEvent.objects.filter(entity_id__gte=chunk[0][0], entity_id__lte=last_pk,
                                             repaired=False).values_list(
                "entity_id", "kind", "points", "occurred_on", "description"):
            by_entity[ev[0]].append(credit.Event(ev[1], ev[2], ev[3], ev[4]))
        changed = []
        for pk, established, old_grade, old_score, old_reasons in chunk:
            evs = by_entity.get(pk)
            if evs:
                g = credit.grade(evs, today, established)
            else:
                g = no_events.get(established) or no_events.setdefault(established,
                                                                       credit.grade((), today, established))
            counts[g.grade] += 1
            if (g.grade, g.score, g.reasons) != (old_grade, old_score, old_reasons):
                changed.append((g.grade, g.score, json.dumps(g.reasons, ensure_ascii=False), now, pk))
        _write_grades(changed)
    return counts


def _write_grades(rows: list[tuple[str, float, str, Any, int]]) -> None:
    """Write changed grades: one ``UPDATE … FROM (VALUES …)`` per 1,000 rows (SQLite ≥ 3.33 and PostgreSQL), in one
    transaction."""
    if not rows:
        return
    from django.db import connection

    table = connection.ops.quote_name(MarketEntity._meta.db_table)
    stamp = {at: connection.ops.adapt_datetimefield_value(at) for at in {row[3] for row in rows}}
    if connection.vendor == "postgresql":
        one = "(%s, %s::double precision, %s::jsonb, %s::timestamptz, %s::bigint)"
    else:
        one = "(%s, %s, %s, %s, %s)"
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(rows), 1000):
            part = rows[i:i + 1000]
            params = [v for g, score, why, at, pk in part for v in (g, score, why, stamp[at], pk)]
            cursor.execute(
                f"UPDATE {table} SET grade = v.column1, credit_score = v.column2, grade_reasons = v.column3, "
                f"graded_at = v.column4 FROM (VALUES {', '.join([one] * len(part))}) AS v "
                f"WHERE {table}.id = v.column5", params)


def _entity_user(user: User, entity: MarketEntity) -> bool:
    return bool(user.is_authenticated and user.id_number and user.id_number.upper() == entity.uscc)


def _reviewer_departments(event: CreditEvent) -> list[int]:
    if event.department_id:
        return [event.department_id]
    return list(event.entity.supervising_departments.values_list("pk", flat=True))


@transaction.atomic
def apply_repair(event: CreditEvent, user: User, reason: str) -> CreditRepair:
    """信用修复 申请: the entity (or a supervisor on its behalf) asks to repair a negative record."""
    event = CreditEvent.objects.select_for_update().select_related("entity").get(pk=event.pk)
    if not (_entity_user(user, event.entity)
            or any(selectors.can_supervise(user, d) for d in _reviewer_departments(event))):
        raise Forbidden("只有该主体或其监管部门可以申请信用修复")
    if event.points >= 0:
        raise InvalidInput("只有失信记录可以申请信用修复", field="event")
    if event.repaired:
        raise Conflict("该记录已修复", code="supervision.repair_done")
    if not (reason or "").strip():
        raise InvalidInput("请填写修复理由与整改情况", field="reason")
    try:
        with transaction.atomic():
            repair = CreditRepair.objects.create(event=event, reason=reason.strip(), applied_by=user)
    except IntegrityError:
        raise Conflict("该记录已有待审核的修复申请", code="supervision.repair_pending") from None
    audit("supervision.repair_apply", actor=user, obj=repair, detail={"event": event.pk})
    return repair


@transaction.atomic
def review_repair(repair: CreditRepair, user: User, *, approve: bool, note: str = "") -> CreditRepair:
    """信用修复 审核: approved → the record no longer counts and the grade is restored (recomputed)."""
    repair = CreditRepair.objects.select_for_update().select_related("event__entity").get(pk=repair.pk)
    if not any(selectors.can_supervise(user, d) for d in _reviewer_departments(repair.event)):
        raise Forbidden("只有认定该记录的部门可以审核信用修复")
    if repair.status != CreditRepair.Status.PENDING:
        raise Conflict("该申请已审核", code="supervision.repair_reviewed")
    if not approve and not (note or "").strip():
        raise InvalidInput("不予修复时请填写理由", field="note")
    repair.status = CreditRepair.Status.APPROVED if approve else CreditRepair.Status.REJECTED
    repair.reviewed_by, repair.reviewed_at, repair.review_note = user, timezone.now(), (note or "").strip()
    repair.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    if approve:
        CreditEvent.objects.filter(pk=repair.event_id).update(repaired=True)
        regrade(repair.event.entity)
    audit("supervision.repair_review", actor=user, obj=repair, detail={"approve": approve}, reason=note)
    return repair


# --- the supervision log (RFC 6962 Merkle tree) -------------------------------------------------------------------

def _leaf(kind: str, payload: dict[str, Any]) -> bytes:
    return leaf_hash(json.dumps({"kind": kind, "payload": payload}, ensure_ascii=False, sort_keys=True,
                                separators=(",", ":")).encode("utf-8"))


def append_log(kind: str, payload: dict[str, Any]) -> LogEntry:
    """Append one entry; its ``root`` is the tree head after it (any later change to an entry shows in the roots)."""
    with transaction.atomic():
        last = LogEntry.objects.select_for_update().order_by("-index").first()
        frontier = Frontier.from_json(last.index + 1, last.frontier) if last else Frontier()
        leaf = _leaf(kind, payload)
        frontier.push(leaf)
        return LogEntry.objects.create(index=frontier.size - 1, kind=kind, payload=payload, leaf_hash=leaf.hex(),
                                       root=frontier.root().hex(), frontier=frontier.to_json())


def verify_log() -> str | None:
    """Recompute every leaf and root from the entries' payloads; the first mismatch, or None."""
    frontier = Frontier()
    for entry in LogEntry.objects.order_by("index").iterator():
        if entry.index != frontier.size:
            return f"entry {frontier.size} is missing"
        leaf = _leaf(entry.kind, entry.payload)
        if leaf.hex() != entry.leaf_hash:
            return f"entry {entry.index}: payload does not match its leaf hash"
        frontier.push(leaf)
        if frontier.root().hex() != entry.root:
            return f"entry {entry.index}: root does not match"
    return None


# --- draw plans, inspectors, draws ---------------------------------------------------------------------------------

def save_inspector(*, code: str, name: str, department: str, division: str, user: User | None = None,
                   conflicts: Iterable[str] = ()) -> Inspector:
    dept = Organisation.objects.filter(code=department).first()
    if dept is None:
        raise InvalidInput(f"部门“{department}”不存在", field="department")
    div = Division.objects.filter(code=division).first()
    if div is None:
        raise InvalidInput(f"行政区划“{division}”不存在", field="division")
    bad = [c for c in conflicts if not uscc.is_valid(c)]
    if bad:
        raise InvalidInput(f"回避主体代码无效：{'、'.join(bad)}", field="conflicts")
    inspector, _ = Inspector.objects.update_or_create(code=code, defaults={
        "name": name, "department": dept, "division": div, "user": user, "conflicts": list(conflicts)})
    return inspector


def save_plan(*, code: str, name: str, department: str, ratios: dict[str, Any], period_start: date | str,
              period_end: date | str, checklist: list[str], item_codes: Iterable[str] = (),
              industries: Iterable[str] = (), division_codes: Iterable[str] = (),
              inspectors_per_entity: int = 2, actor: User | None = None) -> DrawPlan:
    """Create or update a draw plan; every field is checked first and the error names it (nothing is written)."""
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise InvalidInput("计划编号不能为空", field="code")
    if not name:
        raise InvalidInput("计划名称不能为空", field="name")
    dept = Organisation.objects.filter(code=department).first()
    if dept is None:
        raise InvalidInput(f"部门“{department}”不存在", field="department", code="supervision.unknown_department")
    if actor is not None and not selectors.can_supervise(actor, dept):
        raise Forbidden("只有该部门监管执法人员可以制定抽查计划")
    items = [str(c).strip() for c in item_codes if str(c).strip()]
    known = set(ServiceItem.objects.filter(code__in=items).values_list("code", flat=True))
    if unknown := [c for c in items if c not in known]:
        raise InvalidInput(f"事项“{'、'.join(unknown)}”不存在", field="item_codes", code="supervision.unknown_item")
    inds = [str(c).strip().upper() for c in industries if str(c).strip()]
    if unknown := [c for c in inds if c not in INDUSTRIES]:
        raise InvalidInput(f"行业门类“{'、'.join(unknown)}”不正确（GB/T 4754 门类 A–S）", field="industries")
    divs = [str(c).strip() for c in division_codes if str(c).strip()]
    known = set(Division.objects.filter(code__in=divs).values_list("code", flat=True))
    if unknown := [c for c in divs if c not in known]:
        raise InvalidInput(f"行政区划“{'、'.join(unknown)}”不存在", field="division_codes")
    if not isinstance(ratios, dict) or not ratios:
        raise InvalidInput("请填写各信用等级的抽查比例", field="ratios")
    clean_ratios: dict[str, float] = {}
    for g, value in ratios.items():
        if g not in drawing.GRADES:
            raise InvalidInput(f"信用等级“{g}”不正确（A、B、C、D）", field=f"ratios.{g}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{g} 级抽查比例“{value}”不是数字", field=f"ratios.{g}") from None
        if not 0 <= number <= 1:
            raise InvalidInput(f"{g} 级抽查比例 {value} 超出 0–1", field=f"ratios.{g}",
                               code="supervision.ratio_out_of_range")
        clean_ratios[g] = number
    try:
        start = period_start if isinstance(period_start, date) else date.fromisoformat(str(period_start))
    except ValueError:
        raise InvalidInput(f"开始日期“{period_start}”不是 YYYY-MM-DD", field="period_start") from None
    try:
        end = period_end if isinstance(period_end, date) else date.fromisoformat(str(period_end))
    except ValueError:
        raise InvalidInput(f"结束日期“{period_end}”不是 YYYY-MM-DD", field="period_end") from None
    if end < start:
        raise InvalidInput("结束日期早于开始日期", field="period_end")
    checks = [str(c).strip() for c in checklist or [] if str(c).strip()]
    if not checks:
        raise InvalidInput("请填写检查事项清单", field="checklist")
    if int(inspectors_per_entity) < 2:
        raise InvalidInput("每户至少 2 名检查人员（双随机）", field="inspectors_per_entity")
    available = Inspector.objects.filter(department=dept, active=True).count()
    if available < int(inspectors_per_entity):
        raise InvalidInput(f"{dept.name} 在岗检查人员 {available} 名，少于每户 {inspectors_per_entity} 名",
                           field="inspectors", code="supervision.no_eligible_inspectors")
    plan, created = DrawPlan.objects.update_or_create(code=code, defaults={
        "name": name, "department": dept, "item_codes": items, "industries": inds, "division_codes": divs,
        "ratios": clean_ratios, "period_start": start, "period_end": end, "checklist": checks,
        "inspectors_per_entity": int(inspectors_per_entity)})
    audit("supervision.plan_save", actor=actor, obj=plan, detail={"created": created})
    return plan


def _division_ids(codes: list[str]) -> set[int]:
    """The divisions named and every division below them."""
    rows = list(Division.objects.values_list("pk", "code", "parent_id"))
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, _code, parent in rows:
        children[parent].append(pk)
    frontier = [pk for pk, code, _ in rows if code in codes]
    ids = set(frontier)
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, []) if c not in ids]
        ids.update(frontier)
    return ids


def scope(plan: DrawPlan) -> QuerySet[MarketEntity]:
    """The plan's eligible entities: active, supervised by the plan's department, within its item, industry and
    division scope."""
    supervised = MarketEntity.supervising_departments.through.objects.filter(organisation=plan.department)
    qs = MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE,
                                     pk__in=supervised.values("marketentity_id"))
    if plan.industries:
        qs = qs.filter(industry__in=plan.industries)
    if plan.division_codes:
        qs = qs.filter(division_id__in=_division_ids(plan.division_codes))
    if plan.item_codes:
        qs = qs.filter(pk__in=SupervisionRecord.objects.filter(item_code__in=plan.item_codes).values("entity"))
    return qs  # subqueries only: no join, so no duplicates and no DISTINCT over the register


def draw_inputs(plan: DrawPlan) -> dict[str, Any]:
    """The published inputs of a draw of ``plan`` now, before step 2 (see :mod:`.drawing`): every eligible entity by
    grade, the department's inspectors, who inspected which entity in its previous draw."""
    by_grade: dict[str, list[str]] = {g: [] for g in drawing.GRADES}
    for code, grade in scope(plan).order_by("uscc").values_list("uscc", "grade").iterator(chunk_size=20000):
        by_grade[grade].append(code)
    inspectors = [[i.code, i.division.code, sorted(i.conflicts or [])]
                  for i in selectors.inspectors_of(plan.department).order_by("code")]
    last: dict[str, list[str]] = {}
    previous = Draw.objects.filter(plan__department=plan.department).order_by("-drawn_at", "-id").first()
    if previous is not None:
        last = {row["uscc"]: row["inspectors"] for row in previous.outcome}
    return {"plan": plan.code, "department": plan.department.code, "ratios": plan.ratios,
            "inspectors_per_entity": plan.inspectors_per_entity, "entities": by_grade, "divisions": {},
            "inspectors": inspectors, "last_inspected": last}


def _drawn_entities(codes: list[str]) -> dict[str, tuple[int, str]]:
    """``uscc → (pk, division code)`` of the drawn entities, 5,000 codes per query."""
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(codes), 5000):
        for code, pk, division in MarketEntity.objects.filter(uscc__in=codes[i:i + 5000]).values_list(
                "uscc", "pk", "division__code"):
            found[code] = (pk, division)
    return found


def _create_inspections(draw: Draw, outcome: list[dict[str, Any]], ids: dict[str, int], insp_ids: dict[str, int],
                        department_id: int, due: date) -> None:
    """One inspection per drawn entity and its inspectors: plain multi-row INSERTs (``executemany``), since a draw
    over a large register creates tens of thousands of rows (model instances cost more than the writes)."""
    from django.db import connection

    qn = connection.ops.quote_name
    table, through = Inspection._meta.db_table, Inspection.inspectors.through._meta.db_table
    due_value = connection.ops.adapt_datefield_value(due)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {qn(table)} (draw_id, entity_id, department_id, due_on, status, findings, published) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(draw.pk, ids[r["uscc"]], department_id, due_value, Inspection.Status.ASSIGNED, "", False)
             for r in outcome])
        made = dict(Inspection.objects.filter(draw=draw).values_list("entity_id", "pk"))
        cursor.executemany(
            f"INSERT INTO {qn(through)} (inspection_id, inspector_id) VALUES (%s, %s)",
            [(made[ids[r["uscc"]]], insp_ids[c]) for r in outcome for c in r["inspectors"]])


def run_draw(plan: DrawPlan | str, *, seed: str | None = None, actor: User | None = None) -> Draw:
    """Draw entities and inspectors for a plan, store the draw with its inputs, log it; all or nothing."""
    if isinstance(plan, str):
        try:
            plan = selectors.get_plan(plan)
        except NotFound:
            raise InvalidInput(f"抽查计划“{plan}”不存在", field="plan") from None
    if actor is not None and not selectors.can_supervise(actor, plan.department):
        raise Forbidden("只有该部门监管执法人员可以抽取")
    seed = (seed or "").strip() or secrets.token_hex(16)
    with transaction.atomic():
        inputs = draw_inputs(plan)
        if not inputs["inspectors"]:
            raise InvalidInput(f"{plan.department.name} 没有在岗检查人员", field="inspectors",
                               code="supervision.no_eligible_inspectors")
        picked = drawing.pick_entities(seed, inputs["entities"], inputs["ratios"])
        drawn = {u for u, _ in picked}
        rows = _drawn_entities(sorted(drawn))
        inputs["divisions"] = {code: division for code, (_pk, division) in rows.items()}
        inputs["last_inspected"] = {u: v for u, v in inputs["last_inspected"].items() if u in drawn}
        try:
            outcome = drawing.run(seed, inputs, picked)
        except drawing.DrawError as exc:
            raise InvalidInput(str(exc), field=exc.field, code="supervision.draw_refused") from None
        draw = Draw.objects.create(plan=plan, seed=seed, algorithm=drawing.ALGORITHM, inputs=inputs, outcome=outcome,
                                   inputs_sha256=drawing.digest(inputs), outcome_sha256=drawing.digest(outcome),
                                   drawn_by=actor if actor is not None and actor.is_authenticated else None)
        ids = {code: pk for code, (pk, _division) in rows.items()}
        insp_ids = dict(Inspector.objects.filter(department=plan.department).values_list("code", "pk"))
        due = selectors.due_after(selectors.INSPECTION_WORKING_DAYS)
        _create_inspections(draw, outcome, ids, insp_ids, plan.department_id, due)
        entry = append_log("draw", {"draw": draw.pk, "plan": plan.code, "seed": seed, "algorithm": drawing.ALGORITHM,
                                    "inputs_sha256": draw.inputs_sha256, "outcome_sha256": draw.outcome_sha256})
        draw.log_index = entry.index
        draw.save(update_fields=["log_index"])
        audit("supervision.draw", actor=actor, obj=draw, detail={"plan": plan.code, "entities": len(outcome)})
    return draw


def redraw(draw: Draw | int | str) -> str | None:
    """Recompute a draw from its published seed and inputs: None when identical, else the first difference
    (including a stored input or outcome that no longer matches its logged digest)."""
    if not isinstance(draw, Draw):
        draw = selectors.get_draw(draw)
    if draw.algorithm != drawing.ALGORITHM:
        return f"unknown algorithm {draw.algorithm}"
    entry = LogEntry.objects.filter(index=draw.log_index).first() if draw.log_index is not None else None
    if entry is None:
        return "the draw is not in the supervision log"
    logged = entry.payload
    if drawing.digest(draw.inputs) != logged.get("inputs_sha256"):
        return "inputs: the stored inputs do not match the logged inputs_sha256"
    if draw.seed != logged.get("seed"):
        return f"seed: stored {draw.seed} != logged {logged.get('seed')}"
    try:
        recomputed = drawing.run(draw.seed, draw.inputs)
    except drawing.DrawError as exc:
        return f"recomputation refused: {exc}"
    difference = drawing.first_difference(draw.outcome, recomputed)
    if difference:
        return difference
    if drawing.digest(recomputed) != logged.get("outcome_sha256"):
        return "outcome: the recomputed outcome does not match the logged outcome_sha256"
    if verify_log() is not None:
        return f"log: {verify_log()}"
    return None


@transaction.atomic
def record_inspection(inspection: Inspection, user: User, *, passed: bool, findings: str,
                      publish: bool = True) -> Inspection:
    """The result of one inspection; published (公开) by default; a failure → credit event and enforcement lead."""
    inspection = Inspection.objects.select_for_update().select_related("entity", "draw").get(pk=inspection.pk)
    if not (selectors.can_supervise(user, inspection.department_id)
            or inspection.inspectors.filter(user=user).exists()):
        raise Forbidden("只有抽中的检查人员或该部门监管执法人员可以登记检查结果")
    if inspection.status != Inspection.Status.ASSIGNED:
        raise Conflict("该检查已登记结果", code="supervision.inspection_done")
    if not (findings or "").strip():
        raise InvalidInput("请填写检查结果", field="findings")
    inspection.status = Inspection.Status.PASSED if passed else Inspection.Status.FAILED
    inspection.findings, inspection.checked_at, inspection.published = findings.strip(), timezone.now(), publish
    inspection.save(update_fields=["status", "findings", "checked_at", "published"])
    add_credit_event(inspection.entity, "inspection_passed" if passed else "inspection_failed",
                     f"双随机抽查（{inspection.draw.plan.code}）：{findings.strip()}",
                     department=inspection.department, source_ref=f"draw-{inspection.draw_id}", actor=user)
    if not passed:
        EnforcementLead.objects.create(
            entity=inspection.entity, subject_name=inspection.entity.name, department=inspection.department,
            source=EnforcementLead.Source.INSPECTION, source_ref=f"draw-{inspection.draw_id}",
            description=f"双随机抽查发现问题：{findings.strip()}",
            due_on=selectors.due_after(selectors.LEAD_WORKING_DAYS))
    if publish:
        append_log("result", {"draw": inspection.draw_id, "uscc": inspection.entity.uscc,
                              "status": inspection.status, "findings": inspection.findings})
    return inspection


# --- risk warnings (风险预警) ----------------------------------------------------------------------------------------

RISK_RULES = Path(__file__).with_name("risk_rules.dmn")
RISK_DECISION = "supervision_risk_rules"
RULE_POINTS_THRESHOLD = 5


def train_risk_model(*, samples: int = 20000, seed: int = 20261205) -> RiskModel:
    """Train the model on synthetic data with a known signal (``risk.synthetic``) and store it with its AUC."""
    m = risk.train(samples, seed)
    stored = RiskModel.objects.create(weights=m.weights, intercept=m.intercept, features=m.features, auc=m.auc,
                                      train_size=m.train_size, test_size=m.test_size, seed=m.seed)
    audit("supervision.risk_model", obj=stored, detail={"auc": m.auc, "samples": samples, "seed": seed})
    return stored


def _risk_model() -> risk.Model:
    stored = RiskModel.objects.first() or train_risk_model()
    return risk.Model(weights=list(stored.weights), intercept=stored.intercept, auc=stored.auc,
                      train_size=stored.train_size, test_size=stored.test_size, seed=stored.seed,
                      features=list(stored.features))


def risk_features(entities: QuerySet[MarketEntity], today: date | None = None) -> dict[int, dict[str, Any]]:
    """Per entity id: the model's features and the credit grade (the DMN rules use it too)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    kinds = {"commitment_breach": "post_check_failures", "complaint_upheld": "complaints",
             "inspection_failed": "inspection_findings", "penalty": "penalties", "serious_penalty": "penalties"}
    rows: dict[int, dict[str, Any]] = {}
    for pk, established, industry, grade in entities.values_list("pk", "established_on", "industry", "grade"):
        rows[pk] = {"post_check_failures": 0, "complaints": 0, "inspection_findings": 0, "penalties": 0,
                    "age_years": round((today - established).days / 365, 1) if established else 0.0,
                    "risky_industry": 1.0 if industry in risk.RISKY_INDUSTRIES else 0.0, "grade": grade}
    counted = (CreditEvent.objects.filter(entity__in=entities, kind__in=list(kinds), repaired=False)
               .values("entity_id", "kind").annotate(n=Count("id")))
    for row in counted:
        if row["entity_id"] in rows:
            rows[row["entity_id"]][kinds[row["kind"]]] += row["n"]
    return rows


def scan_risks(*, threshold: float = risk.DEFAULT_THRESHOLD, rule_points: int = RULE_POINTS_THRESHOLD,
               today: date | None = None) -> dict[str, Any]:
    """Score every active entity with the model and the DMN rules (``risk_rules.dmn`` on the workflow engine); a
    score at or above ``threshold`` or rule points at or above ``rule_points`` becomes a warning: an enforcement lead
    for the entity's supervising department, due in 10 working days (one open warning per entity and department)."""
    if not 0 < threshold < 1:
        raise InvalidInput(f"阈值 {threshold} 应在 0 与 1 之间", field="threshold")
    from tongban.workflow import services as workflow_services

    workflow_services.deploy_decision_file(RISK_RULES)
    model = _risk_model()
    entities = MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE)
    features = risk_features(entities, today)
    first_dept: dict[int, int] = {}
    for entity_id, org_id in MarketEntity.supervising_departments.through.objects.filter(
            marketentity__in=entities).order_by("organisation_id").values_list("marketentity_id", "organisation_id"):
        first_dept.setdefault(entity_id, org_id)
    open_warnings = set(EnforcementLead.objects.filter(source=EnforcementLead.Source.WARNING,
                                                       status=EnforcementLead.Status.OPEN)
                        .values_list("entity_id", "department_id"))
    names = dict(entities.values_list("pk", "name"))
    due = selectors.due_after(selectors.LEAD_WORKING_DAYS)
    created = flagged = 0
    for entity_id, f in features.items():
        x = risk.vector(f)
        p = model.probability(x)
        points = 0
        if any(f[k] for k in ("post_check_failures", "complaints", "inspection_findings", "penalties")) \
                or f["grade"] == "D":
            points = int(workflow_services.evaluate_decision(RISK_DECISION, f) or 0)
        if p < threshold and points < rule_points:
            continue
        flagged += 1
        dept = first_dept.get(entity_id)
        if dept is None or (entity_id, dept) in open_warnings:
            continue
        why = "、".join(model.explain(x)) or "综合评分"
        EnforcementLead.objects.create(
            entity_id=entity_id, subject_name=names[entity_id], department_id=dept,
            source=EnforcementLead.Source.WARNING, source_ref=f"risk-{timezone.localdate():%Y%m%d}",
            description=f"风险预警：模型评分 {p:.2f}（阈值 {threshold:g}；{why}），规则分 {points}", due_on=due)
        created += 1
    audit("supervision.scan_risks", detail={"scanned": len(features), "flagged": flagged, "created": created})
    return {"scanned": len(features), "flagged": flagged, "warnings": created, "auc": model.auc}


def commitment_refusal(subject_id_number: str) -> str | None:
    """凭信用审批: the reason a grade-D entity may not use the commitment route, or None."""
    entity = selectors.find_entity(subject_id_number)
    if entity is None or entity.grade != "D":
        return None
    reasons = [r for r in entity.grade_reasons[1:] if "衰减" in r][:2]
    return (f"{entity.name} 信用等级为 D 级（失信），不适用告知承诺制，请提交全部材料按一般程序办理"
            + (f"。原因：{'；'.join(reasons)}" if reasons else "") + "。可在信用修复后再选择告知承诺。")
