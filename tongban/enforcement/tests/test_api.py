"""The JSON API, as the acceptance checks call it."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.testing import Api, ok


@pytest.fixture
def anon():
    return Client()


def test_items_are_public_with_legal_basis_and_levels(staff, anon):
    items = ok(anon.get("/api/enforcement/items"))
    assert len(items) >= 5
    food = next(i for i in items if i["code"] == "SP-122")
    assert food["law"] == "中华人民共和国食品安全法" and food["article"] == "第一百二十二条第一款"
    assert [lv["level"] for lv in food["levels"]] == ["minor", "general", "serious", "severe"]
    assert food["levels"][0]["fine_min"] == "50000" and food["levels"][-1]["fine_max"] == "20x"
    assert ok(anon.get("/api/enforcement/items/XF-60-1"))["department"] == "yx-xf"
    assert ok(anon.get("/api/enforcement/items/NOPE"), 404)["code"] == "enforcement.unknown_item"


def _discretion(client, body):
    return client.post("/api/enforcement/discretion", body, content_type="application/json")


def test_discretion_answers_level_basis_and_range(staff, anon):
    body = ok(_discretion(anon, {"item": "SP-122", "facts": {"goods_value": 30000}}))
    assert body["level"] == "severe" and body["level_label"] == "严重"
    assert body["legal_basis"]["citation"] == "《中华人民共和国食品安全法》第一百二十二条第一款"
    assert (body["fine_min"], body["fine_max"]) == (300000.0, 600000.0)
    crowded = ok(_discretion(anon, {"item": "XF-60-1", "facts": {"defects": 2, "crowded_place": True}}))
    assert crowded["level"] == "serious" and crowded["fine_min"] == 20000.0


def test_discretion_bad_input(staff, anon):
    assert ok(_discretion(anon, {"item": "NOPE", "facts": {}}), 404)["code"] == "enforcement.unknown_item"
    bad = ok(_discretion(anon, {"item": "SP-122", "facts": {"goods_value": -5}}), 400)
    assert bad["code"] == "enforcement.invalid_facts" and bad["detail"]["field"] == "facts.goods_value"
    missing = ok(_discretion(anon, {"item": "GH-64", "facts": {"area": 1}}), 400)
    assert missing["detail"]["field"] == "facts.construction_cost"


def _case(officer, head, facts, item="SP-122"):
    case = ok(officer.post("/api/enforcement/cases", {"item": item, "party_name": "东门便利店",
                                                      "party_id_number": "92910103MA1YX0003M", "facts": facts}), 201)
    assert case["stage"] == "filing"
    no = case["case_no"]
    assert ok(head.post(f"/api/enforcement/cases/{no}/filing", {"approve": True}))["stage"] == "investigating"
    return no


def test_decisions_outside_the_benchmark_or_before_legal_review_are_refused(staff):
    officer, head, legal = Api("officer-scjg"), Api("head-scjg"), Api("legal-scjg")
    no = _case(officer, head, {"goods_value": 1000})  # minor: 50000–60000
    out = ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 90000}), 422)
    assert out["code"] == "enforcement.outside_benchmark"
    assert out["detail"]["allowed"]["fine_max"] == 60000.0
    early = ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 50000}), 409)
    assert early["code"] == "enforcement.notice_required"

    major = _case(officer, head, {"goods_value": 20000})  # severe: 200000–400000, a major decision
    refused = ok(head.post(f"/api/enforcement/cases/{major}/decision", {"penalty_kinds": ["fine"], "fine": 200000}),
                 409)
    assert refused["code"] == "enforcement.legal_review_required"
    body = ok(officer.post(f"/api/enforcement/cases/{major}/investigation",
                           {"penalty_kinds": ["confiscate_income", "fine"], "fine": 200000}))
    assert body["stage"] == "legal_review" and body["review_status"] == "pending"
    assert ok(head.post(f"/api/enforcement/cases/{major}/decision", {"penalty_kinds": ["fine"], "fine": 200000}),
              409)["code"] == "enforcement.legal_review_required"
    assert ok(officer.post(f"/api/enforcement/cases/{major}/legal-review", {"approve": True, "opinion": "同意"}),
              403)["code"] == "enforcement.forbidden"
    body = ok(legal.post(f"/api/enforcement/cases/{major}/legal-review", {"approve": True, "opinion": "事实清楚，同意"}))
    assert body["stage"] == "notifying" and body["review_status"] == "approved"
    assert ok(head.post(f"/api/enforcement/cases/{major}/decision", {"penalty_kinds": ["fine"], "fine": 200000}),
              409)["code"] == "enforcement.notice_required"


def test_staff_of_another_department_do_not_see_the_case(staff):
    officer, head = Api("officer-scjg"), Api("head-scjg")
    no = _case(officer, head, {"goods_value": 1000})
    assert ok(Api("officer-cg").get(f"/api/enforcement/cases/{no}"), 404)["code"] == "enforcement.not_found"
    assert ok(Api("officer-cg").get("/api/enforcement/cases")) == []
    assert [c["case_no"] for c in ok(officer.get("/api/enforcement/cases"))] == [no]
    assert Client().get("/api/enforcement/cases").status_code == 401


def test_public_lists_are_one_query(staff, anon, django_assert_max_num_queries):
    from rich.console import Console

    from tongban.enforcement import demo

    demo.load(Console(quiet=True))
    with django_assert_max_num_queries(2):  # items with their departments, then all levels
        assert len(ok(anon.get("/api/enforcement/items"))) >= 5
    with django_assert_max_num_queries(1):
        assert len(ok(anon.get("/api/enforcement/public"))) == 1


def test_case_list_queries_do_not_grow_with_the_cases(staff, django_assert_max_num_queries):
    officer, head = Api("officer-scjg"), Api("head-scjg")
    for _ in range(3):
        _case(officer, head, {"goods_value": 1000})
    with django_assert_max_num_queries(12) as few:
        assert len(ok(officer.get("/api/enforcement/cases"))) == 3
    queries = len(few)
    assert queries > 0
    for _ in range(5):
        _case(officer, head, {"goods_value": 1000})
    with django_assert_max_num_queries(queries):
        assert len(ok(officer.get("/api/enforcement/cases"))) == 8


def test_facts_may_come_with_the_decision_when_the_case_has_none(staff):
    officer, head = Api("officer-scjg"), Api("head-scjg")
    case = ok(officer.post("/api/enforcement/cases", {"item": "SP-122", "party_name": "某店"}), 201)
    no = case["case_no"]
    out = ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 1,
                                                                  "facts": {"goods_value": 100}}), 422)
    assert out["code"] == "enforcement.outside_benchmark"
    assert ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 1}),
              400)["code"] == "enforcement.invalid_facts"  # refused: nothing was saved
    filed = _case(officer, head, {"goods_value": 100})
    assert ok(head.post(f"/api/enforcement/cases/{filed}/decision", {
        "penalty_kinds": ["fine"], "fine": 50000, "facts": {"goods_value": 9000}}), 409)["code"] == \
        "enforcement.bad_state"
