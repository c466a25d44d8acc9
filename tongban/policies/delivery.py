"""How a proactive notice reaches the person: the platform's messages (我的消息, and e-mail / SMS on the channels
the person chose, sent in the background) through ``tongban.notifications.services.notify`` with the event
``policies.entitlement`` (its wording is in ``tongban.notifications.messages``). The message links to 我的政策
(``/policies/my/``; the e-mail channel puts the site's public URL in front of it)."""

from __future__ import annotations

from tongban.notifications import services as notifications
from tongban.notifications.messages import POLICY_ENTITLEMENT

from .models import PolicyMatch

LINK = "/policies/my/"


def dedupe_key(match: PolicyMatch) -> str:
    """One notice per person and policy, whatever the run (nightly batch, event, a re-run after a failure)."""
    return f"policies.entitlement:{match.policy.code}:{match.user_id}"


def deliver(match: PolicyMatch) -> bool:
    """Tell the matched person; False when nobody can be told (no account: the notice waits on 我的政策) or the
    person was already told about this policy."""
    if match.user_id is None:
        return False
    policy = match.policy
    basis = "；".join(f"{b.get('law', '')}{b.get('article', '')}" for b in policy.legal_basis or [] if b.get("law"))
    next_step = ("不用您再跑腿、再交材料：请到“我的政策”点一下“确认，一键申请”，我们会为您生成已经填好信息的申请。"
                 if policy.item_code else f"这项{policy.get_kind_display()}无需申请，将直接为您兑现，详情可在“我的政策”查看。")
    message = notifications.notify(match.user_id, POLICY_ENTITLEMENT, {
        "policy_name": policy.name, "reason": match.reason, "next_step": next_step,
        "legal_basis": basis or "见“我的政策”"}, link=LINK, ref=policy.code, dedupe_key=dedupe_key(match))
    return message is not None
