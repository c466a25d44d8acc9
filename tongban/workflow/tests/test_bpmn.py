from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

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
  <bpmn:process id="Process_1" isExecutable="true">
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


def test_modeler_default_non_executable_process_is_refused():
    xml = MODELER_FILE.replace('isExecutable="true"', 'isExecutable="false"')
    assert errors(xml, "modeler.bpmn") == [
        f"modeler.bpmn:{line_of(xml, '<bpmn:process')}: element Process_1: 流程未设为可执行，不能部署（process is not "
        'executable: set isExecutable="true", the modeler\'s "Executable" checkbox）'
    ]


@pytest.mark.parametrize("value", ["false", "0", " False "])
def test_non_executable_values_are_refused(value):
    xml = simple().replace('isExecutable="true"', f'isExecutable="{value}"')
    [msg] = errors(xml)
    assert msg.startswith(f"p.bpmn:{line_of(xml, '<bpmn:process')}: element simple: 流程未设为可执行")


def test_process_without_is_executable_attribute_is_accepted():
    [proc] = parse_bpmn(simple().replace(' isExecutable="true"', ""), "s.bpmn").processes
    assert proc.key == "simple"


def test_non_executable_process_reports_its_other_problems_too():
    xml = bpmn("p", '    <bpmn:startEvent id="start"/>\n    <bpmn:userTask id="t1"/>\n' + chain("start", "t1"))
    xml = xml.replace('isExecutable="true"', 'isExecutable="false"')
    msgs = errors(xml)
    assert [m.split(": element ")[1].split(":")[0] for m in msgs] == ["p", "t1"]
    assert "needs tongban:candidateRole" in msgs[1]


# --- unsupported elements are reported once; references to them are not reported again ------------------------


def test_flows_around_an_unsupported_element_are_not_reported():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        flow("f1", "start", "wait"),  # the flow comes before the element it points to (Camunda Modeler order)
        '    <bpmn:receiveTask id="wait"/>',
        flow("f2", "wait", "end"),
        '    <bpmn:endEvent id="end"/>',
    ]))
    assert errors(xml) == [f"p.bpmn:{line_of(xml, 'receiveTask')}: element wait: unsupported element type 'receiveTask'"]


def test_default_flow_into_an_unsupported_gateway_is_not_reported():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:exclusiveGateway id="gw" default="f_wait"/>',
        '    <bpmn:eventBasedGateway id="wait"/>',
        flow("f0", "start", "gw"), flow("f_wait", "gw", "wait"),
    ]))
    assert errors(xml) == [
        f"p.bpmn:{line_of(xml, 'eventBasedGateway')}: element wait: unsupported element type 'eventBasedGateway'"]


def test_boundary_event_on_an_unsupported_activity_is_not_reported():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:sendTask id="send"/>',
        '    <bpmn:boundaryEvent id="late" attachedToRef="send"><bpmn:timerEventDefinition tongban:workingDays="2"/>'
        "</bpmn:boundaryEvent>",
        '    <bpmn:endEvent id="end"/>',
        chain("start", "send", "end"), flow("f_late", "late", "end"),
    ]))
    assert errors(xml) == [f"p.bpmn:{line_of(xml, 'sendTask')}: element send: unsupported element type 'sendTask'"]


def test_a_refused_event_is_reported_once():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        user_task("t1"),
        '    <bpmn:boundaryEvent id="msg" attachedToRef="t1"><bpmn:messageEventDefinition/></bpmn:boundaryEvent>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "t1", "end"),
    ]))
    # no "boundaryEvent without outgoing sequence flow" for the refused event
    assert errors(xml) == [f"p.bpmn:{line_of(xml, 'messageEventDefinition')}: element msg: boundary events need a timer "
                           "(messageEventDefinition is not supported)"]


def test_event_sub_process_contents_are_not_reported_again():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "end"),
        '    <bpmn:subProcess id="esp" triggeredByEvent="true">',
        '      <bpmn:startEvent id="esp_start"><bpmn:errorEventDefinition/></bpmn:startEvent>',
        '      <bpmn:userTask id="esp_task"/>',
        '      <bpmn:sequenceFlow id="esp_f" sourceRef="esp_start" targetRef="esp_task"/>',
        "    </bpmn:subProcess>",
    ]))
    assert errors(xml) == [f"p.bpmn:{line_of(xml, 'triggeredByEvent')}: element esp: event sub-processes are not "
                           "supported"]


