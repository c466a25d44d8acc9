"""The deployed BPMN as a Petri net for conformance checking (token-based replay with pm4py).

pm4py's own BPMN importer reads simple files but fails on call activities (``bundle_one_thing``) and knows nothing
of the engine's semantics, so the net is built from the engine's parsed graph (``ProcessDefinition.graph``) with the
usual BPMN → Petri-net mapping:

- every sequence flow is a place; the start event is a silent transition from the source place; every end event a
  silent transition into the one sink place (initial marking: source; final marking: sink);
- an activity (user, service, business-rule, plain task, call activity) is a transition labelled with its name,
  consuming from its entry place and producing on every outgoing flow; several incoming flows merge (XOR) into an
  entry place through silent transitions;
- an exclusive (or inclusive, event-based) gateway is a place with silent transitions in and out (a choice); a
  parallel gateway one silent transition consuming every incoming and producing every outgoing flow;
- intermediate events are silent transitions;
- a sub-process is inlined: a silent transition into its start, its end events into an exit place, and a
  transition labelled with the sub-process name from there (the engine logs the sub-process's completion);
- an interrupting boundary event is a silent transition from the host's entry place (the host was skipped);
  non-interrupting boundary events (reminders) do not change the case's path and are left out.
"""

from __future__ import annotations

from typing import Any

ACTIVITIES = {"userTask", "serviceTask", "task", "manualTask", "businessRuleTask", "callActivity", "scriptTask",
              "sendTask", "receiveTask"}
CHOICES = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway"}


def petri_from_graph(graph: dict[str, Any]) -> tuple[Any, Any, Any, set[str]]:
    """(net, initial marking, final marking, the activity labels) of a parsed process graph."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils.petri_utils import add_arc_from_to

    net = PetriNet(graph.get("key", "process"))
    places: dict[str, Any] = {}
    labels: set[str] = set()
    counter = [0]

    def place(name: str) -> Any:
        if name not in places:
            p = PetriNet.Place(name)
            net.places.add(p)
            places[name] = p
        return places[name]

    def trans(label: str | None, ins: list[Any], outs: list[Any]) -> Any:
        counter[0] += 1
        t = PetriNet.Transition(f"t{counter[0]}", label)
        net.transitions.add(t)
        for p in ins:
            add_arc_from_to(p, t, net)
        for p in outs:
            add_arc_from_to(t, p, net)
        return t

    source, sink = place("source"), place("sink")
    elements: dict[str, dict[str, Any]] = graph["elements"]
    flows: dict[str, dict[str, Any]] = graph["flows"]
    for fid in flows:
        place(f"flow:{fid}")

    entries: dict[str, Any] = {}

    def entry(eid: str, node: dict[str, Any]) -> Any:
        """The place a node consumes from: its one incoming flow, or a merge of several (or the scope start)."""
        if eid in entries:
            return entries[eid]
        ins = [places[f"flow:{f}"] for f in node.get("in", [])]
        if len(ins) == 1:
            entries[eid] = ins[0]
            return ins[0]
        p = entries[eid] = place(f"entry:{eid}")
        for q in ins:
            trans(None, [q], [p])
        return p

    def outs(node: dict[str, Any]) -> list[Any]:
        return [places[f"flow:{f}"] for f in node.get("out", [])]

    starts: dict[str, str] = graph.get("starts", {})
    scope_entry: dict[str, Any] = {"": source}
    scope_exit: dict[str, Any] = {"": sink}
    for eid, node in elements.items():
        if node["type"] == "subProcess":
            scope_entry[eid] = place(f"sub-entry:{eid}")
            scope_exit[eid] = place(f"sub-exit:{eid}")
    for eid, node in elements.items():
        kind, scope = node["type"], node.get("scope", "")
        if scope not in scope_entry:  # inside a construct this mapping does not inline
            continue
        name = node.get("name") or eid
        if kind == "startEvent":
            if starts.get(scope) == eid:
                trans(None, [scope_entry[scope]], outs(node))
        elif kind == "endEvent":
            for p in [places[f"flow:{f}"] for f in node.get("in", [])]:
                trans(None, [p], [scope_exit[scope]])
        elif kind in ACTIVITIES:
            labels.add(name)
            trans(name, [entry(eid, node)], outs(node))
        elif kind == "subProcess":
            labels.add(name)
            trans(None, [entry(eid, node)], [scope_entry[eid]])
            trans(name, [scope_exit[eid]], outs(node))
        elif kind in CHOICES:
            p = entry(eid, node)
            for q in outs(node):
                trans(None, [p], [q])
        elif kind == "parallelGateway":
            trans(None, [places[f"flow:{f}"] for f in node.get("in", [])], outs(node))
        elif kind == "boundaryEvent":
            host = elements.get(node.get("attached_to", ""))
            if host is not None and node.get("cancel", True):
                trans(None, [entry(node["attached_to"], host)], outs(node))
        else:  # intermediate catch / throw events
            trans(None, [entry(eid, node)], outs(node))
    return net, Marking({source: 1}), Marking({sink: 1}), labels
