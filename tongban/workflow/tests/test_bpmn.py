from __future__ import annotations

import pytest

from tongban.workflow.bpmn import DefinitionError, parse_bpmn, parse_duration

from .helpers import bpmn, chain, flow, simple, user_task


def errors(xml: str, filename: str = "p.bpmn") -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_bpmn(xml, filename)
    return info.value.lines()


def line_of(xml: str, needle: str) -> int:
    for n, line in enumerate(xml.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def test_parses_the_subset():
    parsed = parse_bpmn(simple(), "s.bpmn")
    [proc] = parsed.processes
    assert proc.key == "simple"
    g = proc.graph
    assert g["starts"] == {"": "start"}
    review = g["elements"]["review"]
    assert review["type"] == "userTask"
    assert review["candidate_role"] == "approver"
    assert review["candidate_org"] == "yx-scjg"
    assert review["outcomes"] == ["approve", "reject"]
    assert review["in"] == ["f_start_review"] and review["out"] == ["f_review_end"]
    assert parsed.has_diagram is False


def test_xml_syntax_error_reports_its_line():
    xml = simple().replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end">')
    [msg] = errors(xml)
    assert msg.startswith("p.bpmn:")
    assert "XML syntax error" in msg
    line = int(msg.split(":")[1])
    assert line >= line_of(xml, 'id="end"')


def test_unknown_element_type_with_line_and_id():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:fancyTask id="weird"/>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "end"),
    ]))
    assert errors(xml) == [f"p.bpmn:{line_of(xml, 'fancyTask')}: element weird: unknown element type 'fancyTask'"]


def test_unsupported_script_task():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:scriptTask id="script1"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "script1", "end"),
    ]))
    msgs = errors(xml)
    assert f"p.bpmn:{line_of(xml, 'scriptTask')}: element script1: unsupported element type 'scriptTask'" in msgs


def test_flow_to_missing_id():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:endEvent id="end"/>',
        flow("f1", "start", "nowhere"),
    ]))
    msgs = errors(xml)
    assert f"p.bpmn:{line_of(xml, 'f1')}: element f1: sequence flow target 'nowhere' is a missing id" in msgs


def test_gateway_without_outgoing_flow_and_missing_start():
    xml = bpmn("p", "\n".join([
        '    <bpmn:exclusiveGateway id="gw"/>',
        '    <bpmn:endEvent id="end"/>',
        flow("f1", "gw", "end").replace('sourceRef="gw" targetRef="end"', 'sourceRef="end" targetRef="gw"'),
    ]))
    msgs = errors(xml)
    assert f"p.bpmn:{line_of(xml, 'exclusiveGateway')}: element gw: gateway without outgoing sequence flow" in msgs
    assert f"p.bpmn:{line_of(xml, '<bpmn:process')}: element p: process has no start event" in msgs
    assert any("sequence flow out of end event" in m for m in msgs)


def test_every_problem_is_reported_in_line_order():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:userTask id="t1" name="no role"/>',
        '    <bpmn:serviceTask id="s1" tongban:handler="no.such.handler"/>',
        '    <bpmn:businessRuleTask id="b1"/>',
        '    <bpmn:callActivity id="c1"/>',
        '    <bpmn:endEvent id="end"/>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "t1", "s1", "b1", "c1", "end"),
    ]))
    msgs = errors(xml)
    assert [m.split(": element ")[1].split(":")[0] for m in msgs] == ["t1", "s1", "b1", "c1", "end"]
    assert "user task needs tongban:candidateRole" in msgs[0]
    assert "unknown service handler 'no.such.handler'" in msgs[1]
    assert "needs tongban:decisionRef" in msgs[2]
    assert "needs calledElement" in msgs[3]
    assert "duplicate id" in msgs[4]
    lines = [int(m.split(":")[1]) for m in msgs]
    assert lines == sorted(lines)


def test_bad_condition_and_unconditioned_exclusive_branch():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:exclusiveGateway id="gw"/>',
        '    <bpmn:endEvent id="e1"/>',
        '    <bpmn:endEvent id="e2"/>',
        flow("f0", "start", "gw"),
        flow("f1", "gw", "e1", "${amount >}"),
        flow("f2", "gw", "e2"),
    ]))
    msgs = errors(xml)
    assert any(m.startswith(f"p.bpmn:{line_of(xml, 'f1')}: element f1: invalid condition") for m in msgs)
    assert any("element f2: flow out of an exclusive gateway needs a condition or must be the default" in m
               for m in msgs)


