"""Diagram information (BPMN DI) for files written by hand: a simple left-to-right layered layout.

Files drawn in the bpmn.io modeler carry their own ``bpmndi`` layout and are shown as drawn; for the others this
module adds one so that the bpmn-js viewer can display them. Sub-processes are drawn collapsed, each with its
own drill-down plane.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from lxml import etree

from .bpmn import BPMN_NS, BPMNDI_NS, local

DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

SIZES = {
    "startEvent": (36, 36), "endEvent": (36, 36), "intermediateCatchEvent": (36, 36),
    "intermediateThrowEvent": (36, 36), "boundaryEvent": (36, 36),
    "exclusiveGateway": (50, 50), "parallelGateway": (50, 50),
}
TASK_SIZE = (100, 80)
COL = 170
ROW = 130
X0, Y0 = 160, 80


def _size(kind: str) -> tuple[int, int]:
    return SIZES.get(kind, TASK_SIZE)


def layout_scope(graph: dict[str, Any], scope: str) -> tuple[dict[str, tuple[int, int, int, int]], dict[str, list]]:
    """Shapes (x, y, w, h) of the scope's elements and waypoints of its flows."""
    elements = {k: v for k, v in graph["elements"].items() if v["scope"] == scope}
    flows = {k: v for k, v in graph["flows"].items() if v["scope"] == scope}
    succ: dict[str, list[str]] = defaultdict(list)
    for f in flows.values():
        succ[f["source"]].append(f["target"])
    for host, bids in graph["boundaries"].items():
        if host in elements:
            for b in bids:
                succ[host].append(b)
    start = graph["starts"].get(scope)
    # back edges by DFS so that loops do not push ranks to infinity
    order: list[str] = []
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()

    def dfs(n: str) -> None:
        stack = [(n, iter(succ.get(n, ())))]
        state[n] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                order.append(node)
                stack.pop()
                continue
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ.get(nxt, ()))))

    roots = [start] if start else []
    roots += [e for e in elements if e not in roots]
    for r in roots:
        if r and r not in state and r in elements:
            dfs(r)
    rank: dict[str, int] = {e: 0 for e in elements}
    for node in reversed(order):
        for nxt in succ.get(node, ()):
            if (node, nxt) in back or nxt not in rank:
                continue
            if elements[nxt]["type"] == "boundaryEvent":
                rank[nxt] = max(rank[nxt], rank[node])
            else:
                rank[nxt] = max(rank[nxt], rank[node] + 1)
    rows: dict[int, int] = defaultdict(int)
    shapes: dict[str, tuple[int, int, int, int]] = {}
    boundary_count: dict[str, int] = defaultdict(int)
    for node in reversed(order):
        if node not in elements or elements[node]["type"] == "boundaryEvent":
            continue
        r = rank[node]
        w, h = _size(elements[node]["type"])
        row = rows[r]
        rows[r] += 1
        cx = X0 + r * COL + TASK_SIZE[0] // 2
        cy = Y0 + row * ROW + TASK_SIZE[1] // 2
        shapes[node] = (cx - w // 2, cy - h // 2, w, h)
    for eid, node in elements.items():
        if node["type"] == "boundaryEvent" and node.get("attached_to") in shapes:
            hx, hy, hw, hh = shapes[node["attached_to"]]
            i = boundary_count[node["attached_to"]]
            boundary_count[node["attached_to"]] += 1
            shapes[eid] = (hx + hw - 48 - i * 40, hy + hh - 18, 36, 36)
        elif eid not in shapes:
            r = rank.get(eid, 0)
            w, h = _size(node["type"])
            row = rows[r]
            rows[r] += 1
            shapes[eid] = (X0 + r * COL, Y0 + row * ROW, w, h)
    edges: dict[str, list] = {}
    for fid, f in flows.items():
        if f["source"] not in shapes or f["target"] not in shapes:
            continue
        sx, sy, sw, sh = shapes[f["source"]]
        tx, ty, tw, th = shapes[f["target"]]
        if elements[f["source"]]["type"] == "boundaryEvent":
            start_pt = (sx + sw // 2, sy + sh)
            end_pt = (tx, ty + th // 2)
            edges[fid] = [start_pt, (start_pt[0], end_pt[1]), end_pt]
            continue
        a = (sx + sw, sy + sh // 2)
        b = (tx, ty + th // 2)
        if b[0] <= a[0]:  # a loop back: go round below
            low = max(sy + sh, ty + th) + 30
            edges[fid] = [(sx + sw // 2, sy + sh), (sx + sw // 2, low), (tx + tw // 2, low), (tx + tw // 2, ty + th)]
        elif a[1] == b[1]:
            edges[fid] = [a, b]
        else:
            mx = a[0] + 25 if elements[f["source"]]["type"].endswith("Gateway") else (a[0] + b[0]) // 2
            if elements[f["source"]]["type"].endswith("Gateway"):
                a = (sx + sw // 2, sy + sh if b[1] > a[1] else sy)
                edges[fid] = [a, (a[0], b[1]), b]
            else:
                edges[fid] = [a, (mx, a[1]), (mx, b[1]), b]
    return shapes, edges


def _diagram(root_id: str, plane_element: str, graph: dict[str, Any], scope: str, n: int) -> Any:
    shapes, edges = layout_scope(graph, scope)
    diagram = etree.Element(f"{{{BPMNDI_NS}}}BPMNDiagram", id=f"BPMNDiagram_{n}_{root_id}")
    plane = etree.SubElement(diagram, f"{{{BPMNDI_NS}}}BPMNPlane", id=f"BPMNPlane_{n}_{root_id}",
                             bpmnElement=plane_element)
    for eid, (x, y, w, h) in shapes.items():
        attrs = {"id": f"{eid}_di", "bpmnElement": eid}
        kind = graph["elements"][eid]["type"]
        if kind == "subProcess":
            attrs["isExpanded"] = "false"
        if kind == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        shape = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape", **attrs)
        etree.SubElement(shape, f"{{{DC_NS}}}Bounds", x=str(x), y=str(y), width=str(w), height=str(h))
    for fid, points in edges.items():
        edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge", id=f"{fid}_di", bpmnElement=fid)
        for px, py in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(px), y=str(py))
    return diagram


def with_diagram(root: Any, graphs: list[dict[str, Any]]) -> str:
    """The file's XML with generated diagram information (existing ``BPMNDiagram`` elements replaced)."""
    root = copy.deepcopy(root)
    for el in list(root):
        if local(el.tag) == "BPMNDiagram":
            root.remove(el)
    n = 1
    for graph in graphs:
        root.append(_diagram(graph["key"], graph["key"], graph, "", n))
        n += 1
        for eid, node in graph["elements"].items():
            if node["type"] == "subProcess":
                root.append(_diagram(eid, eid, graph, eid, n))
                n += 1
    nsmap = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
    etree.cleanup_namespaces(root, top_nsmap=nsmap)
    return etree.tostring(root, encoding="unicode", pretty_print=True)
