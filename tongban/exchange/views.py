"""Pages of the data exchange: the public resource catalogue, grants for staff, "my data" for citizens."""

from __future__ import annotations

import re
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.core.models import Organisation

from . import accesslog, selectors, services
from .errors import ExchangeError
from .models import Grant, SharingType


def resource_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    return render(request, "exchange/resource_list.html", {
        "resources": selectors.resources(q), "q": q, "sharing_types": SharingType.choices,
    })


def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    resource = selectors.resource(code)
    if resource is None or not resource.active:
        raise Http404("数据资源不存在")
    return render(request, "exchange/resource_detail.html", {"resource": resource, "fields": resource.field_rows()})


def _staff_required(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.is_staff


@login_required
def grant_list(request: HttpRequest) -> HttpResponse:
    if not _staff_required(request):
        return render(request, "exchange/forbidden.html", {"message": "共享授权页面仅供工作人员使用"}, status=403)
    user = request.user
    grants = selectors.grants_visible_to(user)
    status = request.GET.get("status", "")
    if status:
        grants = grants.filter(status=status)
    owner_ids = selectors.owner_org_ids(user)
    rows = [{"grant": g, "can_decide": g.status == Grant.Status.REQUESTED and services.can_decide(user, g.resource),
             "can_revoke": g.status == Grant.Status.APPROVED and (user.is_superuser or g.resource.owner_id in owner_ids)}
            for g in grants[:300]]
    return render(request, "exchange/grant_list.html", {
        "rows": rows, "status": status, "statuses": Grant.Status.choices,
        "to_decide": selectors.grants_to_decide(user).count(),
        "resources": selectors.resources().exclude(sharing_type=SharingType.NOT_SHARED),
        "orgs": selectors.requestable_orgs(user).order_by("code"),
    })


def _codes(request: HttpRequest, name: str) -> list[str]:
    """Field codes from a form: several inputs or one text separated by spaces, commas or 、."""
    return [f for f in re.split(r"[\s,，、]+", " ".join(request.POST.getlist(name))) if f]


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("exchange:grants")


@login_required
@require_POST
def grant_request(request: HttpRequest) -> HttpResponse:
    resource = selectors.resource(request.POST.get("resource", ""))
    if resource is None:
        messages.error(request, "请选择数据资源")
        return _back(request)
    expires = request.POST.get("expires_on", "")
    expires_at = None
    if expires:
        try:
            expires_at = timezone.make_aware(datetime.combine(datetime.strptime(expires, "%Y-%m-%d").date(), time.max))
        except ValueError:
            messages.error(request, "有效期格式应为 YYYY-MM-DD")
            return _back(request)
    fields = _codes(request, "fields") or resource.field_names
    try:
        grant = services.request_grant(
            resource=resource, consumer=request.POST.get("consumer", ""), fields=fields,
            unmasked_fields=_codes(request, "unmasked_fields"), purpose=request.POST.get("purpose", ""),
            legal_basis=request.POST.get("legal_basis", ""), expires_at=expires_at, actor=request.user)
    except ExchangeError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, f"已提交共享申请：{grant.resource.name}（{grant.get_status_display()}）")
    return _back(request)


@login_required
@require_POST
def grant_decide(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = get_object_or_404(Grant, pk=grant_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_grant(grant, actor=request.user, approve=approve, note=request.POST.get("note", ""),
                              consent_exempt=request.POST.get("consent_exempt") == "on" if approve else None)
    except ExchangeError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, "已批准" if approve else "已驳回")
    return _back(request)


@login_required
@require_POST
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = get_object_or_404(Grant, pk=grant_id)
    try:
        services.revoke_grant(grant, actor=request.user, reason=request.POST.get("reason", ""))
    except ExchangeError as exc:
        messages.error(request, exc.message)
        return _back(request)
    messages.success(request, "授权已撤销，立即生效")
    return _back(request)


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    subject = request.user.id_number
    return render(request, "exchange/my_data.html", {
        "subject_id": subject, "entries": selectors.access_log_for_subject(subject),
        "consents": selectors.consents_for_subject(subject) if subject else [],
        "orgs": dict(Organisation.objects.values_list("code", "name")),
    })


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, ref: str) -> HttpResponse:
    consent = selectors.consent(ref)
    if consent is None:
        raise Http404("授权记录不存在")
    try:
        services.withdraw_consent(consent, user=request.user)
    except ExchangeError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "授权已撤回")
    return redirect("exchange:my_data")


def log_page(request: HttpRequest) -> HttpResponse:
    return render(request, "exchange/log.html", {"sth": selectors.latest_signed_head(),
                                                 "size": accesslog.log_size(), "pending": accesslog.pending_count()})
