"""Writes of the enforcement context: leads, the case steps on the workflow engine, the case record (全过程记录),
the decision with its benchmark and legal-review rules, publication (公示) and the case-file export.

The rules are enforced here, not in the pages: a decision outside the benchmark range is refused
(``enforcement.outside_benchmark``) unless 减轻/从重 is justified and the legal review approved it; a major
decision (``conf.major_criteria``) before an approved legal review is refused
(``enforcement.legal_review_required``); the decision comes after the notice and the hearing window.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tongban.core import events
from tongban.core.calendar import default_calendar
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from . import conf, discretion, process, selectors
from .errors import (
    HEARING_PENDING,
    HEARING_TOO_LATE,
    HEAVIER_THAN_NOTIFIED,
    LEGAL_REVIEW_REQUIRED,
    NOTICE_REQUIRED,
    OUTSIDE_BENCHMARK,
    UNKNOWN_ITEM,
    BadState,
    EnforcementError,
    Forbidden,
    NotFound,
)
from .models import CaseRecord, EnforcementCase, EnforcementItem, Lead, Level, PenaltyKind

Stage = EnforcementCase.Stage
Review = EnforcementCase.Review
#: credit points of a penalty by circumstance level (a credit fact; negative lowers the entity's score)
CREDIT_POINTS: dict[str, int] = {Level.MINOR: -2, Level.GENERAL: -5, Level.SERIOUS: -10, Level.SEVERE: -20}
HEARING_KINDS = {PenaltyKind.REVOKE_LICENCE, PenaltyKind.DOWNGRADE, PenaltyKind.SUSPEND_BUSINESS, PenaltyKind.CLOSE,
                 PenaltyKind.RESTRICT_BUSINESS, PenaltyKind.BAR, PenaltyKind.CONFISCATE_PROPERTY}
SUSPENSION_KINDS = {PenaltyKind.SUSPEND_BUSINESS, PenaltyKind.CLOSE, PenaltyKind.RESTRICT_BUSINESS}
ARCHIVE_RETENTION_YEARS = 30  # 行政处罚案卷 (long-term) retention used on export
HEARING_WINDOW_DAYS = 5  # 《行政处罚法》第六十四条：告知后五日内提出（第八十五条：工作日）


# --- items and discretion -----------------------------------------------------------------------------------


def get_item(code: str) -> EnforcementItem:
    item = selectors.item(str(code or "").strip())
    if item is None:
        raise EnforcementError(f"未知的执法事项“{code}”", code=UNKNOWN_ITEM, status=404, detail={"field": "item"})
    return item


def assess(item_code: str, facts: Any) -> discretion.Discretion:
    """POST /api/enforcement/discretion: the level, the legal basis and the allowed range for the facts."""
    return discretion.assess(discretion.item_spec(get_item(item_code)), facts)


# --- roles --------------------------------------------------------------------------------------------------


def _require(user: User | None, role: str, case_or_org: EnforcementCase | Organisation, what: str) -> None:
    org = case_or_org.department if isinstance(case_or_org, EnforcementCase) else case_or_org
    if user is None or not has_role(user, role, org):
        raise Forbidden(f"{what}须由{org.name}的{ROLE_LABELS[role]}办理")


ROLE_LABELS = {Role.ENFORCEMENT_OFFICER: "行政执法人员", Role.LEGAL_REVIEWER: "法制审核人员",
               Role.ENFORCEMENT_HEAD: "执法部门负责人"}


def _require_stage(case: EnforcementCase, *stages: str) -> None:
    if case.stage not in stages:
        labels = "、".join(Stage(s).label for s in stages)
        raise BadState(f"案件 {case.case_no} 当前环节为“{case.get_stage_display()}”，不能办理（应在：{labels}）",
                       detail={"stage": case.stage})


def _locked(case: EnforcementCase) -> EnforcementCase:
    return EnforcementCase.objects.select_for_update().select_related("item", "department").get(pk=case.pk)


# --- the case record (全过程记录) -----------------------------------------------------------------------------


_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", Path(str(name)).name).strip("._")[:100] or "file"


def _store_attachment(case: EnforcementCase, entry: dict[str, Any]) -> dict[str, Any]:
    """An attachment as stored: a file's content is kept under MEDIA_ROOT with its SHA-256; audio/video by
    reference (``uri`` + the ``sha256`` the recorder computed)."""
    name = str(entry.get("name") or entry.get("filename") or "附件").strip()[:120]
    kind = str(entry.get("kind") or "file")[:20]
    content = entry.get("content")
    if isinstance(content, str):
        content = content.encode()
    if isinstance(content, bytes):
        limit = int(getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
        if len(content) > limit:
            raise EnforcementError(f"附件“{name}”超过 {limit // (1024 * 1024)} MB；音视频请以引用地址和校验值登记",
                                   detail={"field": "attachments"})
        digest = hashlib.sha256(content).hexdigest()
        rel = Path("enforcement") / _safe(case.case_no) / f"{digest[:16]}-{_safe(name)}"
        target = Path(settings.MEDIA_ROOT) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(content)
        return {"name": name, "kind": kind, "sha256": digest, "size": len(content), "path": str(rel)}
    uri = str(entry.get("uri") or "").strip()
    digest = str(entry.get("sha256") or "").strip().lower()
    if not uri or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise EnforcementError(f"附件“{name}”须有文件内容，或有引用地址（uri）和 SHA-256 校验值",
                               detail={"field": "attachments"})
    return {"name": name, "kind": kind, "sha256": digest, "size": int(entry.get("size") or 0), "uri": uri}


def add_record(case: EnforcementCase, actor: User | None, action: str, text: str = "", *,
               data: dict[str, Any] | None = None, attachments: list[dict[str, Any]] | None = None,
               amends: CaseRecord | None = None, step: str = "") -> CaseRecord:
    """Append one record to the case file; a correction names the record it ``amends`` (never an edit)."""
    if amends is not None and amends.case_id != case.pk:
        raise EnforcementError("只能更正本案件的记录", detail={"field": "amends"})
    stored = [_store_attachment(case, a) for a in attachments or []]
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))  # dates and amounts as JSON text
    with transaction.atomic():
        EnforcementCase.objects.select_for_update().filter(pk=case.pk).first()
        seq = (CaseRecord.objects.filter(case=case).aggregate(m=Max("seq"))["m"] or 0) + 1
        record = CaseRecord(case=case, seq=seq, at=timezone.now(), actor=actor if actor and actor.pk else None,
                            actor_label=str(actor) if actor and actor.pk else "系统", step=step or case.stage,
                            action=action[:40], text=text, data=data or {}, attachments=stored, amends=amends)
        record.save()
    return record


def append_record(case: EnforcementCase, actor: User, action: str, text: str = "",
                  attachments: list[dict[str, Any]] | None = None) -> CaseRecord:
    """A record added by hand (现场检查笔录, 照片, 音视频 by reference) by enforcement staff of the department."""
    if not selectors.can_see(actor, case):
        raise Forbidden("只有本部门执法人员可以追加记录")
    if not str(action or "").strip():
        raise EnforcementError("请填写记录事项", detail={"field": "action"})
    return add_record(case, actor, str(action).strip(), text, attachments=attachments)


def amend_record(case: EnforcementCase, actor: User, seq: int, text: str,
                 attachments: list[dict[str, Any]] | None = None) -> CaseRecord:
    if not selectors.can_see(actor, case):
        raise Forbidden("无权更正该案件的记录")
    original = CaseRecord.objects.filter(case=case, seq=seq).first()
    if original is None:
        raise NotFound(f"记录 #{seq} 不存在")
    if not text.strip():
        raise EnforcementError("请填写更正内容", detail={"field": "text"})
    return add_record(case, actor, "更正记录", text, data={"amends_seq": seq}, attachments=attachments,
                      amends=original, step=original.step)


def certify(user: User, department: Organisation, number: str, *, valid_until: date, field: str = "",
            actor: User | None = None) -> Any:
    """Register (or renew) a staff member's 行政执法证."""
    from .models import Certificate

    number = str(number or "").strip()
    if not number:
        raise EnforcementError("请填写执法证号", detail={"field": "number"})
    cert, _ = Certificate.objects.update_or_create(number=number, defaults={
        "user": user, "department": department, "valid_until": valid_until, "field": field, "active": True})
    audit("enforcement.certificate", actor=actor, obj=cert, detail={"number": number, "user": user.username})
    return cert


