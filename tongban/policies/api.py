"""JSON API of 免申即享, mounted under ``/api/policies/``.

Authentication: ``Authorization: Bearer <token>`` (``POST /api/auth/token``) or the browser session (with CSRF for
POST). ``GET my-notices`` and the actions on a notice serve any signed-in person, on their own notices only; the
policy list, dry run and publishing need the role ``administrator`` (政务服务管理机构; superusers hold every role).

Errors are ``{"code", "message", "detail"?}``: 401 ``auth.required`` (not signed in), 403 ``policies.forbidden``
(not a policy officer), 404 ``policies.not_found`` (no such policy, or a notice that is not the caller's), 409
``policies.bad_state`` (the notice was already answered, or the policy needs no application), 400
``policies.invalid`` / ``policies.bad_opt_out``, 422 ``request.invalid`` (malformed body or parameters), or an
application error of the prefilled application (``applications.*``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema

from tongban.core.auth import API_AUTH, AuthedRequest

from . import selectors, services
from .errors import NotFound
from .models import PolicyMatch

router = Router(tags=["policies 免申即享"], auth=API_AUTH)
ROUTERS = [("policies/", router)]


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] | None = None


class NoticeOut(Schema):
    id: int
    policy_code: str
    policy_name: str
    policy_kind: str
    reason: str
    status: str
    status_label: str
    matched_at: datetime
    application_ref: str
    can_apply: bool


class OptOutIn(Schema):
    notice_id: int | None = None
    all_policies: bool = False


class OptOutOut(Schema):
    withdrawn: int


class PolicyOut(Schema):
    code: str
    name: str
    kind: str
    subject: str
    status: str
    version: int
    legal_basis: list[dict[str, Any]]
    conditions: list[str]
    data_used: list[dict[str, str]]
    matched: int
    confirmed: int
    opted_out: int
    waiting: int


class DryRunOut(Schema):
    code: str
    name: str
    status: str
    matched: int
    population: int
    requested: int = Field(description="requests of shared data sent to the exchange (one per subject and resource), "
                                       "each an entry of its access log, granted or not")
    refused: str = Field(description="why the policy matched nobody: the exchange refused or failed; empty if not")
    sample: list[dict[str, str]]


def _notice(m: PolicyMatch) -> dict[str, Any]:
    return {"id": m.pk, "policy_code": m.policy.code, "policy_name": m.policy.name,
            "policy_kind": m.policy.get_kind_display(), "reason": m.reason, "status": m.status,
            "status_label": m.get_status_display(), "matched_at": m.matched_at,
            "application_ref": m.application_ref, "can_apply": bool(m.policy.item_code)}


@router.get("my-notices", response={200: list[NoticeOut], 401: ErrorOut}, summary="我的政策（免申即享告知，仅本人）")
def my_notices(request: AuthedRequest):
    """The proactive notices about policies the caller qualifies for (never anyone else's)."""
    return 200, [_notice(m) for m in selectors.my_matches(request.user)[:200]]


@router.post("my-notices/{notice_id}/confirm", response={200: NoticeOut, 401: ErrorOut, 404: ErrorOut,
                                                         409: ErrorOut, 400: ErrorOut},
             summary="一键确认申请（预填办件，可秒批）")
def confirm(request: AuthedRequest, notice_id: int):
    """Create the application of the policy's item with everything prefilled; submitted at once where the policy
    allows (its item is then decided by rules)."""
    return 200, _notice(services.confirm(notice_id, request.user))


@router.post("my-notices/{notice_id}/decline", response={200: NoticeOut, 401: ErrorOut, 404: ErrorOut,
                                                         409: ErrorOut}, summary="不需要")
def decline(request: AuthedRequest, notice_id: int):
    return 200, _notice(services.decline(notice_id, request.user))


@router.post("opt-out", response={200: OptOutOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="退订政策告知（一项或全部）")
def opt_out(request: AuthedRequest, payload: OptOutIn):
    """No more proactive notices of the policy of ``notice_id``, or of every policy (``all_policies``)."""
    return 200, {"withdrawn": services.opt_out(request.user, match_id=payload.notice_id,
                                               all_policies=payload.all_policies)}


@router.get("", response={200: list[PolicyOut], 401: ErrorOut, 403: ErrorOut}, summary="政策及匹配数（政策管理）")
def list_policies(request: AuthedRequest):
    services.require_officer(request.user)
    return 200, [{"code": r["policy"].code, "name": r["policy"].name, "kind": r["policy"].kind,
                  "subject": r["policy"].subject, "status": r["policy"].status, "version": r["policy"].version,
                  "legal_basis": r["policy"].legal_basis, "conditions": r["conditions"],
                  "data_used": [{"attr": d["attr"], "title": d["title"], "source": d["source"]} for d in r["data"]],
                  "matched": r["matched"], "confirmed": r["confirmed"], "opted_out": r["opted_out"],
                  "waiting": r["waiting"]} for r in selectors.overview()]


@router.post("{code}/dry-run", response={200: DryRunOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="试算：政策对全体对象的匹配数（不告知任何人）")
def dry_run(request: AuthedRequest, code: str):
    services.require_officer(request.user)
    result = services.match([code], dry_run=True, actor=request.user)
    row = result["policies"][0]
    return 200, {**{k: row[k] for k in ("code", "name", "status", "matched", "requested", "refused", "sample")},
                 "population": sum(result["run"].population.values())}


@router.post("{code}/publish", response={200: PolicyOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="发布政策（此后参与批量和事件匹配）")
def publish(request: AuthedRequest, code: str):
    services.require_officer(request.user)
    policy = selectors.get_policy(code)
    if policy is None:
        raise NotFound(f"没有政策 {code}")
    services.publish_policy(policy, request.user)
    return 200, next(p for p in list_policies(request)[1] if p["code"] == code)