def test_only_unsupported_start_events_give_no_second_start_error():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="s_msg"><bpmn:messageEventDefinition/></bpmn:startEvent>',
        '    <bpmn:startEvent id="s_timer"><bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle>'
        "</bpmn:timerEventDefinition></bpmn:startEvent>",
        '    <bpmn:endEvent id="end"/>',
        flow("f1", "s_msg", "end"), flow("f2", "s_timer", "end"),
    ]))
    msgs = errors(xml)
    assert [m.split(": element ")[1].split(":")[0] for m in msgs] == ["s_msg", "s_timer"]
    assert not any("no start event" in m or "more than one start event" in m for m in msgs)


def test_true_errors_next_to_an_unsupported_element_are_still_reported():
    xml = bpmn("p", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:scriptTask id="script"/>',
        '    <bpmn:parallelGateway id="fork"/>',
        '    <bpmn:endEvent id="end"/>',
        chain("start", "script", "end"),
        flow("f_ghost", "end", "ghost"),
    ]))
    assert errors(xml) == [
        f"p.bpmn:{line_of(xml, 'scriptTask')}: element script: unsupported element type 'scriptTask'",
        f"p.bpmn:{line_of(xml, 'parallelGateway')}: element fork: gateway without outgoing sequence flow",
        f"p.bpmn:{line_of(xml, 'f_ghost')}: element f_ghost: sequence flow target 'ghost' is a missing id",
    ]


def test_process_level_resource_roles_are_ignored():
    xml = simple().replace('<bpmn:startEvent id="start"/>', '<bpmn:potentialOwner id="po"><bpmn:resourceAssignment'
                           'Expression><bpmn:formalExpression>window_clerk</bpmn:formalExpression></bpmn:resource'
                           'AssignmentExpression></bpmn:potentialOwner>\n<bpmn:startEvent id="start"/>')
    assert parse_bpmn(xml, "s.bpmn").processes[0].key == "simple"


# --- a corpus of realistic modeler files (Camunda Modeler, bpmn.io, hand-written) ---------------------------------

CORPUS = Path(__file__).parent / "bpmn_corpus"

# Every error each rejected file must give, and nothing else: (element id, message), on the element's own line,
# or (element id, message, text) on the line holding that text (a problem inside the element).
REJECTED: dict[str, list[tuple[str, ...]]] = {
    "camunda_wait_for_correction.bpmn": [
        ("Gateway_wait", "unsupported element type 'eventBasedGateway'"),
        ("Event_supplied", "intermediate catch events need a timer (messageEventDefinition is not supported)"),
    ],
    "bpmnio_notify_by_script.bpmn": [
        ("Activity_fee", "unsupported element type 'scriptTask'"),
        ("Activity_sms", "unsupported element type 'sendTask'"),
        ("Activity_paid", "unsupported element type 'receiveTask'"),
    ],
    "inclusive_joint_review.bpmn": [
        ("split", "unsupported element type 'inclusiveGateway'"),
        ("join", "unsupported element type 'inclusiveGateway'"),
    ],
    "transaction_payment.bpmn": [
        ("pay", "unsupported element type 'transaction'"),
        ("pay_cancelled", "boundary events need a timer (cancelEventDefinition is not supported)"),
    ],
    "event_subprocess_withdrawal.bpmn": [
        ("Activity_withdraw", "event sub-processes are not supported"),
    ],
    "message_start_error_end.bpmn": [
        ("Start_request", "start events with messageEventDefinition are not supported (use a none start event)"),
        ("Boundary_refused", "boundary events need a timer (errorEventDefinition is not supported)"),
        ("End_refused", "end events with errorEventDefinition are not supported"),
    ],
    "bpmnio_default_not_executable.bpmn": [
        ("Process_1", '流程未设为可执行，不能部署（process is not executable: set isExecutable="true", '
                      'the modeler\'s "Executable" checkbox）'),
    ],
    "adhoc_checklist_link_events.bpmn": [
        ("checklist", "unsupported element type 'adHocSubProcess'"),
        ("goto_report", "intermediate throw events with linkEventDefinition are not supported"),
        ("report_here", "intermediate catch events need a timer (linkEventDefinition is not supported)"),
    ],
    "receive_task_and_real_mistakes.bpmn": [
        ("wait_original", "unsupported element type 'receiveTask'"),
        ("f_change", "invalid condition '${changed == }': unexpected end of expression", "${changed == }"),
        ("renew", "user task needs tongban:candidateRole (e.g. approver)"),
        ("f4", "sequence flow target 'fnish' is a missing id"),
        ("notify_split", "gateway without outgoing sequence flow"),
    ],
    "collaboration_complex_gateway.bpmn": [
        ("Gateway_quorum", "unsupported element type 'complexGateway'"),
        ("Signal_done", "intermediate throw events with signalEventDefinition are not supported"),
    ],
    "several_triggered_starts.bpmn": [
        ("Start_online", "start events with messageEventDefinition are not supported (use a none start event)"),
        ("Start_window", "start events with messageEventDefinition are not supported (use a none start event)"),
        ("Start_yearly", "start events with timerEventDefinition are not supported (use a none start event)"),
    ],
}
ACCEPTED = {"camunda_modeler_permit.bpmn": ["shop_permit"], "collaboration_black_box_pool.bpmn": ["certificate_copy"]}


