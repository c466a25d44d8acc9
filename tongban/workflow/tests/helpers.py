"""Small builders for BPMN/DMN test files."""

from __future__ import annotations

from tongban.workflow.bpmn import BPMN_NS, TONGBAN_NS

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def bpmn(key: str, body: str, process_attrs: str = "", extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:tongban="{TONGBAN_NS}" id="defs_{key}"'
        ' targetNamespace="https://tongban.org/test">\n'
        f'  <bpmn:process id="{key}" name="{key}" isExecutable="true" {process_attrs}>\n{body}\n  </bpmn:process>\n'
        f"{extra}</bpmn:definitions>\n"
    )


def flow(fid: str, source: str, target: str, cond: str | None = None) -> str:
    if cond is None:
        return f'    <bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'    <bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>')


def user_task(tid: str, name: str = "", org: str = "yx-scjg", role: str = "approver", outcomes: str = "",
              extra: str = "", body: str = "") -> str:
    attrs = f'tongban:candidateRole="{role}"'
    if org:
        attrs += f' tongban:candidateOrg="{org}"'
    if outcomes:
        attrs += f' tongban:outcomes="{outcomes}"'
    return f'    <bpmn:userTask id="{tid}" name="{name or tid}" {attrs} {extra}>{body}</bpmn:userTask>'


def chain(*ids: str) -> str:
    """Flows f_a_b between consecutive ids."""
    return "\n".join(flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:], strict=False))


def simple(key: str = "simple", outcomes: str = "approve,reject", extra: str = "") -> str:
    return bpmn(key, "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("review", "审查", outcomes=outcomes, extra=extra),
        '    <bpmn:endEvent id="end"/>',
        chain("start", "review", "end"),
    ]))


def dmn(decision_id: str, hit_policy: str, inputs: list[str], outputs: list[str], rules: list[tuple[list[str], list[str]]],
        aggregation: str = "") -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    ins = "".join(
        f'<input id="in{i}" label="{e}"><inputExpression id="ie{i}"><text>{e}</text></inputExpression></input>'
        for i, e in enumerate(inputs))
    outs = "".join(f'<output id="out{i}" name="{o}"/>' for i, o in enumerate(outputs))
    rs = []
    for n, (ientries, oentries) in enumerate(rules):
        cells = "".join(f"<inputEntry><text>{_esc(t)}</text></inputEntry>" for t in ientries)
        cells += "".join(f"<outputEntry><text>{_esc(t)}</text></outputEntry>" for t in oentries)
        rs.append(f'<rule id="r{n + 1}">{cells}</rule>')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN_NS}" id="defs_{decision_id}" name="d" '
        f'namespace="https://tongban.org/test">\n<decision id="{decision_id}" name="{decision_id}">\n'
        f'<decisionTable id="t_{decision_id}" hitPolicy="{hit_policy}"{agg}>{ins}{outs}\n' + "\n".join(rs)
        + "\n</decisionTable>\n</decision>\n</definitions>\n"
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
