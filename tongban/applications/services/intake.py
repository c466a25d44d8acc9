"""Creating and submitting an application (申请): one item or a one-thing bundle, for oneself or as a proxy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.catalog import definitions
from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.forms import validate_form
from tongban.catalog.models import Bundle, ServiceItem
from tongban.core import credit_gate, site
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from ..errors import ApplicationError
from ..models import Application, ApplicationItem, ApplicationMaterial, ProxyAuthorisation
from ..selectors import case_items, forget_prefetched, prefetch_case
from .common import log, missing_materials, next_in_sequence, require_editable
from .guide import Selection, application_schema, material_plan, resolve_selection
from .proxies import check_proxy
from .window import complete_acceptance


def ref_prefix(now: dt.datetime | None = None) -> str:
    """The prefix of the 办件编号 of the day, in the site's format (``core.site.reference_stem``, the one place that
    decides it): by default the site's prefix + date, e.g. MM20261125."""
    return site.reference_stem(timezone.localtime(now or timezone.now()))[0]


def next_ref(now: dt.datetime | None = None) -> str:
    """办件编号: ``ref_prefix`` + the day's sequence in the site's width, e.g. MM20261125000042 (from a counter row
    that cannot hand out one number twice; call it inside the creating transaction)."""
    stem, width = site.reference_stem(timezone.localtime(now or timezone.now()))
    return next_in_sequence(Application, "ref", stem, width)


def _save_with_new_ref(app: Application) -> None:
    """Save a new application under the next 办件编号 of the day."""
    app.ref = next_ref()
    app.save(force_insert=True)


def _published_item(code: str) -> ServiceItem:
    item = definitions.published_item(code)
    if item is None:
        raise ApplicationError(f"事项“{code}”不存在或未发布", code="application.unknown_item", status=404)
    return item


def _published_bundle(code: str) -> Bundle:
    bundle = definitions.published_bundle(code)
    if bundle is None:
        raise ApplicationError(f"一件事“{code}”不存在或未发布", code="application.unknown_bundle", status=404)
    return bundle


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
        items = [bi.item for bi in bundle.bundle_items.all()]
        title = bundle.name
    selection = resolve_selection(items, situations or {})
    if proxy is not None:
        check_proxy(proxy, user)
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
    app_items = ApplicationItem.objects.bulk_create([
        ApplicationItem(application=app, item=item, situation=situation,
                        department=catalog_selectors.reviewing_organisation(item),
                        status=ApplicationItem.Status.PENDING) for item, situation in selection])
    plan = material_plan(selection)
    rows = ApplicationMaterial.objects.bulk_create([
        ApplicationMaterial(
            application=app, key=planned.key, name=planned.name, item_codes=planned.item_codes,
            requirement=planned.requirement, source=planned.source,
            status=ApplicationMaterial.Status.WAIVED if planned.waivable else ApplicationMaterial.Status.MISSING)
        for planned in plan])
    through = ApplicationMaterial.materials.through
    through.objects.bulk_create([through(applicationmaterial_id=row.pk, material_id=m.pk)
                                 for row, planned in zip(rows, plan, strict=True)
                                 for m in {m.pk: m for m in planned.materials}.values()])
    timeline = [log(app, "created", f"创建申请（{'代办：' + str(user) if proxy else name}）", user)]
    if proxy is not None:
        timeline.append(log(app, "proxy", f"由{proxy.get_kind_display()}“{user}”代为申请，授权范围：{proxy.scope}",
                            user, proxy_id=proxy.pk))
    # the rows written, for the caller's answer right now (``selectors.case_file(app, written=app.written)``)
    app.written = {"items": app_items, "materials": rows, "events": timeline}
    audit("application.create", actor=user, obj=app, detail={"ref": app.ref, "proxy": proxy.pk if proxy else None})
    if proxy is not None and proxy.kind == ProxyAuthorisation.Kind.CLERK:
        # 窗口帮办: the one case where staff see a draft before it is submitted; the clerk is its submitter.
        audit("application.window_assist", actor=user, obj=app,
              detail={"ref": app.ref, "proxy": proxy.pk, "principal": proxy.principal_name, "clerk": user.username})
    return app


@transaction.atomic
def submit(app: Application, user: User, form_data: dict[str, Any] | None = None, *, locked: bool = False
           ) -> Application:
    """Submit the application after validating the form against the merged schema. Covered by a commitment, or
    fully online with every material present, it is accepted at once; otherwise it waits at the windows.
    ``locked``: the caller read ``app`` with its row lock in the current transaction (else it is read again,
    locked)."""
    if not locked:
        app = Application.objects.select_for_update().get(pk=app.pk)
    require_editable(app, user)
    if app.applicant_id == user.pk:
        app.applicant = user  # the applicant submitting: their row is at hand (the acceptance message is to them)
    prefetch_case(app)  # items and materials: the form, the checks, acceptance and 秒批 read them once
    if form_data is not None:
        app.form_data = form_data
    errors = validate_form(application_schema(app), app.form_data)
    if errors:
        raise ApplicationError("申请表填写有误，请按提示修改", code="application.invalid_form",
                               detail={"errors": errors})
    if hasattr(app, "commitment") and (refusal := credit_gate.commitment_refusal(app.applicant_id_number)):
        # signed earlier, but the grade fell to D since: the commitment route is closed (凭信用审批)
        raise ApplicationError(f"{refusal}（本申请已签署的告知承诺不再适用，请新建申请并提交全部材料）",
                               code="applications.credit_not_allowed", status=403)
    app.status = Application.Status.SUBMITTED
    app.submitted_at = timezone.now()
    if _commitment_covers_all(app) or (app.channel == Application.Channel.ONLINE and all(
            ai.item.online_level == "fully_online" for ai in case_items(app)) and not missing_materials(app)):
        # accepted at once: the acceptance records the submission with it (one update of the case)
        return complete_acceptance(app, user, auto=True, submitted=True)
    app.save(update_fields=["form_data", "status", "submitted_at"])
    log(app, "submitted", "提交申请", user)
    audit("application.submit", actor=user, obj=app)
    forget_prefetched(app)  # read for this step only: whoever keeps the object reads afresh
    return app


def _commitment_covers_all(app: Application) -> bool:
    return hasattr(app, "commitment") and not missing_materials(app, tolerate=False)


@transaction.atomic
def save_draft(app: Application, user: User, form_data: dict[str, Any]) -> Application:
    """Keep the entered form data of an open application without submitting it (保存草稿; not validated)."""
    app = Application.objects.select_for_update().get(pk=app.pk)
    require_editable(app, user)
    properties = application_schema(app).get("properties", {})
    app.form_data = {k: v for k, v in form_data.items() if k in properties}
    app.save(update_fields=["form_data"])
    return app
