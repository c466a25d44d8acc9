from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tongban.workflow.cli import register
from tongban.workflow.models import DecisionDefinition, ProcessDefinition, ProcessInstance

from .helpers import bpmn, chain, dmn, simple

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke


def test_process_import_prints_key_and_version(cli, tmp_path):
    path = tmp_path / "simple.bpmn"
    path.write_text(simple(), encoding="utf-8")
    result = cli("process", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "simple v1"
    result = cli("process", "import", str(path))
    assert result.stdout.strip() == "simple v1 (unchanged)"
    path.write_text(simple(outcomes="approve"), encoding="utf-8")
    assert cli("process", "import", str(path)).stdout.strip() == "simple v2"
    assert ProcessDefinition.objects.filter(key="simple").count() == 2


def test_process_import_errors_on_stderr(cli, tmp_path):
    path = tmp_path / "broken.bpmn"
    xml = bpmn("p", "\n".join(['    <bpmn:startEvent id="start"/>', '    <bpmn:fancy id="x1"/>',
                               '    <bpmn:exclusiveGateway id="gw"/>', chain("start", "gw")]))
    path.write_text(xml, encoding="utf-8")
    result = cli("process", "import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    line_x1 = next(n for n, text in enumerate(xml.splitlines(), 1) if "x1" in text)
    line_gw = next(n for n, text in enumerate(xml.splitlines(), 1) if 'id="gw"' in text)
    assert lines == [
        f"{path}:{line_x1}: element x1: unknown element type 'fancy'",
        f"{path}:{line_gw}: element gw: gateway without outgoing sequence flow",
    ]
    assert result.stdout == ""
    assert not ProcessDefinition.objects.exists()


def test_xml_syntax_error_and_missing_file(cli, tmp_path):
    path = tmp_path / "bad.bpmn"
    path.write_text("<bpmn:definitions xmlns:bpmn='x'>\n<oops>\n</bpmn:definitions>\n", encoding="utf-8")
    result = cli("process", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:3: element -: XML syntax error")
    result = cli("process", "import", str(tmp_path / "missing.bpmn"))
    assert result.exit_code == 1 and "cannot read file" in result.stderr


def test_process_list_and_start(cli, tmp_path, demo_core):
    path = tmp_path / "simple.bpmn"
    path.write_text(simple(), encoding="utf-8")
    cli("process", "import", str(path))
    result = cli("process", "start", "simple", "-b", "CLI-1", "--vars", '{"a": 1}')
    assert result.exit_code == 0, result.output
    inst = ProcessInstance.objects.get(business_key="CLI-1")
    assert inst.variables == {"a": 1}
    out = cli("process", "list").stdout
    assert "simple" in out and "v1" in out and "running=1" in out
    bad = cli("process", "start", "nope")
    assert bad.exit_code == 1 and "workflow.process_not_found" in bad.stderr


def test_decision_import(cli, tmp_path):
    path = tmp_path / "rules.dmn"
    path.write_text(dmn("rules", "FIRST", ["x"], ["y"], [(["> 1"], ['"big"'])]), encoding="utf-8")
    result = cli("decision", "import", str(path))
    assert result.exit_code == 0 and result.stdout.strip() == "rules v1"
    assert DecisionDefinition.objects.get().table["hit_policy"] == "FIRST"
    path.write_text(dmn("rules", "FIRST", ["x"], ["y"], [(["> "], ['"big"'])]), encoding="utf-8")
    result = cli("decision", "import", str(path))
    assert result.exit_code == 1 and ": element r1: invalid input entry" in result.stderr


def test_tick(cli, demo_core):
    result = cli("process", "tick")
    assert result.exit_code == 0 and result.stdout.startswith("timers_fired=0 ")
