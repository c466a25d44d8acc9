"""好差评: services to rate, ratings (once per service) and the rectification of real-name bad ratings.

Rectification (差评整改): the department verifies the rating, then rectifies at once or within at most 15
working days on the statutory (working-day) clock, then revisits (回访) the person and records the result. A
department that finds a rating unfounded appeals to the service-management office, which decides: upheld → the
rating is marked unfounded and only the revisit remains; rejected → the department rectifies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.catalog import selectors as catalog
from tongban.core import pii
from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit
from tongban.notifications import services as notifications
from tongban.notifications.messages import RATING_INVITATION

from .. import conf, selectors
from ..errors import ALREADY_RATED, NOT_YOURS, RATING_CLOSED, BadState, FeedbackError, Forbidden
from ..models import Rating, Rectification, ServiceRecord

#: Sub-indicators (分项评价): online services, window services, and the general ones of the national rules.
INDICATORS = ("办事效率", "办事指南精确度", "办事便捷度", "平台操作性", "服务效率", "服务水平", "服务态度",
              "办事流程", "办事结果")


def record_service(*, ref: str, department: Organisation, kind: str = ServiceRecord.Kind.CASE,
                   application_ref: str = "", item_code: str = "", item_name: str = "",
                   window: Organisation | None = None, staff: User | None = None, person: User | None = None,
                   person_name: str = "", person_id_number: str = "", outcome: str = "",
                   served_at: dt.datetime | None = None) -> ServiceRecord:
    """The service ``ref`` (created once; a repeated event leaves the first record as it is)."""
    served_at = served_at or timezone.now()
    record, created = ServiceRecord.objects.get_or_create(ref=ref, defaults={
        "kind": kind, "application_ref": application_ref, "item_code": item_code, "item_name": item_name,
        "department": department, "window": window, "staff": staff, "staff_label": str(staff) if staff else "",
        "person": person, "person_name": person_name or (str(person) if person else ""),
        "person_id_number": person_id_number or (person.id_number if person else ""), "outcome": outcome,
        "served_at": served_at, "rate_until": served_at + dt.timedelta(days=conf.rating_window_days()),
    })
    if created and person is not None:
        _invite(record)
    return record


def _invite(record: ServiceRecord) -> None:
    """评价邀请: the person served is invited to rate (我的消息, and e-mail / SMS as they chose)."""
    until = timezone.localtime(record.rate_until).date()
    notifications.notify(record.person_id, RATING_INVITATION, {
        "item_name": record.item_name or record.get_kind_display(), "department": record.department.name,
        "rate_until": f"{until.year}年{until.month}月{until.day}日", "name": record.person_name},
        link="/feedback/rate/", ref=record.ref[:80], dedupe_key=f"rating-invitation:{record.ref}"[:200])


def _clean_indicators(indicators: dict[str, Any] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, value in (indicators or {}).items():
        if name not in INDICATORS:
            raise FeedbackError(f"分项评价“{name}”不存在，可选：{'、'.join(INDICATORS)}", detail={"field": "indicators"})
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise FeedbackError(f"分项评价“{name}”须为 1–5 的整数", detail={"field": "indicators"})
        out[name] = value
    return out


def rate(user: User, service_ref: str, level: int, *, indicators: dict[str, Any] | None = None, comment: str = "",
         channel: str = Rating.Channel.WEB, real_name: bool = True, now: dt.datetime | None = None) -> Rating:
    """Rate one of the person's services, once. A real-name bad rating opens a rectification."""
    service = selectors.get_service(service_ref)
    if not selectors.owns_service(user, service):
        raise Forbidden("只能评价本人办理的服务", code=NOT_YOURS)
    return _rate(service, user, level, indicators=indicators, comment=comment, channel=channel, real_name=real_name,
                 now=now)


# --- the window rating pad (评价器): the clerk records the visit, the person rates on the pad at once ----------

PAD_SALT = "tongban.feedback.pad"
PAD_MAX_AGE = 30 * 60  # seconds: the person rates while still at the window


