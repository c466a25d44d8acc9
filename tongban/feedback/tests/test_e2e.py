"""End to end on the demo data set, through HTTP only: a case closes (applications), its applicant rates it badly,
the department verifies, rectifies and revisits, the public statistics show it; a 12345 request is classified,
dispatched, answered, reopened once and closed; the evaluator exports it masked."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from rich.console import Console

from tongban.apps_registry import context_modules
from tongban.core.models import User
from tongban.testing import PDF, Api, ok

pytestmark = pytest.mark.django_db
FOOD_CHANGE_ITEM = "YX-SCJG-XK-0002-02"  # 食品经营许可证变更: 市场监管局, approved at once by commitment (告知承诺制)


@pytest.fixture
def demo(settings, model):
    settings.TONGBAN_WORKFLOW_INLINE = True
    for _name, module in context_modules("demo"):  # what ``tongban demo`` loads, in dependency order
        module.load(Console(quiet=True))


def _closed_case(company: Api) -> str:
    food = ok(company.post("/api/applications", {"item_code": FOOD_CHANGE_ITEM}), 201)
    replaceable = next(m["key"] for m in food["materials"] if m["name"] == "与变更事项有关的材料")
    for m in food["materials"]:
        if m["key"] != replaceable and m["requirement"] == "required":
            ok(company.upload(f"/api/applications/{food['ref']}/materials/{m['key']}/file", PDF + m["key"].encode()))
    ok(company.post(f"/api/applications/{food['ref']}/commitment", {"material_keys": [replaceable]}))
    done = ok(company.post(f"/api/applications/{food['ref']}/submit", {"form_data": {
        "enterprise_name": "云溪星火科技有限公司", "food_licence_number": "JY13101020000001",
        "change_items": ["经营场所"], "applicant_phone": "13900000002"}}))
    assert done["status"] == "approved"
    return food["ref"]


def service_link(client: Client, ref: str) -> bool:
    """The closed case's rating link lists its service with a link to rate it."""
    return f"/feedback/rate/{ref}:{FOOD_CHANGE_ITEM}/" in client.get(f"/feedback/rate/?case={ref}").content.decode()


def test_rating_a_closed_case_through_rectification_and_revisit(demo):
    company = Api("yunxi-tech")
    ref = _closed_case(company)
    case_page = Client()
    case_page.force_login(User.objects.get(username="yunxi-tech"))
    assert f'href="/feedback/rate/?case={ref}"' in case_page.get(f"/my/applications/{ref}/").content.decode()
    assert service_link(case_page, ref)
    service = next(s for s in ok(company.get("/api/ratings/services")) if s["ref"].startswith(ref))
    assert service["department"] == "yx-scjg" and service["rating"] is None
    before = ok(Client().get("/api/ratings/stats?org=yx-scjg"))

    body = {"service": service["ref"], "level": 1, "comment": "承诺制审批后还要求补交材料", "channel": "web"}
    ok(company.post("/api/ratings", body), 201)
    assert company.post("/api/ratings", body).json()["code"] == "feedback.already_rated"
    assert Api("zhangsan").post("/api/ratings", body).status_code == 403

    scjg = Api("approver-scjg")
    rect = next(r for r in ok(scjg.get("/api/ratings/rectifications?status=verifying")) if r["service"] == service["ref"])
    ok(scjg.post(f"/api/ratings/rectifications/{rect['id']}/verify", {"note": "属实：重复要求材料", "days": 5}))
    ok(scjg.post(f"/api/ratings/rectifications/{rect['id']}/rectify", {"note": "已更正办事指南并培训窗口人员"}))
    ok(scjg.post(f"/api/ratings/rectifications/{rect['id']}/revisit", {"result": "satisfied", "note": "电话回访"}))

    after = ok(Client().get("/api/ratings/stats?org=yx-scjg"))
    assert after["total"] == before["total"] + 1 and after["bad"] == before["bad"] + 1
    assert after["revisited"] == before["revisited"] + 1 and after["rectified"] == before["rectified"] + 1

    evaluator = Api("evaluator")
    rows = list(csv.DictReader(io.StringIO(
        evaluator.get("/api/evaluation/data/ratings/export?format=csv").content.decode("utf-8-sig"))))
    mine = next(r for r in rows if r["service_ref"] == service["ref"])
    assert mine["person"] == "云" + "*" * 8 + "司" and mine["rectification_status"] == "done"


def test_a_12345_request_from_call_to_confirmation(demo):
    operator, zhang = Api("hotline"), Api("zhangsan")
    proposal = ok(operator.post("/api/hotline/classify", {"text": "小区物业乱收费还不给发票"}))
    assert proposal["department"] == "yx-zjj"
    order = ok(zhang.post("/api/hotline/orders", {"text": "小区物业乱收费还不给发票", "division": "910102000000"}), 201)
    number = order["number"]
    assert order["proposed_department"] == "yx-zjj"
    ok(operator.post(f"/api/hotline/orders/{number}/dispatch", {"department": "yx-sw"}))  # sent to the tax office
    tax = Api("approver-sw")
    ok(tax.post(f"/api/hotline/orders/{number}/return", {"reason": "物业收费归住建部门"}))
    ok(operator.post(f"/api/hotline/orders/{number}/dispatch", {"department": "yx-zjj"}))
    handler = Api("admin")  # 住建局 has no demo approver; the admin handles for it
    ok(handler.post(f"/api/hotline/orders/{number}/answer", {"text": "已约谈物业公司"}))
    reopened = ok(zhang.post(f"/api/hotline/orders/{number}/confirm", {"satisfied": False, "note": "仍未开发票"}))
    assert reopened["status"] == "dispatched" and reopened["reopen_count"] == 1
    ok(handler.post(f"/api/hotline/orders/{number}/answer", {"text": "物业公司已补开发票并退还多收费用"}))
    closed = ok(zhang.post(f"/api/hotline/orders/{number}/confirm", {"satisfied": True}))
    assert closed["status"] == "closed" and closed["satisfaction"] == "satisfied"
    kinds = [e["kind"] for e in ok(zhang.get(f"/api/hotline/orders/{number}"))["events"]]
    assert kinds == ["intake", "dispatch", "return", "dispatch", "answer", "reopen", "answer", "confirm"]
    masked = ok(Api("evaluator").get("/api/evaluation/data/orders?limit=1000"))
    assert any(r["number"] == number and r["contact_name"] == "张*" for r in masked)
