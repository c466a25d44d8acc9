"""HTML pages of the applications context (办件): applicant portal, one-window intake, approver workbench,
investment projects, and the public verification of notices.

Thin views: every write goes through ``services`` (one transaction each), every read through ``selectors``.
Forms are generated from the JSON Schema of the application (``services.application_schema``): the server
renders plain inputs (works without JavaScript) and ``static/applications/schemaform.js`` re-renders them from
the same schema with client-side validation; the server validates again on submit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.views.decorators.http import require_http_methods, require_POST

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.forms import ITEMS_KEY
from tongban.catalog.models import Material, ServiceItem
from tongban.core.models import Role
from tongban.core.selectors import has_role
from tongban.workflow import services as wf
from tongban.workflow.models import Task

from . import files, selectors, services
from .errors import ApplicationError
from .models import (
    Application,
    ApplicationItem,
    ApplicationMaterial,
    InvestmentProject,
    PostCheck,
    ProjectStage,
    ProxyAuthorisation,
)

WorkflowError = wf.WorkflowError
UPLOAD_ACCEPT = ",".join(sorted(files.EXTENSIONS))
EVENT_LABELS = {
    "instance.started": "流程启动", "instance.completed": "流程结束", "instance.cancelled": "流程撤销",
    "element.started": "进入环节", "element.completed": "完成环节", "element.interrupted": "环节中断",
    "task.claimed": "认领任务", "task.unclaimed": "退回任务池", "task.opinion": "添加意见",
    "task.cancelled": "任务取消", "task.escalated": "超期督办", "clock.suspended": "计时中止",
    "clock.resumed": "恢复计时", "clock.light": "时限亮灯", "timer.fired": "定时器触发",
    "timer.scheduled": "设置定时器", "service.failed": "自动环节失败", "service.retried": "自动环节重试",
    "decision.evaluated": "规则决策", "variables.set": "更新流程变量",
}
LIGHT_TEXT = {"green": "绿灯：正常", "yellow": "黄灯：临近到期", "red": "红灯：已超期"}


# --- small helpers ------------------------------------------------------------------------------------------


def _nav(user: Any) -> dict[str, bool]:
    if not user.is_authenticated:
        return {}
    return {"window": has_role(user, Role.WINDOW_CLERK), "approver": has_role(user, Role.APPROVER),
            "supervisor": has_role(user, Role.SUPERVISOR)}


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, f"applications/{template}", {"nav": _nav(request.user), **context}, status=status)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return _render(request, "forbidden.html", {"message": message}, status=403)


def _app_or_404(ref: str) -> Application:
    app = selectors.get_application(ref)
    if app is None:
        raise Http404("办件不存在")
    return app


def _error(request: HttpRequest, exc: ApplicationError | WorkflowError) -> None:
    messages.error(request, exc.message)


def mask_name(name: str) -> str:
    """张三 → 张*, 李小明 → 李*明: the only personal datum on the public verification page."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _is_staff_viewer(user: Any) -> bool:
    return has_role(user, Role.WINDOW_CLERK) or has_role(user, Role.APPROVER) or has_role(user, Role.SUPERVISOR)


def _owns(user: Any, app: Application) -> bool:
    return user.is_authenticated and user.pk in {app.applicant_id, app.submitted_by_id}


def _store_upload(upload: Any) -> Any:
    """Check and store an uploaded file (type, size, virus scan); raises ApplicationError."""
    return files.store(upload.chunks(), name=upload.name or "upload", content_type=upload.content_type)


# --- forms from JSON Schema (server side of the progressive enhancement) -----------------------------------


@dataclass
class FormField:
    path: str
    title: str
    widget: str  # text, textarea, number, date, email, select, checkbox, checkboxes, group, json
    required: bool = False
    value: Any = ""
    error: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    description: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[FormField] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def attrs_html(self) -> str:
        return format_html_join(" ", '{}="{}"', ((k, v) for k, v in self.attrs.items() if v is not None))

    @property
    def shared(self) -> bool:
        return len(self.items) > 1

    @property
    def values(self) -> list[str]:
        return [str(v) for v in self.value] if isinstance(self.value, list) else []


def _type(prop: dict[str, Any]) -> str:
    t = prop.get("type", "string")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return str(t)


def _options(prop: dict[str, Any]) -> list[tuple[str, str]]:
    if "enum" in prop:
        return [(str(v), str(v)) for v in prop["enum"] if v is not None]
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        return [(str(o["const"]), str(o.get("title", o["const"]))) for o in prop["oneOf"]]
    return []


def widget_for(prop: dict[str, Any]) -> str:
    t = _type(prop)
    if t == "object":
        return "group"
    if t == "array":
        return "checkboxes" if _options(prop.get("items") or {}) else "json"
    if _options(prop):
        return "select"
    if t == "boolean":
        return "checkbox"
    if t in {"number", "integer"}:
        return "number"
    if t == "string":
        fmt = prop.get("format")
        if fmt in {"date", "email"}:
            return str(fmt)
        if prop.get("x-widget") == "textarea" or (prop.get("maxLength") or 0) > 200:
            return "textarea"
        return "text"
    return "json"


