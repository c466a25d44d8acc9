"""Pages of administrative enforcement: the public benchmark and disclosure pages, the officer's workbench, the legal
reviewer's queue, the department head's page and the case page with its step forms (the rules live in services)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.core.auth import AuthedRequest
from tongban.core.errors import DomainError
from tongban.core.models import Role
from tongban.core.selectors import has_role

from . import selectors, services
from .errors import EnforcementError, NotFound
from .models import EnforcementCase, Lead, PenaltyKind

Stage = EnforcementCase.Stage


def items_page(request: HttpRequest) -> HttpResponse:
    return render(request, "enforcement/items.html", {"items": selectors.items()})


def bodies_page(request: HttpRequest) -> HttpResponse:
    return render(request, "enforcement/bodies.html", {"bodies": selectors.bodies()})


def public_page(request: HttpRequest) -> HttpResponse:
    return render(request, "enforcement/public.html",
                  {"rows": [selectors.public_row(c) for c in selectors.published()[:300]]})


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "enforcement/forbidden.html", {"message": message}, status=403)


def _rows(cases: Any) -> list[dict[str, Any]]:
    return [{"case": c, "clock": selectors.decision_clock(c)} for c in cases]


@login_required
def workbench(request: AuthedRequest) -> HttpResponse:
    """行政执法人员: the department's cases and new leads."""
    if not has_role(request.user, Role.ENFORCEMENT_OFFICER):
        return _forbidden(request, "执法工作台仅供行政执法人员使用")
    cases = selectors.cases_for(request.user)
    stage = request.GET.get("stage", "")
    return render(request, "enforcement/workbench.html", {
        "rows": _rows((cases.filter(stage=stage) if stage else cases)[:300]), "stage": stage,
        "stages": Stage.choices, "leads": selectors.leads_for(request.user).filter(status=Lead.Status.NEW)[:100],
        "items": selectors.items(), "sources": Lead.Source.choices,
    })


@login_required
def review_queue(request: AuthedRequest) -> HttpResponse:
    """法制审核人员: the cases waiting for 法制审核 in their departments."""
    if not has_role(request.user, Role.LEGAL_REVIEWER):
        return _forbidden(request, "法制审核页面仅供法制审核人员使用")
    depts = selectors.departments_for(request.user, Role.LEGAL_REVIEWER)
    cases = selectors.cases_for(request.user).filter(department__in=depts)
    return render(request, "enforcement/review.html", {
        "rows": _rows(cases.filter(stage=Stage.LEGAL_REVIEW)),
        "done": cases.exclude(reviewed_at=None).order_by("-reviewed_at")[:50]})


@login_required
def head_page(request: AuthedRequest) -> HttpResponse:
    """执法部门负责人: 立案审批, decisions to take, deadlines (red/yellow lights) and overdue publications."""
    if not has_role(request.user, Role.ENFORCEMENT_HEAD):
        return _forbidden(request, "该页面仅供执法部门负责人使用")
    depts = selectors.departments_for(request.user, Role.ENFORCEMENT_HEAD)
    cases = selectors.cases_for(request.user).filter(department__in=depts)
    open_rows = _rows(cases.exclude(stage__in=[Stage.CLOSED, Stage.NOT_FILED]))
    return render(request, "enforcement/head.html", {
        "filing": [r for r in open_rows if r["case"].stage == Stage.FILING],
        "deciding": [r for r in open_rows if r["case"].stage == Stage.DECIDING],
        "warnings": [r for r in open_rows if r["clock"] and r["clock"].light != "green"],
        "overdue": selectors.overdue_publications().filter(department__in=depts),
    })


@login_required
def case_detail(request: AuthedRequest, case_no: str) -> HttpResponse:
    case = selectors.case_by_no(case_no)
    if case is None or not selectors.can_see(request.user, case):
        raise Http404("案件不存在")
    user = request.user
    return render(request, "enforcement/case_detail.html", {
        "case": case, "clock": selectors.decision_clock(case), "records": selectors.records(case),
        "kinds": PenaltyKind.choices, "level_facts": _discretion(case),
        "is_officer": has_role(user, Role.ENFORCEMENT_OFFICER, case.department),
        "is_reviewer": has_role(user, Role.LEGAL_REVIEWER, case.department),
        "is_head": has_role(user, Role.ENFORCEMENT_HEAD, case.department),
        "public": selectors.public_row(case) if case.published_at and not case.withdrawn_at else None,
    })


