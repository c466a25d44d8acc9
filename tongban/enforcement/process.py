"""The enforcement case as a process on the workflow engine (``processes/enforcement_case.bpmn``).

The case's state lives in the enforcement context; the engine holds the steps, their candidate roles and
working-day limits (from the item's ``step_limits``), and the 听证 step as a 特殊环节 (excluded step). A service
of this context first checks its rules, updates the case and then completes the open task of the expected step
(one transaction), so a step cannot be skipped and the engine's task list is the officers' to-do list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tongban.workflow import services as wf
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.registry import register_periodic

from .errors import BadState
from .models import EnforcementCase

PROCESS_KEY = "enforcement_case"
BPMN_FILE = Path(__file__).parent / "processes" / "enforcement_case.bpmn"
Stage = EnforcementCase.Stage
STAGE_OF: dict[str, str] = {"filing": Stage.FILING, "investigate": Stage.INVESTIGATING, "legal_review": Stage.LEGAL_REVIEW,
            "notify": Stage.NOTIFYING, "hearing": Stage.HEARING, "decide": Stage.DECIDING, "serve": Stage.SERVING,
            "execute": Stage.EXECUTING, "close": Stage.CLOSING}
DEFAULT_LIMITS = {"filing": 15, "investigate": 30, "legal_review": 10, "notify": 5, "hearing": 20, "decide": 10,
                  "serve": 7, "execute": 15, "close": 10}
OPEN = (Task.State.OPEN, Task.State.CLAIMED)


def deploy() -> None:
    wf.deploy_file(BPMN_FILE)


def start(case: EnforcementCase, *, actor: Any = None) -> None:
    """Start the case's process (at 立案审批) and remember its instance."""
    deploy()
    limits = {**DEFAULT_LIMITS, **(case.item.step_limits or {})}
    instance = wf.start(PROCESS_KEY, business_key=f"enforcement:{case.case_no}",
                        variables={"case_no": case.case_no, "department": case.department.code, "limits": limits,
                                   "item": case.item.code, "review_needed": False, "review_approved": False,
                                   "after_hearing": False}, actor=actor)
    case.process_instance_id = str(instance.pk)


def open_task(case: EnforcementCase) -> Task | None:
    if not case.process_instance_id:
        return None
    return (Task.objects.filter(instance_id=int(case.process_instance_id), state__in=OPEN)
            .select_related("candidate_org").order_by("pk").first())


def complete(case: EnforcementCase, element: str, actor: Any, outcome: str, *, opinion: str = "",
             variables: dict[str, Any] | None = None) -> None:
    """Complete the open task ``element`` (the service checked the rules and the actor's role) and move the
    case's stage to where the process now waits."""
    task = open_task(case)
    if task is None or task.element_id != element:
        want = Stage(STAGE_OF[element]).label
        raise BadState(f"案件当前不在“{want}”环节（当前：{case.get_stage_display()}）", detail={"stage": case.stage})
    wf.complete(task, actor, outcome=outcome, opinion=opinion, variables=variables or {}, check_permissions=False)
    sync_stage(case)


def set_variables(case: EnforcementCase, variables: dict[str, Any], actor: Any = None) -> None:
    if case.process_instance_id:
        wf.set_variables(int(case.process_instance_id), variables, actor)


def sync_stage(case: EnforcementCase) -> None:
    """The case's stage from the process: the open task's step, or the end reached."""
    task = open_task(case)
    if task is not None:
        case.stage = STAGE_OF[task.element_id]
        return
    instance = ProcessInstance.objects.filter(pk=int(case.process_instance_id)).first()
    if instance is not None and instance.status != ProcessInstance.Status.RUNNING:
        case.stage = Stage.CLOSED if case.decided_on else Stage.NOT_FILED


@register_periodic("enforcement.publication_warnings")
def publication_warnings(now: Any) -> dict[str, Any] | None:
    """公示逾期预警 on the engine's periodic tick."""
    from .services import warn_overdue_publications

    count = warn_overdue_publications()
    return {"warned": count} if count else None
