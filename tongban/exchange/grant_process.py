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
from django.db import transaction

from tongban.workflow import services as wf
from tongban.workflow.registry import ServiceContext, register_handler

PROCESS_KEY = "exchange_grant_request"
BPMN_FILE = Path(__file__).parent / "processes" / "grant_request.bpmn"
REVIEW_TASK = "owner_review"
PROCESS = wf.ProcessBinding(BPMN_FILE, PROCESS_KEY)  # deployed on first use, redeployed when the file changes


def enabled() -> bool:
    return bool(getattr(settings, "TONGBAN_EXCHANGE_GRANT_PROCESS", True))


def deploy() -> None:
    PROCESS.deploy()


def start(grant: Any, *, actor: Any = None) -> None:
    """Start the review process of a requested grant (deployed first when needed) and remember its instance."""
    if not enabled():
        return
    instance = PROCESS.start(PROCESS_KEY, business_key=f"grant:{grant.pk}",
                             variables={"grant_id": grant.pk, "owner_org": grant.resource.owner.code,
                                        "consumer_org": grant.consumer.code, "resource": grant.resource.code},
                             actor=actor)
    grant.process_instance_id = str(instance.pk)
    grant.save(update_fields=["process_instance_id"])


def open_review_task(grant: Any) -> Any:
    return PROCESS.open_task(grant.process_instance_id, REVIEW_TASK)


def complete(grant: Any, *, actor: Any, approve: bool, note: str = "") -> None:
    """Complete the owner's review task with the decision already applied to the grant."""
    task = open_review_task(grant)
    if task is None:
        return
    PROCESS.complete(task, actor, "approve" if approve else "reject", opinion=note,
                     variables={"decision_note": note})


@register_handler("exchange.apply_grant_decision")
def apply_grant_decision(ctx: ServiceContext) -> dict[str, Any] | None:
    """Apply the review task's outcome to the grant when it is still requested (decided on the workbench).

    Runs once the engine's transaction has committed, when the completed task (its holder, outcome and
    opinion) is stored; a decision already applied by the exchange makes this a no-op.
    """
    grant_id = ctx.variables.get("grant_id")
    instance_id = ctx.instance_id
    transaction.on_commit(lambda: apply_review_outcome(grant_id, instance_id))
    return None


def apply_review_outcome(grant_id: Any, instance_id: int) -> bool:
    """Decide a still-requested grant from its completed review task; True when something changed."""
    from tongban.workflow.models import Task

    from .models import Grant
    from .services import decide_grant

    with transaction.atomic():
        grant = Grant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None or grant.status != Grant.Status.REQUESTED:
            return False
        task = (Task.objects.filter(instance_id=instance_id, element_id=REVIEW_TASK, state=Task.State.COMPLETED)
                .select_related("assignee").order_by("-completed_at").first())
        if task is None or task.outcome not in ("approve", "reject"):
            return False
        note = task.opinion or ("流程中驳回" if task.outcome == "reject" else "")
        decide_grant(grant, actor=task.assignee, approve=task.outcome == "approve", note=note, via_process=True,
                     check_role=False)
    return True
