"""Application services (办件): create, submit, accept at any window, decide, supplement, commit, visit.

Every public function here is one transaction: a failed call leaves no half-created application and
loses nothing already submitted. Errors are :class:`ApplicationError` with a stable code.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tongban.catalog.forms import material_key, merge_schemas, validate_form
from tongban.catalog.models import Bundle, ItemStatus, Material, ServiceItem, Situation
from tongban.core import events
from tongban.core import evidence as core_evidence
from tongban.core.calendar import default_calendar
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from . import documents, files, results, workflow_bridge
from .errors import ApplicationError
from .models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    ApplicationMaterial,
    Commitment,
    CreditEvent,
    Notice,
    PostCheck,
    ProxyAuthorisation,
    StoredFile,
    Supplement,
    Visit,
)

POST_CHECK_WORKING_DAYS = 20
DEFAULT_SUPPLEMENT_WORKING_DAYS = 5
OPEN_STATUSES = {Application.Status.DRAFT, Application.Status.SUBMITTED, Application.Status.INCOMPLETE}
FINAL_STATUSES = {Application.Status.APPROVED, Application.Status.PARTIAL, Application.Status.REJECTED}


# --- helpers -----------------------------------------------------------------------------------------------


def _label(user: User | None) -> str:
    return str(user) if user is not None and getattr(user, "is_authenticated", False) else "系统"


def log(application: Application, kind: str, message: str, actor: User | None = None, **data: Any) -> None:
    ApplicationEvent.objects.create(application=application, kind=kind, message=message[:300],
                                    actor_label=_label(actor), data=data)


def next_ref(now: dt.datetime | None = None) -> str:
    """办件编号: YX + date + a 6-digit daily sequence, e.g. YX20261125000042."""
    now = timezone.localtime(now or timezone.now())
    prefix = f"YX{now:%Y%m%d}"
    last = Application.objects.filter(ref__startswith=prefix).aggregate(m=Max("ref"))["m"]
    seq = int(last[len(prefix):]) + 1 if last else 1
    return f"{prefix}{seq:06d}"


def _save_with_new_ref(app: Application, attempts: int = 5) -> None:
    """Save a new application under the next free 办件编号; two windows creating one at the same moment on
    PostgreSQL may both read the same last number, so the loser takes the next one (in a savepoint)."""
    for attempt in range(attempts):
        app.ref = next_ref()
        try:
            with transaction.atomic():
                app.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == attempts - 1 or not Application.objects.filter(ref=app.ref).exists():
                raise
            app.pk = None


def _published_item(code: str) -> ServiceItem:
    item = ServiceItem.objects.select_related("competent_department", "implementing_org").filter(
        code=code, status=ItemStatus.PUBLISHED).first()
    if item is None:
        raise ApplicationError(f"事项“{code}”不存在或未发布", code="application.unknown_item", status=404)
    return item


def _published_bundle(code: str) -> Bundle:
    bundle = Bundle.objects.filter(code=code, status=ItemStatus.PUBLISHED).first()
    if bundle is None:
        raise ApplicationError(f"一件事“{code}”不存在或未发布", code="application.unknown_bundle", status=404)
    return bundle


# --- situation guide (情形引导) -------------------------------------------------------------------------------


def guide_questions(item: ServiceItem) -> list[dict[str, Any]]:
    """The questions that pick an item's situation: each key of the situations' conditions, with its answers."""
    questions: dict[str, list[str]] = {}
    for situation in item.situations.all():
        for key, answer in (situation.conditions or {}).items():
            answers = questions.setdefault(key, [])
            for a in answer if isinstance(answer, list) else [answer]:
                if str(a) not in answers:
                    answers.append(str(a))
    return [{"key": k, "answers": v} for k, v in questions.items()]


def pick_situation(item: ServiceItem, answers: dict[str, Any]) -> Situation | None:
    """The situation whose conditions all match ``answers`` (the most specific one), or None if the item has none.

    Raises ``application.situation_unresolved`` when the item has situations and none matches.
    """
    situations = list(item.situations.all())
    if not situations:
        return None
    best: tuple[int, Situation] | None = None
    for s in situations:
        conds = s.conditions or {}
        ok = all(str(answers.get(k)) in ([str(x) for x in v] if isinstance(v, list) else [str(v)])
                 for k, v in conds.items())
        if ok and (best is None or len(conds) > best[0]):
            best = (len(conds), s)
    if best is None:
        raise ApplicationError(f"“{item.name}”：根据您的回答无法确定办理情形，请检查引导问题的答案", code="application.situation_unresolved", detail={"questions": guide_questions(item)})
    return best[1]


def situation_by_code(item: ServiceItem, code: str) -> Situation:
    s = item.situations.filter(code=code).first()
    if s is None:
        raise ApplicationError(f"“{item.name}”没有办理情形“{code}”", code="application.unknown_situation")
    return s


def applicable_materials(item: ServiceItem, situation: Situation | None) -> list[Material]:
    return list(situation.materials.all()) if situation else list(item.materials.all())


@dataclass
class PlannedMaterial:
    key: str
    name: str
    requirement: str
    source: str
    materials: list[Material]
    item_codes: list[str]
    commitment_replaceable: bool
    waivable: bool

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "requirement": self.requirement, "source": self.source,
                "items": self.item_codes, "commitment_replaceable": self.commitment_replaceable,
                "waivable": self.waivable,
                "licence_type": self.materials[0].licence_type, "data_resource": self.materials[0].data_resource,
                "issuing_department": self.materials[0].issuing_department.code
                if self.materials[0].issuing_department else ""}


def material_plan(selection: list[tuple[ServiceItem, Situation | None]]) -> list[PlannedMaterial]:
    """The de-duplicated materials an application needs: one entry per distinct material across its items."""
    plan: dict[str, PlannedMaterial] = {}
    for item, situation in selection:
        for m in applicable_materials(item, situation):
            kind, value = material_key(m)
            key = f"{kind}:{value}"
            entry = plan.get(key)
            if entry is None:
                plan[key] = PlannedMaterial(key=key, name=m.name, requirement=m.requirement, source=m.source,
                                            materials=[m], item_codes=[item.code],
                                            commitment_replaceable=m.commitment_replaceable, waivable=m.waivable)
                continue
            entry.materials.append(m)
            if item.code not in entry.item_codes:
                entry.item_codes.append(item.code)
            if m.requirement == Material.Requirement.REQUIRED:
                entry.requirement = Material.Requirement.REQUIRED
            entry.commitment_replaceable = entry.commitment_replaceable and m.commitment_replaceable
            entry.waivable = entry.waivable and m.waivable
    return list(plan.values())


def form_schema(selection: list[tuple[ServiceItem, Situation | None]], title: str) -> dict[str, Any]:
    return merge_schemas([(item.code, item.form_schema) for item, _ in selection], title=title)


# --- proxies (帮办代办) --------------------------------------------------------------------------------------


@transaction.atomic
def authorise_proxy(*, agent: User, principal_name: str, principal_id_number: str, scope: str,
                    valid_until: dt.date, kind: str = ProxyAuthorisation.Kind.AGENT, principal: User | None = None,
                    document: StoredFile | None = None, recorded_by: User | None = None) -> ProxyAuthorisation:
    if not principal_name.strip() or not principal_id_number.strip():
        raise ApplicationError("请填写委托人姓名/名称和证件号码", code="proxy.principal_required")
    if valid_until < timezone.localdate():
        raise ApplicationError("授权有效期不能早于今天", code="proxy.expired")
    if kind == ProxyAuthorisation.Kind.AGENT and document is None and principal is None:
        raise ApplicationError("委托代理须上传授权委托书，或由委托人在线授权", code="proxy.document_required")
    if principal is None:
        principal = User.objects.filter(id_number=principal_id_number.strip()).first()
    proxy = ProxyAuthorisation.objects.create(
        agent=agent, principal=principal, principal_name=principal_name.strip(),
        principal_id_number=principal_id_number.strip(), scope=scope, valid_until=valid_until, kind=kind,
        document=document, recorded_by=recorded_by or agent)
    audit("proxy.authorise", actor=recorded_by or agent, obj=proxy,
          detail={"agent": agent.username, "principal": principal_id_number, "kind": kind})
    return proxy


def _check_proxy(proxy: ProxyAuthorisation, user: User) -> None:
    if proxy.revoked_at is not None or proxy.valid_until < timezone.localdate():
        raise ApplicationError("代办授权已失效", code="proxy.invalid", status=403)
    if proxy.agent_id != user.pk:
        raise ApplicationError("您不是该授权的代理人", code="proxy.not_agent", status=403)


# --- creating and submitting -------------------------------------------------------------------------------


@dataclass
class Selection:
    item_code: str
    situation_code: str = ""
    answers: dict[str, Any] | None = None


def _resolve_selection(application_items: list[ServiceItem], choices: dict[str, Selection]
                       ) -> list[tuple[ServiceItem, Situation | None]]:
    out = []
    for item in application_items:
        choice = choices.get(item.code)
        if choice and choice.situation_code:
            situation: Situation | None = situation_by_code(item, choice.situation_code)
        elif item.situations.exists():
            situation = pick_situation(item, (choice.answers if choice else None) or {})
        else:
            situation = None
        out.append((item, situation))
    return out


@transaction.atomic
def create_application(*, user: User, item_code: str = "", bundle_code: str = "",
                       situations: dict[str, Selection] | None = None, form_data: dict[str, Any] | None = None,
                       proxy: ProxyAuthorisation | None = None, channel: str = Application.Channel.ONLINE,
                       window: Organisation | None = None, applicant_phone: str = "") -> Application:
    """Create a draft application for one item or one bundle, for ``user`` or for a proxy's principal."""
    if bool(item_code) == bool(bundle_code):
        raise ApplicationError("请选择一个事项或一个“一件事”", code="application.item_or_bundle")
    if channel == Application.Channel.WINDOW and (window is None or not has_role(user, Role.WINDOW_CLERK, window)):
        raise ApplicationError("只有综合窗口人员可以在窗口代为申请", code="application.not_window_clerk", status=403)
    if item_code:
        item = _published_item(item_code)
        items, title, bundle = [item], item.name, None
    else:
        bundle = _published_bundle(bundle_code)
        items = [bi.item for bi in bundle.bundle_items.select_related("item", "item__competent_department")]
        title = bundle.name
    selection = _resolve_selection(items, situations or {})
    if proxy is not None:
        _check_proxy(proxy, user)
        applicant, name, id_number = proxy.principal, proxy.principal_name, proxy.principal_id_number
    elif channel == Application.Channel.WINDOW:
        raise ApplicationError("窗口代为申请须先登记帮办授权", code="application.proxy_required")
    else:
        if not user.id_number:
            raise ApplicationError("请先完成实名认证（证件号码）", code="application.identity_required", status=403)
        applicant, name, id_number = user, user.display_name or user.username, user.id_number
    kind = "legal" if applicant is not None and applicant.kind == User.Kind.LEGAL_PERSON else "natural"
    app = Application(
        item=None if bundle else items[0], bundle=bundle, title=title, applicant=applicant,
        applicant_kind=kind, applicant_name=name, applicant_id_number=id_number, applicant_phone=applicant_phone,
        submitted_by=user, proxy=proxy, channel=channel, window=window, form_data=form_data or {},
        promised_limit_days=(bundle.promised_limit_days if bundle and bundle.promised_limit_days else
                             max((i.promised_limit_days or 0) for i in items) or None),
        promised_visits=max(i.onsite_visits for i in items),
    )
    _save_with_new_ref(app)
    for item, situation in selection:
        ApplicationItem.objects.create(application=app, item=item, situation=situation,
                                       department=item.competent_department,
                                       status=ApplicationItem.Status.PENDING)
    for planned in material_plan(selection):
        row = ApplicationMaterial.objects.create(
            application=app, key=planned.key, name=planned.name, item_codes=planned.item_codes,
            requirement=planned.requirement, source=planned.source,
            status=ApplicationMaterial.Status.WAIVED if planned.waivable else ApplicationMaterial.Status.MISSING)
        row.materials.set(planned.materials)
    log(app, "created", f"创建申请（{'代办：' + str(user) if proxy else name}）", user)
    if proxy is not None:
        log(app, "proxy", f"由{proxy.get_kind_display()}“{user}”代为申请，授权范围：{proxy.scope}", user,
            proxy_id=proxy.pk)
    audit("application.create", actor=user, obj=app, detail={"ref": app.ref, "proxy": proxy.pk if proxy else None})
    return app


