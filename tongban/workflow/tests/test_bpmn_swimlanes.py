"""Swimlanes (泳道图) and BPMN resource assignments (potentialOwner / humanPerformer) decide who does a user task."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tongban.workflow import selectors, services
from tongban.workflow.bpmn import DefinitionError, parse_bpmn
from tongban.workflow.models import ProcessDefinition, Task

from .helpers import bpmn, chain

DEMO_FILE = Path(__file__).resolve().parents[1] / "demo" / "swimlane_joint_review.bpmn"
ORGS = {"yx-scjg": ("云溪市市场监督管理局", "市市场监管局"), "yx-xf": ("云溪市消防救援支队", "市消防救援支队"),
        "yx-zwzx": ("云溪市政务服务中心", "市民中心"), "qx-ga": ("青溪区公安分局", "公安局"),
        "hx-ga": ("和溪区公安分局", "公安局")}


def lookup(names: set[str]) -> dict[str, list[str]]:
    """The organisations above, as ``database_organisations`` answers (without a database)."""
    calls.append(set(names))
    found: dict[str, list[str]] = {}
    for code, (name, short) in ORGS.items():
        for value in (code, name, short):
            if value in names:
                found.setdefault(value, []).append(code)
    return found


calls: list[set[str]] = []
ID_A, ID_B, ID_LANE = 'id="a"', 'id="b"', 'id="Lane_scjg"'


def lanes(*spec: tuple[str, str, list[str]], attrs: str = "") -> str:
    body = "".join(f'      <bpmn:lane id="{lid}" name="{name}" {attrs}>'
                   + "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs) + "</bpmn:lane>\n"
                   for lid, name, refs in spec)
    return f'    <bpmn:laneSet id="ls">\n{body}    </bpmn:laneSet>'


def process(lane_xml: str, *tasks: str, ids: tuple[str, ...] = ("a", "b")) -> str:
    return bpmn("lanes", "\n".join([lane_xml, '    <bpmn:startEvent id="start"/>', *tasks,
                                    '    <bpmn:endEvent id="end"/>', chain("start", *ids, "end")]))


def parse(xml: str):
    return parse_bpmn(xml, "lanes.bpmn", lookup).processes[0].graph["elements"]


def errors(xml: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        parse_bpmn(xml, "lanes.bpmn", lookup)
    return info.value.lines()


def line_of(xml: str, needle: str) -> int:
    return next(n for n, line in enumerate(xml.splitlines(), 1) if needle in line)


def test_lane_named_by_full_name_short_name_or_code_assigns_its_tasks_as_approver():
    for lane_name, code in (("云溪市市场监督管理局", "yx-scjg"), ("市消防救援支队", "yx-xf"), ("yx-zwzx", "yx-zwzx")):
        xml = process(lanes(("L1", lane_name, ["start", "a", "b", "end"])),
                      '    <bpmn:userTask id="a" name="审查"/>',
                      '    <bpmn:userTask id="b" name="受理" tongban:candidateRole="window_clerk"/>')
        elements = parse(xml)
        assert (elements["a"]["candidate_role"], elements["a"]["candidate_org"]) == ("approver", code)
        assert (elements["b"]["candidate_role"], elements["b"]["candidate_org"]) == ("window_clerk", code)
        assert elements["a"]["lane"] == lane_name


def test_wrapped_lane_names_are_read_without_their_line_breaks():
    xml = process(lanes(("L1", "云溪市市场&#10;监督管理局", ["a", "b"])), '    <bpmn:userTask id="a"/>',
                  '    <bpmn:userTask id="b"/>')
    assert parse(xml)["a"]["candidate_org"] == "yx-scjg"


def test_explicit_attributes_win_over_the_lane():
    xml = process(lanes(("L1", "市市场监管局", ["a", "b"])),
                  '    <bpmn:userTask id="a" tongban:candidateRole="supervisor" tongban:candidateOrg="yx-xf"/>',
                  '    <bpmn:userTask id="b" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                  'camunda:candidateGroups="window_clerk"/>')
    elements = parse(xml)
    assert (elements["a"]["candidate_role"], elements["a"]["candidate_org"]) == ("supervisor", "yx-xf")
    assert (elements["b"]["candidate_role"], elements["b"]["candidate_org"]) == ("window_clerk", "yx-scjg")


def test_a_lane_of_explicitly_assigned_tasks_is_not_looked_up():
    calls.clear()
    xml = process(lanes(("L1", "审批科", ["a", "b"])),
                  '    <bpmn:userTask id="a" tongban:candidateRole="approver" tongban:candidateOrg="yx-xf"/>',
                  '    <bpmn:userTask id="b" tongban:candidateRole="approver" tongban:candidateOrg="yx-xf"/>')
    assert parse(xml)["a"]["candidate_org"] == "yx-xf"
    assert calls == []


def test_lane_naming_no_known_organisation_is_an_error_on_the_lane():
    xml = process(lanes(("Lane_x", "不存在的局", ["a"]), ("Lane_ok", "市市场监管局", ["b"])),
                  '    <bpmn:userTask id="a"/>', '    <bpmn:userTask id="b"/>')
    assert errors(xml) == [f"lanes.bpmn:{line_of(xml, 'Lane_x')}: element Lane_x: lane '不存在的局' names no known "
                           "organisation (use an organisation's code, full name or short name)"]


def test_ambiguous_and_unnamed_lanes_are_errors():
    xml = process(lanes(("Lane_ga", "公安局", ["a"]), ("Lane_none", "", ["b"])),
                  '    <bpmn:userTask id="a"/>', '    <bpmn:userTask id="b"/>')
    assert errors(xml) == [
        f"lanes.bpmn:{line_of(xml, 'Lane_ga')}: element Lane_ga: lane '公安局' names more than one organisation "
        "(hx-ga, qx-ga): use the organisation's code",
        f"lanes.bpmn:{line_of(xml, 'Lane_none')}: element Lane_none: lane has no name: name it after the "
        "organisation that does its tasks (the organisation's code, full name or short name)",
    ]


def test_a_lane_without_user_tasks_may_name_anyone():
    xml = process(lanes(("Lane_applicant", "申请人", ["start", "end"]), ("L2", "市市场监管局", ["a", "b"])),
                  '    <bpmn:userTask id="a"/>', '    <bpmn:userTask id="b"/>')
    assert parse(xml)["b"]["candidate_org"] == "yx-scjg"


def test_a_task_outside_every_lane_still_needs_a_role():
    xml = process(lanes(("L1", "市市场监管局", ["a"])), '    <bpmn:userTask id="a"/>', '    <bpmn:userTask id="b"/>')
    assert errors(xml) == [f"lanes.bpmn:{line_of(xml, ID_B)}: element b: user task needs "
                           "tongban:candidateRole (e.g. approver)"]


def test_innermost_lane_wins_and_sub_process_tasks_take_their_sub_process_lane():
    nested = ('    <bpmn:laneSet id="ls">\n      <bpmn:lane id="Outer" name="市市场监管局">'
              "<bpmn:flowNodeRef>a</bpmn:flowNodeRef><bpmn:flowNodeRef>b</bpmn:flowNodeRef>"
              '<bpmn:childLaneSet id="cls"><bpmn:lane id="Inner" name="yx-xf"><bpmn:flowNodeRef>b</bpmn:flowNodeRef>'
              "</bpmn:lane></bpmn:childLaneSet></bpmn:lane>\n    </bpmn:laneSet>")
    sub = ('    <bpmn:subProcess id="b"><bpmn:startEvent id="s2"/><bpmn:userTask id="inner_task"/>'
           '<bpmn:endEvent id="e2"/>' + chain("s2", "inner_task", "e2") + "</bpmn:subProcess>")
    elements = parse(process(nested, '    <bpmn:userTask id="a" tongban:candidateRole="window_clerk"/>', sub))
    assert elements["a"]["candidate_org"] == "yx-scjg"
    assert (elements["inner_task"]["candidate_role"], elements["inner_task"]["candidate_org"]) == ("approver", "yx-xf")


def test_lane_may_name_the_role_of_its_tasks():
    xml = process(lanes(("L1", "yx-zwzx", ["a", "b"]), attrs='tongban:candidateRole="window_clerk"'),
                  '    <bpmn:userTask id="a"/>', '    <bpmn:userTask id="b" tongban:candidateRole="approver"/>')
    elements = parse(xml)
    assert elements["a"]["candidate_role"] == "window_clerk" and elements["b"]["candidate_role"] == "approver"


def owner(kind: str, text: str) -> str:
    return (f"<bpmn:{kind}><bpmn:resourceAssignmentExpression><bpmn:formalExpression>{text}"
            f"</bpmn:formalExpression></bpmn:resourceAssignmentExpression></bpmn:{kind}>")


def test_potential_owner_and_human_performer_are_read():
    xml = process("",
                  f'    <bpmn:userTask id="a">{owner("potentialOwner", "group(window_clerk), org(市民中心)")}</bpmn:userTask>',
                  f'    <bpmn:userTask id="b">{owner("potentialOwner", "approver, 市消防救援支队")}'
                  f'{owner("humanPerformer", "approver-xf")}</bpmn:userTask>')
    elements = parse(xml)
    assert (elements["a"]["candidate_role"], elements["a"]["candidate_org"]) == ("window_clerk", "yx-zwzx")
    assert (elements["b"]["candidate_role"], elements["b"]["candidate_org"], elements["b"]["assignee"]) == (
        "approver", "yx-xf", "approver-xf")


def test_potential_owner_by_resource_ref_and_lane_fallback():
    xml = bpmn("lanes", "\n".join([
        lanes(("L1", "市市场监管局", ["a", "b"])), '    <bpmn:startEvent id="start"/>',
        '    <bpmn:userTask id="a"><bpmn:potentialOwner><bpmn:resourceRef>res_xf</bpmn:resourceRef>'
        "</bpmn:potentialOwner></bpmn:userTask>",
        f'    <bpmn:userTask id="b">{owner("potentialOwner", "user(approver-scjg)")}</bpmn:userTask>',
        '    <bpmn:endEvent id="end"/>', chain("start", "a", "b", "end")]),
        extra='  <bpmn:resource id="res_xf" name="云溪市消防救援支队"/>\n')
    elements = parse(xml)
    assert (elements["a"]["candidate_role"], elements["a"]["candidate_org"]) == ("approver", "yx-xf")
    assert (elements["b"]["candidate_role"], elements["b"]["candidate_org"], elements["b"]["assignee"]) == (
        "approver", "yx-scjg", "approver-scjg")


def test_explicit_attributes_win_over_potential_owner():
    xml = process("", '    <bpmn:userTask id="a" tongban:candidateRole="supervisor" tongban:candidateOrg="yx-scjg">'
                      f'{owner("potentialOwner", "group(approver), org(yx-xf)")}</bpmn:userTask>',
                  '    <bpmn:userTask id="b" tongban:candidateRole="approver"/>')
    assert (parse(xml)["a"]["candidate_role"], parse(xml)["a"]["candidate_org"]) == ("supervisor", "yx-scjg")


def test_resource_assignment_mistakes_are_errors_on_the_task():
    xml = process("", f'    <bpmn:userTask id="a">{owner("potentialOwner", "group(approver), group(supervisor)")}'
                      "</bpmn:userTask>",
                  f'    <bpmn:userTask id="b">{owner("potentialOwner", "org(不存在的局)")}</bpmn:userTask>')
    assert errors(xml) == [
        f"lanes.bpmn:{line_of(xml, ID_A)}: element a: potentialOwner names more than one group (approver, "
        "supervisor): a task is offered to one role",
        f"lanes.bpmn:{line_of(xml, ID_B)}: element b: potentialOwner organisation '不存在的局' names no known "
        "organisation (use an organisation's code, full name or short name)",
    ]


# --- through the database and the command line ---------------------------------------------------------------------

@pytest.fixture
def cli():
    from tongban.workflow.cli import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.mark.django_db
def test_cli_imports_the_demo_swimlane_file_and_lanes_route_the_tasks(cli, demo_core):
    from tongban.core.models import User

    result = cli("process", "import", str(DEMO_FILE))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "swimlane_joint_review v1"
    graph = ProcessDefinition.objects.get(key="swimlane_joint_review").graph
    assert {e: (n["candidate_role"], n["candidate_org"]) for e, n in graph["elements"].items()
            if n["type"] == "userTask"} == {
        "accept": ("window_clerk", "yx-zwzx"), "deliver": ("window_clerk", "yx-zwzx"),
        "notify_reject": ("window_clerk", "yx-zwzx"), "scjg_review": ("approver", "yx-scjg"),
        "xf_review": ("approver", "yx-xf"), "cg_review": ("approver", "yx-cg")}
    clerk = User.objects.get(username="clerk")
    inst = services.start("swimlane_joint_review", "LANE-1", {}, clerk)
    services.complete(Task.objects.get(instance=inst, element_id="accept"), clerk)
    for username, element in (("approver-scjg", "scjg_review"), ("approver-xf", "xf_review"),
                              ("approver-cg", "cg_review")):
        user = User.objects.get(username=username)
        assert [t.element_id for t in selectors.tasks_for_user(user).filter(instance=inst)] == [element]
    assert not selectors.tasks_for_user(User.objects.get(username="approver-ga")).filter(instance=inst).exists()


@pytest.mark.django_db
def test_cli_refuses_a_lane_naming_no_organisation(cli, demo_core, tmp_path):
    text = DEMO_FILE.read_text(encoding="utf-8").replace('name="市市场监管局"', 'name="市食品药品监管局"')
    path = tmp_path / "lanes.bpmn"
    path.write_text(text, encoding="utf-8")
    result = cli("process", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"{path}:{line_of(text, ID_LANE)}: element Lane_scjg: lane "
                                     "'市食品药品监管局' names no known organisation (use an organisation's code, "
                                     "full name or short name)")
    assert not ProcessDefinition.objects.filter(key="swimlane_joint_review").exists()
