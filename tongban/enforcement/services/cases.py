"""The case steps on the workflow engine: investigation, legal review, notice and hearing, the decision,
service, execution and closing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import events
from tongban.core.calendar import default_calendar
from tongban.core.models import Role, User
from tongban.core.services import audit

from .. import discretion, process, selectors
from ..errors import (
    HEARING_PENDING,
    HEARING_TOO_LATE,
    HEAVIER_THAN_NOTIFIED,
    LEGAL_REVIEW_REQUIRED,
    NOTICE_REQUIRED,
    OUTSIDE_BENCHMARK,
    BadState,
    EnforcementError,
)
from ..models import EnforcementCase, PenaltyKind
from .benchmarks import MAJOR_LABELS, _amount, _kinds, hearing_right, is_major
from .common import CREDIT_POINTS, HEARING_WINDOW_DAYS, Review, Stage, _locked, _require, _require_stage
from .records import add_record


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
