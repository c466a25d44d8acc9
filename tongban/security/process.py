"""The incident response as a process on the workflow engine (``processes/security_incident_response.bpmn``).

An opened incident starts ``security_incident_response`` (business key ``security:<id>``): 研判 (triage:
``confirm`` or ``dismiss``) → 控制与处置 (contain) → 告知个人 (the service task ``security.notify_affected``
writes the notices, 《个人信息保护法》第五十七条) → 结案报告 (close). The user tasks go to the role
``security_admin`` (no organisation: the security team serves the whole platform). The incident's state lives in
this context: the security services apply a step and complete its task in one transaction; the service tasks
``security.set_status`` / ``security.close_incident`` apply a step completed on the workflow workbench, so both
ways end in the same state.

The periodic job ``security.scan`` (the workflow engine's periodic check) runs the detection rules every
``TONGBAN_SECURITY_SCAN_SECONDS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from tongban.workflow.registry import ServiceContext, register_handler, register_periodic

PROCESS_KEY = "security_incident_response"
BPMN_FILE = Path(__file__).parent / "processes" / "security_incident_response.bpmn"
TRIAGE, CONTAIN, CLOSE = "triage", "contain", "close"


def deploy() -> None:
    from tongban.workflow import services as wf

    wf.deploy_file(BPMN_FILE)


@register_handler("security.set_status")
def set_status(ctx: ServiceContext) -> None:
    """Move the incident forward to ``tongban:status`` (never backwards: the security services may be ahead)."""
    from .services import advance_status

    advance_status(ctx.variables.get("incident_id"), str(ctx.attrs.get("status", "")))
    return None


@register_handler("security.notify_affected")
def notify_affected(ctx: ServiceContext) -> dict[str, Any]:
    """The notify step: a notice to each person involved who has an account (idempotent)."""
    from .services import notify_affected as notify

    count = notify(ctx.variables.get("incident_id"))
    return {"notices": count}


@register_handler("security.close_incident")
def close_incident(ctx: ServiceContext) -> None:
    """Close the incident with the report given at the close step (the ``report`` variable)."""
    from .services import close_from_process

    close_from_process(ctx.variables.get("incident_id"), ctx.instance_id,
                       report=str(ctx.variables.get("report") or ""))
    return None


def scan_due(now: datetime) -> bool:
    from .models import ScanRun

    last = ScanRun.objects.filter(trigger="periodic").order_by("-at").values_list("at", flat=True).first()
    return last is None or now - last >= timedelta(seconds=int(settings.TONGBAN_SECURITY_SCAN_SECONDS))


@register_periodic("security.scan")
def periodic_scan(now: datetime) -> dict[str, Any] | None:
    """Run the detection rules when the last periodic scan is older than ``TONGBAN_SECURITY_SCAN_SECONDS``."""
    if not scan_due(now):
        return None
    from .services import scan

    result = scan(now=now, trigger="periodic")
    return {"findings": len(result.findings), "opened": len(result.opened)}