# --- leads and cases ----------------------------------------------------------------------------------------


def report_lead(*, source: str, entity_name: str, description: str, entity_uscc: str = "", item_code: str = "",
                department_code: str = "", actor: User | None = None) -> Lead:
    if source not in Lead.Source.values:
        raise EnforcementError(f"线索来源“{source}”未知，应为 {', '.join(Lead.Source.values)}",
                               detail={"field": "source"})
    if not str(entity_name or "").strip():
        raise EnforcementError("请填写当事人", detail={"field": "entity_name"})
    if not str(description or "").strip():
        raise EnforcementError("请填写线索内容", detail={"field": "description"})
    department = None
    if department_code:
        department = Organisation.objects.filter(code=department_code).first()
        if department is None:
            raise EnforcementError(f"机构“{department_code}”不存在", detail={"field": "department_code"})
    elif item_code:
        item = selectors.item(item_code)
        department = item.department if item else None
    if actor is not None:  # by hand (the API, pages): an officer of the department; events come without actor
        if department is None:
            raise EnforcementError("请指定执法部门或涉嫌违法行为", detail={"field": "department_code"})
        _require(actor, Role.ENFORCEMENT_OFFICER, department, "登记线索")
    lead = Lead.objects.create(
        ref=f"XS{timezone.localdate():%Y%m%d}{secrets.token_hex(3).upper()}", source=source,
        entity_uscc=str(entity_uscc or "").strip()[:32], entity_name=str(entity_name).strip()[:200],
        item_code=str(item_code or "").strip()[:40], description=str(description).strip(), department=department,
        reported_by=actor if actor and actor.pk else None)
    audit("enforcement.lead", actor=actor, obj=lead, detail={"source": source, "item": lead.item_code})
    return lead


