"""Window intake (综合窗口, 一窗受理): any window accepts any item of any department; it accepts (受理), tolerates
missing non-core materials (容缺受理), lists everything missing at once (一次性告知) or refuses (不予受理), and
records every on-site visit (跑动次数)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import Material
from tongban.core import events
from tongban.core.calendar import default_calendar
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from .. import documents, workflow_bridge
from ..errors import ApplicationError
from ..models import Application, ApplicationEvent, ApplicationMaterial, Notice, Supplement, Visit
from ..selectors import case_items, clerk_place_ids, forget_prefetched
from . import auto_decisions, messages
from .common import (
    DEFAULT_SUPPLEMENT_WORKING_DAYS,
    PENDING_STATUSES,
    base_facts,
    issue_notice,
    log,
    missing_materials,
    timeline_entry,
)
from .decisions import record_item_decision


def _require_clerk(user: User, window: Organisation | None = None) -> None:
    """Only window clerks (of ``window``, when given) act at the windows."""
    if not has_role(user, Role.WINDOW_CLERK, window):
        raise ApplicationError("只有综合窗口人员可以受理", code="window.not_clerk", status=403)


def _service_rendered(app: Application, notice: Notice, kind: str, clerk: User) -> None:
    """After the commit, tell whoever listens (feedback's 好差评 invitation) that the window served the person."""
    first = app.items.select_related("item", "department").order_by("pk").first()
    payload = {
        "application_ref": app.ref, "kind": kind, "notice_code": notice.code,
        "item_code": first.item.code if first is not None else "",
        "department_code": first.department.code if first is not None else "",
        "window_code": app.window.code if app.window is not None else "", "served_by": clerk.pk,
        "holder": {"kind": app.applicant_kind, "name": app.applicant_name, "id_number": app.applicant_id_number,
                   "user_id": app.applicant_id},
    }
    transaction.on_commit(lambda: events.window_service_rendered.send(sender=Application, **payload), robust=True)


def local_places(app: Application) -> list[Organisation]:
    """The township or community centres the case's delegated (下沉) items are handled at (none for city items)."""
    places = {}
    for ai in case_items(app):
        place = catalog_selectors.delegated_place(ai.item)
        if place is not None:
            places[place.pk] = place
    return list(places.values())


def _require_local_window(app: Application, clerk: User) -> None:
    """A delegated item is accepted where it was delegated to (下沉): at its township or community centre, a service
    point below it, or (for a community item) the township centre above it (``selectors.clerk_place_ids``)."""
    allowed = clerk_place_ids(clerk)
    if allowed is None:
        return
    for place in local_places(app):
        if place.pk not in allowed:
            raise ApplicationError(f"该事项已下沉至{place.name}办理，请在{place.name}或其下属便民服务站受理",
                                   code="window.delegated_elsewhere", status=403, detail={"place": place.code})


def _require_pending(app: Application) -> None:
    if app.status not in PENDING_STATUSES:
        raise ApplicationError("该办件不在待受理状态", code="window.not_pending", status=409)


@transaction.atomic
def issue_one_time_notice(app: Application, clerk: User, *, note: str = "") -> Notice:
    """一次性告知: list everything missing at once; the application waits for the applicant."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    _require_pending(app)
    missing = missing_materials(app)
    if not missing:
        raise ApplicationError("材料齐全，无需一次性告知", code="window.nothing_missing")
    app.status = Application.Status.INCOMPLETE
    app.save(update_fields=["status"])
    notice = issue_notice(app, Notice.Kind.ONE_TIME, {
        "addressee": app.applicant_name,
        "paragraphs": ["您提交的申请材料不齐全或不符合法定形式，现一次性告知需要补正的全部内容如下。"
                       "补齐后可通过网上办事大厅提交或到任一综合窗口提交，无需重复提交已有材料。", note],
        "facts": base_facts(app),
        "lists": [("需补正的材料：", [m.name for m in missing])],
    }, clerk)
    audit("application.one_time_notice", actor=clerk, obj=app, detail={"missing": [m.key for m in missing]})
    messages.one_time_notice(app, [m.name for m in missing], note)
    _service_rendered(app, notice, "notice", clerk)
    return notice


@transaction.atomic
def refuse(app: Application, clerk: User, reason: str) -> Notice:
    """不予受理 with a reason; the refusal notice tells the applicant how to appeal."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    if not reason.strip():
        raise ApplicationError("不予受理须说明理由", code="window.reason_required")
    _require_pending(app)
    app.status, app.refusal_reason = Application.Status.REFUSED, reason
    app.save(update_fields=["status", "refusal_reason"])
    log(app, "refused", f"不予受理：{reason}", clerk)
    audit("application.refuse", actor=clerk, obj=app, reason=reason)
    notice = issue_notice(app, Notice.Kind.REFUSAL, {
        "addressee": app.applicant_name, "paragraphs": [f"经审查，您的申请不予受理。理由：{reason}",
                                                        "如不服本决定，可依法申请行政复议或者提起行政诉讼。"],
        "facts": base_facts(app)}, clerk)
    messages.refused(app, reason)
    _service_rendered(app, notice, "refusal", clerk)
    return notice


@transaction.atomic
def accept(app: Application, clerk: User, *, tolerate: bool = False, supplement_days: int | None = None
           ) -> Application:
    """受理 at any window. With ``tolerate`` (容缺受理) tolerable materials may still be missing: a supplement
    deadline is set and the result is held until they arrive."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    _require_pending(app)
    _require_local_window(app, clerk)
    missing = missing_materials(app, tolerate=tolerate)
    if missing:
        raise ApplicationError("材料不齐全，不能受理：" + "、".join(m.name for m in missing)
                               + ("（可出具一次性告知书）" if not tolerate else ""), code="window.materials_missing",
                               detail={"missing": [m.key for m in missing]})
    return complete_acceptance(app, clerk, auto=False, supplement_days=supplement_days)


def complete_acceptance(app: Application, actor: User | None, *, auto: bool, supplement_days: int | None = None,
                        submitted: bool = False) -> Application:
    """Accept (by a clerk, or ``auto`` on submission): owed tolerable materials get a supplement deadline, the
    acceptance notice is issued, and the approval starts (a commitment approves at once). ``submitted``: the
    submission (its form and time set on ``app`` by the caller) is recorded with the acceptance, in the same
    update and timeline write."""
    now = timezone.now()
    app.status, app.accepted_at = Application.Status.IN_REVIEW, now
    app.accepted_by = actor if (actor and not auto) else None
    app.verification_code = app.verification_code or documents.new_code()
    timeline = [timeline_entry(app, "submitted", "提交申请", actor)] if submitted else []
    app.save(update_fields=["status", "accepted_at", "accepted_by", "verification_code",
                            *(["form_data", "submitted_at"] if submitted else [])])
    if submitted:
        audit("application.submit", actor=actor, obj=app)
    owed = [m for m in missing_materials(app) if m.requirement == Material.Requirement.TOLERABLE]
    suspends = False
    deadline: date | None = None
    if owed:
        days = supplement_days or DEFAULT_SUPPLEMENT_WORKING_DAYS
        deadline = default_calendar().add_working_days(timezone.localdate(), days)
        suspends = any("补正" in s for ai in case_items(app) for s in ai.item.excluded_steps)
        Supplement.objects.create(application=app, material_keys=[m.key for m in owed], deadline=deadline,
                                  suspends_clock=suspends, requested_by=actor if not auto else None)
        app.materials.filter(pk__in=[m.pk for m in owed]).update(status=ApplicationMaterial.Status.TOLERATED)
        for m in owed:  # the same rows in memory (prefetched by the submission)
            m.status = ApplicationMaterial.Status.TOLERATED
        timeline.append(timeline_entry(
            app, "tolerated", f"容缺受理：{'、'.join(m.name for m in owed)} 须于 {deadline:%Y-%m-%d} 前补齐", actor))
    timeline.append(timeline_entry(app, "accepted", "自动受理" if auto else "窗口受理", actor))
    ApplicationEvent.objects.bulk_create(timeline)
    audit("application.accept", actor=actor, obj=app, detail={"auto": auto, "tolerated": [m.key for m in owed]})
    places = local_places(app)
    issue_notice(app, Notice.Kind.ACCEPTANCE, {
        **({"issuer": "、".join(p.name for p in places)} if places else {}),
        "addressee": app.applicant_name,
        "paragraphs": [f"您的申请材料齐全、符合法定形式，决定予以受理。承诺办结时限：{app.promised_limit_days or '—'} 个工作日。",
                       *(["以下材料实行容缺受理，请在期限内补齐，补齐前不发放审批结果："
                          + "、".join(m.name for m in owed)] if owed else [])],
        "facts": base_facts(app) + [("受理时间", timezone.localtime(now).strftime("%Y-%m-%d %H:%M"))],
    }, actor)
    messages.accepted(app, [m.name for m in owed], deadline if owed else None)
    if hasattr(app, "commitment") and not auto_decisions.has_rules(app):
        _approve_by_commitment(app)
    else:
        workflow_bridge.start_review(app, suspended=suspends)
    # the decisions by rules (秒批) may have closed the case: its state as stored (the rows it relates to stay
    # read; what was prefetched for this step is dropped: whoever keeps the object reads afresh)
    app.refresh_from_db(fields=[f.attname for f in Application._meta.concrete_fields if not f.is_relation])
    forget_prefetched(app)
    return app


def _approve_by_commitment(app: Application) -> None:
    """告知承诺制: approve at once and raise ``commitment_approved``: supervision owns the post-check (事后核查),
    its deadline and its outcome (a failure comes back as ``post_check_failed``, see ``receivers``)."""
    items = list(app.items.select_related("item", "department"))
    for ai in items:
        record_item_decision(ai, "approve", opinion="告知承诺制：当场审批", decided_by="告知承诺制")
    events.commitment_approved.send(
        sender=Application, application_ref=app.ref, title=app.title,
        holder={"kind": app.applicant_kind, "name": app.applicant_name, "id_number": app.applicant_id_number},
        items=[{"item_code": ai.item.code, "item_name": ai.item.name, "department_code": ai.department.code}
               for ai in items],
        approved_on=timezone.localdate().isoformat())
    log(app, "post_check", "告知承诺审批：已移交监管部门开展事后核查")


@transaction.atomic
def record_visit(app: Application, clerk: User, window: Organisation, purpose: str) -> Visit:
    """Record one on-site visit (counted against the catalogue's promised number of visits)."""
    _require_clerk(clerk, window)
    visit = Visit.objects.create(application=app, window=window, clerk=clerk, purpose=purpose or "现场办理")
    log(app, "visit", f"现场跑动：{window.name}（{visit.purpose}）", clerk)
    return visit
