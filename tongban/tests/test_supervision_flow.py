"""End to end, across applications, supervision and the platform events (issue 10): a company approved on the
commitment route (告知承诺) → the post-check and the 审管联动 record reach the supervising department → the post-check
fails → the approval is revoked, the company's credit grade drops to D with its reasons → the commitment route is
refused (``applications.credit_not_allowed``, API and page) → credit repair restores it; and a 双随机 draw that
anyone can recompute from the published seed."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tongban.applications.models import Application
from tongban.applications.tests.conftest import small_catalog, users  # noqa: F401 - fixtures
from tongban.core.demo import ID_NUMBERS
from tongban.supervision import services
from tongban.supervision.models import EnforcementLead, MarketEntity
from tongban.supervision.tasks import record_result_task
from tongban.testing import Api, ok

COMPANY = ID_NUMBERS["yunxi-tech"]
KEYS = ["issued:business_licence:营业执照", "name:食品经营许可场所平面图"]
FORM = {"applicant_name": "云溪星火科技有限公司", "shop_address": "翠湖路88号"}


def run_outbox() -> int:
    """Run the queued 审管联动 tasks as the worker would (the rows are the outbox)."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path=record_result_task.module_path, status="READY")
    for row in rows:
        record_result_task.call(*row.args_kwargs["args"], **row.args_kwargs.get("kwargs", {}))
    count = rows.count()
    rows.update(status="SUCCEEDED")
    return count


