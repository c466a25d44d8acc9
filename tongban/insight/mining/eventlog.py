"""The platform's own event log, read for process mining (XES and OCEL 2.0 export, pm4py analysis).

One *case* is one process instance of the workflow engine; one *activity instance* is one step of it:

- a user task (``workflow.Task``): enabled when the task was created (``schedule``), worked on from its claim
  (``start``; the engine claims an unclaimed task when it completes it, so waiting is then the whole time) until it
  was completed (``complete``);
- any other activity (service task, call activity, sub-process, business-rule task, plain task) from the engine's
  append-only ``workflow.Event`` log: its ``element.started`` (if logged) and ``element.completed`` events.

Cases are joined with the applications (办件) whose items ran on them: application ref, item codes, departments.
Reads only (workflow, applications, catalog, core models); writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tongban.applications.models import Application, ApplicationItem
from tongban.core.models import Organisation
from tongban.workflow.models import Event, ProcessDefinition, ProcessInstance, Task

from .errors import MiningError, NotFound

#: element types logged as activities (gateways and events are control flow, not work)
ACTIVITY_TYPES = frozenset({"userTask", "serviceTask", "task", "manualTask", "businessRuleTask", "callActivity",
                            "subProcess", "scriptTask", "sendTask", "receiveTask"})


@dataclass
class Case:
    case_id: str  # the process instance id, as text (XES concept:name of the trace)
    instance_id: int
    process_key: str
    version: int
    business_key: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    application_ref: str = ""
    item_codes: list[str] = field(default_factory=list)
    item_names: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)  # organisation codes


@dataclass
class Activity:
    """One activity instance of one case."""

    case_id: str
    activity: str  # Chinese name of the BPMN element (XES concept:name)
    element_id: str
    kind: str  # BPMN element type
    scheduled: dt.datetime  # enabled (task created)
    started: dt.datetime  # work began (claimed)
    completed: dt.datetime | None  # None while open
    resource: str = ""  # who completed it (display name)
    org_code: str = ""  # the candidate organisation
    outcome: str = ""
    excluded_step: str = ""  # 特殊环节: does not count toward the time limit
    task_id: int | None = None

    @property
    def waiting(self) -> dt.timedelta:
        return self.started - self.scheduled

    @property
    def working(self) -> dt.timedelta | None:
        return None if self.completed is None else self.completed - self.started


@dataclass
class EventLog:
    process_key: str
    item_code: str
    cases: list[Case]
    activities: list[Activity]  # ordered by case, then completion (open ones last)
    organisations: dict[str, str] = field(default_factory=dict)  # code → name
    definition: ProcessDefinition | None = None  # the latest deployed version of the process (if one key)

    @property
    def completed(self) -> list[Activity]:
        return [a for a in self.activities if a.completed is not None]

    def traces(self) -> dict[str, list[Activity]]:
        """Completed activities per case, in order of completion (the traces of the log)."""
        out: dict[str, list[Activity]] = {c.case_id: [] for c in self.cases}
        for a in self.completed:
            out[a.case_id].append(a)
        return out

    def dataframe(self) -> Any:
        """A pandas DataFrame in pm4py's column names: one row per completed activity instance."""
        import pandas as pd

        cases = {c.case_id: c for c in self.cases}
        rows = []
        for a in self.completed:
            c = cases[a.case_id]
            rows.append({
                "case:concept:name": a.case_id,
                "case:process": c.process_key,
                "case:version": c.version,
                "case:business_key": c.business_key,
                "case:status": c.status,
                "case:application": c.application_ref,
                "case:items": ",".join(c.item_codes),
                "concept:name": a.activity,
                "lifecycle:transition": "complete",
                "time:timestamp": a.completed,
                "start_timestamp": a.started,
                "schedule_timestamp": a.scheduled,
                "org:resource": a.resource,
                "org:group": self.organisations.get(a.org_code, a.org_code),
                "element_id": a.element_id,
                "element_type": a.kind,
                "outcome": a.outcome,
                "excluded_step": a.excluded_step,
            })
        columns = ["case:concept:name", "concept:name", "time:timestamp", "start_timestamp", "schedule_timestamp"]
        df = pd.DataFrame(rows, columns=None if rows else columns)
        for col in ("time:timestamp", "start_timestamp", "schedule_timestamp"):
            df[col] = pd.to_datetime(df[col], utc=True)
        return df.sort_values(["case:concept:name", "time:timestamp"], kind="stable").reset_index(drop=True)


def _instance_ids_for_item(item_code: str) -> set[int]:
    ids = set(ApplicationItem.objects.filter(item__code=item_code, process_instance_id__isnull=False)
              .values_list("process_instance_id", flat=True))
    ids |= set(Application.objects.filter(item__code=item_code, process_instance_id__isnull=False)
               .values_list("process_instance_id", flat=True))
    return ids


