"""Applying (申请): the situation guide → the exact material list → the (merged) form, the uploads, fetching
with consent and the commitment → submit. For oneself, as an agent, or by a window clerk for the person at the
window (帮办), optionally under a stage of an investment project."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import Bundle, Material, ServiceItem
from tongban.core.auth import AuthedRequest
from tongban.core.models import Role
from tongban.core.selectors import has_role

from .. import files, selectors
from ..errors import ApplicationError
from ..models import Application, ApplicationMaterial, ProjectStage, ProxyAuthorisation
from ..services.guide import (
    Selection,
    application_schema,
    condition_answers,
    guide_questions,
    material_plan,
    pick_situation,
)
from ..services.intake import create_application, save_draft, submit
from ..services.materials import attach_file, evidence_plan, fetch_evidence, sign_commitment, store_upload
from ..services.projects import link_project_stage
from .common import UPLOAD_ACCEPT, app_or_404, forbidden, int_or_zero, page
from .schemaform import all_paths, field_id, parse_form, schema_fields

REQUIREMENT_LABELS = dict(Material.Requirement.choices)
SOURCE_LABELS = dict(Material.Source.choices)


@login_required
def apply_index(request: AuthedRequest) -> HttpResponse:
    """Start an application: ``?item=CODE`` or ``?bundle=CODE`` (keeps ``proxy`` and ``stage``), or pick one."""
    keep = {k: request.GET[k] for k in ("proxy", "stage") if request.GET.get(k)}
    query = ("?" + urlencode(keep)) if keep else ""
    choices = [(kind, (request.GET.get(kind) or "").strip()) for kind in ("item", "bundle")]
    target_kind, _, target_code = (request.GET.get("target") or "").strip().partition(":")
    choices.append((target_kind, target_code))
    for kind, code in choices:
        if kind in {"item", "bundle"} and code and "/" not in code:
            return redirect(reverse(f"applications:apply_{kind}", args=[code]) + query)
    return page(request, "apply_index.html", {"bundles": catalog_selectors.list_bundles(), "query": query})


@dataclass
class Question:
    key: str
    label: str
    answers: list[str]
    items: list[str]
    value: str = ""
    name: str = ""
    hints: dict[str, list[str]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # answer → its worded text from the catalogue's guide

    @property
    def choices(self) -> list[tuple[str, str, str]]:
        """(answer, text, hint): the text words the answer, the hint names the situations it leads to."""
        return [(a, self.texts.get(a) or a, "、".join(self.hints.get(a, []))) for a in self.answers]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _questions(items: list[ServiceItem], source: QueryDict) -> list[Question]:
    """情形引导: the questions of every item with situations, each asked once across the bundle. Each answer
    names the situations it leads to, so that a question whose key is a code still reads clearly."""
    merged: dict[str, Question] = {}
    for item in items:
        for q in guide_questions(item):
            question = merged.get(q["key"])
            if question is None:
                question = merged[q["key"]] = Question(key=q["key"], label="", answers=[], items=[],
                                                       name=f"q-{len(merged) + 1}")
            question.answers += [a for a in q["answers"] if a not in question.answers]
            question.items.append(item.name)
            worded = (item.guide or {}).get(q["key"]) or {}
            if worded.get("question") and not question.label:
                question.label = worded["question"]
            for answer, text in (worded.get("answers") or {}).items():
                question.texts.setdefault(answer, text)
        for situation in item.situations.all():
            for key, value in (situation.conditions or {}).items():
                for a in condition_answers(value):
                    hints = merged[key].hints.setdefault(a, [])
                    if situation.name not in hints:
                        hints.append(situation.name)
    for question in merged.values():
        if not question.label:  # a catalogue without worded questions: the key if it is Chinese, else the items
            question.label = question.key if _has_cjk(question.key) else f"{'、'.join(question.items)}：请选择适用的情形"
        question.value = (source.get(question.name) or "").strip()
        if question.value not in question.answers:
            question.value = ""
    return list(merged.values())


def _proxy_for(request: AuthedRequest, source: QueryDict) -> ProxyAuthorisation | None | HttpResponse:
    raw = source.get("proxy") or ""
    if not raw:
        return None
    proxy = ProxyAuthorisation.objects.filter(pk=int_or_zero(raw), agent=request.user).first()
    if proxy is None:
        return forbidden(request, "代办授权不存在或您不是该授权的代理人")
    return proxy


def _stage_for(request: AuthedRequest, source: QueryDict, proxy: ProxyAuthorisation | None
               ) -> ProjectStage | None | HttpResponse:
    raw = source.get("stage") or ""
    if not raw:
        return None
    stage = ProjectStage.objects.select_related("project").filter(pk=int_or_zero(raw)).first()
    if stage is None:
        raise Http404("项目阶段不存在")
    if stage.project.owner_id not in {request.user.pk, proxy.principal_id if proxy else None}:
        return forbidden(request, "只能为本单位的投资项目申请")
    return stage


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: AuthedRequest, kind: str, code: str) -> HttpResponse:
    """/apply/item/<code>/ and /apply/bundle/<code>/: the guide questions, then the exact material list;
    POST creates the draft application and opens its form."""
    subject: Bundle | ServiceItem
    if kind == "bundle":
        bundle = catalog_selectors.get_bundle(code)
        if bundle is None:
            raise Http404("一件事不存在或未发布")
        items = [link.item for link in bundle.bundle_items.all()]
        title, subject = bundle.name, bundle
    else:
        item = catalog_selectors.get_item(code)
        if item is None:
            raise Http404("事项不存在或未发布")
        items, title, subject = [item], item.name, item
    source = request.POST if request.method == "POST" else request.GET
    proxy = _proxy_for(request, source)
    if isinstance(proxy, HttpResponse):
        return proxy
    stage = _stage_for(request, source, proxy)
    if isinstance(stage, HttpResponse):
        return stage
    questions = _questions(items, source)
    answers = {q.key: q.value for q in questions if q.value}
    answered = all(q.value for q in questions)
    selection: list[tuple[ServiceItem, Any]] = []
    unresolved: list[str] = []
    if answered:
        for it in items:
            try:
                selection.append((it, pick_situation(it, answers)))
            except ApplicationError as exc:
                unresolved.append(exc.message)
    plan = material_plan(selection) if answered and not unresolved else []
    error = ""
    if request.method == "POST":
        if not answered or unresolved:
            error = "请先回答全部引导问题"
        else:
            channel, window_org = Application.Channel.ONLINE, None
            if proxy is not None and proxy.kind == ProxyAuthorisation.Kind.CLERK:
                channel = Application.Channel.WINDOW
                windows = selectors.windows_of(request.user)
                own = windows.filter(pk=request.user.organisation_id).first() if request.user.organisation_id else None
                window_org = own or windows.first()
            try:
                app = create_application(
                    user=request.user, item_code=code if kind == "item" else "",
                    bundle_code=code if kind == "bundle" else "",
                    situations={it.code: Selection(it.code, answers=answers) for it in items},
                    proxy=proxy, channel=channel, window=window_org,
                    applicant_phone=(request.POST.get("phone") or "").strip()[:20])
                if stage is not None:
                    link_project_stage(app, stage, request.user)
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(request, f"已创建申请 {app.ref}，请填写申请表并上传材料")
                return redirect("applications:fill", ref=app.ref)
    item_names = {it.code: it.name for it in items}
    rows = [{"plan": p, "items": [item_names.get(c, c) for c in p.item_codes],
             "requirement": REQUIREMENT_LABELS.get(p.requirement, p.requirement),
             "source": SOURCE_LABELS.get(p.source, p.source)} for p in plan]
    return page(request, "apply.html", {
        "kind": kind, "code": code, "title": title, "subject": subject, "items": items, "questions": questions,
        "answered": answered, "unresolved": unresolved, "selection": selection, "plan": rows, "proxy": proxy,
        "stage": stage, "error": error, "commitment_allowed": all(it.commitment_allowed for it in items),
        "identity_missing": proxy is None and not request.user.id_number,
    }, status=400 if error else 200)


def _fill_context(app: Application, form_data: dict[str, Any], field_errors: list[dict[str, str]],
                  upload_errors: dict[int, str]) -> dict[str, Any]:
    schema = application_schema(app)
    names = {ai.item.code: ai.item.name for ai in app.items.select_related("item")}
    errors: dict[str, str] = {}
    for e in field_errors:
        errors.setdefault(e["field"], e["message"])
    materials = list(app.materials.select_related("file").prefetch_related("materials"))
    commitment_allowed = selectors.commitment_allowed(app)
    replaceable = [m for m in materials if m.status in {ApplicationMaterial.Status.MISSING,
                                                        ApplicationMaterial.Status.COMMITMENT}
                   and all(x.commitment_replaceable for x in m.materials.all())]
    for m in materials:  # display-only attributes for the template
        plan = None
        if m.source != Material.Source.APPLICANT and m.status in {ApplicationMaterial.Status.MISSING,
                                                                  ApplicationMaterial.Status.WAIVED}:
            try:
                plan = evidence_plan(app, m.key)
            except ApplicationError:
                plan = None
        for attr, value in {"plan": plan, "upload_error": upload_errors.get(m.pk, ""),
                            "item_names": [names.get(c, c) for c in m.item_codes],
                            "requirement_label": REQUIREMENT_LABELS.get(m.requirement, m.requirement),
                            "source_label": SOURCE_LABELS.get(m.source, m.source)}.items():
            setattr(m, attr, value)
    return {
        "app": app, "schema": schema, "fields": schema_fields(schema, form_data, errors, names),
        "form_values": form_data, "form_errors": field_errors, "item_names": names,
        "error_links": [{"message": e["message"], "anchor": field_id(e["field"])}
                        for e in field_errors],
        "unknown_errors": [e for e in field_errors if e["field"] not in all_paths(schema)],
        "materials": materials, "commitment_allowed": commitment_allowed and bool(replaceable),
        "replaceable": replaceable, "commitment": getattr(app, "commitment", None), "upload_accept": UPLOAD_ACCEPT,
        "max_upload": files.DEFAULT_MAX_BYTES, "max_upload_mb": files.DEFAULT_MAX_BYTES // (1024 * 1024),
        "missing_required": [m for m in materials if m.status == ApplicationMaterial.Status.MISSING
                             and m.requirement == Material.Requirement.REQUIRED],
    }


def _after_submit_url(request: AuthedRequest, app: Application) -> str:
    if app.proxy is not None and app.proxy.kind == ProxyAuthorisation.Kind.CLERK and has_role(request.user, Role.WINDOW_CLERK):
        return reverse("applications:window_application", args=[app.ref])
    return reverse("applications:my_application", args=[app.ref])


@login_required
@require_http_methods(["GET", "POST"])
def fill(request: AuthedRequest, ref: str) -> HttpResponse:
    """The merged form, the material uploads and the commitment of an open application; save or submit."""
    app = app_or_404(ref)
    if not selectors.is_party(request.user, app):
        return forbidden(request, "您无权填写该办件")
    if app.status not in Application.OPEN_STATUSES:
        messages.info(request, f"办件当前状态为“{app.get_status_display()}”，不能再修改")
        return redirect(_after_submit_url(request, app))
    if request.method == "GET":
        return page(request, "fill.html", _fill_context(app, app.form_data or {}, [], {}))
    schema = application_schema(app)
    form_data = parse_form(schema, request.POST)
    fetch_pk = request.POST.get("fetch")
    if fetch_pk:
        # 免证办理: keep what was typed, then fetch the material with the applicant's consent.
        save_draft(app, request.user, form_data)
        row = app.materials.filter(pk=fetch_pk).first()
        if row is None:
            messages.error(request, "没有这项材料")
        else:
            try:
                fetch_evidence(app, row.key, request.user)
            except ApplicationError as exc:
                messages.error(request, f"“{row.name}”未能调取：{exc.message}")
            else:
                messages.success(request, f"已从数据提供部门调取“{row.name}”，您无需提交")
        return redirect(f"{reverse('applications:fill', args=[app.ref])}#mat-{fetch_pk}")
    upload_errors: dict[int, str] = {}
    field_errors: list[dict[str, str]] = []
    failed = False
    for row in app.materials.all():
        upload = request.FILES.get(f"file-{row.pk}")
        if upload is None:
            continue
        try:
            attach_file(app, row.key, store_upload(upload), request.user)
        except ApplicationError as exc:
            upload_errors[row.pk] = exc.message
            failed = True
    if request.POST.get("commit_sign") == "on":
        try:
            sign_commitment(app, request.user, request.POST.getlist("commit_keys"))
        except ApplicationError as exc:
            messages.error(request, f"告知承诺：{exc.message}")
            failed = True
    elif request.POST.getlist("commit_keys") and request.POST.get("action") == "submit":
        messages.error(request, "选择以承诺替代材料时，须勾选“本人已阅读并签署告知承诺书”")
        failed = True
    action = request.POST.get("action", "save")
    if action == "submit" and not failed:
        try:
            app = submit(app, request.user, form_data)
        except ApplicationError as exc:
            field_errors = list((exc.detail or {}).get("errors") or [])
            messages.error(request, exc.message)
        else:
            app.refresh_from_db()
            messages.success(request, f"申请已提交（{app.get_status_display()}）。办件编号 {app.ref}")
            return redirect(_after_submit_url(request, app))
    elif action == "save" and not failed:
        save_draft(app, request.user, form_data)
        messages.success(request, "已保存草稿")
        return redirect("applications:fill", ref=app.ref)
    if upload_errors:
        messages.error(request, "部分材料未能上传，请按提示重新选择文件")
    app.refresh_from_db()
    return page(request, "fill.html", _fill_context(app, form_data, field_errors, upload_errors), status=400)