def element_line(text: str, element_id: str, needle: str = "") -> int:
    """The line of the element whose id attribute is ``element_id`` (exactly one in the file), or with ``needle``
    the first line from there on that holds it."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if re.search(rf'\bid="{re.escape(element_id)}"', line)]
    assert len(lines) == 1, (element_id, lines)
    if needle:
        return next(n for n, line in enumerate(text.splitlines(), 1) if n >= lines[0] and needle in line)
    return lines[0]


def test_corpus_files_all_have_expectations():
    assert sorted(p.name for p in (CORPUS / "rejected").glob("*.bpmn")) == sorted(REJECTED)
    assert sorted(p.name for p in (CORPUS / "accepted").glob("*.bpmn")) == sorted(ACCEPTED)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_corpus_file_reports_only_true_errors(name):
    path = CORPUS / "rejected" / name
    text = path.read_text(encoding="utf-8")
    expected = sorted((element_line(text, eid, *needle), eid, message) for eid, message, *needle in REJECTED[name])
    got = errors(path.read_bytes(), name)
    assert got == [f"{name}:{line}: element {eid}: {message}" for line, eid, message in expected]
    # the first line names an element that really is unsupported or invalid, on that element's own line
    first_line, first_id, _ = expected[0]
    assert got[0].startswith(f"{name}:{first_line}: element {first_id}: ")


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_corpus_file_parses(name):
    parsed = parse_bpmn((CORPUS / "accepted" / name).read_bytes(), name)
    assert [p.key for p in parsed.processes] == ACCEPTED[name]


@pytest.mark.django_db
def test_cli_import_of_the_corpus_exit_codes(tmp_path):
    from tongban.workflow.cli import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    rejected = CORPUS / "rejected" / "camunda_wait_for_correction.bpmn"
    result = runner.invoke(app, ["process", "import", str(rejected)])
    assert result.exit_code == 1
    line = element_line(rejected.read_text(encoding="utf-8"), "Gateway_wait")
    assert result.stderr.splitlines()[0] == (f"{rejected}:{line}: element Gateway_wait: "
                                             "unsupported element type 'eventBasedGateway'")
    assert len(result.stderr.splitlines()) == 2 and result.stdout == ""
    accepted = CORPUS / "accepted" / "camunda_modeler_permit.bpmn"
    result = runner.invoke(app, ["process", "import", str(accepted)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "shop_permit v1"
    result = runner.invoke(app, ["process", "import", str(rejected), str(accepted)])
    assert result.exit_code == 1 and result.stdout.strip() == "shop_permit v1 (unchanged)"