def schema_fields(schema: dict[str, Any], data: dict[str, Any] | None, errors: dict[str, str],
                  item_names: dict[str, str], prefix: str = "") -> list[FormField]:
    """The form fields of a JSON Schema object, with values, errors and the items that use each field."""
    data = data or {}
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        widget = widget_for(prop)
        value = data.get(name, prop.get("default", "")) if isinstance(data, dict) else ""
        f = FormField(path=path, title=str(prop.get("title") or name), widget=widget, required=name in required,
                      error=errors.get(path, ""), description=str(prop.get("description") or ""),
                      items=[item_names.get(c, c) for c in prop.get(ITEMS_KEY, [])])
        t = _type(prop)
        if widget == "group":
            f.children = schema_fields(prop, value if isinstance(value, dict) else {}, errors, item_names,
                                       prefix=f"{path}.")
        elif widget == "checkboxes":
            f.options = _options(prop["items"])
            f.value = value if isinstance(value, list) else []
        elif widget == "checkbox":
            f.value = value is True
        elif widget == "json":
            f.value = "" if value in ("", None) else (value if isinstance(value, str)
                                                      else json.dumps(value, ensure_ascii=False))
        else:
            f.value = "" if value is None else value
            f.options = _options(prop)
        if widget in {"text", "textarea", "email"}:
            f.attrs = {"minlength": prop.get("minLength"), "maxlength": prop.get("maxLength"),
                       "pattern": prop.get("pattern") if widget == "text" else None}
        elif widget == "number":
            f.attrs = {"step": "1" if t == "integer" else "any",
                       "min": prop.get("minimum", prop.get("exclusiveMinimum")),
                       "max": prop.get("maximum", prop.get("exclusiveMaximum"))}
        out.append(f)
    return out


def _coerce(prop: dict[str, Any], raw: str) -> Any:
    """A submitted text as the JSON value the schema expects (left as text when it does not parse: the
    validator then reports it)."""
    for v in prop.get("enum") or [c.get("const") for c in prop.get("oneOf") or [] if "const" in c]:
        if str(v) == raw:
            return v
    t = _type(prop)
    if t == "integer" and re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    if t == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+(\.0*)?", raw) else number
    if t in {"array", "object"}:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def parse_form(schema: dict[str, Any], post: QueryDict, prefix: str = "") -> dict[str, Any]:
    """The JSON form data from a POST of the generated inputs (``a.b`` names for nested objects)."""
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        widget = widget_for(prop)
        if widget == "group":
            sub = parse_form(prop, post, prefix=f"{path}.")
            if sub:
                out[name] = sub
        elif widget == "checkbox":
            out[name] = post.get(path) in {"true", "on", "1"}
        elif widget == "checkboxes":
            chosen = [_coerce(prop["items"], v) for v in post.getlist(path) if v != ""]
            if chosen:
                out[name] = chosen
        else:
            raw = (post.get(path) or "").strip()
            if raw:
                out[name] = _coerce(prop, raw)
    return out


