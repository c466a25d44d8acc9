"""BPMN 2.0 XML parser for the subset the engine runs (see docs/workflow.md).

The result is a plain JSON-able ``graph`` dict stored on ``ProcessDefinition`` and turned into a ``Graph`` for
execution. Malformed files give every problem found as ``FILE:LINE: element ID: message``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from . import expressions

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
TONGBAN_NS = "https://tongban.org/schema/bpmn"

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
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# Who may start a process through the API (a process attribute: comma-separated names). The Camunda modeler's
# ``candidateStarterGroups`` are read as role codes and its ``candidateStarterUsers`` as usernames.
STARTER_ATTRS = {"roles": ("starterRoles", "candidateStarterGroups"), "orgs": ("starterOrgs", None),
                 "users": ("starterUsers", "candidateStarterUsers")}


@dataclass
class Issue:
    line: int
    element_id: str
    message: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}: element {self.element_id or '-'}: {self.message}"


class DefinitionError(ValueError):
    """A BPMN or DMN file that cannot be deployed; ``issues`` lists every problem with its line."""

    code = "workflow.invalid_definition"

    def __init__(self, issues: list[Issue], filename: str = "<string>") -> None:
        self.issues = sorted(issues, key=lambda i: (i.line, i.element_id))
        self.filename = filename
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [i.format(self.filename) for i in self.issues]


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


def local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def parse_duration(text: str) -> dict[str, float] | None:
    """ISO 8601 duration (P5D, PT1H30M, P1Y2M, P2W) as components, or None when malformed."""
    m = _ISO_DURATION.match(text.strip())
    if not m:
        return None
    parts = {k: float(v) for k, v in m.groupdict().items() if v is not None}
    return parts or None


def extension_attrs(el: Any) -> dict[str, str]:
    """``tongban:*`` attributes (any namespace containing "tongban") and ``<*:property name= value=>`` entries
    inside ``extensionElements`` (tongban, camunda and zeebe modeler styles)."""
    attrs: dict[str, str] = {}
    for ext in el:
        if local(ext.tag) != "extensionElements":
            continue
        for prop in ext.iter():
            if local(prop.tag) == "property" and prop.get("name"):
                attrs[prop.get("name")] = prop.get("value", prop.text or "")
    for name, value in el.attrib.items():
        if name.startswith("{"):
            ns, _, ln = name[1:].partition("}")
            if "tongban" in ns:
                attrs[ln] = value
            elif ln in ("collection", "elementVariable", "resultVariable") and ("camunda" in ns or "zeebe" in ns):
                attrs.setdefault(ln, value)
    return attrs


class _ProcessParser:
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

    # --- who does a user task: explicit attributes, BPMN resource assignments, swimlanes ------------------------

    def _resources(self) -> dict[str, str]:
        """``<resource id name>`` of the file (the targets of ``resourceRef``): id -> name."""
        if not hasattr(self, "_resource_names"):
            root = self.process_el.getparent()
            self._resource_names = {r.get("id"): (r.get("name") or r.get("id") or "").strip()
                                    for r in (root if root is not None else []) if local(r.tag) == "resource"}
        return self._resource_names

    def _resource_assignments(self, el: Any, eid: str, node: dict[str, Any]) -> None:
        """BPMN's standard ``potentialOwner`` / ``humanPerformer`` (and ``performer``) of a user task:
        ``user(name)`` is the assignee, ``group(role)`` the candidate role, ``org(name)`` the candidate
        organisation (its code, full or short name); a bare name is a user for ``humanPerformer`` and a role (or
        an organisation, when it names one) for ``potentialOwner``; a ``resourceRef`` stands for its resource's
        name. Explicit ``tongban:`` / ``camunda:`` attributes win over what is read here."""
        users: list[str] = []
        groups: list[str] = []
        orgs: list[str] = []
        bare: list[str] = []
        for child in el:
            kind = local(child.tag)
            if kind not in ("potentialOwner", "humanPerformer", "performer"):
                continue
            texts: list[str] = []
            for part in child.iter():
                pt = local(part.tag)
                if pt == "formalExpression" and (part.text or "").strip():
                    texts.append(part.text.strip())
                elif pt == "resourceRef" and (part.text or "").strip():
                    ref = part.text.strip().split(":")[-1]
                    texts.append(self._resources().get(ref, ref))
            if child.get("resourceRef"):
                ref = child.get("resourceRef").split(":")[-1]
                texts.append(self._resources().get(ref, ref))
            for text in texts:
                for token in _split_assignment(text):
                    m = _ASSIGNMENT.match(token)
                    if m:
                        what, value = m.group(1).lower(), m.group(2).strip()
                        {"user": users, "group": groups, "org": orgs, "organisation": orgs,
                         "organization": orgs}[what].append(value)
                    elif kind == "potentialOwner":
                        bare.append(token)
                    else:
                        users.append(token)
        if not (users or groups or orgs or bare):
            return
        node["resource_bare"] = bare
        if len(set(users)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner / humanPerformer names more than one user ("
                                + ", ".join(sorted(set(users))) + "): a task has one assignee (use group(role))")
        elif users and not node["assignee"]:
            node["assignee"] = users[0]
            self._check_expr(el, eid, "humanPerformer", users[0])
        if len(set(groups)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner names more than one group (" + ", ".join(sorted(set(groups)))
                                + "): a task is offered to one role")
        elif groups and not node["candidate_role"]:
            node["candidate_role"] = groups[0]
            self._check_expr(el, eid, "potentialOwner", groups[0])
        if len(set(orgs)) > 1:
            node["resource_error"] = True
            self.error(el, eid, "potentialOwner names more than one organisation (" + ", ".join(sorted(set(orgs)))
                                + "): a task is offered to one organisation")
        elif orgs and not node["candidate_org"]:
            node["resource_org"] = orgs[0]

    def _lanes(self) -> dict[str, Any]:
        """Flow node id -> the innermost lane (``<lane>`` element) that lists it, anywhere in the process."""
        lane_of: dict[str, Any] = {}
        for lane in self.process_el.iter(f"{{{BPMN_NS}}}lane"):  # document order: nested lanes come later
            for ref in lane:
                if local(ref.tag) == "flowNodeRef" and (ref.text or "").strip():
                    lane_of[ref.text.strip()] = lane
        return lane_of

    def _assign_lanes(self) -> None:
        """Settle each user task's candidate role and organisation. Order of precedence: explicit
        ``tongban:candidateRole`` / ``camunda:candidateGroups`` and ``tongban:candidateOrg``; the task's
        ``potentialOwner`` / ``humanPerformer``; the swimlane (泳道) holding the task (or its sub-process), whose
        name is an organisation's code, full name or short name — the task's role is then ``approver`` unless
        the task (or the lane's ``tongban:candidateRole``) names another. A lane that has to assign a task but
        names no known organisation is an error on the lane."""
        if not self.user_tasks:
            return
        tasks = [(eid, el, self.elements[eid]) for eid, el in self.user_tasks.items() if eid in self.elements]
        found: dict[str, list[str]] = {}
        reported: set[int] = set()

        def lookup(names: set[str]) -> None:
            names = {n for n in names if n and n not in found and not expressions.is_wrapped(n)}
            if names:
                found.update(self.organisations(names))

        def resolve(el: Any, eid: str, name: str, what: str) -> str:
            codes = found.get(name, [])
            if len(codes) == 1:
                return codes[0]
            if id(el) not in reported:
                reported.add(id(el))
                if not name:
                    self.error(el, eid, f"{what} has no name: name it after the organisation that does its tasks "
                                        "(the organisation's code, full name or short name)")
                elif not codes:
                    self.error(el, eid, f"{what} '{name}' names no known organisation (use an organisation's code, "
                                        "full name or short name)")
                else:
                    self.error(el, eid, f"{what} '{name}' names more than one organisation ("
                                        + ", ".join(sorted(codes)) + "): use the organisation's code")
            return ""

        # 1. potentialOwner names (a bare name may be an organisation, else it is a role)
        lookup({t for _, _, node in tasks if not node["candidate_org"]
                for t in [*node.get("resource_bare", []), node.get("resource_org", "")]})
        for eid, el, node in tasks:
            bare = node.pop("resource_bare", [])
            org_ref = node.pop("resource_org", "")
            for token in bare:
                if len(found.get(token, [])) == 1 and not org_ref and not node["candidate_org"]:
                    org_ref = token
                elif not node["candidate_role"]:
                    node["candidate_role"] = token
            if org_ref and not node["candidate_org"]:
                node["candidate_org"] = (org_ref if expressions.is_wrapped(org_ref)
                                         else resolve(el, eid, org_ref, "potentialOwner organisation"))
                node["org_from"] = "potentialOwner"
        # 2. the lanes of the tasks still without an organisation
        lane_of = self._lanes()
        wanted: dict[str, tuple[Any, str]] = {}
        for eid, _, node in tasks:
            if node["candidate_org"] or node.get("org_from"):
                continue
            lane, holder = None, eid
            while lane is None and holder:
                lane = lane_of.get(holder)
                holder = self.elements[holder]["scope"] if holder in self.elements else ""
            if lane is not None:
                wanted[eid] = (lane, _compact(lane.get("name") or ""))
        lookup({name for _, name in wanted.values()})
        for eid, el, node in tasks:
            lane_role = ""
            if eid in wanted:
                lane, name = wanted[eid]
                node["candidate_org"] = resolve(lane, lane.get("id") or "-", name, "lane")
                node["org_from"] = "lane"
                node["lane"] = name
                lane_role = extension_attrs(lane).get("candidateRole", "")
            if not node["candidate_role"] and node.get("org_from"):
                node["candidate_role"] = lane_role or "approver"
            if not node["candidate_role"] and not node.pop("resource_error", False):
                self.error(el, eid, "user task needs tongban:candidateRole (e.g. approver)")
            node.pop("resource_error", None)

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


OrganisationLookup = Callable[[set[str]], dict[str, list[str]]]
_ASSIGNMENT = re.compile(r"^(user|group|org|organisation|organization)\((.*)\)$", re.IGNORECASE | re.DOTALL)


def _split_assignment(text: str) -> list[str]:
    """``user(a), group(b)`` -> ["user(a)", "group(b)"]: commas outside parentheses and ``${...}`` split."""
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _compact(name: str) -> str:
    """A lane or resource name as drawn: modelers wrap long names, so whitespace is dropped."""
    return "".join(name.split())


def database_organisations(names: set[str]) -> dict[str, list[str]]:
    """The organisations each name stands for: name -> codes of the organisations whose code, full name or
    short name it is (one query). Whitespace inside the stored names is ignored, as in lane names."""
    from django.db.models import Q

    from tongban.core.models import Organisation

    found: dict[str, set[str]] = {}
    rows = Organisation.objects.filter(Q(code__in=names) | Q(name__in=names) | Q(short_name__in=names)
                                       ).values_list("code", "name", "short_name")
    for code, name, short in rows:
        for value in {code, name, short}:
            key = _compact(value or "")
            if key in names:
                found.setdefault(key, set()).add(code)
    # a code match wins over a name that happens to equal another organisation's code
    return {n: ([n] if n in codes else sorted(codes)) for n, codes in found.items()}


def _parse_xml(data: bytes | str, filename: str) -> Any:
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0) or 0
        raise DefinitionError([Issue(line, "-", f"XML syntax error: {exc.msg}")], filename) from exc


def parse_bpmn(data: bytes | str, filename: str = "<string>",
               organisations: OrganisationLookup | None = None) -> ParsedFile:
    """Parse a BPMN file into one ``ParsedProcess`` per executable process; raise ``DefinitionError``.
    ``organisations`` resolves swimlane and resource names to organisation codes (default: the database, asked
    only when a lane or a resource assignment has to assign a task)."""
    root = _parse_xml(data, filename)
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
