"""BPMN 2.0 XML parser for the subset the engine runs (see docs/workflow.md).

The result is a plain JSON-able ``graph`` dict stored on ``ProcessDefinition`` and turned into a ``Graph`` for
execution. Malformed files give every problem found as ``FILE:LINE: element ID: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import expressions
from .bpmn_assignment import AssignmentMixin, OrganisationLookup, database_organisations
from .bpmn_xml import (
    BPMN_NS,
    BPMNDI_NS,
    CAMUNDA_NS,
    TONGBAN_NS,
    DefinitionError,
    Issue,
    extension_attrs,
    local,
    parse_xml,
)

__all__ = ["BPMN_NS", "BPMNDI_NS", "CAMUNDA_NS", "TONGBAN_NS", "DefinitionError", "Issue", "ParsedFile", "ParsedProcess",
           "database_organisations", "extension_attrs", "local", "parse_bpmn", "parse_duration", "parse_xml"]


# Flow nodes the engine runs.
SUPPORTED = {
    "startEvent", "endEvent", "userTask", "serviceTask", "businessRuleTask", "exclusiveGateway",
    "parallelGateway", "callActivity", "subProcess", "boundaryEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "task", "manualTask",
}
ACTIVITIES = {"userTask", "serviceTask", "businessRuleTask", "callActivity", "subProcess", "task", "manualTask"}
# Known BPMN elements outside the subset: a clear "unsupported" error.
UNSUPPORTED = {
    "scriptTask", "sendTask", "receiveTask", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "transaction", "adHocSubProcess", "callChoreography", "choreographyTask", "subChoreography",
    "implicitThrowEvent",
}
# Children of a process / sub-process that carry no behaviour.
IGNORED = {
    "laneSet", "textAnnotation", "association", "dataObject", "dataObjectReference", "dataStoreReference",
    "group", "documentation", "extensionElements", "ioSpecification", "property", "category",
    "dataInputAssociation", "dataOutputAssociation", "auditing", "monitoring", "incoming", "outgoing",
    "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "correlationSubscription", "supports",
    "performer", "humanPerformer", "potentialOwner", "resourceRole",
}
# ``isExecutable`` values (xsd:boolean) that mark a process as documentation only.
NOT_EXECUTABLE = {"false", "0"}
EVENT_DEFINITIONS = {
    "timerEventDefinition", "terminateEventDefinition", "messageEventDefinition", "signalEventDefinition",
    "errorEventDefinition", "escalationEventDefinition", "conditionalEventDefinition", "linkEventDefinition",
    "compensateEventDefinition", "cancelEventDefinition",
}
TYPE_LABELS = {
    "startEvent": "开始", "endEvent": "结束", "userTask": "人工任务", "serviceTask": "服务任务",
    "businessRuleTask": "规则决策", "exclusiveGateway": "排他网关", "parallelGateway": "并行网关",
    "callActivity": "调用子流程", "subProcess": "子流程", "boundaryEvent": "边界事件",
    "intermediateCatchEvent": "中间事件", "intermediateThrowEvent": "中间事件", "task": "任务",
    "manualTask": "手工任务",
}

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_INT = re.compile(r"^\d+$")
_NAME = re.compile(r"^[\w.@-]+$")
# Who may start a process through the API (a process attribute: comma-separated names). The Camunda modeler's
# ``candidateStarterGroups`` are read as role codes and its ``candidateStarterUsers`` as usernames.
STARTER_ATTRS = {"roles": ("starterRoles", "candidateStarterGroups"), "orgs": ("starterOrgs", None),
                 "users": ("starterUsers", "candidateStarterUsers")}


@dataclass
class ParsedProcess:
    key: str
    name: str
    graph: dict[str, Any]


@dataclass
class ParsedFile:
    processes: list[ParsedProcess] = field(default_factory=list)
    has_diagram: bool = False
    root: Any = None


def parse_duration(text: str) -> dict[str, float] | None:
    """ISO 8601 duration (P5D, PT1H30M, P1Y2M, P2W) as components, or None when malformed."""
    m = _ISO_DURATION.match(text.strip())
    if not m:
        return None
    parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
    return parts or None


class _ProcessParser(AssignmentMixin):
    def __init__(self, process_el: Any, issues: list[Issue], organisations: OrganisationLookup | None = None) -> None:
        self.process_el = process_el
        self.issues = issues
        self.organisations = organisations or database_organisations
        self.user_tasks: dict[str, Any] = {}  # id -> element, for the lane pass
        self.elements: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.starts: dict[str, str] = {}
        self.boundaries: dict[str, list[str]] = {}
        self.seen_ids: dict[str, int] = {}
        # Ids of elements refused as a whole (and of everything inside them): reported once where they stand,
        # references to them (flows, default flows, boundary hosts) are not reported again.
        self.dropped: set[str] = set()
        self.dropped_flows: set[str] = set()
        self.flows_to_dropped: set[str] = set()  # elements whose outgoing flow leads to a dropped element

    def error(self, el: Any, element_id: str, message: str) -> None:
        self.issues.append(Issue(el.sourceline or 0, element_id, message))

    def _check_expr(self, el: Any, element_id: str, what: str, text: str | None) -> None:
        if text and expressions.is_wrapped(text):
            msg = expressions.check(text)
            if msg:
                self.error(el, element_id, f"{what}: invalid expression {text!r}: {msg}")

    def parse(self) -> dict[str, Any] | None:
        pid = self.process_el.get("id") or ""
        if not pid:
            self.error(self.process_el, "-", "process has no id")
            return None
        if (self.process_el.get("isExecutable") or "").strip().lower() in NOT_EXECUTABLE:
            self.error(self.process_el, pid, '流程未设为可执行，不能部署（process is not executable: set '
                                             'isExecutable="true", the modeler\'s "Executable" checkbox）')
        self._scope(self.process_el, "")
        self._assign_lanes()
        self._link()
        attrs = extension_attrs(self.process_el)
        for name in ("limitDays", "statutoryLimitDays"):
            value = attrs.get(name)
            if value and not _INT.match(value):
                self._check_expr(self.process_el, pid, f"tongban:{name}", value)
                if not expressions.is_wrapped(value):
                    self.error(self.process_el, pid, f"tongban:{name} must be a whole number of working days or ${{...}}")
        return {
            "key": pid,
            "name": self.process_el.get("name") or pid,
            "starters": self._starters(pid, attrs),
            "line": self.process_el.sourceline or 0,
            "limit_days": attrs.get("limitDays"),
            "statutory_limit_days": attrs.get("statutoryLimitDays"),
            "elements": self.elements,
            "flows": self.flows,
            "starts": self.starts,
            "boundaries": self.boundaries,
        }

    def _starters(self, pid: str, attrs: dict[str, str]) -> dict[str, list[str]]:
        """Who may start the process by hand: ``{"roles": [...], "orgs": [...], "users": [...]}`` (all empty:
        only the administrator). Roles and organisations together mean a role held in one of the organisations."""
        starters: dict[str, list[str]] = {}
        for kind, (own, camunda) in STARTER_ATTRS.items():
            raw = ",".join(v for v in (attrs.get(own), camunda and self.process_el.get(f"{{{CAMUNDA_NS}}}{camunda}"))
                           if v)
            names = [n.strip() for n in raw.split(",") if n.strip()]
            bad = [n for n in names if not _NAME.match(n)]
            if bad:
                what = f"tongban:{own}" + (f" / camunda:{camunda}" if camunda else "")
                self.error(self.process_el, pid, f"{what}: not a list of names (comma-separated): "
                                                 + ", ".join(repr(b) for b in bad))
            starters[kind] = sorted(set(names) - set(bad))
        return starters

    def _register_id(self, el: Any, eid: str) -> bool:
        if not eid:
            self.error(el, "-", f"{local(el.tag)} has no id")
            return False
        if eid in self.seen_ids:
            self.error(el, eid, f"duplicate id (first used on line {self.seen_ids[eid]})")
            return False
        self.seen_ids[eid] = el.sourceline or 0
        return True

    def _drop(self, el: Any, eid: str, message: str) -> None:
        """Refuse ``el`` as a whole: one error on its line; it and everything inside it leave the graph."""
        self.error(el, eid or "-", message)
        if eid and eid not in self.seen_ids:
            self.seen_ids[eid] = el.sourceline or 0
        self.dropped.update(inner.get("id") for inner in el.iter() if isinstance(inner.tag, str) and inner.get("id"))

    def _refusal(self, el: Any, tag: str) -> str | None:
        """Why an element of the subset cannot run as written (an unsupported event kind), else None."""
        kinds = [local(d.tag) for d in self._event_definitions(el)]
        first = kinds[0] if kinds else "no event definition"
        if tag == "startEvent" and kinds:
            return f"start events with {first} are not supported (use a none start event)"
        if tag == "endEvent":
            other = [k for k in kinds if k != "terminateEventDefinition"]
            if other:
                return f"end events with {other[0]} are not supported"
        if tag == "intermediateThrowEvent" and kinds:
            return f"intermediate throw events with {first} are not supported"
        if tag in ("intermediateCatchEvent", "boundaryEvent") and set(kinds) != {"timerEventDefinition"}:
            other = [k for k in kinds if k != "timerEventDefinition"]
            what = "intermediate catch events" if tag == "intermediateCatchEvent" else "boundary events"
            return f"{what} need a timer ({other[0] if other else first} is not supported)"
        if tag == "subProcess" and el.get("triggeredByEvent") == "true":
            return "event sub-processes are not supported"
        return None

    def _scope(self, scope_el: Any, scope: str) -> None:
        scope_id = scope or self.process_el.get("id")
        starts: list[Any] = []
        refused_starts = 0
        for el in scope_el:
            tag = local(el.tag)
            if not tag or tag in IGNORED:
                continue
            eid = el.get("id") or ""
            if tag == "sequenceFlow":
                if self._register_id(el, eid):
                    self._flow(el, eid, scope)
                continue
            if tag in UNSUPPORTED:
                self._drop(el, eid, f"unsupported element type '{tag}'")
                continue
            if tag not in SUPPORTED:
                self._drop(el, eid, f"unknown element type '{tag}'")
                continue
            refusal = self._refusal(el, tag)
            if refusal:
                self._drop(el, eid, refusal)
                refused_starts += tag == "startEvent"
                continue
            if not self._register_id(el, eid):
                continue
            node = self._node(el, tag, eid, scope)
            self.elements[eid] = node
            if tag == "startEvent":
                starts.append(el)
            if tag == "subProcess":
                self._scope(el, eid)
        if len(starts) == 1:
            self.starts[scope] = starts[0].get("id")
        elif not starts:
            if not refused_starts:  # an unsupported start event was reported already
                what = "sub-process" if scope else "process"
                self.error(scope_el, scope_id, f"{what} has no start event")
        else:
            for extra in starts[1:]:
                self.error(extra, extra.get("id"), f"more than one start event in {'sub-process ' + scope if scope else 'the process'}")

    def _event_definitions(self, el: Any) -> list[Any]:
        return [c for c in el if local(c.tag) in EVENT_DEFINITIONS]

    def _timer(self, el: Any, eid: str, attrs: dict[str, str]) -> dict[str, Any] | None:
        defs = self._event_definitions(el)
        timer_defs = [d for d in defs if local(d.tag) == "timerEventDefinition"]
        if not timer_defs:
            return None
        tdef = timer_defs[0]
        tattrs = {**attrs, **extension_attrs(tdef)}
        if tattrs.get("workingDays"):
            wd = tattrs["workingDays"]
            if not _INT.match(wd) and not expressions.is_wrapped(wd):
                self.error(el, eid, f"tongban:workingDays must be a whole number or ${{...}}, got {wd!r}")
            self._check_expr(el, eid, "tongban:workingDays", wd)
            return {"workingDays": wd}
        for child in tdef:
            kind = local(child.tag)
            text = (child.text or "").strip()
            if kind == "timeDuration":
                if expressions.is_wrapped(text):
                    self._check_expr(child, eid, "timeDuration", text)
                elif parse_duration(text) is None:
                    self.error(child, eid, f"timeDuration {text!r} is not an ISO 8601 duration (e.g. P5D, PT1H)")
                return {"duration": text}
            if kind == "timeDate":
                if expressions.is_wrapped(text):
                    self._check_expr(child, eid, "timeDate", text)
                else:
                    from datetime import datetime

                    try:
                        datetime.fromisoformat(text)
                    except ValueError:
                        self.error(child, eid, f"timeDate {text!r} is not an ISO 8601 date-time")
                return {"date": text}
            if kind == "timeCycle":
                self.error(child, eid, "timeCycle timers are not supported (use timeDuration)")
                return {"duration": "P1D"}
        self.error(tdef, eid, "timer needs timeDuration, timeDate or tongban:workingDays")
        return {"duration": "P1D"}

    def _node(self, el: Any, tag: str, eid: str, scope: str) -> dict[str, Any]:
        attrs = extension_attrs(el)
        node: dict[str, Any] = {
            "type": tag, "name": (el.get("name") or "").strip(), "line": el.sourceline or 0, "scope": scope,
            "in": [], "out": [],
        }
        loop = [c for c in el if local(c.tag) in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics")]
        if loop:
            lc = loop[0]
            if local(lc.tag) == "standardLoopCharacteristics" or tag != "callActivity":
                self.error(lc, eid, "loops and multi-instance are only supported on call activities "
                                    "(tongban:collection)")
            elif lc.get("isSequential") == "true":
                self.error(lc, eid, "sequential multi-instance is not supported (use parallel)")
            else:
                for k, v in extension_attrs(lc).items():
                    attrs.setdefault(k, v)
                for name, value in lc.attrib.items():
                    ln = local(name)
                    if ln in ("collection", "elementVariable"):
                        attrs.setdefault(ln, value)
                if not attrs.get("collection"):
                    self.error(lc, eid, "multi-instance call activity needs tongban:collection (a list variable)")
        # unsupported event kinds were refused by _refusal before: here every event definition is runnable
        def_kinds = [local(d.tag) for d in self._event_definitions(el)]
        if tag == "endEvent":
            node["terminate"] = "terminateEventDefinition" in def_kinds
        elif tag == "intermediateCatchEvent":
            node["timer"] = self._timer(el, eid, attrs)
        elif tag == "boundaryEvent":
            node["attached_to"] = el.get("attachedToRef") or ""
            node["cancel"] = el.get("cancelActivity", "true") != "false"
            node["timer"] = self._timer(el, eid, attrs)
        elif tag == "userTask":
            role = attrs.get("candidateRole") or el.get("{http://camunda.org/schema/1.0/bpmn}candidateGroups") or ""
            node["candidate_role"] = role
            node["candidate_org"] = attrs.get("candidateOrg", "")
            node["assignee"] = attrs.get("assignee", "")
            outcomes = [o.strip() for o in attrs.get("outcomes", "").split(",") if o.strip()]
            if len(set(outcomes)) != len(outcomes):
                self.error(el, eid, "tongban:outcomes lists an outcome twice")
            node["outcomes"] = outcomes
            limit = attrs.get("limitDays", "")
            if limit and not _INT.match(limit) and not expressions.is_wrapped(limit):
                self.error(el, eid, f"tongban:limitDays must be a whole number or ${{...}}, got {limit!r}")
            node["limit_days"] = limit
            node["escalate_role"] = attrs.get("escalateRole", "")
            node["excluded_step"] = attrs.get("excludedStep", "")
            node["form"] = attrs.get("formKey", "") or el.get("{http://camunda.org/schema/1.0/bpmn}formKey", "")
            for what in ("candidateRole", "candidateOrg", "limitDays", "assignee"):
                self._check_expr(el, eid, f"tongban:{what}", attrs.get(what))
            self._resource_assignments(el, eid, node)
            # the candidate role and organisation may still come from the task's lane: checked in _assign_lanes
            self.user_tasks[eid] = el
        elif tag == "serviceTask":
            handler = attrs.get("handler", "")
            node["handler"] = handler
            node["attrs"] = {k: v for k, v in attrs.items() if k != "handler"}
            if not handler:
                self.error(el, eid, "service task needs tongban:handler (a registered handler name)")
            else:
                from .registry import handler_exists

                if not handler_exists(handler):
                    self.error(el, eid, f"unknown service handler '{handler}'")
        elif tag == "businessRuleTask":
            ref = attrs.get("decisionRef") or el.get("{http://camunda.org/schema/1.0/bpmn}decisionRef") or ""
            node["decision_ref"] = ref
            node["result_variable"] = attrs.get("resultVariable") or ref
            if not ref:
                self.error(el, eid, "business rule task needs tongban:decisionRef (a DMN decision id)")
        elif tag == "callActivity":
            called = el.get("calledElement") or attrs.get("calledElement", "")
            node["called_element"] = called
            node["collection"] = attrs.get("collection", "")
            node["element_variable"] = attrs.get("elementVariable") or "item"
            node["result_variable"] = attrs.get("resultVariable") or f"{eid}_results"
            node["business_key"] = attrs.get("businessKey", "")
            if not called:
                self.error(el, eid, "call activity needs calledElement (the key of the process to call)")
            self._check_expr(el, eid, "calledElement", called)
            self._check_expr(el, eid, "tongban:businessKey", node["business_key"])
            coll = node["collection"]
            if coll:
                msg = expressions.check(coll)
                if msg:
                    self.error(el, eid, f"tongban:collection: invalid expression {coll!r}: {msg}")
        elif tag == "exclusiveGateway":
            node["default"] = el.get("default") or ""
        if tag in ACTIVITIES or tag == "exclusiveGateway":
            node.setdefault("default", el.get("default") or "")
        return node

    def _flow(self, el: Any, fid: str, scope: str) -> None:
        cond = None
        for child in el:
            if local(child.tag) == "conditionExpression":
                cond = (child.text or "").strip() or None
                if cond:
                    msg = expressions.check(cond)
                    if msg:
                        self.error(child, fid, f"invalid condition {cond!r}: {msg}")
        self.flows[fid] = {
            "source": el.get("sourceRef") or "", "target": el.get("targetRef") or "", "condition": cond,
            "name": (el.get("name") or "").strip(), "line": el.sourceline or 0, "scope": scope,
        }

    def _link(self) -> None:
        for fid, flow in self.flows.items():
            line = flow["line"]
            source_dropped, target_dropped = (flow[end] in self.dropped and flow[end] not in self.elements
                                              for end in ("source", "target"))
            if source_dropped or target_dropped:
                # a flow to or from a refused element: that element's error says it all
                self.dropped_flows.add(fid)
                if target_dropped:
                    self.flows_to_dropped.add(flow["source"])
                continue
            ok = True
            for end in ("source", "target"):
                ref = flow[end]
                if not ref:
                    self.issues.append(Issue(line, fid, f"sequence flow has no {end}Ref"))
                    ok = False
                elif ref not in self.elements:
                    self.issues.append(Issue(line, fid, f"sequence flow {end} '{ref}' is a missing id"))
                    ok = False
            if not ok:
                continue
            src, tgt = self.elements[flow["source"]], self.elements[flow["target"]]
            if src["scope"] != flow["scope"] or tgt["scope"] != flow["scope"]:
                self.issues.append(Issue(line, fid, "sequence flow crosses a sub-process boundary"))
                continue
            src["out"].append(fid)
            tgt["in"].append(fid)
            if tgt["type"] in ("startEvent", "boundaryEvent"):
                self.issues.append(Issue(line, fid, f"sequence flow into {tgt['type']} '{flow['target']}'"))
            if src["type"] == "endEvent":
                self.issues.append(Issue(line, fid, f"sequence flow out of end event '{flow['source']}'"))
        for eid, node in self.elements.items():
            line = node["line"]
            t = node["type"]
            dangling = not node["out"] and eid not in self.flows_to_dropped
            if t in ("exclusiveGateway", "parallelGateway") and dangling:
                self.issues.append(Issue(line, eid, "gateway without outgoing sequence flow"))
            if t in ("startEvent", "boundaryEvent", "intermediateCatchEvent") and dangling:
                self.issues.append(Issue(line, eid, f"{t} without outgoing sequence flow"))
            default = node.get("default")
            if default and default not in self.dropped_flows:
                if default not in self.flows:
                    self.issues.append(Issue(line, eid, f"default flow '{default}' is a missing id"))
                elif default not in node["out"]:
                    self.issues.append(Issue(line, eid, f"default flow '{default}' does not leave this element"))
            if t == "boundaryEvent":
                host = node["attached_to"]
                if host in self.dropped and host not in self.elements:
                    pass  # attached to a refused element, reported there
                elif not host or host not in self.elements:
                    self.issues.append(Issue(line, eid, f"boundary event attached to missing id '{host}'"))
                elif self.elements[host]["type"] not in ACTIVITIES:
                    self.issues.append(Issue(line, eid, f"boundary event attached to '{host}', which is not an activity"))
                else:
                    node["scope"] = self.elements[host]["scope"]
                    self.boundaries.setdefault(host, []).append(eid)
            if t == "exclusiveGateway" and len(node["out"]) > 1:
                for fid in node["out"]:
                    if fid != default and not self.flows[fid]["condition"]:
                        self.issues.append(Issue(self.flows[fid]["line"], fid,
                                                 "flow out of an exclusive gateway needs a condition or must be the default"))


def parse_bpmn(data: bytes | str, filename: str = "<string>",
               organisations: OrganisationLookup | None = None) -> ParsedFile:
    """Parse a BPMN file into one ``ParsedProcess`` per executable process; raise ``DefinitionError``.
    ``organisations`` resolves swimlane and resource names to organisation codes (default: the database, asked
    only when a lane or a resource assignment has to assign a task)."""
    root = parse_xml(data, filename)
    issues: list[Issue] = []
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DefinitionError([Issue(root.sourceline or 1, root.get("id") or "-",
                                     f"not a BPMN 2.0 file: root element is '{local(root.tag)}' "
                                     f"(expected definitions in {BPMN_NS})")], filename)
    result = ParsedFile(root=root)
    process_els = [el for el in root if local(el.tag) == "process"]
    if not process_els:
        raise DefinitionError([Issue(root.sourceline or 1, root.get("id") or "-", "no process in file")], filename)
    for pel in process_els:
        flow_children = [c for c in pel if local(c.tag) not in IGNORED and local(c.tag)]
        if not flow_children and len(process_els) > 1:
            continue  # an empty pool of a collaboration diagram
        graph = _ProcessParser(pel, issues, organisations).parse()
        if graph is not None:
            result.processes.append(ParsedProcess(key=graph["key"], name=graph["name"], graph=graph))
    if issues:
        raise DefinitionError(issues, filename)
    result.has_diagram = any(
        local(el.tag) == "BPMNShape" for d in root if local(d.tag) == "BPMNDiagram" for el in d.iter()
    )
    return result
