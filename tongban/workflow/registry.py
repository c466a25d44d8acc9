"""Service-task handlers (服务任务处理程序): plain Python functions registered under a name.

A BPMN ``serviceTask`` names its handler with ``tongban:handler="name"``; only registered names run (an uploaded
process can never import arbitrary code). Apps register their handlers when they are imported, typically from
``AppConfig.ready``::

    from tongban.workflow.registry import register_handler

    @register_handler("applications.notify_applicant")
    def notify(ctx: ServiceContext) -> dict | None:
        ...  # return a dict to set process variables
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class ServiceContext:
    """What a handler sees: a copy of the process variables and the task's extension attributes."""

    instance_id: int
    process_key: str
    business_key: str
    element_id: str
    variables: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[ServiceContext], "dict[str, Any] | None"]
_HANDLERS: dict[str, Handler] = {}


def register_handler(name: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        _HANDLERS[name] = func
        return func

    return decorator


def handler_exists(name: str) -> bool:
    return name in _HANDLERS


def get_handler(name: str) -> Handler:
    try:
        return _HANDLERS[name]
    except KeyError:
        raise LookupError(f"unknown service handler '{name}'") from None


def handler_names() -> list[str]:
    return sorted(_HANDLERS)


@register_handler("workflow.noop")
def noop(ctx: ServiceContext) -> None:
    """Does nothing (a placeholder for a step that will be automated later)."""
    return None


@register_handler("workflow.auto_approve")
def auto_approve(ctx: ServiceContext) -> dict[str, Any]:
    """Record an automatic approval (秒批/智能审批): sets ``decision`` and ``decided_at``."""
    return {"decision": "approve", "decided_by": "system", "decided_at": timezone.now().isoformat()}


@register_handler("workflow.set")
def set_variable(ctx: ServiceContext) -> dict[str, Any]:
    """Set the variable named by ``tongban:variable`` to the literal ``tongban:value``."""
    name = ctx.attrs.get("variable")
    if not name:
        raise ValueError("workflow.set needs tongban:variable")
    return {name: ctx.attrs.get("value", "")}


@register_handler("workflow.fail")
def fail(ctx: ServiceContext) -> None:
    """Always fails (to exercise incident handling)."""
    raise RuntimeError(ctx.attrs.get("message") or "handler failed on purpose")


# --- periodic jobs ---------------------------------------------------------------------------------------
# Other contexts add work to the engine's periodic check (``tasks.tick``), e.g. daily reminders. A job gets
# the current time and returns a small dict for the tick's result; a failing job is logged, never fatal.

PeriodicJob = Callable[[Any], "dict[str, Any] | None"]
_PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(name: str) -> Callable[[PeriodicJob], PeriodicJob]:
    def decorator(func: PeriodicJob) -> PeriodicJob:
        _PERIODIC[name] = func
        return func

    return decorator


def periodic_jobs() -> dict[str, PeriodicJob]:
    return dict(_PERIODIC)