def _next_case_no(today: date) -> str:
    prefix = f"ZF-{today.year}-"
    last = (EnforcementCase.objects.filter(case_no__startswith=prefix).order_by("-case_no")
            .values_list("case_no", flat=True).first())
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:05d}"


def _party_kind(id_number: str, kind: str | None) -> str:
    if kind:
        if kind not in EnforcementCase.PartyKind.values:
            raise EnforcementError(f"当事人类型“{kind}”未知", detail={"field": "party_kind"})
        return kind
    return EnforcementCase.PartyKind.NATURAL if len(id_number) == 18 and id_number[:2].isdigit() and \
        id_number[6:8] in ("19", "20") else EnforcementCase.PartyKind.LEGAL


@transaction.atomic
def open_case(actor: User, *, item_code: str, party_name: str = "", party_id_number: str = "",
              party_kind: str | None = None, facts: dict[str, Any] | None = None, summary: str = "",
              lead: Lead | None = None, department_code: str = "") -> EnforcementCase:
    """Register a case from a lead (or by hand) for 立案审批; starts the case process."""
    item = get_item(item_code or (lead.item_code if lead else ""))
    department = item.department
    if department_code:
        department = Organisation.objects.filter(code=department_code).first()
        if department is None:
            raise EnforcementError(f"机构“{department_code}”不存在", detail={"field": "department"})
    elif lead is not None and lead.department is not None:
        department = lead.department
    if department is None:
        raise EnforcementError("请指定执法部门", detail={"field": "department"})
    _require(actor, Role.ENFORCEMENT_OFFICER, department, "登记案件")
    if lead is not None:
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status != Lead.Status.NEW:
            raise BadState(f"线索 {lead.ref} 已处理（{lead.get_status_display()}）")
    name = str(party_name or (lead.entity_name if lead else "")).strip()
    number = str(party_id_number or (lead.entity_uscc if lead else "")).strip()
    if not name:
        raise EnforcementError("请填写当事人", detail={"field": "party_name"})
    facts = dict(facts or {})
    if facts:
        discretion.assess(discretion.item_spec(item), facts)  # names the bad field now, not at the decision
    case = EnforcementCase(item=item, department=department, lead=lead,
                           party_kind=_party_kind(number, party_kind), party_name=name[:200],
                           party_id_number=number[:32], facts=facts,
                           summary=str(summary or (lead.description if lead else "")), created_by=actor)
    for attempt in range(5):  # two officers registering at once: the unique number decides, the loser retries
        case.case_no = _next_case_no(timezone.localdate())
        try:
            with transaction.atomic():
                case.save()
            break
        except IntegrityError:
            case.pk = None
            if attempt == 4:
                raise
    process.start(case, actor=actor)
    case.stage = Stage.FILING
    case.save(update_fields=["process_instance_id", "stage"])
    if lead is not None:
        lead.status = Lead.Status.CASE_OPENED
        lead.save(update_fields=["status"])
    add_record(case, actor, "登记案件", case.summary, data={"lead": lead.ref if lead else "", "facts": facts})
    audit("enforcement.case_open", actor=actor, obj=case, detail={"case_no": case.case_no, "item": item.code})
    return case