def display_rows(schema: dict[str, Any], data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(title, value) rows of submitted form data, for case files."""
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        if name not in data:
            continue
        title = f"{prefix}{prop.get('title') or name}"
        value = data[name]
        if isinstance(value, dict) and widget_for(prop) == "group":
            rows += display_rows(prop, value, prefix=f"{title} · ")
            continue
        if isinstance(value, bool):
            text = "是" if value else "否"
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((title, text))
    return rows


def _item_names(app: Application) -> dict[str, str]:
    return {ai.item.code: ai.item.name for ai in app.items.select_related("item")}


# --- applicant portal: my applications ---------------------------------------------------------------------


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    """我的办件: live status of every application, newest first."""
    apps = list(selectors.applications_of(request.user)[:200])
    context = {"apps": apps}
    if request.GET.get("fragment") == "list":
        return _render(request, "_my_list.html", context)
    return _render(request, "my.html", context)


def _case_context(app: Application) -> dict[str, Any]:
    case = selectors.case_file(app)
    schema = services.application_schema(app)
    names = {ai.item.code: ai.item.name for ai in case.items}
    for m in case.materials:
        m.item_names = [names.get(c, c) for c in m.item_codes]
    open_supplements = [s for s in case.supplements if s.fulfilled_at is None]
    owed_keys = {k for s in open_supplements for k in s.material_keys}
    return {
        "app": app, "case": case, "form_rows": display_rows(schema, app.form_data or {}),
        "item_names": names,
        "owed": [m for m in case.materials if m.key in owed_keys and m.status == ApplicationMaterial.Status.TOLERATED],
        "open_supplements": open_supplements,
        "corrections": selectors.open_correction_tasks(app),
        "editable": app.status in services.OPEN_STATUSES,
        "upload_accept": UPLOAD_ACCEPT,
        "commitment": getattr(app, "commitment", None),
    }


@login_required
def my_application(request: HttpRequest, ref: str) -> HttpResponse:
    """The applicant's case page: status, every step's time, item decisions, notices, visits, supplements."""
    app = _app_or_404(ref)
    if not _owns(request.user, app) and not request.user.is_superuser:
        return _forbidden(request, "您无权查看该办件")
    context = _case_context(app)
    if request.GET.get("fragment") == "status":
        return _render(request, "_status.html", context)
    return _render(request, "case.html", context)


@login_required
@require_POST
def supplement(request: HttpRequest, ref: str) -> HttpResponse:
    """容缺补正 / 一次性告知后补正: upload owed materials (any of them, each once)."""
    app = _app_or_404(ref)
    if not _owns(request.user, app) and not has_role(request.user, Role.WINDOW_CLERK):
        return _forbidden(request, "您无权为该办件补正材料")
    done = 0
    for row in app.materials.all():
        upload = request.FILES.get(f"file-{row.pk}")
        if upload is None:
            continue
        try:
            stored = _store_upload(upload)
            services.supplement_material(app, row.key, stored, request.user)
            done += 1
        except ApplicationError as exc:
            messages.error(request, f"{row.name}：{exc.message}")
    if done:
        messages.success(request, f"已补齐 {done} 项材料")
    elif not request.FILES:
        messages.error(request, "请选择要补正的材料文件")
    if has_role(request.user, Role.WINDOW_CLERK) and not _owns(request.user, app):
        return redirect("applications:window_application", ref=app.ref)
    return redirect("applications:my_application", ref=app.ref)


@login_required
@require_POST
def correction(request: HttpRequest, ref: str) -> HttpResponse:
    """申请人补正 after an approver returned an item: replaced files and a note; the review resumes."""
    app = _app_or_404(ref)
    if not _owns(request.user, app):
        return _forbidden(request, "您无权补正该办件")
    replacements = {}
    try:
        for row in app.materials.all():
            upload = request.FILES.get(f"file-{row.pk}")
            if upload is not None:
                replacements[row.key] = _store_upload(upload)
        services.complete_correction(app, request.user, note=request.POST.get("note", ""),
                                     replacements=replacements)
    except (ApplicationError, WorkflowError) as exc:
        _error(request, exc)
    else:
        messages.success(request, "已提交补正，审批部门将重新审查")
    return redirect("applications:my_application", ref=app.ref)


# --- downloads (files live outside the web root; every download checks access) -----------------------------


def _file_response(stored: Any, filename: str, *, inline: bool) -> FileResponse:
    response = FileResponse(files.open_file(stored), content_type=stored.content_type, as_attachment=not inline,
                            filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def notice_pdf(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    app = _app_or_404(ref)
    if not selectors.can_view(request.user, app):
        return _forbidden(request, "您无权下载该文书")
    notice = app.notices.select_related("file").filter(code=code).first()
    if notice is None:
        raise Http404("文书不存在")
    return _file_response(notice.file, f"{app.ref}-{notice.get_kind_display()}.pdf", inline=True)


@login_required
def material_file(request: HttpRequest, ref: str, pk: int) -> HttpResponse:
    app = _app_or_404(ref)
    if not selectors.can_view(request.user, app):
        return _forbidden(request, "您无权查看该材料")
    row = app.materials.select_related("file").filter(pk=pk, file__isnull=False).first()
    if row is None:
        raise Http404("材料文件不存在")
    return _file_response(row.file, row.file.original_name or f"{row.name}", inline=True)


@login_required
def proxy_letter(request: HttpRequest, pk: int) -> HttpResponse:
    proxy = get_object_or_404(ProxyAuthorisation.objects.select_related("document"), pk=pk, document__isnull=False)
    user = request.user
    allowed = (user.pk in {proxy.agent_id, proxy.principal_id} or user.is_superuser
               or has_role(user, Role.WINDOW_CLERK)
               or (user.id_number and user.id_number == proxy.principal_id_number))
    if not allowed:
        return _forbidden(request, "您无权查看该授权委托书")
    return _file_response(proxy.document, proxy.document.original_name or "授权委托书", inline=True)


# --- applying: situation guide → material list → form → uploads → commitment → submit ---------------------


@login_required
def apply_index(request: HttpRequest) -> HttpResponse:
    """Start an application: ``?item=CODE`` or ``?bundle=CODE`` (keeps ``proxy`` and ``stage``), or pick one."""
    keep = {k: request.GET[k] for k in ("proxy", "stage") if request.GET.get(k)}
    query = ("?" + urlencode(keep)) if keep else ""
    choices = [(kind, (request.GET.get(kind) or "").strip()) for kind in ("item", "bundle")]
    choices.append(tuple((request.GET.get("target") or "").strip().partition(":")[::2]))  # type: ignore[arg-type]
    for kind, code in choices:
        if kind in {"item", "bundle"} and code and "/" not in code:
            return redirect(reverse(f"applications:apply_{kind}", args=[code]) + query)
    return _render(request, "apply_index.html", {"bundles": catalog_selectors.list_bundles(), "query": query})


@dataclass
class Question:
    key: str
    label: str
    answers: list[str]
    items: list[str]
    value: str = ""
    name: str = ""
    hints: dict[str, list[str]] = field(default_factory=dict)

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(answer, hint): the hint names the situations the answer leads to."""
        return [(a, "、".join(self.hints.get(a, []))) for a in self.answers]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _questions(items: list[ServiceItem], source: QueryDict) -> list[Question]:
    """情形引导: the questions of every item with situations, each asked once across the bundle. Each answer
    names the situations it leads to, so that a question whose key is a code still reads clearly."""
    merged: dict[str, Question] = {}
    for item in items:
        for q in services.guide_questions(item):
            question = merged.get(q["key"])
            if question is None:
                question = merged[q["key"]] = Question(key=q["key"], label="", answers=[], items=[],
                                                       name=f"q-{len(merged) + 1}")
            question.answers += [a for a in q["answers"] if a not in question.answers]
            question.items.append(item.name)
        for situation in item.situations.all():
            for key, answer in (situation.conditions or {}).items():
                for a in answer if isinstance(answer, list) else [answer]:
                    hints = merged[key].hints.setdefault(str(a), [])
                    if situation.name not in hints:
                        hints.append(situation.name)
    for question in merged.values():
        question.label = question.key if _has_cjk(question.key) else f"{'、'.join(question.items)}：请选择适用的情形"
        question.value = (source.get(question.name) or "").strip()
        if question.value not in question.answers:
            question.value = ""
    return list(merged.values())


def _proxy_for(request: HttpRequest, source: QueryDict) -> ProxyAuthorisation | None | HttpResponse:
    raw = source.get("proxy") or ""
    if not raw:
        return None
    proxy = ProxyAuthorisation.objects.filter(pk=raw if raw.isdigit() else 0, agent=request.user).first()
    if proxy is None:
        return _forbidden(request, "代办授权不存在或您不是该授权的代理人")
    return proxy


def _stage_for(request: HttpRequest, source: QueryDict, proxy: ProxyAuthorisation | None
               ) -> ProjectStage | None | HttpResponse:
    raw = source.get("stage") or ""
    if not raw:
        return None
    stage = ProjectStage.objects.select_related("project").filter(pk=raw if raw.isdigit() else 0).first()
    if stage is None:
        raise Http404("项目阶段不存在")
    if stage.project.owner_id not in {request.user.pk, proxy.principal_id if proxy else None}:
        return _forbidden(request, "只能为本单位的投资项目申请")
    return stage


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, kind: str, code: str) -> HttpResponse:
    """/apply/item/<code>/ and /apply/bundle/<code>/: the guide questions, then the exact material list;
    POST creates the draft application and opens its form."""
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
                selection.append((it, services.pick_situation(it, answers)))
            except ApplicationError as exc:
                unresolved.append(exc.message)
    plan = services.material_plan(selection) if answered and not unresolved else []
    error = ""
    if request.method == "POST":
        if not answered or unresolved:
            error = "请先回答全部引导问题"
        else:
            channel, window = Application.Channel.ONLINE, None
            if proxy is not None and proxy.kind == ProxyAuthorisation.Kind.CLERK:
                channel = Application.Channel.WINDOW
                windows = selectors.windows_of(request.user)
                window = windows.filter(pk=request.user.organisation_id).first() or windows.first()
            try:
                app = services.create_application(
                    user=request.user, item_code=code if kind == "item" else "",
                    bundle_code=code if kind == "bundle" else "",
                    situations={it.code: services.Selection(it.code, answers=answers) for it in items},
                    proxy=proxy, channel=channel, window=window,
                    applicant_phone=(request.POST.get("phone") or "").strip()[:20])
                if stage is not None:
                    services.link_project_stage(app, stage, request.user)
            except ApplicationError as exc:
                error = exc.message
            else:
                messages.success(request, f"已创建申请 {app.ref}，请填写申请表并上传材料")
                return redirect("applications:fill", ref=app.ref)
    item_names = {it.code: it.name for it in items}
    rows = [{"plan": p, "items": [item_names.get(c, c) for c in p.item_codes],
             "requirement": dict(Material.Requirement.choices).get(p.requirement, p.requirement),
             "source": dict(Material.Source.choices).get(p.source, p.source)} for p in plan]
    return _render(request, "apply.html", {
        "kind": kind, "code": code, "title": title, "subject": subject, "items": items, "questions": questions,
        "answered": answered, "unresolved": unresolved, "selection": selection, "plan": rows, "proxy": proxy,
        "stage": stage, "error": error, "commitment_allowed": all(it.commitment_allowed for it in items),
        "identity_missing": proxy is None and not request.user.id_number,
    }, status=400 if error else 200)


