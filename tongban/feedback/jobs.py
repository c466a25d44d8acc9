"""feedback's work in the engine's periodic check (``workflow.registry.register_periodic``)."""

from __future__ import annotations

from typing import Any

from tongban.workflow.registry import register_periodic


@register_periodic("feedback.overdue_work_orders")
def overdue_work_orders(now: Any) -> dict[str, Any]:
    """Flag 12345 work orders past their receipt or handling deadline (once each)."""
    from . import services

    return services.flag_overdue(now)