def selection_of(app: Application) -> list[tuple[ServiceItem, Situation | None]]:
    return [(ai.item, ai.situation) for ai in app.items.select_related("item", "situation")]


def application_schema(app: Application) -> dict[str, Any]:
    return form_schema(selection_of(app), app.title)


def _can_edit(app: Application, user: User) -> None:
    if app.submitted_by_id != user.pk and app.applicant_id != user.pk:
        raise ApplicationError("无权操作该办件", code="application.forbidden", status=403)
    if app.status not in OPEN_STATUSES:
        raise ApplicationError(f"办件当前状态“{app.get_status_display()}”不可修改", code="application.not_editable", status=409)


def _material(app: Application, key: str) -> ApplicationMaterial:
    row = app.materials.filter(key=key).first()
    if row is None:
        raise ApplicationError(f"办件没有材料“{key}”", code="material.unknown", status=404)
    return row


@transaction.atomic
def attach_file(app: Application, key: str, stored: StoredFile, user: User) -> ApplicationMaterial:
    app = Application.objects.select_for_update().get(pk=app.pk)
    if app.status == Application.Status.RESULT_HELD or app.supplements.filter(fulfilled_at__isnull=True).exists():
        return supplement_material(app, key, stored, user)
    _can_edit(app, user)
    row = _material(app, key)
    row.file, row.status, row.provided_at = stored, ApplicationMaterial.Status.PROVIDED, timezone.now()
    row.save(update_fields=["file", "status", "provided_at"])
    log(app, "material", f"上传材料“{row.name}”", user, sha256=stored.sha256)
    return row