def _fill_context(app: Application, form_data: dict[str, Any], field_errors: list[dict[str, str]],
                  upload_errors: dict[int, str]) -> dict[str, Any]:
    schema = services.application_schema(app)
    names = _item_names(app)
    errors: dict[str, str] = {}
    for e in field_errors:
        errors.setdefault(e["field"], e["message"])
    materials = list(app.materials.select_related("file").prefetch_related("materials"))
    commitment_allowed = all(ai.item.commitment_allowed for ai in app.items.select_related("item"))
    replaceable = [m for m in materials if m.status in {ApplicationMaterial.Status.MISSING,
                                                        ApplicationMaterial.Status.COMMITMENT}
                   and all(x.commitment_replaceable for x in m.materials.all())]
    for m in materials:
        m.plan = None
        if m.source != Material.Source.APPLICANT and m.status in {ApplicationMaterial.Status.MISSING,
                                                                  ApplicationMaterial.Status.WAIVED}:
            try:
                m.plan = services.evidence_plan(app, m.key)
            except ApplicationError:
                m.plan = None
        m.upload_error = upload_errors.get(m.pk, "")
        m.item_names = [names.get(c, c) for c in m.item_codes]
        m.requirement_label = dict(Material.Requirement.choices).get(m.requirement, m.requirement)
        m.source_label = dict(Material.Source.choices).get(m.source, m.source)
    return {
        "app": app, "schema": schema, "fields": schema_fields(schema, form_data, errors, names),
        "form_values": form_data, "form_errors": field_errors, "item_names": names,
        "error_links": [{"message": e["message"], "anchor": FormField(path=e["field"], title="", widget="").html_id}
                        for e in field_errors],
        "unknown_errors": [e for e in field_errors if e["field"] not in _all_paths(schema)],
        "materials": materials, "commitment_allowed": commitment_allowed and bool(replaceable),
        "replaceable": replaceable, "commitment": getattr(app, "commitment", None), "upload_accept": UPLOAD_ACCEPT,
        "max_upload": files.DEFAULT_MAX_BYTES, "max_upload_mb": files.DEFAULT_MAX_BYTES // (1024 * 1024),
        "missing_required": [m for m in materials if m.status == ApplicationMaterial.Status.MISSING
                             and m.requirement == Material.Requirement.REQUIRED],
    }


