"""Grant decisions as a process on the workflow engine (``processes/grant_request.bpmn``).

A request for a 有条件共享 resource starts ``exchange_grant_request`` with the grant id and the owner
organisation; its user task ``owner_review`` goes to the owner's ``data_owner`` role (10 working days).
The grant's state lives in the exchange: a decision taken on the exchange pages/API is applied to the
grant and then completes the task (one transaction); a decision taken on the workflow workbench
reaches the grant through the service task ``exchange.apply_grant_decision``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from tongban.workflow.registry import ServiceContext, register_handler

PROCESS_KEY = "exchange_grant_request"
BPMN_FILE = Path(__file__).parent / "processes" / "grant_request.bpmn"
REVIEW_TASK = "owner_review"


def enabled() -> bool:
    return bool(getattr(settings, "TONGBAN_EXCHANGE_GRANT_PROCESS", True))


def deploy() -> None:
    from tongban.workflow import services as wf

    wf.deploy_file(BPMN_FILE)


def start(grant: Any, *, actor: Any = None) -> None:
    """Start the review process of a requested grant and remember its instance."""
    if not enabled():
        return
    from tongban.workflow import services as wf

    deploy()
    instance = wf.start(PROCESS_KEY, business_key=f"grant:{grant.pk}",
                        variables={"grant_id": grant.pk, "owner_org": grant.resource.owner.code,
                                   "consumer_org": grant.consumer.code, "resource": grant.resource.code},
                        actor=actor)
    grant.process_instance_id = str(instance.pk)
    grant.save(update_fields=["process_instance_id"])


def open_review_task(grant: Any) -> Any:
    from tongban.workflow.models import Task

    if not grant.process_instance_id:
        return None
    return (Task.objects.filter(instance_id=int(grant.process_instance_id), element_id=REVIEW_TASK)
            .exclude(state__in=[Task.State.COMPLETED, Task.State.CANCELLED]).first())


def complete(grant: Any, *, actor: Any, approve: bool, note: str = "") -> None:
    """Complete the owner's review task with the decision already applied to the grant."""
    from tongban.workflow import services as wf

    task = open_review_task(grant)
    if task is None:
        return
    wf.complete(task, actor, outcome="approve" if approve else "reject", opinion=note,
                variables={"decision_note": note}, check_permissions=False)


@register_handler("exchange.apply_grant_decision")
def apply_grant_decision(ctx: ServiceContext) -> dict[str, Any] | None:
    """Apply the review task's outcome to the grant when it is still requested (decided on the workbench)."""
    from tongban.workflow.models import Task

    from .models import Grant
    from .services import decide_grant

    grant = Grant.objects.filter(pk=ctx.variables.get("grant_id")).first()
    if grant is None or grant.status != Grant.Status.REQUESTED:
        return None
    task = (Task.objects.filter(instance_id=ctx.instance_id, element_id=REVIEW_TASK, state=Task.State.COMPLETED)
            .select_related("assignee").order_by("-completed_at").first())
    outcome = ctx.variables.get(f"{REVIEW_TASK}_outcome") or ctx.variables.get("outcome")
    note = (task.opinion if task else "") or ("流程中驳回" if outcome == "reject" else "")
    decide_grant(grant, actor=task.assignee if task else None, approve=outcome == "approve", note=note,
                 via_process=True, check_role=False)
    return {"grant_status": Grant.objects.values_list("status", flat=True).get(pk=grant.pk)}