@transaction.atomic
def record_window_service(clerk: User, *, window: str, department: str, kind: str = ServiceRecord.Kind.WINDOW_VISIT,
                          person_name: str = "", person_id_number: str = "", item_code: str = "") -> ServiceRecord:
    """A window clerk records a service at their window (a visit, a one-time notice, a refusal) for rating."""
    window_org = Organisation.objects.filter(code=window).first()
    if window_org is None or window_org.kind != Organisation.Kind.WINDOW:
        raise FeedbackError(f"窗口 {window} 不存在", detail={"field": "window"})
    if not has_role(clerk, Role.WINDOW_CLERK, window_org):
        raise Forbidden("只能为本人所在的窗口登记服务")
    department_org = Organisation.objects.filter(code=department).first()
    if department_org is None:
        raise FeedbackError(f"部门 {department} 不存在", detail={"field": "department"})
    if kind not in (ServiceRecord.Kind.WINDOW_VISIT, ServiceRecord.Kind.NOTICE, ServiceRecord.Kind.REFUSAL):
        raise FeedbackError("服务类型须为 window_visit、notice 或 refusal", detail={"field": "kind"})
    item = catalog.get_item(item_code) if item_code else None
    if item_code and item is None:
        raise FeedbackError(f"事项 {item_code} 不存在", detail={"field": "item_code"})
    person = User.objects.filter(pii.matching("id_number", person_id_number)).first() if person_id_number else None
    now = timezone.now()
    record = record_service(
        ref=f"W-{window_org.code}-{now:%Y%m%d%H%M%S%f}", kind=kind, item_code=item_code,
        item_name=item.name if item else "", department=department_org, window=window_org, staff=clerk,
        person=person, person_name=person_name, person_id_number=person_id_number, served_at=now)
    audit("feedback.window_service", actor=clerk, obj=record)
    return record


def pad_token(record: ServiceRecord) -> str:
    """The signed link the window's rating pad opens for this service (valid for 30 minutes)."""
    return signing.dumps({"ref": record.ref}, salt=PAD_SALT, compress=True)


def service_for_pad(token: str) -> ServiceRecord:
    try:
        data = signing.loads(token, salt=PAD_SALT, max_age=PAD_MAX_AGE)
    except signing.SignatureExpired:
        raise FeedbackError("评价链接已过期，请在窗口重新获取", code=RATING_CLOSED) from None
    except signing.BadSignature:
        raise Forbidden("评价链接无效") from None
    return selectors.get_service(str(data.get("ref", "")))


def rate_by_pad(token: str, level: int, *, indicators: dict[str, Any] | None = None, comment: str = "") -> Rating:
    """Rate on the window's pad: the signed link stands for the person the clerk just served."""
    service = service_for_pad(token)
    return _rate(service, service.person, level, indicators=indicators, comment=comment, channel=Rating.Channel.PAD,
                 real_name=bool(service.person_id or service.person_id_number))


def _rate(service: ServiceRecord, user: User | None, level: int, *, indicators: dict[str, Any] | None,
          comment: str, channel: str, real_name: bool, now: dt.datetime | None = None) -> Rating:
    now = now or timezone.now()
    if level not in Rating.Level.values:
        raise FeedbackError("评价等级须为 1（非常不满意）到 5（非常满意）", detail={"field": "level"})
    if channel not in Rating.Channel.values:
        raise FeedbackError(f"评价渠道 {channel} 不存在", detail={"field": "channel"})
    clean = _clean_indicators(indicators)
    comment = (comment or "").strip()
    if level in Rating.BAD_LEVELS and not comment:
        raise FeedbackError("差评请填写评价内容（不满意的原因），以便核实整改", detail={"field": "comment"})
    if hasattr(service, "rating"):
        raise BadState("该服务已评价，每项服务只能评价一次", code=ALREADY_RATED)
    if now > service.rate_until:
        raise FeedbackError(f"评价期已于 {timezone.localtime(service.rate_until):%Y-%m-%d %H:%M} 结束",
                            code=RATING_CLOSED)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                service=service, level=level, indicators=clean, comment=comment, channel=channel,
                real_name=real_name, rater=user if user is not None and user.is_authenticated else None,
                department=service.department, window=service.window,
                item_code=service.item_code, created_at=now)
            if rating.is_bad and real_name:
                Rectification.objects.create(rating=rating, department=service.department, created_at=now)
            audit("feedback.rate", actor=user, obj=rating, detail={"service": service.ref, "level": level,
                                                                   "channel": channel})
    except IntegrityError:
        raise BadState("该服务已评价，每项服务只能评价一次", code=ALREADY_RATED) from None
    return rating


# --- rectification ----------------------------------------------------------------------------------------------


def _lock(rect: Rectification | int) -> Rectification:
    pk = rect if isinstance(rect, int) else rect.pk
    return Rectification.objects.select_for_update().select_related("department").get(pk=pk)


def _require_department(user: User, rect: Rectification) -> None:
    if not selectors.is_department_staff(user, rect.department):
        raise Forbidden("只有被评价部门的工作人员可以办理整改")


def _require_status(rect: Rectification, *statuses: str) -> None:
    if rect.status not in statuses:
        allowed = "、".join(str(Rectification.Status(s).label) for s in statuses)
        raise BadState(f"整改单当前为“{rect.get_status_display()}”，此操作只能在“{allowed}”时进行")