@transaction.atomic
def decide_filing(case: EnforcementCase, actor: User, *, approve: bool, opinion: str = "") -> EnforcementCase:
    """立案审批 by the department head: 立案 starts the 90-day decision clock; 不予立案 ends the case."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_HEAD, case, "立案审批")
    _require_stage(case, Stage.FILING)
    if approve:
        case.filed_on = timezone.localdate()
        case.decision_due_on = selectors.decision_clock(case, case.filed_on).due  # type: ignore[union-attr]
    process.complete(case, "filing", actor, "approve" if approve else "reject", opinion=opinion)
    if not approve and case.lead_id:
        Lead.objects.filter(pk=case.lead_id).update(status=Lead.Status.DISMISSED)
    case.save()
    add_record(case, actor, "立案" if approve else "不予立案", opinion, step=Stage.FILING)
    return case


def _amount(value: Any, fld: str = "fine") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise EnforcementError(f"罚款金额“{value}”不是数值", detail={"field": fld}) from None
    if not result.is_finite() or result < 0:
        raise EnforcementError("罚款金额必须是不小于 0 的数值", detail={"field": fld})
    return result.quantize(Decimal("0.01"))


def _kinds(kinds: Any) -> list[str]:
    if not isinstance(kinds, list) or not kinds:
        raise EnforcementError("请选择处罚种类", detail={"field": "penalty_kinds"})
    unknown = [k for k in kinds if k not in PenaltyKind.values]
    if unknown:
        raise EnforcementError(f"处罚种类“{'、'.join(map(str, unknown))}”未知", detail={"field": "penalty_kinds"})
    return list(dict.fromkeys(kinds))


def is_major(kinds: list[str], fine: Decimal | None, *, hearing_held: bool) -> list[str]:
    """The major-decision criteria (重大执法决定) the decision meets (empty: not major)."""
    criteria = conf.major_criteria()
    met = []
    if "fine" in criteria and fine is not None and fine > conf.major_fine():
        met.append("fine")
    if "revocation" in criteria and PenaltyKind.REVOKE_LICENCE in kinds:
        met.append("revocation")
    if "suspension" in criteria and SUSPENSION_KINDS & set(kinds):
        met.append("suspension")
    if "hearing" in criteria and hearing_held:
        met.append("hearing")
    return met


MAJOR_LABELS = {"fine": "罚款数额较大", "revocation": "吊销许可证件", "suspension": "责令停产停业等",
                "hearing": "经过听证"}


def hearing_right(kinds: list[str], fine: Decimal | None) -> bool:
    """《行政处罚法》第六十三条: 较大数额罚款, 吊销许可证件, 责令停产停业 ... give the right to a hearing."""
    return bool(HEARING_KINDS & set(kinds)) or (fine is not None and fine >= conf.hearing_fine())


@transaction.atomic
def update_facts(case: EnforcementCase, actor: User, facts: dict[str, Any], note: str = "") -> EnforcementCase:
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "认定情节")
    _require_stage(case, Stage.INVESTIGATING)
    result = discretion.assess(discretion.item_spec(case.item), facts)
    case.facts = dict(facts)
    case.save(update_fields=["facts"])
    add_record(case, actor, "认定情节", note, data={"facts": case.facts, "level": result.level.level})
    return case


@transaction.atomic
def finish_investigation(case: EnforcementCase, actor: User, *, penalty_kinds: list[str], fine: Any = None,
                         justification: str = "", facts: dict[str, Any] | None = None, note: str = "",
                         attachments: list[dict[str, Any]] | None = None) -> EnforcementCase:
    """调查终结 with the proposed decision (拟处罚意见); a major or out-of-range proposal goes to 法制审核."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "调查终结")
    _require_stage(case, Stage.INVESTIGATING)
    if facts is not None:
        case.facts = dict(facts)
    kinds = _kinds(penalty_kinds)
    amount = _amount(fine)
    result = discretion.assess(discretion.item_spec(case.item), case.facts)
    # never allowed, even after a review (no factor, no justification, outside the statute): refused now
    discretion.check_fine(result, amount, kinds, justification=justification, review_approved=True)
    outside = False
    try:  # allowed only after an approved review (justified 减轻/从重 beyond the range)
        discretion.check_fine(result, amount, kinds, justification=justification, review_approved=False)
    except EnforcementError as exc:
        if exc.code != OUTSIDE_BENCHMARK:
            raise
        outside = True
    major = is_major(kinds, amount, hearing_held=False)
    review_needed = bool(major) or outside
    case.proposal = {"penalty_kinds": kinds, "fine": str(amount) if amount is not None else None,
                     "justification": justification, "level": result.level.level,
                     "factors": [f.code for f in result.factors], "major": major, "outside_benchmark": outside}
    case.review_status = Review.PENDING if review_needed else Review.NONE
    process.complete(case, "investigate", actor, "done", opinion=note,
                     variables={"review_needed": review_needed, "review_approved": False, "after_hearing": False})
    case.save()
    add_record(case, actor, "调查终结", note, data={"proposal": case.proposal}, attachments=attachments,
               step=Stage.INVESTIGATING)
    return case