@transaction.atomic
def attach_evidence(app: Application, key: str, evidence: dict[str, Any], user: User) -> ApplicationMaterial:
    """Mark a material as fetched from its issuing department (免证办理); ``evidence`` is what was fetched."""
    row = _material(app, key)
    _can_edit(app, user)
    if row.source == Material.Source.APPLICANT:
        raise ApplicationError(f"“{row.name}”须由申请人提供，不能调取", code="material.not_fetchable")
    row.evidence, row.status, row.provided_at = evidence, ApplicationMaterial.Status.FETCHED, timezone.now()
    row.save(update_fields=["evidence", "status", "provided_at"])
    log(app, "evidence", f"已调取“{row.name}”（来自{evidence.get('provider_org', '')}），申请人无需提交", user)
    return row


def evidence_plan(app: Application, key: str) -> dict[str, Any]:
    """What will be fetched for material ``key``, from whom, for which departments (shown before consent)."""
    row = _material(app, key)
    if row.source == Material.Source.APPLICANT:
        raise ApplicationError(f"“{row.name}”须由申请人提供，不能调取", code="material.not_fetchable")
    m = row.materials.select_related("issuing_department").first()
    code = m.licence_type if row.source == Material.Source.ISSUED else m.data_resource
    consumers = list(app.items.filter(item__code__in=row.item_codes).select_related("department")
                     .values_list("department__code", "department__name").distinct())
    try:
        provider_org, available = core_evidence.provider_for(row.source, code).organisation_code, True
    except core_evidence.EvidenceError:
        provider_org, available = (m.issuing_department.code if m.issuing_department else ""), False
    provider_name = Organisation.objects.filter(code=provider_org).values_list("name", flat=True).first() or ""
    return {"key": key, "name": row.name, "source": row.source, "code": code, "provider_org": provider_org,
            "provider_name": provider_name, "available": available,
            "consumers": [{"code": c, "name": n} for c, n in consumers],
            "purpose": f"办理“{app.title}”（{app.ref}）"}