def _all_paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for name, prop in (schema.get("properties") or {}).items():
        out.add(f"{prefix}{name}")
        if widget_for(prop) == "group":
            out |= _all_paths(prop, f"{prefix}{name}.")
    return out


def _after_submit_url(request: HttpRequest, app: Application) -> str:
    if app.proxy_id and app.proxy.kind == ProxyAuthorisation.Kind.CLERK and has_role(request.user, Role.WINDOW_CLERK):
        return reverse("applications:window_application", args=[app.ref])
    return reverse("applications:my_application", args=[app.ref])


@login_required
@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, ref: str) -> HttpResponse:
    """The merged form, the material uploads and the commitment of an open application; save or submit."""
    app = _app_or_404(ref)
    if not _owns(request.user, app):
        return _forbidden(request, "您无权填写该办件")
    if app.status not in services.OPEN_STATUSES:
        messages.info(request, f"办件当前状态为“{app.get_status_display()}”，不能再修改")
        return redirect(_after_submit_url(request, app))
    if request.method == "GET":
        return _render(request, "fill.html", _fill_context(app, app.form_data or {}, [], {}))
    schema = services.application_schema(app)
    form_data = parse_form(schema, request.POST)
    fetch_pk = request.POST.get("fetch")
    if fetch_pk:
        # 免证办理: keep what was typed, then fetch the material with the applicant's consent.
        services.save_draft(app, request.user, form_data)
        row = app.materials.filter(pk=fetch_pk).first()
        if row is None:
            messages.error(request, "没有这项材料")
        else:
            try:
                services.fetch_evidence(app, row.key, request.user)
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
            services.attach_file(app, row.key, _store_upload(upload), request.user)
        except ApplicationError as exc:
            upload_errors[row.pk] = exc.message
            failed = True
    if request.POST.get("commit_sign") == "on":
        try:
            services.sign_commitment(app, request.user, request.POST.getlist("commit_keys"))
        except ApplicationError as exc:
            messages.error(request, f"告知承诺：{exc.message}")
            failed = True
    elif request.POST.getlist("commit_keys") and request.POST.get("action") == "submit":
        messages.error(request, "选择以承诺替代材料时，须勾选“本人已阅读并签署告知承诺书”")
        failed = True
    action = request.POST.get("action", "save")
    if action == "submit" and not failed:
        try:
            app = services.submit(app, request.user, form_data)
        except ApplicationError as exc:
            field_errors = list(exc.detail.get("errors") or [])
            messages.error(request, exc.message)
        else:
            app.refresh_from_db()
            messages.success(request, f"申请已提交（{app.get_status_display()}）。办件编号 {app.ref}")
            return redirect(_after_submit_url(request, app))
    elif action == "save" and not failed:
        services.save_draft(app, request.user, form_data)
        messages.success(request, "已保存草稿")
        return redirect("applications:fill", ref=app.ref)
    if upload_errors:
        messages.error(request, "部分材料未能上传，请按提示重新选择文件")
    app.refresh_from_db()
    return _render(request, "fill.html", _fill_context(app, form_data, field_errors, upload_errors), status=400)


