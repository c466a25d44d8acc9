"""One call for the CLI, the API and the staff page: mine a process (or item) and propose the next step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Role
from tongban.core.selectors import has_role
from tongban.workflow.models import ProcessDefinition, ProcessInstance

from .analysis import Mining, mine
from .eventlog import build_log
from .proposals import Proposal, propose


@dataclass
class Report:
    mining: Mining
    proposals: list[Proposal]

    def to_dict(self) -> dict[str, Any]:
        return {**self.mining.to_dict(), "proposals": [p.to_dict() for p in self.proposals]}


def report(process_key: str = "", item_code: str = "") -> Report:
    cal = WorkingCalendar.load()
    log = build_log(process_key, item_code)
    mining = mine(log, calendar=cal)
    return Report(mining, propose(log, mining, calendar=cal))


def processes() -> list[dict[str, Any]]:
    """The deployed processes (latest name) with their number of instances, most instances first."""
    counts = dict(ProcessInstance.objects.values_list("process_key").annotate(n=Count("pk")).values_list(
        "process_key", "n"))
    names: dict[str, str] = {}
    for key, name in ProcessDefinition.objects.order_by("key", "version").values_list("key", "name"):
        names[key] = name or key
    rows = [{"key": k, "name": n, "instances": counts.get(k, 0)} for k, n in names.items()]
    return sorted(rows, key=lambda r: (-r["instances"], r["key"]))


def may_mine(user: Any) -> bool:
    """Process mining is for the service-management office (administrators) and third-party evaluators."""
    return bool(user.is_authenticated and (has_role(user, Role.ADMINISTRATOR) or has_role(user, Role.EVALUATOR)))