def fetch_evidence(app: Application, key: str, user: User) -> ApplicationMaterial:
    """免证办理: with the applicant's consent, fetch material ``key`` from the department that holds it.

    Call it outside any transaction of your own, so that the access-log entry the exchange writes stays
    even when the fetch is refused (the API view does). A provider that is down gives ``evidence.provider_unavailable`` (503)
    with advice to upload instead; nothing already entered is lost.
    """
    _can_edit(app, user)
    plan = evidence_plan(app, key)
    purpose = plan["purpose"]
    try:
        consent_ref = ""
        for consumer in plan["consumers"]:
            ref = core_evidence.record_consent(
                subject_id=app.applicant_id_number, source=plan["source"], code=plan["code"],
                consumer_org=consumer["code"], purpose=purpose, case_ref=app.ref, user=user)
            consent_ref = consent_ref or ref
        ev = core_evidence.fetch(core_evidence.EvidenceRequest(
            source=plan["source"], code=plan["code"], subject_id=app.applicant_id_number,
            requester_org=plan["consumers"][0]["code"], purpose=purpose, case_ref=app.ref,
            consent_ref=consent_ref, actor_id=user.pk))
    except core_evidence.ProviderUnavailable as exc:
        raise ApplicationError(f"{exc}。您可以改为上传该材料，已填写的内容不会丢失。", code=exc.code, status=503) from exc
    except core_evidence.EvidenceNotFound as exc:
        raise ApplicationError(f"{exc}。请改为上传该材料。", code=exc.code, status=404) from exc
    except core_evidence.EvidenceError as exc:
        raise ApplicationError(str(exc), code=exc.code, status=403) from exc
    evidence = {"provider_org": ev.provider_org, "title": ev.title, "data": ev.data, "reference": ev.reference,
                "fetched_at": ev.fetched_at.isoformat(), "code": ev.code, "source": ev.source,
                "masked_fields": list(ev.masked_fields)}
    return attach_evidence(app, key, evidence, user)


@transaction.atomic
def sign_commitment(app: Application, user: User, material_keys: list[str], text: str = "") -> Commitment:
    """告知承诺: replace the named materials with a signed commitment (only where every item allows it)."""
    _can_edit(app, user)
    if not all(ai.item.commitment_allowed for ai in app.items.select_related("item")):
        raise ApplicationError("该事项不适用告知承诺制", code="commitment.not_allowed")
    rows = {m.key: m for m in app.materials.all()}
    for key in material_keys:
        row = rows.get(key)
        if row is None:
            raise ApplicationError(f"办件没有材料“{key}”", code="material.unknown", status=404)
        if not all(m.commitment_replaceable for m in row.materials.all()):
            raise ApplicationError(f"“{row.name}”不能以承诺替代", code="commitment.material_not_replaceable")
    text = text or (f"本人/本单位承诺：所填报信息真实有效，已知晓并符合“{app.title}”的全部条件，"
                    f"以下材料以承诺替代：{'、'.join(rows[k].name for k in material_keys)}。"
                    "如有不实，愿承担撤销审批决定等法律责任，并记入信用记录。")
    commitment, _ = Commitment.objects.update_or_create(
        application=app, defaults={"text": text, "material_keys": material_keys,
                                   "signer_name": app.applicant_name, "signed_by": user,
                                   "signed_at": timezone.now()})
    app.materials.filter(key__in=material_keys).update(status=ApplicationMaterial.Status.COMMITMENT,
                                                        provided_at=timezone.now())
    app.items.update(by_commitment=True)
    log(app, "commitment", f"签署告知承诺书，承诺替代 {len(material_keys)} 项材料", user)
    return commitment


def missing_materials(app: Application, *, tolerate: bool = False) -> list[ApplicationMaterial]:
    """Materials still owed. With ``tolerate`` the tolerable (容缺) ones are not counted as missing."""
    out = []
    for row in app.materials.all():
        if row.status != ApplicationMaterial.Status.MISSING:
            continue
        if row.requirement == Material.Requirement.OPTIONAL:
            continue
        if tolerate and row.requirement == Material.Requirement.TOLERABLE:
            continue
        out.append(row)
    return out


@transaction.atomic
def submit(app: Application, user: User, form_data: dict[str, Any] | None = None) -> Application:
    """Submit the application (online) after validating the form against the merged schema."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _can_edit(app, user)
    if form_data is not None:
        app.form_data = form_data
    errors = validate_form(application_schema(app), app.form_data)
    if errors:
        raise ApplicationError("申请表填写有误，请按提示修改", code="application.invalid_form", detail={"errors": errors})
    app.status = Application.Status.SUBMITTED
    app.submitted_at = timezone.now()
    app.save(update_fields=["form_data", "status", "submitted_at"])
    log(app, "submitted", "提交申请", user)
    audit("application.submit", actor=user, obj=app)
    if _commitment_covers_all(app):
        return _accept(app, user, auto=True)
    if app.channel == Application.Channel.ONLINE and all(
            ai.item.online_level == "fully_online" for ai in app.items.select_related("item")) \
            and not missing_materials(app):
        return _accept(app, user, auto=True)
    return app


def _commitment_covers_all(app: Application) -> bool:
    return hasattr(app, "commitment") and not missing_materials(app, tolerate=False)


# --- window intake (综合窗口) --------------------------------------------------------------------------------


def _require_clerk(user: User, window: Organisation | None = None) -> None:
    if not has_role(user, Role.WINDOW_CLERK, window):
        raise ApplicationError("只有综合窗口人员可以受理", code="window.not_clerk", status=403)


def _issue_notice(app: Application, kind: str, content: dict[str, Any], user: User | None) -> Notice:
    code = documents.new_code()
    titles = dict(Notice.Kind.choices)
    content = {"issuer": "云溪市政务服务中心", "issued_at": timezone.localtime().strftime("%Y年%m月%d日 %H:%M"),
               **content}
    pdf = documents.render_notice(titles[kind], content, code)
    stored = files.store_bytes(pdf, name=f"{app.ref}-{kind}.pdf", content_type="application/pdf")
    notice = Notice.objects.create(application=app, kind=kind, code=code, file=stored, content=content,
                                   issued_by=user if user and user.is_authenticated else None)
    log(app, "notice", f"出具{titles[kind]}（查验码 {code}）", user, notice=code)
    return notice


def _base_facts(app: Application) -> list[tuple[str, str]]:
    return [("办件编号", app.ref), ("申请事项", app.title), ("申请人", app.applicant_name),
            ("申请时间", timezone.localtime(app.submitted_at or app.created_at).strftime("%Y-%m-%d %H:%M"))]


@transaction.atomic
def issue_one_time_notice(app: Application, clerk: User, *, note: str = "") -> Notice:
    """一次性告知: list everything missing at once; the application waits for the applicant."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    missing = missing_materials(app)
    if not missing:
        raise ApplicationError("材料齐全，无需一次性告知", code="window.nothing_missing")
    app.status = Application.Status.INCOMPLETE
    app.save(update_fields=["status"])
    notice = _issue_notice(app, Notice.Kind.ONE_TIME, {
        "addressee": app.applicant_name,
        "paragraphs": ["您提交的申请材料不齐全或不符合法定形式，现一次性告知需要补正的全部内容如下。"
                       "补齐后可通过网上办事大厅提交或到任一综合窗口提交，无需重复提交已有材料。", note],
        "facts": _base_facts(app),
        "lists": [("需补正的材料：", [m.name for m in missing])],
    }, clerk)
    audit("application.one_time_notice", actor=clerk, obj=app, detail={"missing": [m.key for m in missing]})
    return notice


