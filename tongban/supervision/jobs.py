"""supervision's work in the engine's periodic check (``workflow.registry.register_periodic``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tongban.workflow.registry import register_periodic


@register_periodic("supervision.post_check_reminders")
def post_check_reminders(now: Any) -> dict[str, Any]:
    """告知承诺制: tell each person whose approval is checked soon (once per post-check)."""
    from . import services

    return {"sent": services.remind_post_checks(timezone.localdate(now))}
