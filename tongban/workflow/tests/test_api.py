from __future__ import annotations

import pytest
from django.test import Client

from tongban.workflow import services
from tongban.workflow.models import ProcessInstance, Task

from .helpers import simple
from .test_services import parallel_process

pytestmark = pytest.mark.django_db


def client_for(username: str) -> Client:
    c = Client()
    resp = c.post("/api/auth/token", {"username": username, "password": "tongban-demo"}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {resp.json()['token']}"
    return c


@pytest.fixture
def deployed(users):
    services.deploy(simple(), "s.bpmn")
    services.deploy(parallel_process(), "par.bpmn")
    return users


def test_needs_authentication(deployed):
    assert Client().get("/api/workflow/tasks").status_code == 401


def test_definitions(deployed):
    c = client_for("admin")
    defs = c.get("/api/workflow/definitions").json()
    assert {d["key"] for d in defs} == {"simple", "par"}
    detail = c.get("/api/workflow/definitions/par").json()
    assert detail["version"] == 1 and detail["versions_list"] == [1]
    assert [e["id"] for e in detail["elements"]][:3] == ["start", "fork", "scjg"]
    assert "bpmndi:BPMNShape" in detail["bpmn_xml"]
    missing = c.get("/api/workflow/definitions/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "workflow.process_not_found"
    assert client_for("zhangsan").get("/api/workflow/definitions").json()["code"] == "workflow.forbidden"


def test_start_complete_and_instance_detail(deployed):
    admin = client_for("admin")
    resp = admin.post("/api/workflow/instances", {"process_key": "par", "business_key": "API-1",
                                                  "variables": {"shop": "星火小馆"}}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    inst = resp.json()
    assert inst["status"] == "running" and sorted(inst["position"]["active"]) == ["cg", "scjg", "xf"]
    assert [e["type"] for e in inst["events"]][:2] == ["instance.started", "element.completed"]
    bad = admin.post("/api/workflow/instances", {"process_key": "nope"}, content_type="application/json")
    assert bad.status_code == 404 and bad.json()["code"] == "workflow.process_not_found"

    scjg = client_for("approver-scjg")
    mine = scjg.get("/api/workflow/tasks").json()
    assert [(t["element_id"], t["candidate_org"]) for t in mine] == [("scjg", "yx-scjg")]
    task_id = mine[0]["id"]
    assert mine[0]["outcomes"] == ["approve", "reject"]
    assert client_for("approver-xf").get(f"/api/workflow/tasks/{task_id}").status_code == 404

    resp = scjg.post(f"/api/workflow/tasks/{task_id}/complete", {"outcome": "perhaps"},
                     content_type="application/json")
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "workflow.unknown_outcome" and body["detail"]["allowed"] == ["approve", "reject"]

    claimed = scjg.post(f"/api/workflow/tasks/{task_id}/claim").json()
    assert claimed["state"] == "claimed" and claimed["assignee"] == "approver-scjg"
    opinion = scjg.post(f"/api/workflow/tasks/{task_id}/opinions", {"text": "材料齐全"},
                        content_type="application/json").json()
    assert opinion["opinions"][0]["text"] == "材料齐全"
    done = scjg.post(f"/api/workflow/tasks/{task_id}/complete", {"outcome": "approve", "opinion": "同意",
                                                                 "variables": {"fee": 0}},
                     content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "completed"
    again = scjg.post(f"/api/workflow/tasks/{task_id}/complete", {"outcome": "approve"},
                      content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "workflow.task_not_open"

    detail = admin.get(f"/api/workflow/instances/{inst['id']}").json()
    assert detail["variables"]["fee"] == 0 and detail["variables"]["scjg_outcome"] == "approve"
    assert sorted(detail["position"]["active"]) == ["cg", "join", "xf"]
    assert "scjg" in detail["position"]["completed"]
    assert admin.get("/api/workflow/instances/99999").json()["code"] == "workflow.not_found"


def test_task_not_held_and_not_candidate(deployed):
    from tongban.core.services import grant_role, upsert_user

    colleague = upsert_user("approver-scjg-2", password="tongban-demo", display_name="同事", kind="staff",
                            is_staff=True)
    grant_role(colleague, "approver", deployed["approver-scjg"].organisation)
    inst = services.start("simple", "API-2")
    task = Task.objects.get(instance=inst)
    services.claim(task, deployed["approver-scjg"])
    resp = client_for("approver-scjg-2").post(f"/api/workflow/tasks/{task.pk}/complete", {"outcome": "approve"},
                                              content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "workflow.task_not_held"
    task.refresh_from_db()
    assert task.state == "claimed"


def test_clock_and_overdue_endpoints(deployed):
    inst = services.start("par", "API-3")
    admin = client_for("admin")
    assert admin.get("/api/workflow/organisations/yx-scjg/overdue").json() == []
    assert admin.get("/api/workflow/organisations/nope/overdue").status_code == 404
    task = Task.objects.get(instance=inst, element_id="scjg")
    scjg = client_for("approver-scjg")
    resp = scjg.post(f"/api/workflow/tasks/{task.pk}/clock/suspend", {"reason": "补正材料"},
                     content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "workflow.no_clock"  # this task has no limit


def test_cancel_needs_an_administrator(deployed):
    inst = services.start("simple", "API-4")
    resp = client_for("approver-scjg").post(f"/api/workflow/instances/{inst.pk}/cancel", {"reason": "x"},
                                            content_type="application/json")
    assert resp.status_code == 403
    resp = client_for("admin").post(f"/api/workflow/instances/{inst.pk}/cancel", {"reason": "申请人撤回"},
                                    content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert ProcessInstance.objects.get(pk=inst.pk).status == "cancelled"


def test_openapi_lists_the_workflow_endpoints(deployed):
    schema = Client().get("/api/openapi.json").json()
    assert "/api/workflow/tasks/{task_id}/complete" in schema["paths"]