@transaction.atomic
def refuse(app: Application, clerk: User, reason: str) -> Notice:
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    if not reason.strip():
        raise ApplicationError("不予受理须说明理由", code="window.reason_required")
    if app.status not in {Application.Status.SUBMITTED, Application.Status.INCOMPLETE}:
        raise ApplicationError("该办件不在待受理状态", code="window.not_pending", status=409)
    app.status, app.refusal_reason = Application.Status.REFUSED, reason
    app.save(update_fields=["status", "refusal_reason"])
    log(app, "refused", f"不予受理：{reason}", clerk)
    audit("application.refuse", actor=clerk, obj=app, reason=reason)
    return _issue_notice(app, Notice.Kind.REFUSAL, {
        "addressee": app.applicant_name, "paragraphs": [f"经审查，您的申请不予受理。理由：{reason}",
                                                        "如不服本决定，可依法申请行政复议或者提起行政诉讼。"],
        "facts": _base_facts(app)}, clerk)


@transaction.atomic
def accept(app: Application, clerk: User, *, tolerate: bool = False, supplement_days: int | None = None
           ) -> Application:
    """受理 at any window. With ``tolerate`` (容缺受理) tolerable materials may still be missing: a supplement
    deadline is set and the result is held until they arrive."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _require_clerk(clerk)
    if app.status not in {Application.Status.SUBMITTED, Application.Status.INCOMPLETE}:
        raise ApplicationError("该办件不在待受理状态", code="window.not_pending", status=409)
    missing = missing_materials(app, tolerate=tolerate)
    if missing:
        raise ApplicationError("材料不齐全，不能受理：" + "、".join(m.name for m in missing)
                               + ("（可出具一次性告知书）" if not tolerate else ""), code="window.materials_missing", detail={"missing": [m.key for m in missing]})
    return _accept(app, clerk, auto=False, supplement_days=supplement_days)


def _accept(app: Application, actor: User | None, *, auto: bool, supplement_days: int | None = None
            ) -> Application:
    now = timezone.now()
    app.status, app.accepted_at = Application.Status.IN_REVIEW, now
    app.accepted_by = actor if (actor and not auto) else None
    app.verification_code = app.verification_code or documents.new_code()
    app.save(update_fields=["status", "accepted_at", "accepted_by", "verification_code"])
    owed = [m for m in missing_materials(app) if m.requirement == Material.Requirement.TOLERABLE]
    suspends = False
    if owed:
        days = supplement_days or DEFAULT_SUPPLEMENT_WORKING_DAYS
        deadline = default_calendar().add_working_days(timezone.localdate(), days)
        suspends = any("补正" in s for ai in app.items.select_related("item") for s in ai.item.excluded_steps)
        Supplement.objects.create(application=app, material_keys=[m.key for m in owed], deadline=deadline,
                                  suspends_clock=suspends, requested_by=actor if not auto else None)
        app.materials.filter(pk__in=[m.pk for m in owed]).update(status=ApplicationMaterial.Status.TOLERATED)
        log(app, "tolerated", f"容缺受理：{'、'.join(m.name for m in owed)} 须于 {deadline:%Y-%m-%d} 前补齐", actor)
    log(app, "accepted", "自动受理" if auto else "窗口受理", actor)
    audit("application.accept", actor=actor, obj=app, detail={"auto": auto, "tolerated": [m.key for m in owed]})
    _issue_notice(app, Notice.Kind.ACCEPTANCE, {
        "addressee": app.applicant_name,
        "paragraphs": [f"您的申请材料齐全、符合法定形式，决定予以受理。承诺办结时限：{app.promised_limit_days or '—'} 个工作日。",
                       *(["以下材料实行容缺受理，请在期限内补齐，补齐前不发放审批结果："
                          + "、".join(m.name for m in owed)] if owed else [])],
        "facts": _base_facts(app) + [("受理时间", timezone.localtime(now).strftime("%Y-%m-%d %H:%M"))],
    }, actor)
    if hasattr(app, "commitment"):
        _approve_by_commitment(app)
    else:
        workflow_bridge.start_review(app, suspended=suspends)
    app.refresh_from_db()
    return app


def _approve_by_commitment(app: Application) -> None:
    """告知承诺制: approve at once, create the post-check (事后核查) with its due date."""
    due = default_calendar().add_working_days(timezone.localdate(), POST_CHECK_WORKING_DAYS)
    for ai in app.items.select_related("item", "department"):
        record_item_decision(ai, "approve", opinion="告知承诺制：当场审批", decided_by="告知承诺制")
        PostCheck.objects.create(application=app, department=ai.department, due_on=due)
    log(app, "post_check", f"已创建事后核查任务，核查期限 {due:%Y-%m-%d}")


# --- decisions (from the workflow) -----------------------------------------------------------------------


def record_item_decision(ai: ApplicationItem, outcome: str, *, opinion: str = "", decided_by: str = "") -> None:
    """Store one item's final decision and, when every item is decided, the combined result."""
    if outcome not in {"approve", "reject"}:
        raise ApplicationError(f"未知的审批结果“{outcome}”", code="decision.unknown_outcome")
    ai.status = ApplicationItem.Status.APPROVED if outcome == "approve" else ApplicationItem.Status.REJECTED
    ai.opinion, ai.decided_by, ai.decided_at = opinion, decided_by, timezone.now()
    ai.result = {"outcome": outcome, "result_name": ai.item.result_name}
    ai.save(update_fields=["status", "opinion", "decided_by", "decided_at", "result"])
    app = Application.objects.select_for_update().get(pk=ai.application_id)
    log(app, "item_decided", f"{ai.department.name}：{ai.item.name} —— {ai.get_status_display()}"
        + (f"（{opinion}）" if opinion else ""))
    _maybe_finish(app)


