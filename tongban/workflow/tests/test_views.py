from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from rich.console import Console

from tongban.workflow import demo
from tongban.workflow.models import ProcessInstance, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(demo_core):
    demo.load(Console(quiet=True))


def login(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password="tongban-demo")
    return c


def json_script(html: str, element_id: str):
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


def test_pages_need_staff(loaded):
    anon = Client()
    resp = anon.get("/workflow/definitions/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    assert login("zhangsan").get("/workflow/tasks/").status_code == 403


def test_definitions_and_diagram(loaded):
    c = login("admin")
    html = c.get("/workflow/definitions/").content.decode()
    for key in ("permit_single", "joint_approval", "certificate_auto", "bundle_one_thing"):
        assert f"/workflow/definitions/{key}/diagram/" in html
    assert "certificate_rules" in html and "COLLECT + SUM" in html
    resp = c.get("/workflow/definitions/joint_approval/diagram")
    assert resp.status_code == 301  # APPEND_SLASH
    html = c.get("/workflow/definitions/joint_approval/diagram/").content.decode()
    xml = json_script(html, "wf-diagram-xml")
    assert "bpmndi:BPMNShape" in xml and 'id="xf_review"' in xml
    assert "vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in html
    assert "消防救援支队审查" in html
    assert c.get("/workflow/definitions/nope/diagram/").status_code == 404
    assert c.get("/workflow/definitions/joint_approval/").status_code == 302


def test_instance_page_highlights_the_position(loaded):
    c = login("admin")
    inst = ProcessInstance.objects.get(business_key="DEMO-BL-0001")
    html = c.get(f"/workflow/instances/{inst.pk}/").content.decode()
    marks = json_script(html, "wf-diagram-marks")
    assert marks["active"] == ["cg_review", "join", "scjg_review"]  # xf approved: its token waits at the join
    assert {"submitted", "accept", "fork", "xf_review"} <= set(marks["completed"])
    assert "flow_xf_join" in marks["flows"]
    assert "流程日志" in html and "环节完成" in html and "何审批（消防救援支队）" in html
    assert "light-green" in html
    bundle = ProcessInstance.objects.get(business_key="DEMO-YJS-0001")
    html = c.get(f"/workflow/instances/{bundle.pk}/").content.decode()
    assert "子流程（3）" in html
    assert c.get("/workflow/instances/?process=permit_single").status_code == 200
    assert c.get("/workflow/instances/999999/").status_code == 404


def test_my_tasks_claim_and_complete_in_the_browser(loaded):
    c = login("approver-scjg")
    html = c.get("/workflow/tasks/").content.decode()
    mine = Task.objects.filter(candidate_org__code="yx-scjg", state="open")
    assert mine.count() >= 2
    for t in mine:
        assert f"/workflow/tasks/{t.pk}/complete/" in html
    assert "yx-xf" not in html and "消防救援支队审查" not in html  # another department's task
    task = Task.objects.get(instance__business_key="DEMO-XK-0001", element_id="review")
    resp = c.post(f"/workflow/tasks/{task.pk}/claim/", {"next": "/workflow/tasks/"})
    assert resp.status_code == 302
    task.refresh_from_db()
    assert task.assignee.username == "approver-scjg"
    resp = c.post(f"/workflow/tasks/{task.pk}/complete/", {"outcome": "maybe"}, follow=True)
    assert "workflow.unknown_outcome" in resp.content.decode()
    c.post(f"/workflow/tasks/{task.pk}/complete/", {"outcome": "approve", "opinion": "同意"})
    task.refresh_from_db()
    assert task.state == "completed" and task.opinion == "同意"
    other = login("approver-xf")
    decide = Task.objects.get(instance__business_key="DEMO-XK-0001", element_id="decide")
    resp = other.post(f"/workflow/tasks/{decide.pk}/complete/", {"outcome": "approve"}, follow=True)
    assert "workflow.not_candidate" in resp.content.decode()
    decide.refresh_from_db()
    assert decide.state == "open"
    resp = c.post(f"/workflow/tasks/{decide.pk}/clock/", {"reason": "专家评审", "next": "https://evil.example/"})
    assert resp["Location"] == "/workflow/tasks/"
    decide.refresh_from_db()
    assert decide.suspended_since is not None
    assert c.get(f"/workflow/tasks/{decide.pk}/claim/").status_code == 405


def test_static_viewer_is_vendored():
    from django.contrib.staticfiles import finders

    assert finders.find("workflow/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    assert finders.find("workflow/vendor/bpmn-js/LICENSE")
    assert finders.find("workflow/vendor/bpmn-js/assets/bpmn-font/css/bpmn.css")
