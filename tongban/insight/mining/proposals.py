"""The next reengineering step (流程再造建议), each with the working days it would save, estimated from the log.

Three kinds, each ranked by the working days saved over the log (per case × cases):

- ``waiting`` — the activities with the longest waiting (enabled → work begun), not counting 特殊环节: if every case
  waited no longer than the fastest quarter of cases does today (the 25th percentile), each execution saves
  ``mean waiting − p25 waiting``;
- ``parallel`` — two activities in series in the deployed BPMN (the second follows the first directly, or through a
  parallel gateway) of *different* departments or roles, where nothing between them, nor the second activity itself,
  reads the first's result (its ``<id>_outcome`` or ``outcome`` variable): running them side by side (串联改并联)
  saves, per case that did both, the shorter of the two (enabled → completed);
- ``material`` — the materials most often missing or corrected: listed in a one-time notice (一次性告知), owed after
  a tolerant acceptance (容缺受理 / 补正), or still tolerated: candidates for 免提交 (fetch through data sharing)
  or the 容缺 list; each affected application saves the working days it waited for the material (notice →
  acceptance, supplement requested → fulfilled).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from tongban.applications.models import Application, ApplicationMaterial, Notice, Supplement
from tongban.core.calendar import WorkingCalendar

from .analysis import Mining, working_days
from .eventlog import EventLog

ACTIVITIES = {"userTask", "serviceTask", "task", "manualTask", "businessRuleTask", "callActivity", "subProcess",
              "scriptTask", "sendTask", "receiveTask"}
KIND_LABELS = {"waiting": "缩短等待", "parallel": "串联改并联", "material": "免提交 / 容缺受理"}


@dataclass
class Proposal:
    kind: str
    title: str
    detail: str
    days_per_case: float  # working days saved per affected case
    cases: int  # affected cases (or applications, for materials)
    total_days: float  # over the log
    elements: list[str] = field(default_factory=list)  # BPMN element ids (or material keys)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind_label": self.kind_label}


def propose(log: EventLog, mining: Mining, *, calendar: WorkingCalendar | None = None, top: int = 5) -> list[Proposal]:
    """The proposals for ``log`` (already mined as ``mining``), best first within each kind."""
    cal = calendar or WorkingCalendar.load()
    return waiting_proposals(mining, top) + parallel_proposals(log, cal, top) + material_proposals(log, cal, top)


def waiting_proposals(mining: Mining, top: int = 5) -> list[Proposal]:
    out = []
    for s in mining.activities:
        if s.excluded_step or not s.executions:
            continue
        per = round(s.mean_waiting - s.p25_waiting, 3)
        if per <= 0:
            continue
        out.append(Proposal(
            "waiting", f"缩短「{s.activity}」的等待",
            f"「{s.activity}」（{s.organisation or '—'}）平均等待 {s.mean_waiting:.2f} 个工作日才开始办理，最快的四分之一"
            f"办件等待不超过 {s.p25_waiting:.2f} 个工作日；若都达到这一水平（如即时分派、到期提醒、增配人员），"
            f"每次可节省约 {per:.2f} 个工作日。",
            per, s.executions, round(per * s.executions, 3), [s.element_id]))
    out.sort(key=lambda p: -p.total_days)
    return out[:top]


def serial_pairs(graph: dict[str, Any]) -> list[tuple[str, str]]:
    """(A, B): activity B follows activity A in series (directly or through parallel gateways) in the top scope,
    B belongs to another department or role, and neither the path between them nor B reads A's result."""
    elements: dict[str, dict[str, Any]] = graph.get("elements", {})
    flows: dict[str, dict[str, Any]] = graph.get("flows", {})
    pairs = []
    for a, node in elements.items():
        if node["type"] not in ACTIVITIES or node.get("scope") or node.get("excluded_step"):
            continue
        if len(node.get("out", [])) != 1:
            continue
        target = flows[node["out"][0]]["target"]
        hops = [target]
        while elements.get(hops[-1], {}).get("type") == "parallelGateway" and len(elements[hops[-1]]["out"]) == 1:
            hops.append(flows[elements[hops[-1]]["out"][0]]["target"])
        b = hops[-1]
        bn = elements.get(b, {})
        if bn.get("type") not in ACTIVITIES or bn.get("excluded_step") or len(bn.get("in", [])) != 1:
            continue
        same_desk = (node.get("candidate_org", "") == bn.get("candidate_org", "")
                     and node.get("candidate_role", "") == bn.get("candidate_role", ""))
        if same_desk:
            continue
        text = json.dumps(bn, ensure_ascii=False)
        if f"{a}_outcome" in text or "${outcome" in text or "outcome ==" in text:
            continue
        pairs.append((a, b))
    return pairs


