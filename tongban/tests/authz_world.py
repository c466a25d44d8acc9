"""The demo objects the authorisation matrix is exercised on, built once per test module through the HTTP API.

Every object belongs to a known owner, so each role's relation to it is fixed:

- the citizen 张三 (``zhangsan``) owns the applications, the consent, the access-log entry and the e-licence;
- the owning department is 人社局 (``yx-rsj``): the applications are 工伤认定 (YX-RSJ-QR-0001), whose review
  task is 人社局's; the e-licence (社会保障卡) is issued by 人社局; the data resource under review (社会保险参保
  信息) is 人社局's; the approver of another department is 公安局's, which has no task in any of these cases;
- the post-check is 市场监管局's (the only department whose items allow 告知承诺制 and one with a supervisor),
  after the company 云溪星火科技 got a 食品经营许可证变更 by commitment;
- the investment project belongs to the company.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from rich.console import Console

from tongban.applications.models import Application
from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
from tongban.core.models import User
from tongban.credentials.models import Credential
from tongban.demo import load_demo
from tongban.exchange import accesslog
from tongban.exchange.models import AccessLogEntry, DataResource
from tongban.testing import PDF, Api
from tongban.workflow.models import Task

# The matrix's roles (columns) and the demo account playing each; anonymous has none.
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "citizen": "zhangsan",
    "other_citizen": "lisi",
    "company": "yunxi-tech",
    "clerk": "clerk",
    "township_clerk": "clerk-ch",
    "approver_owner": "approver-rsj",
    "approver_other": "approver-ga",
    "supervisor": "supervisor",
    "data_owner": "data-rsj",
    "officer": "officer-scjg",
    "legal_reviewer": "legal-scjg",
    "head": "head-scjg",
    "admin": "admin",
}

ROLE_LABELS: dict[str, str] = {
    "anonymous": "anonymous",
    "citizen": "citizen `zhangsan`",
    "other_citizen": "other citizen `lisi`",
    "company": "company `yunxi-tech`",
    "clerk": "clerk `clerk`",
    "township_clerk": "township clerk `clerk-ch`",
    "approver_owner": "approver of the owning dept `approver-rsj`",
    "approver_other": "approver of another dept `approver-ga`",
    "supervisor": "supervisor `supervisor`",
    "data_owner": "data owner `data-rsj`",
    "officer": "enforcement officer `officer-scjg`",
    "legal_reviewer": "legal reviewer `legal-scjg`",
    "head": "enforcement head `head-scjg`",
    "admin": "admin `admin`",
}

OWNER_ORG = "yx-rsj"
INJURY_ITEM = "YX-RSJ-QR-0001"  # 工伤认定: 人社局, at most one visit (waits for the window), a tolerable material
FOOD_CHANGE_ITEM = "YX-SCJG-XK-0002-02"  # 食品经营许可证变更: 市场监管局, 告知承诺制


def injury_form() -> dict[str, Any]:
    return {
        "injured_worker_name": "张三", "injured_worker_id_number": ID_NUMBERS["zhangsan"],
        "enterprise_name": "云溪星火科技有限公司", "accident_date": "2026-03-02", "accident_place": "云溪市青山区翠湖路8号",
        "injury_description": "搬运货物时不慎摔倒，左腕骨折。", "applicant_name": "张三", "applicant_phone": "13800000001",
    }


@dataclass
class World:
    """Ids of the objects each cell's request names."""

    users: dict[str, int] = field(default_factory=dict)  # role → user id
    tokens: dict[str, str] = field(default_factory=dict)  # role → bearer token
    sessions: dict[str, str] = field(default_factory=dict)  # role → session cookie value
    # applications of 张三 (工伤认定, 人社局)
    draft_ref: str = ""  # not submitted; one material uploaded
    draft_material_key: str = ""  # the uploaded material
    draft_material_pk: int = 0
    draft_evidence_key: str = ""  # a material that may be fetched instead (免证办理)
    draft_missing_key: str = ""  # a required material not uploaded yet
    draft_missing_pk: int = 0
    pending_ref: str = ""  # submitted, waiting at the window (a tolerable material missing)
    case_ref: str = ""  # accepted with a tolerable material owed; 人社局's review task open
    case_material_pk: int = 0
    case_owed_key: str = ""  # the tolerated material, still owed (补齐)
    case_notice: str = ""  # the acceptance notice's verification code
    case_instance: int = 0  # its review process instance
    case_task: int = 0  # 人社局's open review task
    case_owed_pk: int = 0
    company_draft_ref: str = ""  # the company's draft of an item that allows 告知承诺制
    company_commitment_key: str = ""  # a material of it a commitment may replace
    # elsewhere
    post_check: int = 0  # 市场监管局's pending post-check of the company's commitment approval
    post_check_ref: str = ""  # the application it checks
    proxy: int = 0  # 张三 is agent for 王五 (no account), with a letter
    project: str = ""  # the company's investment project
    credential: str = ""  # 社会保障卡 of 张三, issued by 人社局
    credential_number: str = ""
    status_list: str = ""  # its revocation status list
    vc_jws: str = ""
    grant_requested: int = 0  # 社会保险参保信息 (人社局), requested by 公积金中心, waiting for 人社局's data owner
    grant_approved: int = 0  # 社会保险参保信息, approved for 医保局
    consent: str = ""  # 张三's consent: 人社局 may read his 户籍信息
    log_entry: int = 0  # the access-log entry of 人社局 reading 张三's 户籍信息
    tree_size: int = 0  # of the signed access log
    workflow_definition: str = "tongban_item_review"
    start_process: str = "certificate_auto"  # a 人社局 process (its one user task is 人社局's)
    org_of: dict[str, str] = field(default_factory=dict)  # role → the code of the account's organisation
    # enforcement (市场监管局's cases, one per step; the demo's published decision; a new lead)
    enf: dict[str, str] = field(default_factory=dict)  # step → case number; "lead" → lead ref


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content.decode()[:2000])
    return response.json() if response.get("Content-Type", "").startswith("application/json") else response


