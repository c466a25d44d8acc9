"""Diagram information (BPMN DI) for files written by hand: a simple left-to-right layered layout.

Files drawn in the bpmn.io modeler carry their own ``bpmndi`` layout and are shown as drawn; for the others this
module adds one so that the bpmn-js viewer can display them. Sub-processes are drawn collapsed, each with its
own drill-down plane.
"""

from __future__ import annotations

import copy
from collections import defaultdict, deque
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
    # height: longest path to a sink (back edges ignored); the longest branch stays on the row of its source
    height: dict[str, int] = {}
    for node in order:  # post-order: successors first
        h = 0
        for nxt in succ.get(node, ()):
            if (node, nxt) not in back and nxt in elements:
                h = max(h, height.get(nxt, 0) + 1)
        height[node] = h
    boundary_ids = {b for host in elements for b in graph["boundaries"].get(host, ())}
    occupied: set[tuple[int, int]] = set()
    row_of: dict[str, int] = {}

    def place(node: str, want: int) -> None:
        r, row = rank[node], max(want, 0)
        while (r, row) in occupied:
            row += 1
        occupied.add((r, row))
        row_of[node] = row

    main: deque[tuple[str, int]] = deque([(start, 0)] if start in elements else [])
    later: deque[tuple[str, int]] = deque()
    pending = [e for e in elements if e not in boundary_ids]
    while main or later or pending:
        if main:
            node, want = main.popleft()
        elif later:
            node, want = later.popleft()
        else:
            node, want = pending.pop(0), 0
        if node in row_of or node in boundary_ids:
            continue
        place(node, want)
        row = row_of[node]
        normal = [t for t in succ.get(node, ()) if t not in boundary_ids and t in elements]
        normal.sort(key=lambda t: -height.get(t, 0))
        for i, tgt in enumerate(normal):
            main.append((tgt, row + i))
        for b in graph["boundaries"].get(node, ()):
            for tgt in succ.get(b, ()):
                later.append((tgt, row + 1))
    shapes: dict[str, tuple[int, int, int, int]] = {}
    boundary_count: dict[str, int] = defaultdict(int)
    for node, row in row_of.items():
        w, h = _size(elements[node]["type"])
        cx = X0 + rank[node] * COL + TASK_SIZE[0] // 2
        cy = Y0 + row * ROW + TASK_SIZE[1] // 2
        shapes[node] = (cx - w // 2, cy - h // 2, w, h)
    for eid, node in elements.items():
        if node["type"] == "boundaryEvent" and node.get("attached_to") in shapes:
            hx, hy, hw, hh = shapes[node["attached_to"]]
            i = boundary_count[node["attached_to"]]
            boundary_count[node["attached_to"]] += 1
            shapes[eid] = (hx + hw - 48 - i * 40, hy + hh - 18, 36, 36)
    edges: dict[str, list] = {}
    for fid, f in flows.items():
        if f["source"] not in shapes or f["target"] not in shapes:
            continue
        sx, sy, sw, sh = shapes[f["source"]]
        tx, ty, tw, th = shapes[f["target"]]
        b = (tx, ty + th // 2)
        source_kind = elements[f["source"]]["type"]
        if source_kind == "boundaryEvent":
            host = elements[f["source"]]["attached_to"]
            gap = X0 + rank.get(host, 0) * COL + TASK_SIZE[0] + (COL - TASK_SIZE[0]) // 2
            drop = sy + sh + 14
            edges[fid] = [(sx + sw // 2, sy + sh), (sx + sw // 2, drop), (gap, drop), (gap, b[1]), b]
            continue
        a = (sx + sw, sy + sh // 2)
        if b[0] <= a[0]:  # a loop back: round below both
            low = max(sy + sh, ty + th) + 30
            edges[fid] = [(sx + sw // 2, sy + sh), (sx + sw // 2, low), (tx + tw // 2, low), (tx + tw // 2, ty + th)]
        elif a[1] == b[1]:
            edges[fid] = [a, b]
        else:  # vertical segment in the gap right after the source's column, never through a shape
            gap = X0 + rank[f["source"]] * COL + TASK_SIZE[0] + (COL - TASK_SIZE[0]) // 2
            edges[fid] = [a, (gap, a[1]), (gap, b[1]), b]
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
    diagrams = []
    for graph in graphs:
        diagrams.append(_diagram(graph["key"], graph["key"], graph, "", n))
        n += 1
        for eid, node in graph["elements"].items():
            if node["type"] == "subProcess":
                diagrams.append(_diagram(eid, eid, graph, eid, n))
                n += 1
    if len(root):
        root[-1].tail = "\n  "
    for i, diagram in enumerate(diagrams):
        etree.indent(diagram, space="  ", level=1)
        diagram.tail = "\n" if i == len(diagrams) - 1 else "\n  "
        root.append(diagram)
    nsmap = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
    etree.cleanup_namespaces(root, top_nsmap=nsmap)
    return etree.tostring(root, encoding="unicode", pretty_print=True)
