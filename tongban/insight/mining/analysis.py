"""Process mining of an :class:`~.eventlog.EventLog` with pm4py: the real process (inductive miner), its variants,
waiting and working time per activity in working days, rework loops, conformance against the deployed BPMN
(alignment-based fitness) and the bottleneck.

Times are counted in *working days* on the statutory calendar (``core.calendar.WorkingCalendar``: the national
holidays, 调休 make-up days and local overrides): a span counts the share of each calendar day it covers that is a
working day, so a task waiting from Friday 14:00 to Tuesday 14:00 waited 2 working days, not 4 days.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone

from tongban.core.calendar import WorkingCalendar

from . import pm4py as _pm4py
from .eventlog import Activity, EventLog
from .petri import petri_from_graph

DAY = 86400.0


def working_days(cal: WorkingCalendar, a: dt.datetime, b: dt.datetime) -> float:
    """Working days between two instants: the share of each calendar day in [a, b] that is a working day."""
    if b <= a:
        return 0.0
    a, b = timezone.localtime(a), timezone.localtime(b)
    da, db = a.date(), b.date()
    midnight_a = a.replace(hour=0, minute=0, second=0, microsecond=0)
    midnight_b = b.replace(hour=0, minute=0, second=0, microsecond=0)
    if da == db:
        return (b - a).total_seconds() / DAY if cal.is_workday(da) else 0.0
    first = (1 - (a - midnight_a).total_seconds() / DAY) if cal.is_workday(da) else 0.0
    last = (b - midnight_b).total_seconds() / DAY if cal.is_workday(db) else 0.0
    middle = cal.working_days_between(da, db - dt.timedelta(days=1))  # the whole days in between
    return first + middle + last


@dataclass
class ActivityStats:
    activity: str
    element_id: str
    executions: int
    cases: int
    mean_waiting: float  # working days from enabled (task created) to work begun (claimed)
    mean_working: float  # working days from claimed to completed
    median_waiting: float
    p25_waiting: float
    total_waiting: float
    excluded_step: bool  # 特殊环节 (e.g. the applicant's correction): not the department's time
    organisation: str = ""
    open_now: int = 0

    @property
    def mean_sojourn(self) -> float:
        return self.mean_waiting + self.mean_working


@dataclass
class Variant:
    activities: list[str]
    cases: int
    share: float
    mean_days: float  # working days from the first activity enabled to the last completed


@dataclass
class Rework:
    activity: str
    element_id: str
    cases: int  # cases that did it more than once
    share: float  # of all cases
    extra_executions: int
    extra_days: float  # working days spent on the repeats (their waiting and working) over the log
    loop: str  # the most frequent path between two executions, e.g. 审查 → 补正材料 → 审查


@dataclass
class Conformance:
    log_fitness: float | None  # alignment-based fitness of the finished cases, log level (0..1)
    fitting_share: float | None  # share of cases that replay without missing or remaining tokens
    unfitting_cases: list[str] = field(default_factory=list)  # case ids (first 50)
    unknown_activities: list[str] = field(default_factory=list)  # in the log, not in the deployed model
    model: str = ""  # which model: "process vN"
    discovered_fitness: float | None = None  # fitness of the discovered model on the same log
    error: str = ""


@dataclass
class Mining:
    process_key: str
    item_code: str
    process_name: str
    cases: int
    finished_cases: int
    events: int
    mean_case_days: float | None
    activities: list[ActivityStats]
    variants: list[Variant]
    rework: list[Rework]
    conformance: Conformance
    bottleneck: ActivityStats | None
    discovered_xml: str  # BPMN with diagram information, for the bpmn-js viewer
    discovered_marks: list[str]  # element ids of the bottleneck in the discovered model
    deployed_xml: str = ""
    deployed_marks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("discovered_xml")
        d.pop("deployed_xml")
        d["bottleneck"] = self.bottleneck.activity if self.bottleneck else None
        return d


def _stats(log: EventLog, cal: WorkingCalendar) -> list[ActivityStats]:
    waits: dict[str, list[float]] = defaultdict(list)
    works: dict[str, list[float]] = defaultdict(list)
    cases: dict[str, set[str]] = defaultdict(set)
    meta: dict[str, Activity] = {}
    open_now: Counter[str] = Counter()
    for a in log.activities:
        meta.setdefault(a.activity, a)
        if a.completed is None:
            open_now[a.activity] += 1
            continue
        waits[a.activity].append(working_days(cal, a.scheduled, a.started))
        works[a.activity].append(working_days(cal, a.started, a.completed))
        cases[a.activity].add(a.case_id)
    out = []
    for name, m in meta.items():
        w = waits.get(name, [])
        out.append(ActivityStats(
            activity=name, element_id=m.element_id, executions=len(w), cases=len(cases.get(name, ())),
            mean_waiting=_mean(w), mean_working=_mean(works.get(name, [])), median_waiting=_q(w, 0.5),
            p25_waiting=_q(w, 0.25), total_waiting=round(sum(w), 3), excluded_step=bool(m.excluded_step),
            organisation=log.organisations.get(m.org_code, m.org_code), open_now=open_now[name]))
    out.sort(key=lambda s: (-s.total_waiting, s.activity))
    return out


def _mean(xs: list[float]) -> float:
    return round(statistics.fmean(xs), 3) if xs else 0.0


def _q(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank below, so that hand-worked values in tests stay exact)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    return round(s[int(q * (len(s) - 1))], 3)


def _variants(log: EventLog, cal: WorkingCalendar, top: int) -> list[Variant]:
    traces = [t for t in log.traces().values() if t]
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for t in traces:
        groups[tuple(a.activity for a in t)].append(working_days(cal, t[0].scheduled, t[-1].completed))  # type: ignore[arg-type]  # completed: traces hold completed activities
    n = len(traces) or 1
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [Variant(list(k), len(v), round(len(v) / n, 4), _mean(v)) for k, v in ordered[:top]]


def _rework(log: EventLog, cal: WorkingCalendar) -> list[Rework]:
    total = len(log.cases) or 1
    per: dict[str, dict[str, Any]] = {}
    for trace in log.traces().values():
        seen: dict[str, int] = {}
        counted: set[str] = set()
        for i, a in enumerate(trace):
            if a.activity in seen:
                r = per.setdefault(a.activity, {"element": a.element_id, "cases": 0, "extra": 0, "days": 0.0,
                                                "loops": Counter()})
                if a.activity not in counted:
                    r["cases"] += 1
                    counted.add(a.activity)
                r["extra"] += 1
                r["days"] += working_days(cal, a.scheduled, a.completed)  # type: ignore[arg-type]
                r["loops"][" → ".join(x.activity for x in trace[seen[a.activity]:i + 1])] += 1
            seen[a.activity] = i
    out = [Rework(activity=name, element_id=r["element"], cases=r["cases"], share=round(r["cases"] / total, 4),
                  extra_executions=r["extra"], extra_days=round(r["days"], 3), loop=r["loops"].most_common(1)[0][0])
           for name, r in per.items()]
    return sorted(out, key=lambda r: (-r.cases, r.activity))


def _discover(df: Any) -> tuple[str, dict[str, str], Any]:
    """Inductive miner → BPMN XML (our own serialisation: pm4py's layout needs the Graphviz binary) with the
    engine's generated diagram; returns the XML, activity name → element ids, and the discovered Petri net."""
    from pm4py.objects.bpmn.obj import BPMN

    pm4py = _pm4py()

    tree = pm4py.discover_process_tree_inductive(df)
    model = pm4py.convert_to_bpmn(tree)
    net = pm4py.convert_to_petri_net(tree)
    ids: dict[Any, str] = {}
    elements: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    start = ""
    for n, node in enumerate(sorted(model.get_nodes(), key=lambda x: (type(x).__name__, x.get_name() or "", x.get_id())),
                             start=1):
        if isinstance(node, BPMN.StartEvent):
            kind = "startEvent"
        elif isinstance(node, BPMN.EndEvent):
            kind = "endEvent"
        elif isinstance(node, BPMN.ParallelGateway):
            kind = "parallelGateway"
        elif isinstance(node, BPMN.InclusiveGateway):
            kind = "inclusiveGateway"
        elif isinstance(node, BPMN.Gateway):
            kind = "exclusiveGateway"
        else:
            kind = "task"
        eid = f"{'a' if kind == 'task' else 'n'}{n}"
        ids[node] = eid
        label = node.get_name() if kind == "task" else ""
        elements[eid] = {"type": kind, "name": label, "scope": "", "in": [], "out": []}
        if kind == "task":
            names.setdefault(label, eid)
        if kind == "startEvent":
            start = eid
    flows: dict[str, dict[str, Any]] = {}
    for n, f in enumerate(model.get_flows(), start=1):
        fid = f"f{n}"
        src, tgt = ids[f.get_source()], ids[f.get_target()]
        flows[fid] = {"source": src, "target": tgt, "scope": ""}
        elements[src]["out"].append(fid)
        elements[tgt]["in"].append(fid)
    xml = _bpmn_xml(elements, flows)
    graph = {"key": "discovered", "name": "实际流程", "elements": elements, "flows": flows,
             "starts": {"": start}, "boundaries": {}}
    from tongban.workflow.selectors import with_generated_diagram

    return with_generated_diagram(xml, graph), names, net


def _bpmn_xml(elements: dict[str, dict[str, Any]], flows: dict[str, dict[str, Any]]) -> str:
    from xml.sax.saxutils import quoteattr

    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_discovered" '
             'targetNamespace="https://tongban.org/insight/mining">',
             '  <bpmn:process id="discovered" name="实际流程（挖掘）" isExecutable="false">']
    for eid, el in elements.items():
        name = f" name={quoteattr(el['name'])}" if el["name"] else ""
        lines.append(f'    <bpmn:{el["type"]} id="{eid}"{name}/>')
    for fid, f in flows.items():
        lines.append(f'    <bpmn:sequenceFlow id="{fid}" sourceRef="{f["source"]}" targetRef="{f["target"]}"/>')
    lines += ["  </bpmn:process>", "</bpmn:definitions>"]
    return "\n".join(lines)


