"""Delegated service (下沉): a township item is taken in at the community window, accepted there, reviewed and decided
by the township centre's own approver — not by the city department that is competent for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.utils import timezone
from rich.console import Console

from tongban.applications.models import Application, ProxyAuthorisation
from tongban.applications.services.proxies import authorise_proxy
from tongban.catalog import demo as catalog_demo
from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import ServiceItem
from tongban.core import demo as core_demo
from tongban.core.models import Organisation, Role, RoleAssignment, User
from tongban.testing import PDF, Api, ok

ITEM = "QS-CH-JF-0001"  # 最低生活保障审核确认: competent 市民政局, implemented by 翠湖街道便民服务中心
FORM = {"applicant_name": "王五", "applicant_id_number": "910102197001010011", "applicant_phone": "13900000001",
        "household_address": "云溪市青山区翠湖街道翠湖社区5栋1单元", "family_size": 3, "family_monthly_income": 1500,
        "apply_reason": "家庭成员重病，收入不足以维持基本生活"}


@pytest.fixture
def delegated_demo(demo_core, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    catalog_demo.load(Console(quiet=True))


def test_a_township_item_goes_from_the_community_window_to_the_township_decision(delegated_demo):
    item = ServiceItem.objects.get(code=ITEM)
    assert item.competent_department.code == "yx-mz"
    assert catalog_selectors.delegated_place(item).code == "qs-ch-bmfw"
    assert catalog_selectors.reviewing_organisation(item).code == "qs-ch-bmfw"

    # the community service point (翠湖社区, below the township centre) takes the application in, for the resident
    community_clerk = User.objects.get(username="clerk-chsq")
    proxy = authorise_proxy(agent=community_clerk, principal_name="王五", principal_id_number=FORM[
        "applicant_id_number"], scope="窗口帮办：最低生活保障", valid_until=timezone.localdate(),
        kind=ProxyAuthorisation.Kind.CLERK)
    window = Api("clerk-chsq")
    app = ok(window.post("/api/applications", {
        "item_code": ITEM, "situations": {ITEM: {"situation_code": "household"}}, "proxy_id": proxy.pk,
        "channel": "window", "window_code": "qs-ch-sq", "form_data": FORM}), 201)
    ref = app["ref"]
    assert [i["department"] for i in app["items"]] == ["qs-ch-bmfw"]  # reviewed by the township, not 市民政局
    for m in app["materials"]:
        if m["status"] == "missing" and m["requirement"] != "optional":
            ok(window.upload(f"/api/applications/{ref}/materials/{m['key']}/file", PDF + m["key"].encode()))
    ok(window.post(f"/api/applications/{ref}/submit", {"form_data": FORM}))

    # it waits in the township's and its community stations' queues, not in the city centre's
    assert ref in [a["ref"] for a in ok(window.get("/api/window/queue"))]
    assert ref in [a["ref"] for a in ok(Api("clerk-ch").get("/api/window/queue"))]
    assert ref not in [a["ref"] for a in ok(Api("clerk").get("/api/window/queue"))]
    assert ref not in [a["ref"] for a in ok(Api("clerk-sq").get("/api/window/queue"))]  # another township
    # the city centre's clerk cannot accept what was delegated to the township
    refused = Api("clerk").post(f"/api/window/applications/{ref}/accept", {})
    assert refused.status_code == 403 and refused.json()["code"] == "window.delegated_elsewhere"
    assert "翠湖街道便民服务中心" in refused.json()["message"]

    accepted = ok(window.post(f"/api/window/applications/{ref}/accept", {}))
    assert accepted["status"] == "in_review"
    notice = Application.objects.get(ref=ref).notices.get(kind="acceptance")
    assert notice.content["issuer"] == "青山区翠湖街道便民服务中心"  # the acceptance notice comes from there

    # the task waits in the township approver's workbench; the city department's approver never sees it
    assert not [t for t in ok(Api("approver-mz").get("/api/workbench/tasks")) if t["application_ref"] == ref]
    township = Api("approver-ch")
    [task] = [t for t in ok(township.get("/api/workbench/tasks")) if t["application_ref"] == ref]
    assert task["department"] == "qs-ch-bmfw"
    assert Api("approver-mz").post(f"/api/workbench/tasks/{task['id']}/decide",
                                   {"outcome": "approve", "opinion": "同意"}).status_code in (403, 404)
    decided = ok(township.post(f"/api/workbench/tasks/{task['id']}/decide",
                               {"outcome": "approve", "opinion": "经入户调查，符合低保条件，同意"}))
    assert decided["application"]["status"] == "approved"
    detail = ok(window.get(f"/api/applications/{ref}"))
    assert detail["items"][0]["status"] == "approved" and detail["status"] == "approved"


def test_a_delegated_item_may_name_the_department_that_decides_it(delegated_demo):
    item = ServiceItem.objects.get(code=ITEM)
    item.reviewing_org = Organisation.objects.get(code="yx-mz")
    item.save()
    assert catalog_selectors.reviewing_organisation(item).code == "yx-mz"
    assert catalog_selectors.delegated_place(item).code == "qs-ch-bmfw"  # still accepted at the township


def test_every_organisation_that_decides_a_demo_item_has_an_approver_account(demo_core):
    items = json.loads(Path(catalog_demo.DEMO_FILE).read_text(encoding="utf-8"))["items"]
    deciding = {i.get("reviewing_org") or i["implementing_org"] for i in items}
    with_approver = set(RoleAssignment.objects.filter(role__code=Role.APPROVER).values_list(
        "organisation__code", flat=True))
    demo_accounts = {u[0] for u in core_demo.USERS}
    assert deciding <= with_approver, sorted(deciding - with_approver)
    assert {"approver-ch", "approver-sq", "approver-chsq", "clerk-chsq"} <= demo_accounts