def _key(app: dict[str, Any], name: str) -> str:
    return next(m["key"] for m in app["materials"] if m["name"] == name)


def _injury_application(zhang: Api, *, upload_all: bool) -> dict[str, Any]:
    app = ok(zhang.post("/api/applications", {"item_code": INJURY_ITEM,
                                              "situations": {INJURY_ITEM: {"situation_code": "by-worker"}}}), 201)
    for m in app["materials"]:
        if m["requirement"] == "required" and (upload_all or m["source"] == "applicant"):
            ok(zhang.upload(f"/api/applications/{app['ref']}/materials/{m['key']}/file", PDF + m["key"].encode()))
            if not upload_all:
                break
    return ok(zhang.get(f"/api/applications/{app['ref']}"))


def build_world() -> World:
    load_demo(Console(quiet=True))
    w = World()
    api = _sign_in(w)
    _applications(w, api)
    _commitment(w, api["company"])
    _proxy_and_project(w, api)
    _credential(w, api["approver_owner"])
    _exchange(w, api)
    _enforcement(w)
    return w


def _sign_in(w: World) -> dict[str, Api]:
    """A bearer token and a session per role."""
    users = {u.username: u for u in User.objects.filter(username__in=[u for u in ROLES.values() if u])}
    api: dict[str, Api] = {}
    for role, username in ROLES.items():
        if username is None:
            continue
        user = users[username]
        w.users[role] = user.pk
        w.org_of[role] = user.organisation.code if user.organisation_id else ""
        api[role] = Api(username, DEMO_PASSWORD)
        w.tokens[role] = api[role].headers["Authorization"].removeprefix("Bearer ")
        client = Client()
        client.force_login(user)
        w.sessions[role] = client.cookies["sessionid"].value
    return api