def test_timers_are_validated():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("t1"),
        '    <bpmn:boundaryEvent id="b1" attachedToRef="t1"><bpmn:timerEventDefinition><bpmn:timeDuration>'
        "five days</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>",
        '    <bpmn:boundaryEvent id="b2" attachedToRef="ghost"><bpmn:timerEventDefinition tongban:workingDays="5"/>'
        "</bpmn:boundaryEvent>",
        '    <bpmn:endEvent id="end"/>',
        chain("start", "t1", "end"), flow("fb1", "b1", "end"), flow("fb2", "b2", "end"),
    ]))
    msgs = errors(xml)
    assert any("element b1: timeDuration 'five days' is not an ISO 8601 duration" in m for m in msgs)
    assert any("element b2: boundary event attached to missing id 'ghost'" in m for m in msgs)


def test_not_bpmn_and_no_process():
    assert "not a BPMN 2.0 file" in errors("<html/>")[0]
    empty = bpmn("p", "").replace('<bpmn:process id="p" name="p" isExecutable="true" >\n\n  </bpmn:process>', "")
    assert "no process in file" in errors(empty)[0]


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = simple().replace('<?xml version="1.0" encoding="UTF-8"?>',
                           f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>')
    in_attribute = xml.replace('name="审查"', 'name="&x;"')
    with pytest.raises(DefinitionError) as info:
        parse_bpmn(in_attribute, "x.bpmn")
    assert "TOPSECRET" not in str(info.value)
    in_text = xml.replace('<bpmn:endEvent id="end"/>', '<bpmn:endEvent id="end" name="e"><bpmn:documentation>&x;'
                          '</bpmn:documentation></bpmn:endEvent>')
    parsed = parse_bpmn(in_text, "x.bpmn")
    assert "TOPSECRET" not in str(parsed.processes[0].graph)
    assert "TOPSECRET" not in str(parsed.root.xpath("string()"))


@pytest.mark.parametrize(("text", "ok"), [("P5D", True), ("PT1H30M", True), ("P1Y2M", True), ("P2W", True),
                                          ("PT0.5S", True), ("P", False), ("PT", False), ("5D", False),
                                          ("P1DT", False)])
def test_iso_durations(text, ok):
    assert (parse_duration(text) is not None) is ok


MODELER_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="bpmn-js (https://demo.bpmn.io)"
  exporterVersion="17.0.0">
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_1" name="市场监管局" processRef="Process_1" />
  </bpmn:collaboration>
  <bpmn:process id="Process_1" isExecutable="false">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="审批科"><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_1" name="审查">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="candidateRole" value="approver" />
          <camunda:property name="candidateOrg" value="yx-scjg" />
          <camunda:property name="outcomes" value="approve,reject" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_1" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_1" targetRef="EndEvent_1" />
    <bpmn:textAnnotation id="TextAnnotation_1"><bpmn:text>备注</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="Association_1" sourceRef="Task_1" targetRef="TextAnnotation_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_1">
      <bpmndi:BPMNShape id="Participant_1_di" bpmnElement="Participant_1" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="600" height="250" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="_BPMNShape_StartEvent_2" bpmnElement="StartEvent_1">
        <dc:Bounds x="179" y="159" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_1_di" bpmnElement="Task_1"><dc:Bounds x="270" y="137" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_1_di" bpmnElement="EndEvent_1">
        <dc:Bounds x="432" y="159" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="215" y="177" /><di:waypoint x="270" y="177" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="370" y="177" /><di:waypoint x="432" y="177" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_modeler_file_imports_with_its_diagram():
    parsed = parse_bpmn(MODELER_FILE, "modeler.bpmn")
    assert parsed.has_diagram
    [proc] = parsed.processes
    task = proc.graph["elements"]["Task_1"]
    assert (task["candidate_role"], task["candidate_org"], task["outcomes"]) == ("approver", "yx-scjg",
                                                                                  ["approve", "reject"])
