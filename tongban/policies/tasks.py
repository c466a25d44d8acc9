"""The nightly batch (批量匹配): the worker's periodic check runs it once every ``TONGBAN_POLICIES_BATCH_HOURS``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from tongban.workflow.registry import register_periodic


@register_periodic("policies.batch_match")
def _batch_match(now: Any) -> dict[str, Any]:
    from . import services
    from .models import MatchRun, Policy

    hours = float(getattr(settings, "TONGBAN_POLICIES_BATCH_HOURS", 24))
    last = MatchRun.objects.filter(trigger=MatchRun.Trigger.BATCH).order_by("-started_at").first()
    if hours <= 0 or (last is not None and now - last.started_at < dt.timedelta(hours=hours)):
        return {"ran": False}
    if not Policy.objects.filter(status=Policy.Status.PUBLISHED).exists():
        return {"ran": False}
    result = services.match()
    return {"ran": True, "matched": sum(r["matched"] for r in result["policies"])}


def on_worker_start() -> None:
    """Nothing to start: the engine's periodic check calls the job registered above."""
