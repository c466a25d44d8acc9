"""Write an :class:`~.eventlog.EventLog` as XES (IEEE 1849) or OCEL 2.0 JSON, both with pm4py's writers.

XES: one trace per case (process instance), one event per completed activity instance with
``lifecycle:transition = complete``, ``time:timestamp`` (completed), ``start_timestamp`` (work began: the task's
claim) and ``schedule_timestamp`` (enabled: the task's creation), ``org:resource``, ``org:group`` (the
department), ``element_id``, ``outcome``; trace attributes process, version, business key, status, application and
item codes. pm4py (and ProM, Disco, bupaR) read it; pm4py takes ``start_timestamp`` for service times.

OCEL 2.0: the same events, each related to its objects: the case (``流程实例``), the application (``办件``), the
items (``事项``), the task (``任务``) and the department (``机构``), with object-to-object relations application →
item (``requests``) and case → application (``serves``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import MiningError
from .eventlog import EventLog

FORMATS = ("xes", "ocel")

OT_CASE = "流程实例"
OT_APPLICATION = "办件"
OT_ITEM = "事项"
OT_TASK = "任务"
OT_ORG = "机构"


def write(log: EventLog, path: str | Path, fmt: str) -> int:
    """Write ``log`` to ``path`` in ``fmt`` (``xes`` or ``ocel``); returns the number of events written."""
    if fmt not in FORMATS:
        raise MiningError(f"不支持的格式 {fmt}（可选 xes、ocel）", code="insight.bad_format")
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise MiningError(f"目录不存在：{path.parent}", code="insight.bad_path")
    if fmt == "xes":
        return write_xes(log, path)
    return write_ocel(log, path)


def write_xes(log: EventLog, path: Path) -> int:
    from pm4py.objects.conversion.log import converter
    from pm4py.objects.log.exporter.xes import exporter

    df = log.dataframe()
    if df.empty:
        # pm4py cannot write an empty frame; an empty log is still a valid XES document
        path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                        '<log xes.version="1849-2016" xes.features="nested-attributes" '
                        'xmlns="http://www.xes-standard.org/"/>\n', encoding="utf-8")
        return 0
    # the exporter itself: pm4py.write_xes would add ".xes" to a name without it, and draw a progress bar
    event_log = converter.apply(df, variant=converter.Variants.TO_EVENT_LOG,
                                parameters={"case_id_key": "case:concept:name"})
    exporter.apply(event_log, str(path), variant=exporter.Variants.LINE_BY_LINE,
                   parameters={"show_progress_bar": False, "encoding": "utf-8"})
    return len(df)


def ocel_object(log: EventLog) -> Any:
    """The log as a pm4py OCEL (events, objects, event-object and object-object relations)."""
    import pandas as pd
    from pm4py.objects.ocel.obj import OCEL

    cases = {c.case_id: c for c in log.cases}
    events: list[dict[str, Any]] = []
    relations: list[dict[str, Any]] = []
    objects: dict[str, dict[str, Any]] = {}
    o2o: list[dict[str, Any]] = []

    def obj(oid: str, otype: str, **attrs: Any) -> str:
        objects.setdefault(oid, {"ocel:oid": oid, "ocel:type": otype, **attrs})
        return oid

    for c in log.cases:
        obj(f"case-{c.case_id}", OT_CASE, process=c.process_key, version=c.version, status=c.status)
        if c.application_ref:
            app = obj(f"app-{c.application_ref}", OT_APPLICATION)
            o2o.append({"ocel:oid": f"case-{c.case_id}", "ocel:oid_2": app, "ocel:qualifier": "serves"})
            for code, name in zip(c.item_codes, c.item_names, strict=False):
                item = obj(f"item-{code}", OT_ITEM, name=name)
                o2o.append({"ocel:oid": app, "ocel:oid_2": item, "ocel:qualifier": "requests"})
    for n, a in enumerate(log.completed, start=1):
        eid = f"e{n}"
        c = cases[a.case_id]
        events.append({"ocel:eid": eid, "ocel:activity": a.activity, "ocel:timestamp": a.completed,
                       "start_timestamp": a.started, "schedule_timestamp": a.scheduled,
                       "org:resource": a.resource, "outcome": a.outcome})
        links = [(f"case-{c.case_id}", OT_CASE, "case")]
        if c.application_ref:
            links.append((f"app-{c.application_ref}", OT_APPLICATION, "application"))
            links += [(f"item-{code}", OT_ITEM, "item") for code in c.item_codes]
        if a.task_id is not None:
            links.append((obj(f"task-{a.task_id}", OT_TASK, element=a.element_id), OT_TASK, "task"))
        if a.org_code:
            name = log.organisations.get(a.org_code, a.org_code)
            links.append((obj(f"org-{a.org_code}", OT_ORG, name=name), OT_ORG, "handled_by"))
        for oid, otype, qualifier in links:
            relations.append({"ocel:eid": eid, "ocel:activity": a.activity, "ocel:timestamp": a.completed,
                              "ocel:oid": oid, "ocel:type": otype, "ocel:qualifier": qualifier})
    ev = pd.DataFrame(events, columns=None if events else ["ocel:eid", "ocel:activity", "ocel:timestamp"])
    for col in ("ocel:timestamp", "start_timestamp", "schedule_timestamp"):
        if col in ev:
            ev[col] = pd.to_datetime(ev[col], utc=True)
    rel = pd.DataFrame(relations, columns=None if relations else [
        "ocel:eid", "ocel:activity", "ocel:timestamp", "ocel:oid", "ocel:type", "ocel:qualifier"])
    rel["ocel:timestamp"] = pd.to_datetime(rel["ocel:timestamp"], utc=True)
    ob = pd.DataFrame(list(objects.values()), columns=None if objects else ["ocel:oid", "ocel:type"])
    o2o_df = pd.DataFrame(o2o, columns=["ocel:oid", "ocel:oid_2", "ocel:qualifier"]).drop_duplicates()
    return OCEL(events=ev, objects=ob, relations=rel, o2o=o2o_df)


def write_ocel(log: EventLog, path: Path) -> int:
    import pm4py

    ocel = ocel_object(log)
    pm4py.write_ocel2_json(ocel, str(path))
    return len(ocel.events)