def _combined_status(item_statuses: list[str]) -> str:
    """One result for the whole application from its decided items: all, some or none approved."""
    approved = item_statuses.count(ApplicationItem.Status.APPROVED)
    if approved == len(item_statuses):
        return Application.Status.APPROVED
    return Application.Status.REJECTED if approved == 0 else Application.Status.PARTIAL


def _maybe_finish(app: Application) -> None:
    statuses = list(app.items.values_list("status", flat=True))
    if any(s in {ApplicationItem.Status.PENDING, ApplicationItem.Status.IN_REVIEW, ApplicationItem.Status.RETURNED}
           for s in statuses):
        return
    final = _combined_status(statuses)
    app.decided_at = app.decided_at or timezone.now()
    if app.supplements.filter(fulfilled_at__isnull=True).exists():
        app.status = Application.Status.RESULT_HELD
        app.save(update_fields=["status", "decided_at"])
        log(app, "result_held", "审批已完成，容缺材料补齐后发放结果")
        return
    _release_result(app, final)


def _release_result(app: Application, final: str) -> None:
    app.status, app.completed_at = final, timezone.now()
    app.save(update_fields=["status", "decided_at", "completed_at"])
    items = list(app.items.select_related("item", "department"))
    log(app, "completed", f"办结：{app.get_status_display()}，结果一次性送达")
    _issue_notice(app, Notice.Kind.RESULT, {
        "addressee": app.applicant_name, "paragraphs": [f"您申请的“{app.title}”已办结。"],
        "facts": _base_facts(app),
        "lists": [("各事项审批结果：", [f"{ai.item.name}（{ai.department.name}）：{ai.get_status_display()}"
                                  + (f"，{ai.opinion}" if ai.opinion else "") for ai in items])],
    }, None)
    holder = {"kind": app.applicant_kind, "name": app.applicant_name, "id_number": app.applicant_id_number,
              "user_id": app.applicant_id}
    for ai in items:
        approved = ai.status == ApplicationItem.Status.APPROVED
        licence_type, data = results.licence_data(ai) if approved else ("", {})
        events.decision_made.send(
            sender=Application, application_ref=app.ref, item_code=ai.item.code,
            outcome="approved" if approved else "rejected", holder=holder,
            result={"result_name": ai.item.result_name, "licence_type": licence_type, "data": data},
            organisation_code=ai.department.code)
    events.case_closed.send(sender=Application, application_ref=app.ref, case_file=case_file_for_archive(app),
                            item_codes=[ai.item.code for ai in items])


# Retention of closed case files (电子档案保管期限) by item type, in years: licences and other decisions
# that create rights are kept 30 years, the rest 10 (local archive rules may set other periods).
RETENTION_YEARS = {"licensing": 30, "confirmation": 30, "adjudication": 30}


def case_file_for_archive(app: Application) -> dict[str, Any]:
    """Everything of a closed case for its e-archive: form, materials, decisions, event log, notices."""
    items = list(app.items.select_related("item", "department"))
    materials = []
    for m in app.materials.select_related("file"):
        entry: dict[str, Any] = {"name": m.name, "status": m.status, "items": m.item_codes}
        if m.file_id:
            entry.update(filename=m.file.original_name or m.key, path=str(files.blob_path(m.file.sha256)),
                         sha256=m.file.sha256)
        elif m.evidence:
            entry.update(filename=f"{m.key}.json", content=json.dumps(m.evidence, ensure_ascii=False, indent=2))
        else:
            continue
        materials.append(entry)
    return {
        "application_ref": app.ref, "title": app.title, "organisation": "云溪市政务服务中心",
        "closed_at": (app.completed_at or timezone.now()).isoformat(),
        "retention_years": max(RETENTION_YEARS.get(ai.item.item_type, 10) for ai in items),
        "applicant": {"name": app.applicant_name, "id_number": app.applicant_id_number},
        "form_data": app.form_data, "materials": materials,
        "decisions": [{"item_code": ai.item.code, "item_name": ai.item.name, "department": ai.department.code,
                       "status": ai.status, "opinion": ai.opinion, "decided_by": ai.decided_by,
                       "decided_at": ai.decided_at.isoformat() if ai.decided_at else None} for ai in items],
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "message": e.message, "actor": e.actor_label}
                   for e in app.events.all()]
        + [{"at": e.at.isoformat(), "kind": f"workflow.{e.type}", "element": e.element_id, "actor": e.actor_label}
           for e in workflow_bridge.events_for_application(app)],
        "results": [{"filename": f"{n.kind}-{n.code}.pdf", "path": str(files.blob_path(n.file.sha256)),
                     "notice_code": n.code} for n in app.notices.select_related("file")],
    }


