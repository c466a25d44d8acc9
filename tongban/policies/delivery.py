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
    message = notifications.notify(match.user_id, POLICY_ENTITLEMENT, {
        "policy_name": policy.name, "policy_kind": policy.get_kind_display(), "reason": match.reason,
        "legal_basis": basis or "见“我的政策”"}, link=LINK, ref=policy.code, dedupe_key=dedupe_key(match))
    return message is not None
