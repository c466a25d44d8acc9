"""The applicant's pages (申请人): my applications, the case page, supplements and corrections, proxies (我的代办)
and investment projects (投资项目). Applying itself (guide → form → submit) is in ``apply``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tongban.catalog import selectors as catalog_selectors
from tongban.core.auth import AuthedRequest
from tongban.core.errors import DomainError
from tongban.core.models import Role
from tongban.core.selectors import has_role

from .. import selectors
from ..errors import ApplicationError
from ..models import Application, InvestmentProject
from ..services.materials import store_upload
from ..services.projects import create_project
from ..services.proxies import authorise_proxy
from ..services.supplements import complete_correction, supplement_material
from .common import UPLOAD_ACCEPT, app_or_404, case_context, forbidden, page


@login_required
def my_applications(request: AuthedRequest) -> HttpResponse:
    """我的办件: live status of every application, newest first."""
    apps = list(selectors.applications_of(request.user)[:200])
    context = {"apps": apps}
    if request.GET.get("fragment") == "list":
        return page(request, "_my_list.html", context)
    return page(request, "my.html", context)


@login_required
def my_application(request: AuthedRequest, ref: str) -> HttpResponse:
    """The applicant's case page: status, every step's time, item decisions, notices, visits, supplements."""
    app = app_or_404(ref)
    if not selectors.is_party(request.user, app) and not request.user.is_superuser:
        return forbidden(request, "您无权查看该办件")
    context = case_context(app)
    context["next_services"] = selectors.next_services(app)
    if request.GET.get("fragment") == "status":
        return page(request, "_status.html", context)
    return page(request, "case.html", context)


@login_required
@require_POST
def supplement(request: AuthedRequest, ref: str) -> HttpResponse:
    """容缺补正 / 一次性告知后补正: upload owed materials (any of them, each once)."""
    app = app_or_404(ref)
    if not selectors.may_supplement(request.user, app):
        return forbidden(request, "您无权为该办件补正材料")
    done = 0
    for row in app.materials.all():
        upload = request.FILES.get(f"file-{row.pk}")
        if upload is None:
            continue
        try:
            stored = store_upload(upload)
            supplement_material(app, row.key, stored, request.user)
            done += 1
        except ApplicationError as exc:
            messages.error(request, f"{row.name}：{exc.message}")
    if done:
        messages.success(request, f"已补齐 {done} 项材料")
    elif not request.FILES:
        messages.error(request, "请选择要补正的材料文件")
    if has_role(request.user, Role.WINDOW_CLERK) and not selectors.is_party(request.user, app):
        return redirect("applications:window_application", ref=app.ref)
    return redirect("applications:my_application", ref=app.ref)


@login_required
@require_POST
def correction(request: AuthedRequest, ref: str) -> HttpResponse:
    """申请人补正 after an approver returned an item: replaced files and a note; the review resumes."""
    app = app_or_404(ref)
    if not selectors.is_party(request.user, app):
        return forbidden(request, "您无权补正该办件")
    replacements = {}
    try:
        for row in app.materials.all():
            upload = request.FILES.get(f"file-{row.pk}")
            if upload is not None:
                replacements[row.key] = store_upload(upload)
        complete_correction(app, request.user, note=request.POST.get("note", ""), replacements=replacements)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已提交补正，审批部门将重新审查")
    return redirect("applications:my_application", ref=app.ref)


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def proxies(request: AuthedRequest) -> HttpResponse:
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
            document = store_upload(letter) if letter is not None else None
            authorise_proxy(agent=request.user, principal_name=values["principal_name"],
                            principal_id_number=values["principal_id_number"], scope=values["scope"],
                            valid_until=valid_until, document=document)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已登记代办授权：{values['principal_name']}")
            return redirect("applications:proxies")
    today = timezone.localdate()
    return page(request, "proxies.html", {
        "as_agent": selectors.proxies_as_agent(request.user), "as_principal": selectors.proxies_as_principal(
            request.user).exclude(agent=request.user), "bundles": catalog_selectors.list_bundles(),
        "error": error, "values": values, "today": today, "upload_accept": UPLOAD_ACCEPT,
    }, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def projects(request: AuthedRequest) -> HttpResponse:
    error, values = "", {}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in ("name", "location", "total_investment")}
        try:
            project = create_project(owner=request.user, name=values["name"], location=values["location"],
                                     total_investment=values["total_investment"] or 0)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"已赋码：{project.code}")
            return redirect("applications:project", code=project.code)
    return page(request, "projects.html", {"projects": list(selectors.projects_visible_to(request.user)[:200]),
                                           "error": error, "values": values}, status=400 if error else 200)


STAGE_STATUS = {"empty": "未开始", "running": "办理中", "done": "已完成", "attention": "需处理"}


@login_required
def project(request: AuthedRequest, code: str) -> HttpResponse:
    """The status page of an investment project: stages, each stage's applications and their items."""
    proj: InvestmentProject | None = selectors.get_project(code)
    if proj is None:
        raise Http404("项目不存在")
    if not (proj.owner_id == request.user.pk or request.user.is_staff or request.user.is_superuser):
        return forbidden(request, "您无权查看该项目")
    stages = []
    for stage in proj.stages.all():
        apps = list(stage.applications.all())
        if not apps:
            status = "empty"
        elif all(a.status in Application.FINAL_STATUSES for a in apps):
            status = "done"
        elif any(a.status in {Application.Status.INCOMPLETE, Application.Status.REFUSED,
                              Application.Status.RESULT_HELD} for a in apps):
            status = "attention"
        else:
            status = "running"
        stages.append({"stage": stage, "apps": apps, "status": status, "status_text": STAGE_STATUS[status]})
    return page(request, "project.html", {"project": proj, "stages": stages,
                                          "is_owner": proj.owner_id == request.user.pk,
                                          "bundles": catalog_selectors.list_bundles()})