# --- proxies (帮办代办) -------------------------------------------------------------------------------------


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def proxies(request: HttpRequest) -> HttpResponse:
    """我的代办: register an authorisation as agent (with the principal's letter) and apply on their behalf."""
    error, values = "", {}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in
                  ("principal_name", "principal_id_number", "scope", "valid_until")}
        valid_until = _parse_date(values["valid_until"])
        letter = request.FILES.get("letter")
        try:
            if valid_until is None:
                raise ApplicationError("请填写有效期（YYYY-MM-DD）", code="proxy.invalid_date")
            if not values["scope"]:
                raise ApplicationError("请填写授权范围", code="proxy.scope_required")
            document = _store_upload(letter) if letter is not None else None
            services.authorise_proxy(agent=request.user, principal_name=values["principal_name"],
                                     principal_id_number=values["principal_id_number"], scope=values["scope"],
                                     valid_until=valid_until, document=document)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已登记代办授权：{values['principal_name']}")
            return redirect("applications:proxies")
    today = timezone.localdate()
    return _render(request, "proxies.html", {
        "as_agent": selectors.proxies_as_agent(request.user), "as_principal": selectors.proxies_as_principal(
            request.user).exclude(agent=request.user), "bundles": catalog_selectors.list_bundles(),
        "error": error, "values": values, "today": today, "upload_accept": UPLOAD_ACCEPT,
    }, status=400 if error else 200)


# --- window (综合窗口) ----------------------------------------------------------------------------------------


def _clerk_only(request: HttpRequest) -> HttpResponse | None:
    if not has_role(request.user, Role.WINDOW_CLERK):
        return _forbidden(request, "该页面仅供综合窗口人员使用")
    return None


@login_required
def window_queue(request: HttpRequest) -> HttpResponse:
    """综合窗口: submitted and incomplete applications of any item of any department."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    return _render(request, "window_queue.html", {"apps": list(selectors.window_queue(request.user)[:300])})


@login_required
def window_application(request: HttpRequest, ref: str) -> HttpResponse:
    """The window's view of one application: check each material, accept, tolerate, notify, refuse, visit."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    app = _app_or_404(ref)
    context = _case_context(app)
    context.update({
        "pending": app.status in {Application.Status.SUBMITTED, Application.Status.INCOMPLETE},
        "missing": services.missing_materials(app), "missing_tolerated": services.missing_materials(app, tolerate=True),
        "windows": selectors.windows_of(request.user), "default_days": services.DEFAULT_SUPPLEMENT_WORKING_DAYS,
    })
    return _render(request, "window_case.html", context)


