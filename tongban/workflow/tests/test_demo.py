from __future__ import annotations

import pytest
from rich.console import Console

from tongban.workflow import demo
from tongban.workflow.models import DecisionDefinition, ProcessDefinition, ProcessInstance, Task

pytestmark = pytest.mark.django_db


def test_demo_loads_real_processes_idempotently(demo_core):
    demo.load(Console(quiet=True))
    keys = set(ProcessDefinition.objects.values_list("key", flat=True))
    assert {"permit_single", "joint_approval", "certificate_auto", "bundle_one_thing", "bundle_item",
            "swimlane_joint_review"} <= keys
    assert set(DecisionDefinition.objects.values_list("key", flat=True)) == {"certificate_risk", "certificate_rules"}
    counts = (ProcessDefinition.objects.count(), ProcessInstance.objects.count(), Task.objects.count())
    demo.load(Console(quiet=True))
    assert (ProcessDefinition.objects.count(), ProcessInstance.objects.count(), Task.objects.count()) == counts
    # the back office has positions to show
    permit = ProcessInstance.objects.get(business_key="DEMO-XK-0001")
    assert list(permit.tasks.filter(state="open").values_list("element_id", flat=True)) == ["review"]
    joint = ProcessInstance.objects.get(business_key="DEMO-BL-0001")
    assert sorted(joint.tasks.filter(state="open").values_list("candidate_org__code", flat=True)) == [
        "yx-cg", "yx-scjg"]
    bundle = ProcessInstance.objects.get(business_key="DEMO-YJS-0001")
    assert bundle.children.count() == 3
    assert bundle.children.filter(status="completed").count() == 1
    manual = ProcessInstance.objects.get(business_key="DEMO-MP-0002")
    assert manual.variables["risk_score"] == 5 and manual.variables["route"] == "manual"
    auto = ProcessInstance.objects.get(business_key="DEMO-MP-0001")
    assert auto.variables["route"] == "auto"  # the auto-issue service task completes it (worker or inline)
    assert auto.status == "completed"


def test_demo_files_carry_diagrams(demo_core):
    from tongban.workflow.bpmn import parse_bpmn

    for path in demo.DEMO_DIR.glob("*.bpmn"):
        assert parse_bpmn(path.read_bytes(), str(path)).has_diagram, path
