"""The applications context on the workflow engine.

An accepted single-item application runs ``tongban_item_review``; a bundle runs ``tongban_bundle``, whose
call activity fans out one ``tongban_item_review`` child per item, in parallel, each with its own
department's approver task. The processes end in service tasks registered here, which record the
decisions back on the application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Value, When

from tongban.workflow import services as wf
from tongban.workflow.models import ProcessInstance, Task
from tongban.workflow.registry import ServiceContext, register_handler, register_periodic

from .models import Application, ApplicationItem
from .selectors import ITEM_PROCESS, case_items

PROCESS_DIR = Path(__file__).parent / "processes"
# The auto-decision tables (秒批) of the demo items; a city deploys its own with ``tongban decision import``.
RULES_DIR = Path(__file__).parent / "rules"
BUNDLE_PROCESS = "tongban_bundle"


# The processes this context ships and starts: deployed on first use, redeployed when a file changes.
PROCESSES = wf.ProcessBinding(sorted(PROCESS_DIR.glob("*.bpmn")), [ITEM_PROCESS, BUNDLE_PROCESS])


def deploy_processes() -> list[str]:
    """Deploy (or keep) the application processes; idempotent."""
    return [f"{definition.key} v{definition.version}" for definition in PROCESSES.deploy()]


def deploy_rules() -> list[str]:
    """Deploy (or keep) the shipped auto-decision tables (秒批); idempotent: a new version only when a file changed."""
    return [f"{d.key} v{d.version}" for path in sorted(RULES_DIR.glob("*.dmn"))
            for d in wf.deploy_decision_file(path)]


def item_variables(ai: ApplicationItem, auto_outcome: str = "") -> dict[str, Any]:
    """One item's process variables; ``auto_outcome`` ``approve`` (秒批) skips the review task."""
    item = ai.item
    return {"code": item.code, "name": item.name, "department": ai.department.code,
            "application_item_id": ai.pk, "promised_limit_days": item.promised_limit_days,
            "statutory_limit_days": item.statutory_limit_days, "auto_outcome": auto_outcome}


def start_review(app: Application, *, suspended: bool = False) -> ProcessInstance:
    """Start the approval of an accepted application: one process (a bundle fans out per item). Items with an
    auto-decision table (秒批) are decided by it first; those it approves skip their review task."""
    from .services import auto_decisions

    items = case_items(app)
    for ai in items:
        ai.application = app
    outcomes = {pk: rec.outcome if rec is not None else "" for pk, rec in auto_decisions.decide_items(app, items).items()}
    base = {"application_ref": app.ref, "application_id": app.pk, "applicant_name": app.applicant_name}
    if app.bundle_id:
        instance = PROCESSES.start(BUNDLE_PROCESS, business_key=app.ref,
                                   variables={**base, "items": [item_variables(ai, outcomes[ai.pk]) for ai in items],
                                              "promised_limit_days": app.promised_limit_days})
    else:
        ai = items[0]
        instance = PROCESSES.start(ITEM_PROCESS, business_key=f"{app.ref}/{ai.item.code}",
                                   variables={**base, "item": item_variables(ai, outcomes[ai.pk])})
    app.process_instance_id = instance.pk
    app.save(update_fields=["process_instance_id"])
    started: dict[int, int] = {}  # application item id -> the instance deciding it
    # the instance and the item processes it started, as the engine returns them (no need to read them back)
    for pk, variables in [(i.pk, i.variables) for i in (instance, *instance.started_children)]:
        ai_id = (variables.get("item") or {}).get("application_item_id")
        if ai_id:
            started[ai_id] = pk
    if started:
        # one statement for all the items; an item decided by rules (秒批) during start() is already approved:
        # keep its decision
        pending = When(status=ApplicationItem.Status.PENDING, then=Value(ApplicationItem.Status.IN_REVIEW))
        ApplicationItem.objects.filter(pk__in=started).update(
            process_instance_id=Case(*(When(pk=ai_id, then=Value(pk)) for ai_id, pk in started.items())),
            status=Case(pending, default=F("status")))
    if suspended:
        wf.suspend_clock(instance, None, "补正材料", check_permissions=False)
    return instance


def resume_clock(app: Application, reason: str) -> None:
    if app.process_instance_id is None:
        return
    instance = ProcessInstance.objects.filter(pk=app.process_instance_id, status="running").first()
    if instance is not None and instance.suspended_since is not None:
        wf.resume_clock(instance, None, check_permissions=False)


@register_handler("applications.record_item_decision")
def _record_item_decision(ctx: ServiceContext) -> dict[str, Any]:
    from . import services

    item = ctx.variables.get("item") or {}
    outcome = ctx.variables.get("review_outcome") or ctx.variables.get("outcome")
    by_rules = not outcome and item.get("auto_outcome") == "approve"  # 秒批: no review task ran
    outcome = outcome or item.get("auto_outcome")
    with transaction.atomic():
        # the item, its application (both locked, as record_item_decision needs) and its 秒批 record: one query
        ai = ApplicationItem.objects.select_related("item", "department", "application", "auto_decision") \
            .select_for_update(of=("self", "application")).get(pk=item["application_item_id"])
        if ai.status in {ApplicationItem.Status.APPROVED, ApplicationItem.Status.REJECTED}:
            return {"decision": ai.status}  # already recorded (a retried service task)
        if by_rules:
            rule = getattr(ai, "auto_decision", None)
            label = f"{rule.decision_name or rule.decision_key} v{rule.decision_version}" if rule else ""
            opinion = ("秒批：符合规则" + (f"（{label}）" if label else ""), "秒批（规则自动审批）")
        else:
            opinion = Task.objects.filter(instance_id=ctx.instance_id, element_id="review",
                                          state=Task.State.COMPLETED).order_by("-completed_at").values_list(
                "opinion", "assignee__display_name").first() or ("", "")
        services.record_item_decision(ai, str(outcome), opinion=opinion[0] or "", decided_by=opinion[1] or "",
                                      application=ai.application)
        if by_rules and ai.by_commitment:
            services.auto_decisions.commitment_follow_up(ai)
    return {"decision": str(outcome), "by_rules": by_rules}


@register_handler("applications.combine_results")
def _combine_results(ctx: ServiceContext) -> dict[str, Any]:
    app = Application.objects.get(pk=ctx.variables["application_id"])
    return {"final_status": app.status}


@register_periodic("applications.supplement_reminders")
def _supplement_reminders(now: Any) -> dict[str, Any]:
    """容缺受理: remind applicants of owed materials, once a day each (the engine's periodic check runs this)."""
    from django.utils import timezone

    from . import services

    return {"sent": services.send_supplement_reminders(timezone.localdate(now))}
