"""Pages: public benchmark and disclosure pages, the three staff pages, the case page and its forms."""

from __future__ import annotations

import pytest
from django.test import Client
from rich.console import Console

from tongban.core.models import User
from tongban.enforcement import demo
from tongban.enforcement.models import CaseRecord, EnforcementCase


@pytest.fixture
def demo_cases(demo_core):
    demo.load(Console(quiet=True))


def _as(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_public_pages(demo_cases):
    items = Client().get("/enforcement/items/").content.decode()
    assert "《中华人民共和国食品安全法》第一百二十二条第一款" in items and "货值金额" in items
    public = Client().get("/enforcement/public/").content.decode()
    assert "云溪味道餐饮管理有限公司" in public and "王芳" not in public


@pytest.mark.parametrize(("path", "allowed", "denied"), [
    ("/enforcement/cases/", "officer-scjg", "legal-scjg"),
    ("/enforcement/review/", "legal-scjg", "officer-scjg"),
    ("/enforcement/head/", "head-scjg", "supervisor"),
])
def test_staff_pages_by_role(demo_cases, path, allowed, denied):
    assert _as(allowed).get(path).status_code == 200
    assert _as(denied).get(path).status_code == 403
    assert Client().get(path).status_code == 302


def test_case_page_and_forms(demo_cases):
    case = EnforcementCase.objects.get(stage="legal_review")
    url = f"/enforcement/cases/{case.case_no}/"
    page = _as("legal-scjg").get(url).content.decode()
    assert "审核通过" in page and "执法全过程记录" in page
    assert _as("officer-cg").get(url).status_code == 404
    refused = _as("officer-scjg").post(url + "act/", {"action": "review", "decision": "approve", "opinion": "同意"})
    assert refused.status_code == 302 and EnforcementCase.objects.get(pk=case.pk).stage == "legal_review"
    _as("legal-scjg").post(url + "act/", {"action": "review", "decision": "approve", "opinion": "同意"})
    assert EnforcementCase.objects.get(pk=case.pk).stage == "notifying"
    before = CaseRecord.objects.filter(case=case).count()
    _as("officer-scjg").post(url + "act/", {"action": "record", "record_action": "询问笔录", "text": "询问店主"})
    assert CaseRecord.objects.filter(case=case).count() == before + 1


def test_new_case_from_the_workbench(demo_cases):
    response = _as("officer-scjg").post("/enforcement/cases/new/", {
        "item": "SP-126", "party_name": "某超市", "facts": '{"refusals": 1}'})
    case = EnforcementCase.objects.get(party_name="某超市")
    assert response["Location"] == f"/enforcement/cases/{case.case_no}/" and case.stage == "filing"
    bad = _as("officer-scjg").post("/enforcement/cases/new/", {"item": "SP-126", "party_name": "x", "facts": "{"})
    assert bad.status_code == 302 and not EnforcementCase.objects.filter(party_name="x").exists()


def test_bodies_and_their_certified_staff_are_public(demo_cases):
    bodies = Client().get("/api/enforcement/bodies").json()
    scjg = next(b for b in bodies if b["code"] == "yx-scjg")
    assert {"SP-122", "SP-126"} <= {i["code"] for i in scjg["items"]}
    assert [s["certificate_no"] for s in scjg["staff"]] == ["91010012026001"]
    assert "91010022026001" in Client().get("/enforcement/bodies/").content.decode()


def test_case_page_renders_at_every_step_for_each_role(demo_cases):
    from tongban.enforcement import services as enf

    officer, legal, head = (User.objects.get(username=u) for u in ("officer-scjg", "legal-scjg", "head-scjg"))
    case = enf.open_case(officer, item_code="SP-122", party_name="逐步商户", facts={"goods_value": 1000})
    steps = [lambda c: enf.decide_filing(c, head, approve=True),
             lambda c: enf.finish_investigation(c, officer, penalty_kinds=["fine"], fine=50000),
             lambda c: enf.give_notice(c, officer), lambda c: enf.request_hearing(c, officer),
             lambda c: enf.hold_hearing(c, officer, transcript="无异议"),
             lambda c: enf.legal_review(c, legal, approve=True, opinion="同意"),
             lambda c: enf.decide(c, head, penalty_kinds=["fine"], fine=50000),
             lambda c: enf.serve(c, officer), lambda c: enf.execute(c, officer, note="已缴纳"),
             lambda c: enf.close(c, officer), lambda c: enf.publish(c, officer)]
    seen = set()
    for step in [None, *steps]:
        if step is not None:
            case = step(case)
        seen.add(case.stage)
        for username in ("officer-scjg", "legal-scjg", "head-scjg"):
            response = _as(username).get(f"/enforcement/cases/{case.case_no}/")
            assert response.status_code == 200, (case.stage, username)
            assert case.case_no in response.content.decode()
    assert {"filing", "investigating", "notifying", "hearing", "legal_review", "deciding", "serving", "executing",
            "closing", "closed"} <= seen
    assert "撤下公示" in _as("head-scjg").get(f"/enforcement/cases/{case.case_no}/").content.decode()


def test_decision_document_for_the_department_only(demo_cases):
    case = EnforcementCase.objects.get(published_at__isnull=False)
    response = _as("head-scjg").get(f"/enforcement/cases/{case.case_no}/decision.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert _as("officer-cg").get(f"/enforcement/cases/{case.case_no}/decision.pdf").status_code == 404
    undecided = EnforcementCase.objects.get(stage="legal_review")
    assert _as("head-scjg").get(f"/enforcement/cases/{undecided.case_no}/decision.pdf").status_code == 404