def _conformance(log: EventLog, df: Any, discovered_net: Any) -> Conformance:
    pm4py = _pm4py()
    definition = log.definition
    if definition is None:
        return Conformance(None, None, error="按事项导出的日志可能跨多个流程，未做合规性检查（请按流程分析）")
    finished = {c.case_id for c in log.cases if c.status == "completed"}
    df = df[df["case:concept:name"].isin(finished)]
    if df.empty:
        return Conformance(None, None, error="尚无已办结的案例")
    net, im, fm, labels = petri_from_graph(definition.graph)
    unknown = sorted(set(df["concept:name"]) - labels)
    # alignments (per variant): an activity the model does not know is a move on the log, a skipped step a move on
    # the model; token-based replay would pass over unknown activities silently
    diagnostics = pm4py.conformance_diagnostics_alignments(df, net, im, fm, multi_processing=False)
    fitness = pm4py.fitness_alignments(df, net, im, fm, multi_processing=False)
    case_ids = list(dict.fromkeys(df["case:concept:name"]))  # pm4py aligns the cases in order of first appearance
    fits = [d is not None and d["fitness"] >= 1.0 - 1e-9 for d in diagnostics]
    unfitting = [cid for cid, fit in zip(case_ids, fits, strict=False) if not fit]
    dnet, dim, dfm = discovered_net
    discovered = pm4py.fitness_token_based_replay(df, dnet, dim, dfm)
    n = len(diagnostics) or 1
    return Conformance(
        log_fitness=round(float(fitness["log_fitness"]), 3),  # pm4py charges silent steps a tiny cost
        fitting_share=round(sum(fits) / n, 4),
        unfitting_cases=unfitting[:50], unknown_activities=unknown,
        model=f"{definition.name or definition.key} v{definition.version}",
        discovered_fitness=round(float(discovered["log_fitness"]), 4))