def build_log(process_key: str = "", item_code: str = "", *, since: dt.datetime | None = None,
              until: dt.datetime | None = None) -> EventLog:
    """The event log of one process (``process_key``), of one item (``item_code``: the instances its applications'
    items ran on), or both, optionally limited to cases started in [since, until). 404 when the process or item is
    unknown; 422 when neither is given."""
    if not process_key and not item_code:
        raise MiningError("请指定流程标识或事项编码", code="insight.log_scope")
    instances = ProcessInstance.objects.all()
    if process_key:
        if not ProcessDefinition.objects.filter(key=process_key).exists():
            raise NotFound(f"流程 {process_key} 未部署", code="insight.unknown_process")
        instances = instances.filter(process_key=process_key)
    if item_code:
        from tongban.catalog.models import ServiceItem

        if not ServiceItem.objects.filter(code=item_code).exists():
            raise NotFound(f"事项 {item_code} 不存在", code="insight.unknown_item")
        instances = instances.filter(pk__in=_instance_ids_for_item(item_code))
    if since:
        instances = instances.filter(started_at__gte=since)
    if until:
        instances = instances.filter(started_at__lt=until)
    rows = list(instances.order_by("started_at", "pk").values(
        "pk", "process_key", "definition__version", "business_key", "status", "started_at", "ended_at"))
    ids = [r["pk"] for r in rows]
    cases = {r["pk"]: Case(case_id=str(r["pk"]), instance_id=r["pk"], process_key=r["process_key"],
                           version=r["definition__version"], business_key=r["business_key"], status=r["status"],
                           started_at=r["started_at"], ended_at=r["ended_at"]) for r in rows}
    _join_applications(cases)
    definition = None
    if process_key:
        definition = ProcessDefinition.objects.filter(key=process_key).order_by("-version").first()
    names = _element_names(process_key, rows)
    activities = _activities(ids, names)
    orgs = {a.org_code for a in activities if a.org_code} | {d for c in cases.values() for d in c.departments}
    organisations = dict(Organisation.objects.filter(code__in=orgs).values_list("code", "name"))
    return EventLog(process_key=process_key, item_code=item_code, cases=list(cases.values()), activities=activities,
                    organisations=organisations, definition=definition)


def _element_names(process_key: str, rows: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, dict[str, Any]]]:
    """(process key, version) → element id → node of the parsed BPMN (names and types of the elements)."""
    pairs = {(r["process_key"], r["definition__version"]) for r in rows}
    out: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    keys = {k for k, _ in pairs}
    for key, version, graph in ProcessDefinition.objects.filter(key__in=keys).values_list("key", "version", "graph"):
        if (key, version) in pairs:
            out[(key, version)] = (graph or {}).get("elements", {})
    return out


def _activities(ids: list[int], names: dict[tuple[str, int], dict[str, dict[str, Any]]]) -> list[Activity]:
    if not ids:
        return []
    version_of = dict(ProcessInstance.objects.filter(pk__in=ids).values_list("pk", "definition__version"))
    key_of = dict(ProcessInstance.objects.filter(pk__in=ids).values_list("pk", "process_key"))
    org_codes = dict(Organisation.objects.values_list("pk", "code"))
    out: list[Activity] = []
    for t in Task.objects.filter(instance_id__in=ids).exclude(state=Task.State.CANCELLED).values(
            "pk", "instance_id", "element_id", "name", "created_at", "claimed_at", "completed_at", "candidate_org_id",
            "outcome", "excluded_step", "assignee__display_name", "assignee__username"):
        start = t["claimed_at"] or t["completed_at"] or t["created_at"]
        out.append(Activity(
            case_id=str(t["instance_id"]), activity=t["name"] or t["element_id"], element_id=t["element_id"],
            kind="userTask", scheduled=t["created_at"], started=max(start, t["created_at"]),
            completed=t["completed_at"],
            resource=t["assignee__display_name"] or t["assignee__username"] or "",
            org_code=org_codes.get(t["candidate_org_id"], ""), outcome=t["outcome"], excluded_step=t["excluded_step"],
            task_id=t["pk"]))
    # other activities: element.started / element.completed pairs of the engine's log (user tasks come from Task)
    started: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
    for e in Event.objects.filter(instance_id__in=ids, type__in=("element.started", "element.completed"),
                                  task__isnull=True).order_by("at", "pk").values(
            "instance_id", "element_id", "type", "at", "data", "actor_label"):
        node = names.get((key_of[e["instance_id"]], version_of[e["instance_id"]]), {}).get(e["element_id"], {})
        kind = (e["data"] or {}).get("type") or node.get("type", "")
        if kind not in ACTIVITY_TYPES or kind == "userTask":
            continue
        slot = (e["instance_id"], e["element_id"])
        if e["type"] == "element.started":
            started[slot].append(e["at"])
            continue
        begun = started[slot].pop(0) if started[slot] else e["at"]
        out.append(Activity(case_id=str(e["instance_id"]), activity=node.get("name") or e["element_id"],
                            element_id=e["element_id"], kind=kind, scheduled=begun, started=begun,
                            completed=e["at"], resource=e["actor_label"] or "",
                            outcome=str((e["data"] or {}).get("outcome", ""))))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    out.sort(key=lambda a: (int(a.case_id), a.completed or far, a.scheduled))
    return out


def _join_applications(cases: dict[int, Case]) -> None:
    if not cases:
        return
    ids = list(cases)
    for pid, ref, code, name, dept in ApplicationItem.objects.filter(process_instance_id__in=ids).values_list(
            "process_instance_id", "application__ref", "item__code", "item__name", "department__code"):
        c = cases[pid]
        c.application_ref = c.application_ref or ref
        if code not in c.item_codes:
            c.item_codes.append(code)
            c.item_names.append(name)
        if dept not in c.departments:
            c.departments.append(dept)
    for pid, ref, code, name in Application.objects.filter(process_instance_id__in=ids).values_list(
            "process_instance_id", "ref", "item__code", "item__name"):
        c = cases[pid]
        c.application_ref = c.application_ref or ref
        if code and code not in c.item_codes:
            c.item_codes.append(code)
            c.item_names.append(name)