def _applications(w: World, api: dict[str, Api]) -> None:
    """张三's 工伤认定 applications: a draft, one waiting at the window, one in 人社局's review."""
    zhang, clerk = api["citizen"], api["clerk"]
    draft = _injury_application(zhang, upload_all=False)
    w.draft_ref = draft["ref"]
    w.draft_material_key = next(m["key"] for m in draft["materials"] if m["sha256"])
    w.draft_evidence_key = next(m["key"] for m in draft["materials"] if m["source"] == "issued")
    w.draft_missing_key = next(m["key"] for m in draft["materials"]
                               if m["source"] == "applicant" and m["requirement"] == "required" and not m["sha256"])

    # Submitted, waiting at the window (the tolerable 事故经过证明材料 is missing).
    w.pending_ref = _injury_application(zhang, upload_all=True)["ref"]
    ok(zhang.post(f"/api/applications/{w.pending_ref}/submit", {"form_data": injury_form()}))

    # Accepted with the tolerable material owed: 人社局's review task is open.
    w.case_ref = _injury_application(zhang, upload_all=True)["ref"]
    ok(zhang.post(f"/api/applications/{w.case_ref}/submit", {"form_data": injury_form()}))
    case = ok(clerk.post(f"/api/window/applications/{w.case_ref}/accept", {"tolerate": True, "supplement_days": 5}))
    assert case["status"] == "in_review", case["status"]
    w.case_owed_key = next(m["key"] for m in case["materials"] if m["status"] == "tolerated")
    w.case_notice = next(n["code"] for n in case["notices"] if n["kind"] == "acceptance")
    task = Task.objects.select_related("candidate_org").get(
        pk=next(t["id"] for t in case["tasks"] if t["state"] in Task.OPEN_STATES))
    assert task.candidate_org.code == OWNER_ORG
    w.case_task, w.case_instance = task.pk, task.instance_id

    draft_app = Application.objects.get(ref=w.draft_ref)
    w.draft_material_pk = draft_app.materials.get(key=w.draft_material_key).pk
    w.draft_missing_pk = draft_app.materials.get(key=w.draft_missing_key).pk
    case_app = Application.objects.get(ref=w.case_ref)
    w.case_material_pk = case_app.materials.filter(file__isnull=False).first().pk
    w.case_owed_pk = case_app.materials.get(key=w.case_owed_key).pk


def _commitment(w: World, company: Api) -> None:
    """The company's commitment approval (a post-check for 市场监管局), and a draft of the same item."""
    food = ok(company.post("/api/applications", {"item_code": FOOD_CHANGE_ITEM}), 201)
    replaceable = _key(food, "与变更事项有关的材料")
    for m in food["materials"]:
        if m["key"] != replaceable and m["requirement"] == "required":
            ok(company.upload(f"/api/applications/{food['ref']}/materials/{m['key']}/file", PDF + m["key"].encode()))
    ok(company.post(f"/api/applications/{food['ref']}/commitment", {"material_keys": [replaceable]}))
    done = ok(company.post(f"/api/applications/{food['ref']}/submit", {"form_data": {
        "enterprise_name": "云溪星火科技有限公司", "food_licence_number": "JY13101020000001",
        "change_items": ["经营场所"], "applicant_phone": "13900000002"}}))
    assert done["status"] == "approved", done["status"]
    w.post_check, w.post_check_ref = done["post_checks"][0]["id"], done["ref"]
    company_draft = ok(company.post("/api/applications", {"item_code": FOOD_CHANGE_ITEM}), 201)
    w.company_draft_ref = company_draft["ref"]
    w.company_commitment_key = _key(company_draft, "与变更事项有关的材料")


def _proxy_and_project(w: World, api: dict[str, Api]) -> None:
    """张三 as agent for 王五 (who has no account), with the letter; the company's investment project."""
    zhang = api["citizen"]
    proxy = zhang.client.post("/api/proxies", {
        "principal_name": "王五", "principal_id_number": "910102197001011111", "scope": "代办工伤认定",
        "valid_until": "2099-12-31", "kind": "agent", "letter": _pdf_upload("letter.pdf")}, headers=zhang.headers)
    w.proxy = ok(proxy, 201)["id"]
    company_page = Client()
    company_page.cookies["sessionid"] = w.sessions["company"]
    r = company_page.post("/projects/", {"name": "星火科技研发楼", "location": "云溪市青山区", "total_investment": "1200"})
    assert r.status_code == 302, r.status_code
    w.project = r["Location"].rstrip("/").rsplit("/", 1)[-1]


def _credential(w: World, issuer: Api) -> None:
    """社会保障卡 of 张三, issued by 人社局, with an SM2 signature too."""
    with override_settings(TONGBAN_SEAL_ALGORITHM="sm2"):
        issued = ok(issuer.post("/api/credentials/issue", {
            "licence_type": "social_security_card", "issuer_org": OWNER_ORG,
            "holder": {"kind": "natural", "name": "张三", "id_number": ID_NUMBERS["zhangsan"],
                       "user_id": w.users["citizen"]},
            "data": {"name": "张三", "id_number": ID_NUMBERS["zhangsan"], "card_number": "YX0000002",
                     "bank": "云溪农商银行"}}), 201)
    w.credential, w.credential_number = issued["id"], issued["licence_number"]
    credential = Credential.objects.get(pk=w.credential)
    w.status_list, w.vc_jws = credential.revocation_list_id, credential.vc_jws