@transaction.atomic
def legal_review(case: EnforcementCase, actor: User, *, approve: bool, opinion: str) -> EnforcementCase:
    """法制审核 (《行政处罚法》第五十八条): the reviewer's opinion is recorded; rejection sends the case back."""
    case = _locked(case)
    _require(actor, Role.LEGAL_REVIEWER, case, "法制审核")
    _require_stage(case, Stage.LEGAL_REVIEW)
    if not str(opinion or "").strip():
        raise EnforcementError("请填写法制审核意见", detail={"field": "opinion"})
    case.review_status = Review.APPROVED if approve else Review.REJECTED
    case.review_opinion = opinion
    case.reviewed_at = timezone.now()
    case.reviewed_by = actor
    process.complete(case, "legal_review", actor, "approve" if approve else "reject", opinion=opinion,
                     variables={"review_approved": approve})
    case.save()
    add_record(case, actor, "法制审核通过" if approve else "法制审核不通过", opinion, step=Stage.LEGAL_REVIEW)
    return case


@transaction.atomic
def give_notice(case: EnforcementCase, actor: User, text: str = "",
                attachments: list[dict[str, Any]] | None = None) -> EnforcementCase:
    """告知 (《行政处罚法》第四十四条): the intended decision, the right to state a defence and, for large fines and
    the like, to request a hearing within 5 working days (第六十四条、第八十五条)."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "告知")
    _require_stage(case, Stage.NOTIFYING)
    if case.notified_on:
        raise BadState("已告知")
    today = timezone.localdate()
    case.notified_on = today
    kinds = case.proposal.get("penalty_kinds") or []
    fine = _amount(case.proposal.get("fine"))
    if hearing_right(kinds, fine):
        case.hearing_deadline = default_calendar().add_working_days(today, HEARING_WINDOW_DAYS)
    case.save(update_fields=["notified_on", "hearing_deadline"])
    add_record(case, actor, "告知", text, attachments=attachments,
               data={"proposal": case.proposal, "hearing_deadline": case.hearing_deadline})
    return case


def _require_notified(case: EnforcementCase) -> None:
    if not case.notified_on:
        raise EnforcementError("尚未告知当事人拟作出的处罚决定", code=NOTICE_REQUIRED, status=409)


@transaction.atomic
def request_hearing(case: EnforcementCase, actor: User, on: date | None = None, text: str = "") -> EnforcementCase:
    """The party asks for a hearing (recorded by the officer) within the window; the decision clock stops."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "登记听证申请")
    _require_stage(case, Stage.NOTIFYING)
    _require_notified(case)
    on = on or timezone.localdate()
    if case.hearing_deadline is None:
        raise BadState("拟作出的处罚不属于听证范围（《行政处罚法》第六十三条）")
    if case.notified_on and on < case.notified_on:
        raise EnforcementError("听证申请日期不能早于告知日期", detail={"field": "on"})
    if on > case.hearing_deadline:
        raise EnforcementError(f"听证申请期限已于 {case.hearing_deadline} 届满", code=HEARING_TOO_LATE, status=409)
    case.hearing_requested_on = on
    case.suspensions = [*case.suspensions, {"start": on.isoformat(), "end": None, "reason": "听证"}]
    process.complete(case, "notify", actor, "hearing", opinion=text)
    case.save()
    add_record(case, actor, "申请听证", text, step=Stage.NOTIFYING)
    return case


