"""HTTP-level end-to-end journeys through the JSON API, with bearer tokens of the demo accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% api test\n"


def provide_all(api: Api, app: dict, *, skip_tolerable: bool = False) -> None:
    for m in app["materials"]:
        if m["status"] == "missing" and not (skip_tolerable and m["requirement"] == "tolerable"):
            ok(api.upload(f"/api/applications/{app['ref']}/materials/{m['key']}/file",
                          PDF + m["key"].encode()))


def decide_all(app_ref: str, usernames: list[str], outcome: str = "approve") -> None:
    for username in usernames:
        approver = Api(username)
        tasks = [t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == app_ref]
        assert len(tasks) == 1, (username, tasks)
        ok(approver.post(f"/api/workbench/tasks/{tasks[0]['id']}/claim"))
        ok(approver.post(f"/api/workbench/tasks/{tasks[0]['id']}/decide", {"outcome": outcome, "opinion": "同意"}))


def test_bundle_through_all_departments(small_catalog):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"bundle_code": "T-BUNDLE",
                                               "situations": {"T-FIRE-01": {"answers": {"premises": "自有"}}}}), 201)
    ref = app["ref"]
    schema = ok(zhang.get(f"/api/applications/{ref}/form"))
    assert schema["properties"]["shop_address"]["x-tongban-items"] == ["T-SHOP-01", "T-FIRE-01"]
    provide_all(zhang, app)
    bad = zhang.post(f"/api/applications/{ref}/submit", {"form_data": {"applicant_name": ""}})
    assert bad.status_code == 400 and bad.json()["code"] == "application.invalid_form"
    ok(zhang.post(f"/api/applications/{ref}/submit", {"form_data": {
        "applicant_name": "张三", "shop_address": "翠湖路1号", "shop_area_sqm": 60}}))
    clerk = Api("clerk")
    assert ref in [a["ref"] for a in ok(clerk.get("/api/window/queue"))]
    accepted = ok(clerk.post(f"/api/window/applications/{ref}/accept", {}))
    assert accepted["status"] == "in_review"
    # a department cannot see the other's task
    assert not [t for t in ok(Api("approver-ga").get("/api/workbench/tasks")) if t["application_ref"] == ref]
    decide_all(ref, ["approver-scjg", "approver-xf"])
    final = ok(zhang.get(f"/api/applications/{ref}"))
    assert final["status"] == "approved"
    assert {i["status"] for i in final["items"]} == {"approved"}
    result = [n for n in final["notices"] if n["kind"] == "result"]
    assert len(result) == 1
    pdf = zhang.get(result[0]["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    verified = ok(Client().get(f"/api/notices/{result[0]['code']}/verify"))
    assert verified["valid"] and verified["applicant"] == "张*"
    # another citizen cannot read the case
    assert Api("lisi").get(f"/api/applications/{ref}").status_code == 404


def test_commitment_then_failed_post_check(small_catalog):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    ref = app["ref"]
    ok(zhang.upload(f"/api/applications/{ref}/materials/name:申请人身份证明/file"))
    ok(zhang.post(f"/api/applications/{ref}/commitment",
                  {"material_keys": ["issued:business_licence:营业执照", "name:食品经营许可场所平面图"]}))
    done = ok(zhang.post(f"/api/applications/{ref}/submit",
                         {"form_data": {"applicant_name": "张三", "shop_address": "翠湖路1号"}}))
    assert done["status"] == "approved" and done["items"][0]["by_commitment"]
    # the post-check is supervision's (审管分离); its old address still answers
    assert Api("approver-scjg").get("/api/post-checks").json() == []
    checker = Api("supervisor")
    checks = [c for c in ok(checker.get("/api/post-checks")) if c["application_ref"] == ref]
    assert len(checks) == 1 and checks[0]["status"] == "pending"
    empty = checker.post(f"/api/post-checks/{checks[0]['id']}", {"passed": False, "result": " "})
    assert empty.status_code == 400 and empty.json()["code"] == "post_check.result_required"
    res = ok(checker.post(f"/api/post-checks/{checks[0]['id']}", {"passed": False, "result": "经营场所与承诺不符"}))
    assert res == {"id": checks[0]["id"], "status": "failed", "application_status": "revoked"}
    assert ok(zhang.get(f"/api/applications/{ref}"))["items"][0]["status"] == "revoked"


def test_missing_material_acceptance_with_late_supplement(small_catalog):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    ref = app["ref"]
    provide_all(zhang, app, skip_tolerable=True)
    ok(zhang.post(f"/api/applications/{ref}/submit",
                  {"form_data": {"applicant_name": "张三", "shop_address": "翠湖路1号"}}))
    clerk = Api("clerk")
    refused = clerk.post(f"/api/window/applications/{ref}/accept", {})
    assert refused.status_code == 400 and refused.json()["code"] == "window.materials_missing"
    ok(clerk.post(f"/api/window/applications/{ref}/accept", {"tolerate": True, "supplement_days": 5}))
    decide_all(ref, ["approver-scjg"])
    held = ok(zhang.get(f"/api/applications/{ref}"))
    assert held["status"] == "result_held"
    assert held["supplements"][0]["fulfilled_at"] is None
    assert not [n for n in held["notices"] if n["kind"] == "result"]
    late = ok(zhang.upload(f"/api/applications/{ref}/supplements/name:食品经营许可场所平面图", PDF + b"late"))
    assert late["application_status"] == "approved"


def test_proxy_application(small_catalog):
    agent = Api("lisi")
    no_letter = agent.client.post("/api/proxies", {"principal_name": "张三", "principal_id_number": "910102199001011234",
                                                   "scope": "食品经营许可",
                                                   "valid_until": (timezone.localdate() + dt.timedelta(days=9))},
                                  headers=agent.headers)
    assert no_letter.status_code == 400 and no_letter.json()["code"] == "proxy.document_required"
    proxy = ok(agent.client.post("/api/proxies", {
        "principal_name": "张三", "principal_id_number": "910102199001011234", "scope": "食品经营许可",
        "valid_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat(),
        "letter": SimpleUploadedFile("letter.pdf", PDF + b"letter", "application/pdf")}, headers=agent.headers), 201)
    app = ok(agent.post("/api/applications", {"item_code": "T-SHOP-01", "proxy_id": proxy["id"]}), 201)
    assert app["applicant_name"] == "张三" and app["proxy"]["agent"] == "李四"
    # the principal sees the application and who applied on their behalf
    mine = ok(Api("zhangsan").get(f"/api/applications/{app['ref']}"))
    assert mine["proxy"]["scope"] == "食品经营许可"
    assert any(e["kind"] == "proxy" for e in mine["timeline"])


def test_return_for_correction_through_the_api(small_catalog):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    ref = app["ref"]
    provide_all(zhang, app)
    ok(zhang.post(f"/api/applications/{ref}/submit", {"form_data": {"applicant_name": "张三", "shop_address": "翠湖路1号"}}))
    ok(Api("clerk").post(f"/api/window/applications/{ref}/accept", {}))
    approver = Api("approver-scjg")
    task = next(t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == ref)
    no_reason = approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "return"})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "decision.reason_required"
    ok(approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "return", "opinion": "平面图不清晰"}))
    assert ok(zhang.get(f"/api/applications/{ref}"))["items"][0]["status"] == "returned"
    fixed = zhang.client.post(f"/api/applications/{ref}/correction", {
        "note": "已重新上传", "material_key": "name:食品经营许可场所平面图",
        "file": SimpleUploadedFile("plan.pdf", PDF + b"v2", "application/pdf")}, headers=zhang.headers)
    assert ok(fixed)["corrected_items"] == 1
    task = next(t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == ref)
    ok(approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "approve"}))
    assert ok(zhang.get(f"/api/applications/{ref}"))["status"] == "approved"


def test_errors_have_stable_codes(small_catalog):
    zhang = Api("zhangsan")
    r = zhang.post("/api/applications", {"item_code": "NOPE"})
    assert r.status_code == 404 and r.json()["code"] == "application.unknown_item"
    r = zhang.post("/api/applications", {})
    assert r.status_code == 400 and r.json()["code"] == "application.item_or_bundle"
    assert Client().get("/api/applications").status_code == 401
    r = Client().post("/api/auth/token", {"username": "zhangsan", "password": "x"}, content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid_credentials"
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    bad = zhang.upload(f"/api/applications/{app['ref']}/materials/name:申请人身份证明/file", b"MZ", name="x.exe")
    assert bad.status_code == 400 and bad.json()["code"] in {"file.type_not_allowed", "file.type_mismatch"}
    clerkless = zhang.post(f"/api/window/applications/{app['ref']}/accept", {})
    assert clerkless.status_code == 403 and clerkless.json()["code"] == "window.not_clerk"
    assert "/api/applications" in Client().get("/api/openapi.json").json()["paths"]
