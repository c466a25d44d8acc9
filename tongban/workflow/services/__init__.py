"""Workflow write services (流程引擎服务): deploy, start, claim, complete, cancel, clocks, timers, process bindings.

The public face of the workflow context for writes: ``from tongban.workflow import services`` and call
``services.start``, ``services.complete``, ``services.ProcessBinding``, ... The work lives in the modules of this
package, re-exported here:

- ``deploy``: BPMN processes and DMN decisions (a new version only when the file changed), decisions evaluated;
- ``locks``: the instance tree's lock and fresh reads every call starts with, and the task guards;
- ``runtime``: instances (start, variables, cancel), tasks (claim, unclaim, complete, opinions) and what follows
  an engine step (call-activity children, parents resumed, background work queued);
- ``clock``: suspending and resuming clocks, the periodic clock check with escalation, notifications;
- ``background``: timers and service tasks run by the worker, pending service tasks sent again, retries;
- ``binding``: ``ProcessBinding``, the one way another context drives a process of its own.

Every operation on a running instance runs in one transaction that first locks the row of the instance tree's
root (``select_for_update``; SQLite serialises writers with ``BEGIN IMMEDIATE``), so two approvers completing
tasks of one instance — or of two items of one bundle — at the same moment are applied one after the other.
Every state change appends an ``Event`` (actor, time): the event log is the audit trail of engine steps (start,
claim, complete, timers). Actions outside the engine's steps (deploying, cancelling, moving a clock by hand) are
also audited in core.

Errors are ``WorkflowError`` with a stable ``code`` (``workflow.task_not_held``, ``workflow.unknown_outcome``, ...).
"""

from __future__ import annotations

from ..errors import DefinitionError, WorkflowError
from .background import (
    fire_due_timers,
    fire_timer,
    resend_stale_service_tasks,
    retry_service_task,
    run_service_task,
)
from .binding import ProcessBinding
from .clock import (
    check_clocks,
    escalation_recipients,
    mark_notification_read,
    overdue_filter,
    resume_clock,
    suspend_clock,
)
from .deploy import (
    deploy,
    deploy_decision_file,
    deploy_decisions,
    deploy_file,
    evaluate_decision,
    explain_decision,
)
from .locks import RUNNING, is_candidate
from .runtime import (
    add_opinion,
    cancel_instance,
    claim,
    complete,
    set_variables,
    start,
    start_by_user,
    unclaim,
)

__all__ = [
    "RUNNING", "DefinitionError", "ProcessBinding", "WorkflowError", "add_opinion", "cancel_instance", "check_clocks", "claim",
    "complete", "deploy", "deploy_decision_file", "deploy_decisions", "deploy_file", "escalation_recipients",
    "evaluate_decision", "explain_decision", "fire_due_timers", "fire_timer", "is_candidate", "mark_notification_read",
    "overdue_filter", "resend_stale_service_tasks", "resume_clock", "retry_service_task", "run_service_task",
    "set_variables", "start", "start_by_user", "suspend_clock", "unclaim",
]