@login_required
@require_POST
def window_action(request: HttpRequest, ref: str) -> HttpResponse:
    """One window action: accept / tolerate / one_time / refuse / visit."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    app = _app_or_404(ref)
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "accept":
            services.accept(app, user)
            messages.success(request, "已受理，已出具受理通知书")
        elif action == "tolerate":
            raw = (request.POST.get("supplement_days") or "").strip()
            if not raw.isdigit() or not 1 <= int(raw) <= 60:
                raise ApplicationError("补齐期限须为 1–60 个工作日", code="window.invalid_days")
            services.accept(app, user, tolerate=True, supplement_days=int(raw))
            messages.success(request, "已容缺受理，已设定补齐期限")
        elif action == "one_time":
            notice = services.issue_one_time_notice(app, user, note=(request.POST.get("note") or "").strip())
            messages.success(request, f"已出具一次性告知书（查验码 {notice.code}）")
        elif action == "refuse":
            services.refuse(app, user, (request.POST.get("reason") or "").strip())
            messages.success(request, "已作出不予受理决定，已出具不予受理通知书")
        elif action == "visit":
            window = selectors.windows_of(user).filter(pk=(request.POST.get("window") or "0")
                                                       if (request.POST.get("window") or "").isdigit() else 0).first()
            if window is None:
                raise ApplicationError("请选择窗口", code="window.unknown_window")
            services.record_visit(app, user, window, (request.POST.get("purpose") or "").strip()[:100])
            messages.success(request, "已登记现场跑动")
        else:
            raise ApplicationError("未知的操作", code="window.unknown_action")
    except (ApplicationError, WorkflowError) as exc:
        _error(request, exc)
    return redirect("applications:window_application", ref=app.ref)


@login_required
@require_http_methods(["GET", "POST"])
def window_assist(request: HttpRequest) -> HttpResponse:
    """帮办: register a window-clerk authorisation for the person at the window, then apply for them."""
    if (denied := _clerk_only(request)) is not None:
        return denied
    error, values = "", {}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in ("principal_name", "principal_id_number", "target")}
        if (request.POST.get("item_code") or "").strip():
            values["target"] = "item:" + request.POST["item_code"].strip()
        kind, _, code = values["target"].partition(":")
        try:
            if kind not in {"item", "bundle"} or not code:
                raise ApplicationError("请选择要办理的一件事或填写事项编码", code="window.target_required")
            target = (catalog_selectors.get_bundle(code) if kind == "bundle" else catalog_selectors.get_item(code))
            if target is None:
                raise ApplicationError(f"“{code}”不存在或未发布", code="application.unknown_target", status=404)
            proxy = services.authorise_proxy(
                agent=request.user, principal_name=values["principal_name"],
                principal_id_number=values["principal_id_number"], scope=f"窗口帮办：{target.name}",
                valid_until=timezone.localdate(), kind=ProxyAuthorisation.Kind.CLERK, recorded_by=request.user)
        except ApplicationError as exc:
            error = exc.message
        else:
            return redirect(reverse(f"applications:apply_{kind}", args=[code]) + f"?proxy={proxy.pk}")
    return _render(request, "window_assist.html", {"bundles": catalog_selectors.list_bundles(), "error": error,
                                                   "values": values}, status=400 if error else 200)


# --- public verification of notices -------------------------------------------------------------------------


def verify_notice(request: HttpRequest, code: str = "") -> HttpResponse:
    """Public: is this notice genuine? Shows the masked applicant name only."""
    code = (code or request.GET.get("code") or "").strip()
    notice = selectors.verify_notice(code) if code else None
    if code and request.GET.get("code") and notice is not None:
        return redirect("applications:verify_notice", code=notice.code)
    context = {"code": code, "notice": notice,
               "masked_name": mask_name(notice.application.applicant_name) if notice else ""}
    response = _render(request, "verify.html", context, status=404 if code and notice is None else 200)
    response["Cache-Control"] = "no-store"
    return response


# --- approver workbench (审批工作台) --------------------------------------------------------------------------


def _approver_only(request: HttpRequest) -> HttpResponse | None:
    if not has_role(request.user, Role.APPROVER):
        return _forbidden(request, "该页面仅供审批人员使用")
    return None


@dataclass
class TaskRow:
    task: Task
    ai: ApplicationItem | None
    clock: Any
    light: str
    light_text: str

    @property
    def due(self) -> dt.date | None:
        return self.clock.due if self.clock is not None else self.task.due_on

    @property
    def overdue_days(self) -> int:
        return -self.clock.remaining if self.clock is not None and self.clock.remaining < 0 else 0


def _task_row(task: Task) -> TaskRow:
    clock = selectors.task_clock(task) if task.is_open else None
    light = (clock.light if clock else task.light) or "green"
    return TaskRow(task=task, ai=selectors.task_application(task), clock=clock, light=light,
                   light_text=LIGHT_TEXT.get(light, ""))


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """审批工作台: my departments' open tasks with clock lights, due dates and remaining working days."""
    if (denied := _approver_only(request)) is not None:
        return denied
    state = request.GET.get("state") if request.GET.get("state") in {"open", "done"} else "open"
    rows = [_task_row(t) for t in selectors.workbench_tasks(request.user, state=state)[:300]]
    order = {"red": 0, "yellow": 1, "green": 2}
    rows.sort(key=lambda r: (order.get(r.light, 3), r.due or dt.date.max, r.task.pk))
    counts = {k: sum(1 for r in rows if r.light == k) for k in order}
    return _render(request, "workbench.html", {"rows": rows, "state": state, "counts": counts,
                                               "post_checks": selectors.post_checks_for(request.user)
                                               .filter(status=PostCheck.Status.PENDING).count()})


def _task_for(request: HttpRequest, task_id: int) -> Task | HttpResponse:
    task = get_object_or_404(Task.objects.select_related("instance", "candidate_org", "assignee"), pk=task_id)
    user = request.user
    if not (user.is_superuser or task.assignee_id == user.pk or wf.is_candidate(task, user)):
        return _forbidden(request, "该任务不属于您所在的部门")
    return task