@transaction.atomic
def end_notice(case: EnforcementCase, actor: User, *, waived: bool = False, text: str = "") -> EnforcementCase:
    """No hearing: the party waived it, or the window passed (陈述申辩 recorded in ``text``)."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "告知结束")
    _require_stage(case, Stage.NOTIFYING)
    _require_notified(case)
    if case.hearing_deadline and not waived and timezone.localdate() <= case.hearing_deadline:
        raise EnforcementError(f"听证申请期至 {case.hearing_deadline} 届满，届满前当事人放弃听证方可继续",
                               code=HEARING_PENDING, status=409)
    process.complete(case, "notify", actor, "no_hearing", opinion=text)
    case.save()
    add_record(case, actor, "放弃听证" if waived else "陈述申辩期满", text, step=Stage.NOTIFYING)
    return case


@transaction.atomic
def hold_hearing(case: EnforcementCase, actor: User, *, transcript: str,
                 attachments: list[dict[str, Any]] | None = None) -> EnforcementCase:
    """听证 held: the clock resumes; a hearing makes the decision major (法制审核) when so configured."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "听证")
    _require_stage(case, Stage.HEARING)
    if not str(transcript or "").strip():
        raise EnforcementError("请填写听证笔录摘要", detail={"field": "transcript"})
    today = timezone.localdate()
    case.hearing_held_on = today
    sus = [dict(s) for s in case.suspensions]
    if sus and not sus[-1].get("end"):
        sus[-1]["end"] = today.isoformat()
    case.suspensions = sus
    kinds = case.proposal.get("penalty_kinds") or []
    review_needed = bool(is_major(kinds, _amount(case.proposal.get("fine")), hearing_held=True)) or bool(
        case.proposal.get("outside_benchmark"))
    approved = case.review_status == Review.APPROVED
    if review_needed and not approved:
        case.review_status = Review.PENDING
    process.complete(case, "hearing", actor, "done", opinion=transcript[:2000],
                     variables={"after_hearing": True, "review_needed": review_needed, "review_approved": approved})
    case.save()
    add_record(case, actor, "听证", transcript, attachments=attachments, step=Stage.HEARING)
    return case