def parallel_proposals(log: EventLog, cal: WorkingCalendar, top: int = 5) -> list[Proposal]:
    if log.definition is None:
        return []
    elements = log.definition.graph.get("elements", {})
    out = []
    traces = log.traces()
    for a, b in serial_pairs(log.definition.graph):
        savings = []
        for trace in traces.values():
            ta = [x for x in trace if x.element_id == a]
            tb = [x for x in trace if x.element_id == b]
            if ta and tb:
                da = working_days(cal, ta[0].scheduled, ta[0].completed)  # type: ignore[arg-type]  # completed
                db = working_days(cal, tb[0].scheduled, tb[0].completed)  # type: ignore[arg-type]
                savings.append(min(da, db))
        if not savings:
            continue
        per = round(statistics.fmean(savings), 3)
        na, nb = elements[a].get("name") or a, elements[b].get("name") or b
        org_a = log.organisations.get(elements[a].get("candidate_org", ""), elements[a].get("candidate_org", ""))
        org_b = log.organisations.get(elements[b].get("candidate_org", ""), elements[b].get("candidate_org", ""))
        out.append(Proposal(
            "parallel", f"「{na}」与「{nb}」并联办理",
            f"「{na}」（{org_a or elements[a].get('candidate_role', '')}）与「{nb}」（{org_b or elements[b].get('candidate_role', '')}）"
            f"依次办理，但「{nb}」不读取「{na}」的结果；同时办理后，每件可节省两者中较短的一个，平均约 {per:.2f} 个工作日。",
            per, len(savings), round(per * len(savings), 3), [a, b]))
    out.sort(key=lambda p: -p.total_days)
    return out[:top]


def material_proposals(log: EventLog, cal: WorkingCalendar, top: int = 5) -> list[Proposal]:
    refs = {c.application_ref for c in log.cases if c.application_ref}
    if not refs:
        return []
    apps = dict(Application.objects.filter(ref__in=refs).values_list("pk", "accepted_at"))
    names: dict[tuple[int, str], str] = {}  # (application, key) → name
    by_name: dict[int, dict[str, str]] = defaultdict(dict)  # application → name → key
    affected: dict[str, dict[int, float | None]] = defaultdict(dict)  # material key → application → days waited
    for app_id, key, name, status in ApplicationMaterial.objects.filter(application_id__in=apps).values_list(
            "application_id", "key", "name", "status"):
        names[(app_id, key)] = name
        by_name[app_id][name] = key
        if status in (ApplicationMaterial.Status.TOLERATED, ApplicationMaterial.Status.SUPPLEMENTED):
            affected[key].setdefault(app_id, None)
    for app_id, keys, requested, fulfilled in Supplement.objects.filter(application_id__in=apps).values_list(
            "application_id", "material_keys", "requested_at", "fulfilled_at"):
        days = working_days(cal, requested, fulfilled) if fulfilled else None
        for key in keys or []:
            _note(affected[key], app_id, days)
    for app_id, content, issued in Notice.objects.filter(application_id__in=apps, kind=Notice.Kind.ONE_TIME
                                                         ).values_list("application_id", "content", "issued_at"):
        accepted = apps.get(app_id)
        days = working_days(cal, issued, accepted) if accepted and accepted > issued else None
        for _title, listed in (content or {}).get("lists", []):
            for name in listed:
                key = by_name[app_id].get(name, name)
                names.setdefault((app_id, key), name)
                _note(affected[key], app_id, days)
    total_apps = len(apps) or 1
    out = []
    for key, per_app in affected.items():
        waited = [d for d in per_app.values() if d is not None]
        per = round(statistics.fmean(waited), 3) if waited else 0.0
        name = next((names[(a, key)] for a in per_app if (a, key) in names), key)
        n = len(per_app)
        out.append(Proposal(
            "material", f"「{name}」免提交或容缺受理",
            f"「{name}」在 {n} 件办件中缺失或需补正（占 {n / total_apps:.0%}），补齐平均用时 {per:.2f} 个工作日：建议通过"
            f"数据共享调取（免提交），或列入容缺受理清单先行受理、后补材料。",
            per, n, round(per * len(waited), 3), [key]))
    out.sort(key=lambda p: (-p.cases, -p.total_days))
    return out[:top]


def _note(per_app: dict[int, float | None], app_id: int, days: float | None) -> None:
    """Record that an application waited ``days`` for a material (None: not known yet); the longest wait counts."""
    prev = per_app.get(app_id)
    per_app[app_id] = prev if days is None else max(prev or 0.0, days)
