"""Reactions of the enforcement context to platform events (connected in ``apps.py``)."""

from __future__ import annotations

import logging
from typing import Any

from .errors import EnforcementError

log = logging.getLogger(__name__)


def on_lead_reported(sender: Any, *, source: str = "", entity_uscc: str = "", entity_name: str = "", item_code: str = "",
                     description: str = "", department_code: str = "", **_: Any) -> None:
    """``core.events.enforcement_lead_reported`` → a lead (案件线索) of the department, waiting for 立案."""
    from .services import report_lead

    try:
        report_lead(source=source, entity_uscc=entity_uscc, entity_name=entity_name, item_code=item_code,
                    description=description, department_code=department_code)
    except EnforcementError as exc:  # a malformed event must not break the sender's transaction
        log.warning("enforcement lead from %s refused: %s", sender, exc.message)