# --- supplements (容缺补正) --------------------------------------------------------------------------------


@transaction.atomic
def supplement_material(app: Application, key: str, stored: StoredFile, user: User) -> ApplicationMaterial:
    row = _material(app, key)
    if app.submitted_by_id != user.pk and app.applicant_id != user.pk and not has_role(user, Role.WINDOW_CLERK):
        raise ApplicationError("无权操作该办件", code="application.forbidden", status=403)
    if row.status not in {ApplicationMaterial.Status.TOLERATED, ApplicationMaterial.Status.MISSING}:
        raise ApplicationError(f"“{row.name}”无需补正", code="material.not_owed", status=409)
    row.file, row.status, row.provided_at = stored, ApplicationMaterial.Status.SUPPLEMENTED, timezone.now()
    row.save(update_fields=["file", "status", "provided_at"])
    log(app, "supplemented", f"补齐材料“{row.name}”", user)
    for sup in app.supplements.filter(fulfilled_at__isnull=True):
        owed = app.materials.filter(key__in=sup.material_keys, status=ApplicationMaterial.Status.TOLERATED)
        if not owed.exists():
            sup.fulfilled_at = timezone.now()
            sup.save(update_fields=["fulfilled_at"])
            log(app, "supplement_done", "容缺材料已全部补齐", user)
            if sup.suspends_clock:
                workflow_bridge.resume_clock(app, "补正材料")
    app.refresh_from_db()
    if app.status == Application.Status.RESULT_HELD and not app.supplements.filter(fulfilled_at__isnull=True).exists():
        _release_result(app, _combined_status(list(app.items.values_list("status", flat=True))))
    return row


def send_supplement_reminders(today: dt.date | None = None) -> int:
    """Remind applicants of owed materials (once a day per supplement); returns how many were sent."""
    today = today or timezone.localdate()
    sent = 0
    for sup in Supplement.objects.filter(fulfilled_at__isnull=True).select_related("application"):
        if any(r.get("on") == today.isoformat() for r in sup.reminders):
            continue
        left = default_calendar().working_days_between(today, sup.deadline)
        message = (f"请于 {sup.deadline:%Y-%m-%d} 前补齐容缺材料（剩余 {left} 个工作日）" if sup.deadline >= today
                   else f"容缺材料已超过补齐期限 {sup.deadline:%Y-%m-%d}，请尽快补齐")
        sup.reminders = [*sup.reminders, {"on": today.isoformat(), "message": message}]
        sup.save(update_fields=["reminders"])
        log(sup.application, "reminder", message)
        sent += 1
    return sent


# --- post-checks (事后核查) --------------------------------------------------------------------------------


@transaction.atomic
def complete_post_check(check: PostCheck, user: User, *, passed: bool, result: str) -> PostCheck:
    check = PostCheck.objects.select_for_update().get(pk=check.pk)
    if not has_role(user, Role.APPROVER, check.department) and not has_role(user, Role.SUPERVISOR, check.department):
        raise ApplicationError("只有该部门审批或监管人员可以核查", code="post_check.forbidden", status=403)
    if check.status != PostCheck.Status.PENDING:
        raise ApplicationError("该核查已完成", code="post_check.done", status=409)
    if not result.strip():
        raise ApplicationError("请填写核查情况", code="post_check.result_required")
    check.status = PostCheck.Status.PASSED if passed else PostCheck.Status.FAILED
    check.result, check.checked_by, check.checked_at = result, user, timezone.now()
    check.save(update_fields=["status", "result", "checked_by", "checked_at"])
    app = check.application
    audit("post_check.complete", actor=user, obj=check, detail={"passed": passed}, reason=result)
    if passed:
        log(app, "post_check_passed", f"事后核查通过：{result}", user)
        return check
    app.items.update(status=ApplicationItem.Status.REVOKED)
    app.status = Application.Status.REVOKED
    app.save(update_fields=["status"])
    CreditEvent.objects.create(subject_id_number=app.applicant_id_number, subject_name=app.applicant_name,
                               kind="commitment_breach", description=f"{app.title}：告知承诺不实（{result}）",
                               application=app)
    log(app, "revoked", f"事后核查不通过，撤销审批决定并记入信用记录：{result}", user)
    events.post_check_failed.send(sender=Application, application_ref=app.ref,
                                  holder={"name": app.applicant_name, "id_number": app.applicant_id_number},
                                  reason=result)
    return check


# --- visits (跑动次数) ----------------------------------------------------------------------------------------


@transaction.atomic
def record_visit(app: Application, clerk: User, window: Organisation, purpose: str) -> Visit:
    _require_clerk(clerk, window)
    visit = Visit.objects.create(application=app, window=window, clerk=clerk, purpose=purpose or "现场办理")
    log(app, "visit", f"现场跑动：{window.name}（{visit.purpose}）", clerk)
    return visit


def visit_report(app: Application) -> dict[str, Any]:
    real = app.visits.count()
    return {"promised": app.promised_visits, "actual": real, "kept": real <= app.promised_visits}


