"""Staff pages of 容错纠错: the leads of one's departments (all of them for the service-management office), a lead
with its application and determination, the official's 容错申请 form and the reviewer's decision page (免责 / 从轻 /
不予容错 against the documented criteria). Thin: reads through :mod:`.selectors`, writes through :mod:`.services`; a
refused form goes back with its message and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import criteria, selectors, services
from .errors import AccountabilityError, Forbidden, NotFound
from .models import AccountabilityLead

TITLE = "问责线索与容错纠错"


def _refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "insight/accountability_error.html", {"message": message}, status=status)


def _is_staff(user: Any) -> bool:
    return user.is_authenticated and (getattr(user, "kind", "") == "staff" or user.is_superuser)


def _lead_for(request: HttpRequest, lead_id: int) -> AccountabilityLead | HttpResponse:
    if not _is_staff(request.user):
        return _refuse(request, "仅工作人员可以查看问责线索", 403)
    lead = selectors.leads_for(request.user).filter(pk=lead_id).first()
    if lead is None:  # not there, or another department's: the same answer
        return _refuse(request, "问责线索不存在", 404)
    return lead


def _criteria_rows(chosen: list[str] | None = None) -> list[dict[str, Any]]:
    chosen = chosen or []
    return [{"code": code, "label": label, "text": text, "checked": code in chosen}
            for code, (label, text) in criteria.CRITERIA.items()]


@login_required
def leads_page(request: HttpRequest) -> HttpResponse:
    """The leads of the user's departments (the office: every department), filterable by state, with the per
    department summary of leads raised, tolerated (excluded from the penalty indicators) and still counted."""
    if not _is_staff(request.user):
        return _refuse(request, "仅工作人员可以查看问责线索", 403)
    user = request.user
    status = request.GET.get("status", "")
    qs = selectors.leads_for(user)
    if status in AccountabilityLead.Status.values:
        qs = qs.filter(status=status)
    leads = list(qs[:500])
    for lead in leads:
        lead.can_apply = lead.status == AccountabilityLead.Status.OPEN and selectors.may_apply(user, lead)
        lead.can_decide = lead.status == AccountabilityLead.Status.APPLIED and selectors.may_decide(user, lead)
    return render(request, "insight/leads.html", {
        "title": TITLE, "leads": leads, "status": status, "statuses": AccountabilityLead.Status.choices,
        "summary": selectors.department_summary(department_ids=selectors.visible_department_ids(user)),
        "office": selectors.is_office(user)})


@login_required
def lead_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """One lead: what happened, the application (reform reason, criteria claimed) and the determination."""
    lead = _lead_for(request, lead_id)
    if isinstance(lead, HttpResponse):
        return lead
    app = getattr(lead, "application", None)
    labels = dict((code, label) for code, (label, _text) in criteria.CRITERIA.items())
    return render(request, "insight/lead.html", {
        "title": TITLE, "lead": lead, "app": app,
        "claimed": [labels.get(c, c) for c in (app.criteria_claimed if app else [])],
        "met": [labels.get(c, c) for c in (app.criteria_met if app else [])],
        "can_apply": lead.status == AccountabilityLead.Status.OPEN and selectors.may_apply(request.user, lead),
        "can_decide": lead.status == AccountabilityLead.Status.APPLIED and selectors.may_decide(request.user, lead)})


@login_required
@require_http_methods(["GET", "POST"])
def apply_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The official's 容错申请: the reform-innovation reason and the criteria they claim (改革创新 required)."""
    lead = _lead_for(request, lead_id)
    if isinstance(lead, HttpResponse):
        return lead
    if not selectors.may_apply(request.user, lead):
        return _refuse(request, "只有线索所列责任人（未列责任人的，本部门工作人员）可以申请容错", 403)
    if request.method == "POST":
        claimed = request.POST.getlist("criteria")
        try:
            services.apply_for_tolerance(lead.pk, request.user, request.POST.get("reform_reason", ""), claimed)
        except (Forbidden, NotFound) as exc:
            return _refuse(request, exc.message, exc.status)
        except AccountabilityError as exc:
            messages.error(request, exc.message)
            return redirect("insight:lead_apply", lead_id=lead.pk)
        messages.success(request, "容错申请已提交，等待审核认定")
        return redirect("insight:lead", lead_id=lead.pk)
    return render(request, "insight/lead_apply.html", {
        "title": TITLE, "lead": lead, "criteria": _criteria_rows(["reform"]),
        "open": lead.status == AccountabilityLead.Status.OPEN})


@login_required
@require_http_methods(["GET", "POST"])
def decide_page(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The reviewer's decision: the criteria found met, 免责 / 从轻 / 不予容错 (the criteria must support it), reasons."""
    lead = _lead_for(request, lead_id)
    if isinstance(lead, HttpResponse):
        return lead
    if not selectors.may_decide(request.user, lead):
        return _refuse(request, "只有政务服务管理机构或本部门纪检监察人员可以认定，责任人本人不能认定", 403)
    if request.method == "POST":
        try:
            services.decide(lead.pk, request.user, request.POST.get("decision", ""),
                            request.POST.getlist("criteria_met"), request.POST.get("reason", ""))
        except (Forbidden, NotFound) as exc:
            return _refuse(request, exc.message, exc.status)
        except AccountabilityError as exc:
            messages.error(request, exc.message)
            return redirect("insight:lead_decide", lead_id=lead.pk)
        lead.refresh_from_db()
        effect = "，该记录已从本部门的扣分指标中剔除" if lead.tolerated else "，该记录仍计入本部门指标"
        messages.success(request, f"已认定：{lead.get_determination_display()}{effect}")
        return redirect("insight:lead", lead_id=lead.pk)
    app = getattr(lead, "application", None)
    labels = dict((code, label) for code, (label, _text) in criteria.CRITERIA.items())
    return render(request, "insight/lead_decide.html", {
        "title": TITLE, "lead": lead, "app": app,
        "claimed": [labels.get(c, c) for c in (app.criteria_claimed if app else [])],
        "criteria": _criteria_rows(app.criteria_claimed if app else []),
        "decisions": [(v, label) for v, label in AccountabilityLead.Determination.choices if v],
        "pending": lead.status == AccountabilityLead.Status.APPLIED})
