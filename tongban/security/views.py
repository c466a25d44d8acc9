"""Pages of security operations: the incidents (security team only) and a person's notices (我的数据)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.core.auth import AuthedRequest

from . import selectors, services
from .errors import SecurityError
from .models import SecurityIncident, Severity


def _forbidden(request: AuthedRequest) -> HttpResponse:
    return render(request, "security/forbidden.html", {"message": "安全事件页面仅供信息安全管理人员使用"}, status=403)


@login_required
def incident_list(request: AuthedRequest) -> HttpResponse:
    if not selectors.is_security_admin(request.user):
        return _forbidden(request)
    status, severity = request.GET.get("status", ""), request.GET.get("severity", "")
    return render(request, "security/incident_list.html", {
        "incidents": selectors.incidents(status=status, severity=severity)[:300], "status": status,
        "severity": severity, "statuses": SecurityIncident.Status.choices, "severities": Severity.choices,
        "last_scan": selectors.last_scan(),
    })


@login_required
def incident_detail(request: AuthedRequest, incident_id: int) -> HttpResponse:
    if not selectors.is_security_admin(request.user):
        return _forbidden(request)
    incident = selectors.incident(incident_id)
    if incident is None:
        raise Http404("安全事件不存在")
    notified = set(incident.notices.values_list("person_id", flat=True))
    return render(request, "security/incident_detail.html", {
        "incident": incident, "affected": selectors.affected_persons(incident), "notified": notified,
        "actions": [(a, selectors.ACTION_LABELS[a]) for a in selectors.actions(incident)],
        "step": selectors.open_step(incident),
    })


@login_required
@require_POST
def incident_transition(request: AuthedRequest, incident_id: int) -> HttpResponse:
    if not selectors.is_security_admin(request.user):
        return _forbidden(request)
    incident = selectors.incident(incident_id)
    if incident is None:
        raise Http404("安全事件不存在")
    action = request.POST.get("action", "")
    try:
        services.transition(incident, action, request.user, request.POST.get("note", ""))
    except SecurityError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{selectors.ACTION_LABELS.get(action, action)}")
    return redirect("security:incident", incident_id=incident.pk)


@login_required
def my_notices(request: AuthedRequest) -> HttpResponse:
    return render(request, "security/my_notices.html", {"notices": selectors.notices_for(request.user)})


@login_required
@require_POST
def notice_read(request: AuthedRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_for(request.user, notice_id)
    if notice is None:
        raise Http404("告知不存在")
    services.mark_notice_read(notice, request.user)
    return redirect("security:my_notices")