# --- writes of the HTML pages (hportal): draft saving, decisions with reasons, corrections, projects ---------


@transaction.atomic
def save_draft(app: Application, user: User, form_data: dict[str, Any]) -> Application:
    """Keep the entered form data of an open application without submitting it (保存草稿; not validated)."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    _can_edit(app, user)
    properties = application_schema(app).get("properties", {})
    app.form_data = {k: v for k, v in form_data.items() if k in properties}
    app.save(update_fields=["form_data"])
    return app


REASON_REQUIRED_OUTCOMES = {"reject": "不予许可", "return": "退回补正"}


def decide_task(task: Any, user: User, outcome: str, opinion: str = "") -> Any:
    """An approver decides a review task: approve, reject (reason required) or return for correction (reason
    required). A returned item shows as 退回补正 to the applicant until the correction is made."""
    from tongban.workflow import services as wf

    opinion = (opinion or "").strip()
    if outcome in REASON_REQUIRED_OUTCOMES and not opinion:
        raise ApplicationError(f"{REASON_REQUIRED_OUTCOMES[outcome]}须填写理由", code="decision.reason_required")
    with transaction.atomic():
        ai = workflow_bridge.application_item_for_task(task)
        wf.complete(task, user, outcome, opinion=opinion)
        if ai is not None and outcome == "return":
            ai.status = ApplicationItem.Status.RETURNED
            ai.save(update_fields=["status"])
            log(ai.application, "returned", f"{ai.department.name}：{ai.item.name} 退回补正（{opinion}）", user)
    return task


@transaction.atomic
def complete_correction(app: Application, user: User, *, note: str = "",
                        replacements: dict[str, StoredFile] | None = None) -> int:
    """申请人补正: answer a return for correction, optionally replacing material files; the review resumes.
    Returns the number of correction tasks completed."""
    from tongban.workflow import services as wf
    from tongban.workflow.models import Task

    app = Application.objects.select_for_update().get(pk=app.pk)
    if app.submitted_by_id != user.pk and app.applicant_id != user.pk:
        raise ApplicationError("无权操作该办件", code="application.forbidden", status=403)
    tasks = [t for t in workflow_bridge.tasks_for_application(app)
             if t.element_id == "correction" and t.state in Task.OPEN_STATES]
    if not tasks:
        raise ApplicationError("该办件没有待补正的事项", code="correction.none", status=409)
    for key, stored in (replacements or {}).items():
        row = _material(app, key)
        row.file, row.provided_at = stored, timezone.now()
        if row.status in {ApplicationMaterial.Status.MISSING, ApplicationMaterial.Status.TOLERATED}:
            row.status = ApplicationMaterial.Status.SUPPLEMENTED
        row.save(update_fields=["file", "status", "provided_at"])
        log(app, "material", f"补正材料“{row.name}”", user, sha256=stored.sha256)
    for task in tasks:
        ai = workflow_bridge.application_item_for_task(task)
        wf.complete(task, user, "corrected", opinion=note, check_permissions=False)
        if ai is not None and ai.status == ApplicationItem.Status.RETURNED:
            ai.status = ApplicationItem.Status.IN_REVIEW
            ai.save(update_fields=["status"])
    log(app, "corrected", "申请人已补正" + (f"：{note}" if note.strip() else ""), user)
    audit("application.correct", actor=user, obj=app, detail={"materials": sorted(replacements or {})})
    return len(tasks)


def next_project_code(now: dt.datetime | None = None) -> str:
    """投资项目代码: year-division-00-01-sequence, e.g. 2026-910100-00-01-000007."""
    from .models import InvestmentProject

    year = timezone.localtime(now or timezone.now()).year
    prefix = f"{year}-910100-00-01-"
    last = InvestmentProject.objects.filter(code__startswith=prefix).aggregate(m=Max("code"))["m"]
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:06d}"


@transaction.atomic
def create_project(*, owner: User, name: str, location: str = "", total_investment: Any = 0,
                   stage_bundles: dict[str, Bundle] | None = None) -> Any:
    """赋码: register an investment project with its four stages (立项用地规划许可 → 竣工验收)."""
    from decimal import Decimal, InvalidOperation

    from .models import InvestmentProject, ProjectStage

    if not name.strip():
        raise ApplicationError("请填写项目名称", code="project.name_required")
    try:
        amount = Decimal(str(total_investment or 0))
    except InvalidOperation:
        raise ApplicationError("总投资须为数字（万元）", code="project.invalid_investment") from None
    if amount < 0 or not amount.is_finite():
        raise ApplicationError("总投资须为不小于 0 的数字（万元）", code="project.invalid_investment")
    project = InvestmentProject.objects.create(code=next_project_code(), name=name.strip()[:200], owner=owner,
                                               location=location.strip()[:200], total_investment=amount)
    for order, (stage, _label) in enumerate(ProjectStage.STAGES, start=1):
        ProjectStage.objects.create(project=project, stage=stage, order=order,
                                    bundle=(stage_bundles or {}).get(stage))
    audit("project.create", actor=owner, obj=project, detail={"code": project.code})
    return project


@transaction.atomic
def link_project_stage(app: Application, stage: Any, user: User) -> Application:
    """File an application under a stage of the applicant's investment project."""
    if stage.project.owner_id not in {app.applicant_id, user.pk}:
        raise ApplicationError("只能将办件归入本单位的投资项目", code="project.forbidden", status=403)
    _can_edit(app, user)
    app.project_stage = stage
    app.save(update_fields=["project_stage"])
    log(app, "project", f"归入投资项目 {stage.project.code}（{stage.get_stage_display()}）", user)
    return app
