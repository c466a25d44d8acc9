"""Cross-context journeys on the demo data set, through HTTP only (applications + exchange + credentials).

These live outside every bounded context: a context's own tests may not import its siblings.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rich.console import Console

from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
from tongban.demo import load_demo
from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% e2e material\n"


@pytest.fixture
def demo(settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    load_demo(Console(quiet=True))


def test_birth_bundle_fetches_the_birth_certificate_with_consent_and_issues_licences(demo):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"bundle_code": "YX-YJS-CS", "situations": {
        "YX-WSJK-GG-0001": {"situation_code": "in-hospital"}, "YX-GA-QR-0001": {"situation_code": "local"},
        "YX-YBJ-GG-0001": {"situation_code": "local-newborn"}, "YX-RSJ-GG-0002": {"situation_code": "newborn"}}}),
        201)
    ref = app["ref"]
    birth = next(m for m in app["materials"] if m["source"] == "shared" and "birth_medical_certificate" in m["key"])
    assert len(birth["items"]) == 4  # asked once for four items

    # The applicant sees what will be fetched from whom, consents, and uploads nothing for it.
    plan = ok(zhang.get(f"/api/applications/{ref}/materials/{birth['key']}/evidence"))
    assert plan["provider_org"] == "yx-wsjk" and plan["available"]
    refused = zhang.post(f"/api/applications/{ref}/materials/{birth['key']}/evidence", {"consent": False})
    assert refused.status_code == 400 and refused.json()["code"] == "evidence.consent_required"
    fetched = ok(zhang.post(f"/api/applications/{ref}/materials/{birth['key']}/evidence", {"consent": True}))
    assert fetched["status"] == "fetched"
    assert fetched["evidence"]["provider_org"] == "yx-wsjk"
    assert fetched["evidence"]["data"]["child_name"].startswith("张")

    for m in app["materials"]:
        if m["key"] == birth["key"] or m["requirement"] == "optional":
            continue
        if m["source"] != "applicant":
            r = zhang.post(f"/api/applications/{ref}/materials/{m['key']}/evidence", {"consent": True})
            if r.status_code == 200:
                continue
        ok(zhang.upload(f"/api/applications/{ref}/materials/{m['key']}/file", PDF + m["key"].encode()))

    form = {
        "child_name": "张小溪", "child_gender": "女", "child_birth_date": "2026-11-02",
        "birth_hospital": "云溪市妇幼保健院", "mother_name": "李四", "mother_id_number": ID_NUMBERS["lisi"],
        "father_name": "张三", "father_id_number": ID_NUMBERS["zhangsan"], "applicant_name": "张三",
        "applicant_id_number": ID_NUMBERS["zhangsan"], "applicant_phone": "13800000001",
        "vaccination_clinic": "云溪市妇幼保健院产科接种室", "household_address": "云溪市青山区翠湖路8号",
        "mailing_address": "云溪市青山区翠湖路8号", "deposit_bank": "中国工商银行云溪分行",
    }
    submitted = ok(zhang.post(f"/api/applications/{ref}/submit", {"form_data": form}))
    assert submitted["status"] == "in_review"  # fully online, nothing missing: accepted at once

    # the items the bundle's rules can decide (秒批) are approved without a human task; the others wait for their
    # department's approver
    from tongban.applications.models import AutoDecision

    by_rules = set(AutoDecision.objects.filter(application_item__application__ref=ref, outcome="approve")
                   .values_list("application_item__item__code", flat=True))
    assert by_rules, "the birth bundle runs its rule-decidable items by rules"
    humans = 0
    for username in ["approver-wsjk", "approver-ga", "approver-ybj", "approver-rsj"]:
        approver = Api(username)
        tasks = [t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == ref]
        humans += len(tasks)
        for task in tasks:
            ok(approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "approve", "opinion": "同意"}))

    final = ok(zhang.get(f"/api/applications/{ref}"))
    assert humans >= 1 and humans + len(by_rules) == len(final["items"])  # each item: one task or one rule decision
    assert final["status"] == "approved", [(i.get("item_code"), i.get("status")) for i in final.get("items", [])]
    wallet = ok(zhang.get("/api/credentials/wallet"))
    issued = {c["licence_type"]: c for c in wallet["items"] if c.get("application_ref") == ref}
    assert {"birth_medical_certificate", "vaccination_certificate", "social_security_card"} <= set(issued), wallet
    status = ok(Client().get(f"/api/credentials/{issued['birth_medical_certificate']['id']}/status"))
    assert status["status"] == "active"

    # The citizen sees who read their data, when and for which case.
    access = ok(zhang.get("/api/exchange/my-access-log"))
    assert any(a.get("case_ref") == ref and a.get("outcome") == "granted" for a in access), access


def test_business_licence_is_sealed_verified_by_qr_and_api_then_revoked(demo):
    company = Api("yunxi-tech")
    guide = ok(Client().get("/api/catalog/items/YX-SCJG-XK-0001-01-01"))
    situation = guide["situations"][0]["code"]
    app = ok(company.post("/api/applications", {"item_code": "YX-SCJG-XK-0001-01-01",
                                                 "situations": {"YX-SCJG-XK-0001-01-01": {"situation_code": situation}}}),
             201)
    ref = app["ref"]
    for m in app["materials"]:
        if m["requirement"] != "optional" and m["status"] == "missing":
            ok(company.upload(f"/api/applications/{ref}/materials/{m['key']}/file", PDF + m["key"].encode()))
    form = {"enterprise_name": "云溪青禾餐饮管理有限公司", "enterprise_type": "有限责任公司（自然人投资或控股）",
            "registered_address": "云溪市青山区翠湖路18号", "registered_capital": 100, "business_scope": "餐饮管理；餐饮服务",
            "legal_representative": "王青禾", "legal_representative_id_number": "910102198805061235",
            "applicant_name": "王青禾", "applicant_phone": "13900000002"}
    ok(company.post(f"/api/applications/{ref}/submit", {"form_data": form}))
    approver = Api("approver-scjg")
    for task in [t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == ref]:
        ok(approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "approve", "opinion": "准予设立"}))
    assert ok(company.get(f"/api/applications/{ref}"))["status"] == "approved"

    wallet = ok(company.get("/api/credentials/wallet"))
    licence = next(c for c in wallet["items"] if c.get("application_ref") == ref)
    assert licence["licence_type"] == "business_licence"
    cid = licence["id"]
    public = Client()
    page = public.get(f"/verify/{cid}/")  # what the QR code opens
    assert page.status_code == 200 and "有效" in page.content.decode()
    pdf = company.get(f"/api/credentials/{cid}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    vc = company.get(f"/api/credentials/{cid}/vc").content.decode().strip()
    checked = ok(public.post("/api/credentials/verify", {"file": SimpleUploadedFile("l.pdf", pdf.content,
                                                                                    "application/pdf")}))
    assert checked["valid"] is True
    assert ok(public.post("/api/credentials/verify", {"vc": vc}, content_type="application/json"))["valid"] is True
    tampered = bytearray(pdf.content)
    tampered[len(tampered) // 3] ^= 0x01  # one bit of the document changed
    bad = ok(public.post("/api/credentials/verify", {"file": SimpleUploadedFile("t.pdf", bytes(tampered),
                                                                                "application/pdf")}))
    assert bad["valid"] is False

    ok(approver.post(f"/api/credentials/{cid}/revoke", {"reason": "以欺骗手段取得登记，依法撤销"}))
    assert ok(public.get(f"/api/credentials/{cid}/status"))["status"] == "revoked"
    revoked = ok(public.post("/api/credentials/verify", {"vc": vc}, content_type="application/json"))
    assert revoked["valid"] is False and "revoked" in revoked["code"]
    assert "已撤销" in public.get(f"/verify/{cid}/").content.decode()


def test_closed_case_is_archived_as_a_valid_bag(demo, settings, tmp_path):
    import subprocess
    import sys

    settings.TONGBAN_ARCHIVES_DIR = tmp_path / "archives"
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "YX-WSJK-GG-0002"}), 201)
    ref = app["ref"]
    for m in app["materials"]:
        if m["requirement"] != "optional":
            ok(zhang.upload(f"/api/applications/{ref}/materials/{m['key']}/file", PDF + m["key"].encode()))
    ok(zhang.post(f"/api/applications/{ref}/submit", {"form_data": {
        "child_name": "张小溪", "child_gender": "女", "child_birth_date": "2026-11-02", "mother_name": "李四",
        "applicant_name": "张三", "applicant_phone": "13800000001", "vaccination_clinic": "云溪市妇幼保健院产科接种室",
        "residence_address": "云溪市青山区翠湖路8号"}}))
    approver = Api("approver-wsjk")
    for task in [t for t in ok(approver.get("/api/workbench/tasks")) if t["application_ref"] == ref]:
        ok(approver.post(f"/api/workbench/tasks/{task['id']}/decide", {"outcome": "approve"}))
    assert ok(zhang.get(f"/api/applications/{ref}"))["status"] == "approved"
    bags = [p for p in (tmp_path / "archives").iterdir() if p.is_dir() and p.name.startswith(ref)]
    assert len(bags) == 1
    bag = bags[0]
    assert (bag / "bagit.txt").exists() and "Tongban-Retention-Until" in (bag / "bag-info.txt").read_text()
    run = subprocess.run([sys.executable, "-m", "tongban", "archive", "verify", str(bag)], capture_output=True,
                         text=True, env={**__import__("os").environ, "TONGBAN_HOME": str(tmp_path / "home")})
    assert run.returncode == 0, run.stderr
    payload = next(p for p in (bag / "data").rglob("*") if p.is_file())
    payload.write_bytes(payload.read_bytes() + b"x")
    run = subprocess.run([sys.executable, "-m", "tongban", "archive", "verify", str(bag)], capture_output=True,
                         text=True, env={**__import__("os").environ, "TONGBAN_HOME": str(tmp_path / "home")})
    assert run.returncode != 0


def test_applicant_page_fetches_evidence_with_consent_and_keeps_typed_data(demo):
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "YX-GA-QR-0001",
                                               "situations": {"YX-GA-QR-0001": {"situation_code": "local"}}}), 201)
    ref = app["ref"]
    birth = next(m for m in app["materials"] if "birth_medical_certificate" in m["key"])
    browser = Client()
    assert browser.login(username="zhangsan", password=DEMO_PASSWORD)
    page = browser.get(f"/my/applications/{ref}/fill/").content.decode()
    assert "我同意调取" in page and "云溪市卫生健康委员会" in page
    from tongban.applications.models import ApplicationMaterial  # noqa: PLC0415 - project-level test

    pk = ApplicationMaterial.objects.get(application__ref=ref, key=birth["key"]).pk
    r = browser.post(f"/my/applications/{ref}/fill/", {"fetch": str(pk), "child_name": "张小溪"})
    assert r.status_code == 302
    detail = ok(zhang.get(f"/api/applications/{ref}"))
    assert next(m for m in detail["materials"] if m["key"] == birth["key"])["status"] == "fetched"
    assert detail["form_data"].get("child_name") == "张小溪"


def test_malformed_requests_get_a_stable_error_code(db):
    client = Client()
    r = client.get("/api/catalog/items?page=abc")
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    assert r.json()["detail"]["errors"][0]["field"] == "page"
    r = client.post("/api/auth/token", "{not json", content_type="application/json")
    assert r.status_code in (400, 422) and "code" in r.json()