def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return timezone.localtime(dt.datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return None


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """One task with the whole case file; claim, decide, add an opinion."""
    task = _task_for(request, task_id)
    if isinstance(task, HttpResponse):
        return task
    row = _task_row(task)
    context: dict[str, Any] = {"row": row, "task": task}
    if row.ai is not None:
        context.update(_case_context(row.ai.application))
        context["other_items"] = [ai for ai in context["case"].items if ai.pk != row.ai.pk]
    if row.ai is not None:
        context["wf_events"] = [{"at": e.at, "label": EVENT_LABELS.get(e.type, e.type), "element": e.element_id,
                                 "actor": e.actor_label, "text": (e.data or {}).get("text", "")}
                                for e in context["case"].workflow_events]
    context["opinions"] = [{**o, "at": _parse_datetime(o.get("at", ""))} for o in task.opinions or []]
    context["can_decide"] = task.is_open and task.assignee_id in {None, request.user.pk}
    context["outcomes"] = [(o, {"approve": "准予许可", "reject": "不予许可", "return": "退回补正"}.get(o, o))
                           for o in task.outcomes]
    return _render(request, "task.html", context)


@login_required
@require_POST
def task_action(request: HttpRequest, task_id: int) -> HttpResponse:
    """claim / unclaim / decide / opinion on a task."""
    task = _task_for(request, task_id)
    if isinstance(task, HttpResponse):
        return task
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "claim":
            wf.claim(task, user)
            messages.success(request, f"已认领任务“{task.name}”")
        elif action == "unclaim":
            wf.unclaim(task, user)
            messages.success(request, "已退回任务池")
        elif action == "decide":
            outcome = request.POST.get("outcome", "")
            services.decide_task(task, user, outcome, request.POST.get("opinion", ""))
            messages.success(request, {"approve": "已准予许可", "reject": "已作出不予许可决定",
                                       "return": "已退回申请人补正"}.get(outcome, "已办理"))
            return redirect("applications:workbench")
        elif action == "opinion":
            wf.add_opinion(task, user, request.POST.get("text", ""))
            messages.success(request, "已添加意见")
        else:
            raise ApplicationError("未知的操作", code="task.unknown_action")
    except (ApplicationError, WorkflowError) as exc:
        _error(request, exc)
    return redirect("applications:task", task_id=task.pk)


@login_required
@require_http_methods(["GET", "POST"])
def post_checks(request: HttpRequest) -> HttpResponse:
    """事后核查: the department's post-checks of commitment approvals; pass or fail with the findings."""
    if not (has_role(request.user, Role.APPROVER) or has_role(request.user, Role.SUPERVISOR)):
        return _forbidden(request, "该页面仅供审批或监管人员使用")
    checks = selectors.post_checks_for(request.user)
    if request.method == "POST":
        check = checks.filter(pk=(request.POST.get("check") or "0") if (request.POST.get("check") or "").isdigit()
                              else 0).first()
        if check is None:
            raise Http404("核查任务不存在")
        try:
            services.complete_post_check(check, request.user, passed=request.POST.get("passed") == "yes",
                                         result=request.POST.get("result", ""))
        except ApplicationError as exc:
            _error(request, exc)
        else:
            messages.success(request, "已登记核查结果")
        return redirect("applications:post_checks")
    today = timezone.localdate()
    return _render(request, "post_checks.html", {"checks": list(checks.order_by("status", "due_on")[:300]),
                                                 "today": today})


# --- investment projects (投资项目) ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def projects(request: HttpRequest) -> HttpResponse:
    error, values = "", {}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in ("name", "location", "total_investment")}
        try:
            project = services.create_project(owner=request.user, name=values["name"], location=values["location"],
                                              total_investment=values["total_investment"] or 0)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已赋码：{project.code}")
            return redirect("applications:project", code=project.code)
    return _render(request, "projects.html", {"projects": list(selectors.projects_visible_to(request.user)[:200]),
                                              "error": error, "values": values}, status=400 if error else 200)


STAGE_STATUS = {"empty": "未开始", "running": "办理中", "done": "已完成", "attention": "需处理"}


@login_required
def project(request: HttpRequest, code: str) -> HttpResponse:
    """The status page of an investment project: stages, each stage's applications and their items."""
    proj: InvestmentProject | None = selectors.get_project(code)
    if proj is None:
        raise Http404("项目不存在")
    if not (proj.owner_id == request.user.pk or request.user.is_staff or request.user.is_superuser):
        return _forbidden(request, "您无权查看该项目")
    stages = []
    for stage in proj.stages.all():
        apps = list(stage.applications.all())
        if not apps:
            status = "empty"
        elif all(a.status in services.FINAL_STATUSES for a in apps):
            status = "done"
        elif any(a.status in {Application.Status.INCOMPLETE, Application.Status.REFUSED,
                              Application.Status.RESULT_HELD} for a in apps):
            status = "attention"
        else:
            status = "running"
        stages.append({"stage": stage, "apps": apps, "status": status, "status_text": STAGE_STATUS[status]})
    return _render(request, "project.html", {"project": proj, "stages": stages,
                                             "is_owner": proj.owner_id == request.user.pk,
                                             "bundles": catalog_selectors.list_bundles()})