def mine(log: EventLog, *, calendar: WorkingCalendar | None = None, top_variants: int = 10) -> Mining:
    """Mine ``log``: see the module docstring. A log without a completed activity gives empty tables."""
    cal = calendar or WorkingCalendar.load()
    df = log.dataframe()
    stats = _stats(log, cal)
    finished = [c for c in log.cases if c.ended_at is not None]
    traces = log.traces()
    case_days = [working_days(cal, traces[c.case_id][0].scheduled, traces[c.case_id][-1].completed)  # type: ignore[arg-type]
                 for c in finished if traces[c.case_id]]
    candidates = [s for s in stats if not s.excluded_step and s.executions]
    bottleneck = max(candidates, key=lambda s: (s.total_waiting, s.mean_sojourn), default=None)
    definition = log.definition
    name = (definition.name if definition else "") or log.process_key or log.item_code
    if df.empty:
        return Mining(log.process_key, log.item_code, name, len(log.cases), len(finished), 0, None, stats, [], [],
                      Conformance(None, None, error="日志中没有已完成的环节"), bottleneck, "", [],
                      deployed_xml=definition.display_xml if definition else "")
    xml, names, net = _discover(df)
    return Mining(
        process_key=log.process_key, item_code=log.item_code, process_name=name, cases=len(log.cases),
        finished_cases=len(finished), events=len(df), mean_case_days=_mean(case_days) if case_days else None,
        activities=stats, variants=_variants(log, cal, top_variants), rework=_rework(log, cal),
        conformance=_conformance(log, df, net), bottleneck=bottleneck, discovered_xml=xml,
        discovered_marks=[names[bottleneck.activity]] if bottleneck and bottleneck.activity in names else [],
        deployed_xml=(definition.display_xml or definition.bpmn_xml) if definition else "",
        deployed_marks=[bottleneck.element_id] if bottleneck else [])