def due_date(start: dt.date, days: int, department: Organisation) -> dt.date:
    """``days`` working days after ``start`` on the department's calendar (0: the same day)."""
    if days == 0:
        return start
    return WorkingCalendar.load(department.division).add_working_days(start, days)


@transaction.atomic
def verify(rect: Rectification | int, user: User, *, note: str, days: int) -> Rectification:
    """The department verified the rating: rectify at once (``days=0``) or within ``days`` ≤ 15 working days."""
    rect = _lock(rect)
    _require_department(user, rect)
    _require_status(rect, Rectification.Status.VERIFYING)
    if not note.strip():
        raise FeedbackError("请填写核实情况", detail={"field": "note"})
    if not 0 <= days <= conf.MAX_RECTIFY_DAYS:
        raise FeedbackError(f"整改时限须为 0（立即整改）到 {conf.MAX_RECTIFY_DAYS} 个工作日", detail={"field": "days"})
    now = timezone.now()
    rect.verified_at, rect.verification, rect.limit_days = now, note.strip(), days
    rect.due_on = due_date(timezone.localdate(now), days, rect.department)
    rect.status = Rectification.Status.RECTIFYING
    rect.save()
    audit("feedback.rectification.verify", actor=user, obj=rect, detail={"days": days, "due_on": str(rect.due_on)})
    return rect


@transaction.atomic
def rectify(rect: Rectification | int, user: User, *, note: str) -> Rectification:
    rect = _lock(rect)
    _require_department(user, rect)
    _require_status(rect, Rectification.Status.RECTIFYING)
    if not note.strip():
        raise FeedbackError("请填写整改措施", detail={"field": "note"})
    rect.rectified_at, rect.rectification = timezone.now(), note.strip()
    rect.status = Rectification.Status.REVISITING
    rect.save()
    audit("feedback.rectification.rectify", actor=user, obj=rect)
    return rect


@transaction.atomic
def appeal(rect: Rectification | int, user: User, *, reason: str) -> Rectification:
    """The department holds the rating unfounded and appeals to the service-management office (once)."""
    rect = _lock(rect)
    _require_department(user, rect)
    _require_status(rect, Rectification.Status.VERIFYING, Rectification.Status.RECTIFYING)
    if rect.appealed_at is not None:
        raise BadState("该差评已申诉过一次，不能再次申诉")
    if not reason.strip():
        raise FeedbackError("请填写申诉理由", detail={"field": "reason"})
    rect.appeal_reason, rect.appealed_at = reason.strip(), timezone.now()
    rect.status = Rectification.Status.APPEALED
    rect.save()
    audit("feedback.rectification.appeal", actor=user, obj=rect)
    return rect


@transaction.atomic
def decide_appeal(rect: Rectification | int, user: User, *, upheld: bool, decision: str) -> Rectification:
    """The service-management office decides: upheld → only the revisit remains; rejected → rectify (≤ 15 days)."""
    rect = _lock(rect)
    if not selectors.is_service_office(user):
        raise Forbidden("申诉由政务服务管理机构裁定")
    _require_status(rect, Rectification.Status.APPEALED)
    if not decision.strip():
        raise FeedbackError("请填写裁定意见", detail={"field": "decision"})
    now = timezone.now()
    rect.appeal_upheld, rect.appeal_decision, rect.appeal_decided_at = upheld, decision.strip(), now
    if upheld:
        rect.status = Rectification.Status.REVISITING
    else:
        rect.status = Rectification.Status.RECTIFYING
        rect.verified_at = rect.verified_at or now
        if rect.due_on is None:
            rect.limit_days = conf.MAX_RECTIFY_DAYS
            rect.due_on = due_date(timezone.localdate(now), conf.MAX_RECTIFY_DAYS, rect.department)
    rect.save()
    audit("feedback.rectification.appeal_decided", actor=user, obj=rect, detail={"upheld": upheld})
    return rect


@transaction.atomic
def revisit(rect: Rectification | int, user: User, *, result: str, note: str = "") -> Rectification:
    """回访: every real-name bad rating is revisited; the result closes the rectification."""
    rect = _lock(rect)
    _require_department(user, rect)
    _require_status(rect, Rectification.Status.REVISITING)
    if result not in Rectification.Revisit.values:
        raise FeedbackError("回访结果须为 satisfied / basic / dissatisfied", detail={"field": "result"})
    rect.revisited_at, rect.revisit_result, rect.revisit_note = timezone.now(), result, note.strip()
    rect.status = Rectification.Status.DONE
    rect.save()
    audit("feedback.rectification.revisit", actor=user, obj=rect, detail={"result": result})
    return rect
