"""How a proactive notice reaches the person (我的消息): one function, so the platform's message inbox can take
it over by changing only this module. Today a notice is a workflow notification (the engine's user
notifications, also used for 督办) pointing at 我的政策 (/policies/my/)."""

from __future__ import annotations

from .models import PolicyMatch


def deliver(match: PolicyMatch) -> bool:
    """Tell the matched person; False when nobody can be told yet (no account: the notice waits on 我的政策)."""
    from tongban.workflow.models import Notification

    if match.user_id is None:
        return False
    Notification.objects.create(
        recipient_id=match.user_id, kind="policies.entitlement",
        subject=f"免申即享：您可享受“{match.policy.name}”",
        body=f"{match.reason}\n确认后即可一键申请（信息已预填），也可以选择不再提醒。详见“我的政策”：/policies/my/")
    return True