@transaction.atomic
def extend_deadline(case: EnforcementCase, actor: User, *, days: int, reason: str) -> EnforcementCase:
    """延长办案期限 with the head's approval (《行政处罚法》第六十条 ‘法律、法规、规章另有规定的，从其规定’)."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_HEAD, case, "延长办案期限")
    if case.filed_on is None or case.decided_on is not None:
        raise BadState("只有已立案、未决定的案件可以延长办案期限")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= 90:
        raise EnforcementError("延长天数须为 1 至 90 的整数", detail={"field": "days"})
    if not str(reason or "").strip():
        raise EnforcementError("请填写延长理由", detail={"field": "reason"})
    case.extension_days += days
    case.extension_reason = reason
    case.decision_due_on = selectors.decision_clock(case).due  # type: ignore[union-attr]
    case.save(update_fields=["extension_days", "extension_reason", "decision_due_on"])
    add_record(case, actor, "延长办案期限", reason, data={"days": days})
    return case


UNDECIDED = (Stage.INVESTIGATING, Stage.LEGAL_REVIEW, Stage.NOTIFYING, Stage.HEARING, Stage.DECIDING)


@transaction.atomic
def decide(case: EnforcementCase, actor: User, *, penalty_kinds: list[str], fine: Any = None,
           justification: str = "", decision_text: str = "", facts: dict[str, Any] | None = None) -> EnforcementCase:
    """作出决定. In this order: the benchmark range (``enforcement.outside_benchmark``), the legal review of a major
    decision (``enforcement.legal_review_required``), then 立案 and the notice and hearing
    (``enforcement.notice_required``); a decided or not-filed case is refused first (``enforcement.bad_state``).
    A penalty becomes a credit fact; the publication deadline starts."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_HEAD, case, "作出处罚决定")
    _require_stage(case, Stage.FILING, *UNDECIDED)
    kinds = _kinds(penalty_kinds)
    amount = _amount(fine)
    approved = case.review_status == Review.APPROVED
    if facts:  # the facts found, when the case has none yet (never a silent change of the facts found earlier)
        if case.facts and facts != case.facts:
            raise BadState("案件已认定裁量情节，须在调查环节更正，不能在决定时改变", detail={"field": "facts"})
        case.facts = dict(facts)
    result = discretion.assess(discretion.item_spec(case.item), case.facts)
    discretion.check_fine(result, amount, kinds, justification=justification, review_approved=approved)
    major = is_major(kinds, amount, hearing_held=case.hearing_held_on is not None)
    if major and not approved:
        labels = "、".join(MAJOR_LABELS[m] for m in major)
        raise EnforcementError(f"重大执法决定（{labels}）须经法制审核通过后方可作出（《行政处罚法》第五十八条）",
                               code=LEGAL_REVIEW_REQUIRED, status=409, detail={"criteria": major})
    if case.stage == Stage.FILING:
        raise BadState("案件尚未立案，不能作出决定", detail={"stage": case.stage})
    if case.stage != Stage.DECIDING:
        raise EnforcementError("作出决定前须告知当事人并听取陈述申辩（听证申请期满或听证结束）（《行政处罚法》第四十四条、"
                               "第六十二条）", code=NOTICE_REQUIRED, status=409, detail={"stage": case.stage})
    proposed = _amount(case.proposal.get("fine"))
    if proposed is not None and amount is not None and amount > proposed:
        raise EnforcementError(f"不得因当事人陈述、申辩而给予更重的处罚：罚款 {amount} 元高于告知的 {proposed} 元"
                               "（《行政处罚法》第四十五条）", code=HEAVIER_THAN_NOTIFIED, status=409)
    today = timezone.localdate()
    case.decision_kinds = kinds
    case.fine = amount if PenaltyKind.FINE in kinds else None
    case.decision_level = result.level.level
    case.decision_factors = [f.code for f in result.factors]
    case.justification = justification
    case.decision_text = decision_text
    case.decided_on = today
    case.decided_by = actor
    case.publish_due_on = selectors.publish_due_on(today, case.is_penalty)
    process.complete(case, "decide", actor, "decided", opinion=decision_text[:2000])
    case.save()
    add_record(case, actor, "作出决定", decision_text,
               data={"penalty_kinds": kinds, "fine": str(case.fine) if case.fine is not None else None,
                     "level": case.decision_level, "factors": case.decision_factors,
                     "justification": justification, "review": case.review_status}, step=Stage.DECIDING)
    audit("enforcement.decide", actor=actor, obj=case, detail={"case_no": case.case_no, "kinds": kinds,
                                                               "fine": str(case.fine or "")})
    if case.is_penalty and case.party_id_number:
        payload = {"entity_uscc": case.party_id_number, "kind": "administrative_penalty",
                   "points": CREDIT_POINTS.get(case.decision_level, -5),
                   "reason": f"{case.case_no} {case.item.name}：{case.kinds_display()}"
                             + (f" 罚款{case.fine}元" if case.fine else ""),
                   "occurred_on": today}
        transaction.on_commit(lambda: events.credit_fact.send(sender=EnforcementCase, **payload))
    return case