def _exchange(w: World, api: dict[str, Api]) -> None:
    """Grants on 人社局's 社会保险参保信息 (one waiting for its data owner, one approved); 张三's consent and one
    audited query about him (人社局 reads his 户籍信息); the signed access log."""
    requested = ok(Api("approver-gjj").post("/api/exchange/grants", {
        "resource": "social_insurance", "fields": DataResource.objects.get(code="social_insurance").field_names[:2],
        "purpose": "住房公积金提取核验参保状态", "legal_basis": "《住房公积金管理条例》第二十四条"}), 201)
    assert requested["status"] == "requested", requested
    w.grant_requested = requested["id"]
    w.grant_approved = next(g["id"] for g in ok(api["admin"].get("/api/exchange/grants?resource=social_insurance"))
                            if g["status"] == "approved")
    consent = ok(api["citizen"].post("/api/exchange/consents", {
        "code": "household_register", "consumer_org": OWNER_ORG, "purpose": "工伤认定核验户籍"}), 201)
    w.consent = consent["ref"]
    ok(api["approver_owner"].post("/api/exchange/query", {
        "resource": "household_register", "subject_id": ID_NUMBERS["zhangsan"], "purpose": "工伤认定核验户籍",
        "consumer_org": OWNER_ORG, "consent_ref": w.consent}))
    w.log_entry = AccessLogEntry.objects.filter(subject_id=ID_NUMBERS["zhangsan"]).order_by("-pk").first().pk
    accesslog.sync_tree()
    w.tree_size = accesslog.sign_tree_head().tree_size


def _pdf_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + name.encode(), "application/pdf")


def _enforcement(w: World) -> None:
    """市场监管局's enforcement cases, one waiting at each step, through the services as the staff who may."""
    from tongban.enforcement import services as enf
    from tongban.enforcement.models import EnforcementCase

    officer, legal, head = (User.objects.get(username=u) for u in ("officer-scjg", "legal-scjg", "head-scjg"))
    w.enf["lead"] = enf.report_lead(source="complaint", entity_name="翠湖小吃店", item_code="SP-122",
                                    description="投诉无证经营", actor=officer).ref
    w.enf["published"] = EnforcementCase.objects.get(published_at__isnull=False, department__code="yx-scjg").case_no
    w.enf["legal_review"] = EnforcementCase.objects.get(stage="legal_review", department__code="yx-scjg").case_no

    def case(stop: str) -> str:
        """A case of 市场监管局 (minor: 50000–60000) taken through the steps until it reaches ``stop``."""
        c = enf.open_case(officer, item_code="SP-122", party_name=f"测试商户（{stop}）", facts={"goods_value": 1000})
        steps = [  # (the state reached, the step that reaches it)
            ("investigating", lambda c: enf.decide_filing(c, head, approve=True)),
            ("notifying", lambda c: enf.finish_investigation(c, officer, penalty_kinds=["fine"], fine=50000)),
            ("notified", lambda c: enf.give_notice(c, officer)),
            ("hearing", lambda c: enf.request_hearing(c, officer)),
            ("heard", lambda c: enf.hold_hearing(c, officer, transcript="当事人无异议")),  # → 法制审核
            ("deciding", lambda c: enf.legal_review(c, legal, approve=True, opinion="同意")),
            ("serving", lambda c: enf.decide(c, head, penalty_kinds=["fine"], fine=50000)),
            ("executing", lambda c: enf.serve(c, officer)),
            ("closing", lambda c: enf.execute(c, officer, note="罚款已缴纳")),
        ]
        for name, step in steps:
            if stop == "filing":
                break
            c = step(c)
            if name == stop:
                break
        return c.case_no

    for stop in ("filing", "investigating", "notifying", "notified", "hearing", "deciding", "serving", "executing",
                 "closing"):
        w.enf[stop] = case(stop)
