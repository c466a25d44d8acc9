"""Pages of 免申即享: 我的政策 (a person's proactive notices: confirm, not needed, opt out) and the policy
officer's page (policies, their data and legal basis, match counts, dry run, publishing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.core.auth import AuthedRequest
from tongban.core.errors import DomainError

from . import selectors, services


@login_required
def my_policies(request: AuthedRequest) -> HttpResponse:
    return render(request, "policies/my.html", {"matches": list(selectors.my_matches(request.user)[:200])})


@login_required
@require_POST
def my_action(request: AuthedRequest, match_id: int, action: str) -> HttpResponse:
    try:
        if action == "confirm":
            m = services.confirm(match_id, request.user)
            messages.success(request, f"已为您创建申请 {m.application_ref}，信息已预填")
            return redirect("applications:my_application", ref=m.application_ref)
        if action == "decline":
            services.decline(match_id, request.user)
            messages.success(request, "已记录：您不需要这项政策")
        elif action in ("opt-out", "opt-out-all"):
            n = services.opt_out(request.user, match_id=match_id, all_policies=action == "opt-out-all")
            messages.success(request, "已退订" + ("全部政策告知" if action == "opt-out-all" else "这项政策的告知")
                             + (f"，撤回 {n} 条告知" if n else ""))
        else:
            messages.error(request, "未知的操作")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("policies:my")


@login_required
def officer(request: AuthedRequest) -> HttpResponse:
    if not services.is_officer(request.user):
        return render(request, "policies/forbidden.html", status=403)
    return render(request, "policies/officer.html", {"rows": selectors.overview(), "runs": selectors.recent_runs(),
                                                     "dry_run": request.session.pop("policies_dry_run", None)})


@login_required
@require_POST
def officer_action(request: AuthedRequest, code: str, action: str) -> HttpResponse:
    if not services.is_officer(request.user):
        return render(request, "policies/forbidden.html", status=403)
    try:
        if action == "dry-run":
            result = services.match([code], dry_run=True, actor=request.user)
            row = result["policies"][0]
            request.session["policies_dry_run"] = {**row, "population": sum(result["run"].population.values())}
        elif action == "publish":
            policy = selectors.get_policy(code)
            if policy is None:
                messages.error(request, f"没有政策 {code}")
            else:
                services.publish_policy(policy, request.user)
                messages.success(request, f"已发布“{policy.name}”，今后参与批量和事件匹配")
        else:
            messages.error(request, "未知的操作")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("policies:officer")