def _commitment_application(api: Api) -> dict:
    app = ok(api.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    ok(api.upload(f"/api/applications/{app['ref']}/materials/name:申请人身份证明/file"))
    return app


def test_commitment_post_check_credit_and_repair(small_catalog, users):  # noqa: F811
    company, supervisor = Api("yunxi-tech"), Api("supervisor")
    app = _commitment_application(company)
    ref = app["ref"]
    ok(company.post(f"/api/applications/{ref}/commitment", {"material_keys": KEYS}))
    assert ok(company.post(f"/api/applications/{ref}/submit", {"form_data": FORM}))["status"] == "approved"

    # 审管联动: the result is queued (outbox), not written synchronously; the worker creates the record
    assert ok(supervisor.get("/api/supervision/records")) == []
    assert run_outbox() == 1
    records = ok(supervisor.get("/api/supervision/records"))
    assert [(r["application_ref"], r["kind"], r["department"]) for r in records] == [(ref, "commitment", "yx-scjg")]
    ok(supervisor.post(f"/api/supervision/records/{records[0]['id']}/receive"))
    assert ok(supervisor.get("/api/supervision/records"))[0]["status"] == "received"

    # another application signed while the grade is still good
    signed = _commitment_application(company)
    ok(company.post(f"/api/applications/{signed['ref']}/commitment", {"material_keys": KEYS}))

    # the post-check is supervision's; it fails
    checks = [c for c in ok(supervisor.get("/api/supervision/post-checks")) if c["application_ref"] == ref]
    assert len(checks) == 1 and checks[0]["status"] == "pending" and checks[0]["light"] == "green"
    assert Api("approver-scjg").post(f"/api/supervision/post-checks/{checks[0]['id']}",
                                     {"passed": False, "result": "x"}).status_code == 403
    ok(supervisor.post(f"/api/supervision/post-checks/{checks[0]['id']}",
                       {"passed": False, "result": "经营场所与承诺不符"}))
    assert ok(company.get(f"/api/applications/{ref}"))["status"] == "revoked"
    assert EnforcementLead.objects.filter(entity__uscc=COMPANY, source="post_check").exists()
    credit = ok(Client().get(f"/api/supervision/entities/{COMPANY}/credit"))  # public
    assert credit["grade"] == "D" and any("告知承诺不实" in r for r in credit["reasons"])

    # 凭信用审批: grade D cannot choose the commitment route (API: stable code; page: the reason), nor submit one
    # signed before the grade fell
    late = company.post(f"/api/applications/{signed['ref']}/submit", {"form_data": FORM})
    assert late.status_code == 403 and late.json()["code"] == "applications.credit_not_allowed"
    assert Application.objects.get(ref=signed["ref"]).status == "draft"
    second = _commitment_application(company)
    refused = company.post(f"/api/applications/{second['ref']}/commitment", {"material_keys": KEYS})
    assert refused.status_code == 403 and refused.json()["code"] == "applications.credit_not_allowed"
    assert "D 级" in refused.json()["message"]
    browser = Client()
    browser.force_login(users["yunxi-tech"])
    page = browser.post(reverse("applications:fill", args=[second["ref"]]),
                        {**FORM, "commit_keys": KEYS, "commit_sign": "on", "action": "submit"}, follow=True)
    text = page.content.decode()
    assert "不适用告知承诺制" in text and "D 级" in text
    assert Application.objects.get(ref=second["ref"]).status == "draft"

    # 信用修复: the company applies, the department reviews, the grade is restored
    entity = ok(company.get(f"/api/supervision/entities/{COMPANY}"))
    breach = next(e for e in entity["events"] if e["kind"] == "commitment_breach")
    assert Api("lisi").post(f"/api/supervision/credit-events/{breach['id']}/repair",
                            {"reason": "x"}).status_code == 404
    repair = ok(company.post(f"/api/supervision/credit-events/{breach['id']}/repair",
                             {"reason": "已按承诺整改经营场所并通过复查"}))
    assert company.post(f"/api/supervision/repairs/{repair['id']}/review", {"approve": True}).status_code == 403
    assert ok(supervisor.post(f"/api/supervision/repairs/{repair['id']}/review",
                              {"approve": True, "note": "整改属实"}))["grade"] == "B"
    ok(company.post(f"/api/applications/{second['ref']}/commitment", {"material_keys": KEYS}))


def test_draw_is_public_and_recomputable(small_catalog, users):  # noqa: F811
    services.load_entities([{"uscc": services.uscc.make("91910102", f"MA{i:07d}"), "name": f"测试餐饮{i}有限公司",
                             "division": "910102001000" if i % 2 else "910103001000", "industry": "H",
                             "departments": ["yx-scjg"]} for i in range(30)])
    for code, name, division in [("I-1", "钱立新", "910102001000"), ("I-2", "孙海燕", "910103001000"),
                                 ("I-3", "李文斌", "910102101000"), ("I-4", "周晓东", "910100000000")]:
        services.save_inspector(code=code, name=name, department="yx-scjg", division=division)
    supervisor = Api("supervisor")
    bad = supervisor.post("/api/supervision/plans", {
        "code": "P-1", "name": "餐饮抽查", "department": "yx-scjg", "ratios": {"B": 1.2},
        "period_start": "2026-01-01", "period_end": "2026-12-31", "checklist": ["健康证明"]})
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "ratios.B"
    ok(supervisor.post("/api/supervision/plans", {
        "code": "P-1", "name": "餐饮抽查", "department": "yx-scjg", "ratios": {"A": 0.1, "B": 0.2},
        "period_start": "2026-01-01", "period_end": "2026-12-31", "checklist": ["健康证明"], "industries": ["H"]}))
    assert Api("approver-scjg").post("/api/supervision/plans/P-1/draw", {}).status_code == 403
    drawn = ok(supervisor.post("/api/supervision/plans/P-1/draw", {"seed": "public-seed"}))
    anonymous = Client()
    view = ok(anonymous.get(f"/api/supervision/draws/{drawn['id']}"))
    assert view["seed"] == "public-seed" and view["algorithm"] == "tongban-sha256-rank-v1"
    assert len(view["entities"]) == drawn["entities"] == 6  # 20% of 30 grade-B entities
    assert all(len(e["inspectors"]) == 2 and e["inspectors"][0]["name"].endswith("*") for e in view["entities"])
    assert ok(anonymous.get(f"/api/supervision/draws/{drawn['id']}/verify")) == {"identical": True, "difference": None}
    page = anonymous.get(f"/supervision/draws/{drawn['id']}/").content.decode()
    assert "public-seed" in page and "钱立新" not in page
    assert MarketEntity.objects.filter(grade="B").count() == 30