@login_required
def decision_pdf(request: AuthedRequest, case_no: str) -> HttpResponse:
    """The decision document (行政处罚决定书) of a decided case, for the department's enforcement staff."""
    case = selectors.case_by_no(case_no)
    if case is None or not selectors.can_see(request.user, case) or case.decided_on is None:
        raise Http404("决定书不存在")
    from .documents import decision_pdf as render_pdf

    response = HttpResponse(render_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{case.case_no}.pdf"'
    return response


def _discretion(case: EnforcementCase) -> dict[str, Any] | None:
    if not case.facts:
        return None
    try:
        return services.assess(case.item.code, case.facts).as_dict()
    except DomainError:
        return None


def _facts(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        raise EnforcementError("情节须为 JSON 对象，如 {\"goods_value\": 1500}",
                                        detail={"field": "facts"}) from None
    if not isinstance(value, dict):
        raise EnforcementError("情节须为 JSON 对象", detail={"field": "facts"})
    return value


def _attachments(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"name": f.name, "kind": "file", "content": f.read()} for f in request.FILES.getlist("files")]


@login_required
@require_POST
def case_new(request: AuthedRequest) -> HttpResponse:
    p = request.POST
    try:
        lead = None
        if p.get("lead"):
            lead = selectors.leads_for(request.user).filter(ref=p["lead"]).first()
            if lead is None:
                raise NotFound("线索不存在")
        case = services.open_case(request.user, item_code=p.get("item", ""), party_name=p.get("party_name", ""),
                                  party_id_number=p.get("party_id_number", ""), facts=_facts(p.get("facts", "")),
                                  summary=p.get("summary", ""), lead=lead, party_kind=p.get("party_kind") or None)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("enforcement:workbench")
    messages.success(request, f"已登记案件 {case.case_no}，待立案审批")
    return redirect("enforcement:case", case_no=case.case_no)


@login_required
@require_POST
def case_act(request: AuthedRequest, case_no: str) -> HttpResponse:
    """One form action per step; the service checks the role, the stage and the rules."""
    case = selectors.case_by_no(case_no)
    if case is None or not selectors.can_see(request.user, case):
        raise Http404("案件不存在")
    p, user, action = request.POST, request.user, request.POST.get("action", "")
    kinds = p.getlist("penalty_kinds")
    try:
        if action == "filing":
            services.decide_filing(case, user, approve=p.get("decision") == "approve", opinion=p.get("opinion", ""))
        elif action == "facts":
            services.update_facts(case, user, _facts(p.get("facts", "")), p.get("note", ""))
        elif action == "investigation":
            services.finish_investigation(case, user, penalty_kinds=kinds, fine=p.get("fine") or None,
                                          justification=p.get("justification", ""), note=p.get("note", ""),
                                          attachments=_attachments(request))
        elif action == "review":
            services.legal_review(case, user, approve=p.get("decision") == "approve", opinion=p.get("opinion", ""))
        elif action == "notice":
            services.give_notice(case, user, p.get("text", ""))
        elif action == "hearing_request":
            services.request_hearing(case, user, text=p.get("text", ""))
        elif action == "notice_end":
            services.end_notice(case, user, waived=bool(p.get("waived")), text=p.get("text", ""))
        elif action == "hearing":
            services.hold_hearing(case, user, transcript=p.get("transcript", ""), attachments=_attachments(request))
        elif action == "decision":
            services.decide(case, user, penalty_kinds=kinds, fine=p.get("fine") or None,
                            justification=p.get("justification", ""), decision_text=p.get("decision_text", ""))
        elif action == "serve":
            services.serve(case, user, method=p.get("note") or "直接送达", attachments=_attachments(request))
        elif action == "execute":
            services.execute(case, user, note=p.get("note", ""), attachments=_attachments(request))
        elif action == "close":
            services.close(case, user, p.get("note", ""))
        elif action == "record":
            services.append_record(case, user, p.get("record_action", ""), p.get("text", ""), _attachments(request))
        elif action == "publish":
            services.publish(case, user)
        elif action == "withdraw":
            services.withdraw(case, user, p.get("reason", ""))
        else:
            raise EnforcementError(f"未知的操作“{action}”")
    except DomainError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        messages.success(request, "已办理")
    return redirect("enforcement:case", case_no=case_no)