@transaction.atomic
def serve(case: EnforcementCase, actor: User, *, method: str = "直接送达", on: date | None = None,
          attachments: list[dict[str, Any]] | None = None) -> EnforcementCase:
    """送达 (《行政处罚法》第六十一条: 当场交付或七日内送达)."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "送达")
    _require_stage(case, Stage.SERVING)
    case.served_on = on or timezone.localdate()
    process.complete(case, "serve", actor, "done", opinion=method)
    case.save()
    add_record(case, actor, "送达", method, attachments=attachments, step=Stage.SERVING)
    return case


@transaction.atomic
def execute(case: EnforcementCase, actor: User, *, note: str,
            attachments: list[dict[str, Any]] | None = None) -> EnforcementCase:
    """执行 (e.g. 罚款 paid within 15 days, 第六十七条)."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "执行")
    _require_stage(case, Stage.EXECUTING)
    if not str(note or "").strip():
        raise EnforcementError("请填写执行情况", detail={"field": "note"})
    case.executed_on = timezone.localdate()
    process.complete(case, "execute", actor, "done", opinion=note)
    case.save()
    add_record(case, actor, "执行", note, attachments=attachments, step=Stage.EXECUTING)
    return case


@transaction.atomic
def close(case: EnforcementCase, actor: User, note: str = "") -> EnforcementCase:
    """结案."""
    case = _locked(case)
    _require(actor, Role.ENFORCEMENT_OFFICER, case, "结案")
    _require_stage(case, Stage.CLOSING)
    case.closed_on = timezone.localdate()
    process.complete(case, "close", actor, "done", opinion=note)
    case.save()
    add_record(case, actor, "结案", note, step=Stage.CLOSING)
    return case


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


# --- export (案卷归档) ----------------------------------------------------------------------------------------


def case_file(case: EnforcementCase) -> dict[str, Any]:
    """The case file in the credentials archive's case shape (records as events, attachments as materials)."""
    recs = list(selectors.records(case))
    materials = []
    for r in recs:
        for n, a in enumerate(r.attachments, start=1):
            entry = {"name": a["name"], "record": r.seq, "sha256": a["sha256"], "kind": a.get("kind", "file")}
            if a.get("path"):
                entry.update(path=str(Path(settings.MEDIA_ROOT) / a["path"]), filename=f"{r.seq:03d}-{n}-{a['name']}")
                materials.append(entry)
            else:  # by reference: the archive keeps the reference and its checksum
                materials.append({**entry, "filename": f"{r.seq:03d}-{n}-{a['name']}.ref.txt",
                                  "content": f"uri: {a['uri']}\nsha256: {a['sha256']}\nsize: {a.get('size', 0)}\n"})
    if case.decided_on:
        from .documents import decision_pdf

        materials.append({"name": "行政处罚决定书", "filename": f"{case.case_no}-决定书.pdf", "kind": "decision",
                          "content": decision_pdf(case)})
    events_ = [{"seq": r.seq, "at": r.at, "actor": r.actor_label, "step": r.step, "action": r.action,
                "text": r.text, "data": r.data, "attachments": r.attachments,
                "amends": r.amends.seq if r.amends else None} for r in recs]
    decision = {"penalty_kinds": case.decision_kinds, "fine": str(case.fine) if case.fine is not None else None,
                "level": case.decision_level, "factors": case.decision_factors, "justification": case.justification,
                "text": case.decision_text, "decided_on": case.decided_on, "legal_review": case.review_status,
                "review_opinion": case.review_opinion}
    return {"application_ref": case.case_no, "item_code": case.item.code, "organisation": case.department.name,
            "closed_at": case.closed_on or timezone.localdate(), "kind": "行政处罚案卷",
            "item_name": case.item.name, "legal_basis": case.item.legal_basis, "party_name": case.party_name,
            "party_id_number": case.party_id_number, "stage": case.stage, "filed_on": case.filed_on,
            "form_data": {"facts": case.facts, "summary": case.summary, "proposal": case.proposal},
            "decisions": [decision] if case.decided_on else [], "events": events_, "materials": materials}


def export_case(case_no: str, dest: Path | str, actor: User | None = None) -> Path:
    """Write the case file as a BagIt bag under ``dest`` (``tongban archive verify`` accepts it)."""
    from tongban.credentials.services import build_bag

    case = selectors.case_by_no(case_no)
    if case is None:
        raise NotFound(f"案件 {case_no} 不存在")
    path = build_bag(case_file(case), dest, retention_years=ARCHIVE_RETENTION_YEARS)
    audit("enforcement.export", actor=actor, obj=case, detail={"path": str(path)})
    return path
