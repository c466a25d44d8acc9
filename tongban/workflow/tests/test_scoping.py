"""Who may start a process by hand, who reads an instance, who lists an organisation's overdue tasks (issue 17)."""

from __future__ import annotations

import pytest
from django.test import Client
from rich.console import Console

from tongban.core.models import AuditLog
from tongban.workflow import demo, selectors, services
from tongban.workflow.bpmn import CAMUNDA_NS, DefinitionError, parse_bpmn
from tongban.workflow.models import ProcessInstance

from .helpers import simple

pytestmark = pytest.mark.django_db


def api(username: str) -> Client:
    c = Client()
    resp = c.post("/api/auth/token", {"username": username, "password": "tongban-demo"}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {resp.json()['token']}"
    return c


def page(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password="tongban-demo")
    return c


def start(username: str, key: str, business_key: str, **variables: object):
    return api(username).post("/api/workflow/instances", {"process_key": key, "business_key": business_key,
                                                          "variables": variables}, content_type="application/json")


@pytest.fixture
def loaded(demo_core):
    from tongban.core.models import Organisation
    from tongban.core.services import grant_role, upsert_user

    rsj = Organisation.objects.get(code="yx-rsj")
    data_owner = upsert_user("data-rsj", password="tongban-demo", display_name="曹数据（人社局）", kind="staff",
                             organisation=rsj, is_staff=True)
    grant_role(data_owner, "data_owner", rsj)
    demo.load(Console(quiet=True))


# --- the definition names its starters --------------------------------------------------------------------------


def _starters(xml: str) -> dict[str, list[str]]:
    return parse_bpmn(xml).processes[0].graph["starters"]


def test_starters_are_parsed_from_tongban_and_camunda_attributes():
    assert _starters(simple()) == {"roles": [], "orgs": [], "users": []}
    own = simple().replace('isExecutable="true"', 'isExecutable="true" tongban:starterRoles="approver, window_clerk" '
                           'tongban:starterOrgs="yx-rsj" tongban:starterUsers="admin2"')
    assert _starters(own) == {"roles": ["approver", "window_clerk"], "orgs": ["yx-rsj"], "users": ["admin2"]}
    camunda = simple().replace('isExecutable="true"', f'xmlns:camunda="{CAMUNDA_NS}" isExecutable="true" '
                               'camunda:candidateStarterGroups="window_clerk" camunda:candidateStarterUsers="clerk"')
    assert _starters(camunda) == {"roles": ["window_clerk"], "orgs": [], "users": ["clerk"]}


def test_a_starter_list_that_is_not_names_is_refused():
    bad = simple().replace('isExecutable="true"', 'isExecutable="true" tongban:starterRoles="${role}, approver"')
    with pytest.raises(DefinitionError) as err:
        parse_bpmn(bad, "bad.bpmn")
    assert "tongban:starterRoles / camunda:candidateStarterGroups: not a list of names" in str(err.value) and "'${role}'" in str(err.value)


# --- starting by hand ---------------------------------------------------------------------------------------------


def test_only_the_starters_of_a_demo_process_start_it(loaded):
    before = ProcessInstance.objects.count()
    refused = start("approver-ga", "certificate_auto", "S-GA", applicant_name="张三")
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "workflow.not_starter"
    assert start("data-rsj", "certificate_auto", "S-DATA").status_code == 403  # 人社局, but not its approver
    assert start("clerk", "certificate_auto", "S-CLERK").status_code == 403
    assert ProcessInstance.objects.count() == before  # nothing was started

    ok = start("approver-rsj", "certificate_auto", "S-RSJ", applicant_name="张三", applicant_kind="natural", age=34,
               credit_level="C", has_social_insurance=True, rejections_last_year=2)
    assert ok.status_code == 201, ok.content
    entry = AuditLog.objects.get(action="workflow.instance.start", object_id=str(ok.json()["id"]))
    assert entry.actor_label and entry.detail["key"] == "certificate_auto"
    # the window's processes: the centre's window clerks, not a township's nor an approver
    assert start("clerk", "permit_single", "S-W1", applicant_name="张三").status_code == 201
    assert start("clerk-ch", "permit_single", "S-W2").status_code == 403
    assert start("approver-scjg", "permit_single", "S-W3").status_code == 403
    assert start("admin", "permit_single", "S-W4", applicant_name="张三").status_code == 201
    # a process the platform starts for itself (the item process of a bundle) names no starter: the admin only
    assert start("clerk", "bundle_item", "S-B").json()["code"] == "workflow.not_starter"
    # the definition says who starts it, in the API and on its page
    detail = api("approver-ga").get("/api/workflow/definitions/certificate_auto").json()
    assert detail["starters"] == {"roles": ["approver"], "orgs": ["yx-rsj"], "users": []}
    assert "可手动发起：角色 审批人员（机构 云溪市人力资源和社会保障局）；管理员" in page("approver-ga").get(
        "/workflow/definitions/certificate_auto/diagram/").content.decode()
    assert "仅管理员（由平台自动发起）" in page("clerk").get("/workflow/definitions/bundle_item/diagram/").content.decode()
    # an unknown process is still "not found" (not a refusal that tells it exists)
    assert start("approver-ga", "nope", "S-X").json()["code"] == "workflow.process_not_found"


def test_starter_users_orgs_and_roles(users):
    services.deploy(simple("by_user").replace('isExecutable="true"',
                                              'isExecutable="true" tongban:starterUsers="approver-xf"'), "u.bpmn")
    services.deploy(simple("by_org").replace('isExecutable="true"',
                                             'isExecutable="true" tongban:starterOrgs="yx-scjg"'), "o.bpmn")
    services.deploy(simple("by_role").replace(
        'isExecutable="true"', f'xmlns:camunda="{CAMUNDA_NS}" isExecutable="true" '
        'camunda:candidateStarterGroups="window_clerk"'), "r.bpmn")
    services.deploy(simple("nobody"), "n.bpmn")
    graphs = {d.key: d.graph for d in selectors.latest_definitions()}

    def may(username: str, key: str) -> bool:
        return selectors.may_start(users[username], graphs[key])

    assert may("approver-xf", "by_user") and not may("approver-scjg", "by_user")
    assert may("supervisor", "by_org") and may("approver-scjg", "by_org") and not may("approver-xf", "by_org")
    assert may("clerk", "by_role") and may("clerk-ch", "by_role") and not may("approver-scjg", "by_role")
    assert not any(may(u, "nobody") for u in ("clerk", "approver-scjg", "supervisor")) and may("admin", "nobody")
    assert not may("zhangsan", "by_role")  # applicants start no process by hand
    services.start("nobody", "SYS-1")  # the platform itself is not checked


# --- reading instances ---------------------------------------------------------------------------------------------


def test_an_instance_is_read_by_the_organisations_involved_in_its_tree(loaded):
    bundle = ProcessInstance.objects.get(business_key="DEMO-YJS-0001", parent__isnull=True)
    child = bundle.children.get(business_key="DEMO-YJS-0001-1")  # 食品经营许可: 市场监管局
    # 城管局 decided another item of the bundle: it reads the bundle and its items
    for username in ("approver-cg", "approver-scjg", "clerk", "admin"):
        for pk in (bundle.pk, child.pk):
            resp = api(username).get(f"/api/workflow/instances/{pk}")
            assert resp.status_code == 200, (username, resp.content)
            assert page(username).get(f"/workflow/instances/{pk}/").status_code == 200
    # 公安局 has no task in it, nor the data owner of 人社局 nor a township clerk
    for username in ("approver-ga", "data-rsj", "clerk-ch", "supervisor"):
        resp = api(username).get(f"/api/workflow/instances/{bundle.pk}")
        assert resp.status_code == 404 and resp.json()["code"] == "workflow.not_found", username
        assert page(username).get(f"/workflow/instances/{child.pk}/").status_code == 404
        listed = page(username).get("/workflow/instances/").content.decode()
        assert f"/workflow/instances/{bundle.pk}/" not in listed
        diagram = page(username).get("/workflow/definitions/bundle_one_thing/diagram/").content.decode()
        assert f"/workflow/instances/{bundle.pk}/" not in diagram
    assert f"/workflow/instances/{bundle.pk}/" in page("approver-cg").get("/workflow/instances/").content.decode()
    assert f"/workflow/instances/{bundle.pk}/" in page("approver-cg").get(
        "/workflow/definitions/bundle_one_thing/diagram/").content.decode()


def test_whoever_started_an_instance_reads_it(loaded):
    started = start("approver-rsj", "certificate_auto", "S-READ", applicant_name="李四", applicant_kind="natural",
                    age=30, credit_level="A", has_social_insurance=True, rejections_last_year=0).json()
    assert started["status"] == "completed"  # 秒批: no task left, but the starter still reads it
    assert api("approver-rsj").get(f"/api/workflow/instances/{started['id']}").status_code == 200
    assert api("approver-ga").get(f"/api/workflow/instances/{started['id']}").status_code == 404


def test_a_supervisor_notified_of_an_overdue_task_reads_its_instance(loaded, users):
    from tongban.workflow.models import Notification, Task

    task = Task.objects.filter(candidate_org__code="yx-scjg", state__in=Task.OPEN_STATES).first()
    assert api("supervisor").get(f"/api/workflow/instances/{task.instance_id}").status_code == 404
    Notification.objects.create(recipient=users["supervisor"], kind="escalation", task=task, subject="超期督办")
    assert api("supervisor").get(f"/api/workflow/instances/{task.instance_id}").status_code == 200
    html = page("supervisor").get("/workflow/tasks/").content.decode()
    assert f"/workflow/instances/{task.instance_id}/" in html  # the notice's link now opens
    assert page("supervisor").get(f"/workflow/instances/{task.instance_id}/").status_code == 200


def test_the_instance_scope_is_a_fixed_number_of_queries(loaded, django_assert_num_queries):
    user = page("approver-cg").get("/").wsgi_request.user
    with django_assert_num_queries(3):  # is the user the admin? their role assignments; then the instances
        list(selectors.instances_visible_to(user))


# --- overdue lists ---------------------------------------------------------------------------------------------------


def test_an_organisations_overdue_list_is_for_its_own_staff(loaded):
    assert api("approver-scjg").get("/api/workflow/organisations/yx-scjg/overdue").status_code == 200
    assert api("supervisor").get("/api/workflow/organisations/yx-scjg/overdue").status_code == 200
    assert api("admin").get("/api/workflow/organisations/yx-scjg/overdue").status_code == 200
    refused = api("approver-ga").get("/api/workflow/organisations/yx-scjg/overdue")
    assert refused.status_code == 403 and refused.json()["code"] == "workflow.forbidden"
    assert api("clerk").get("/api/workflow/organisations/yx-scjg/overdue").status_code == 403
