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
from tongban.core import events, pii
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
    "security": "security",
    "officer": "officer-scjg",
    "legal_reviewer": "legal-scjg",
    "head": "head-scjg",
    "admin": "admin",
    "hotline": "hotline",
    "evaluator": "evaluator",
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
    "security": "security team `security`",
    "officer": "enforcement officer `officer-scjg`",
    "legal_reviewer": "legal reviewer `legal-scjg`",
    "head": "enforcement head `head-scjg`",
    "admin": "admin `admin`",
    "hotline": "12345 operator `hotline`",
    "evaluator": "third-party evaluator `evaluator`",
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
    # supervision (市场监管局 supervises; the company is the entity)
    entity: str = ""  # the company's unified social credit code
    sup_record: int = 0  # 审管联动 record of the company's commitment approval, to be received by 市场监管局
    credit_event: int = 0  # a negative credit record of the company with a pending repair
    credit_event_free: int = 0  # another negative record, no repair applied for
    repair: int = 0  # the pending repair of ``credit_event``
    draw: int = 0  # the demo draw of 市场监管局's plan
    plan: str = ""  # that plan's code
    inspection: int = 0  # an inspection of that draw still to be done
    lead: int = 0  # an open enforcement lead (risk warning) of 市场监管局
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
    incident: int = 0  # a security incident involving 张三, contained (his notice written), waiting for its report
    incident_notice: int = 0  # 张三's notice of it
    assistance: int = 0  # an open 帮办预约 of 李奶奶 at the city centre (yx-zwzx), not 翠湖街道's
    message: int = 0  # 张三's message (我的消息) that ``case_ref`` was accepted
    policy_notice: int = 0  # the company's 免申即享 notice (稳岗返还), not answered yet
    policy_draft: str = "YX-ZC-CYBT"  # a draft policy (dry run, publish)
    # feedback: 张三's services at 人社局 (closed cases), and his 12345 work orders
    rate_service: str = ""  # not rated yet
    rectification: int = 0  # his real-name bad rating of another service: 人社局 to verify
    order: str = ""  # filed by 张三, waiting for dispatch
    order_dup: str = ""  # nearly the same text: a duplicate of ``order``
    order_dispatched: str = ""  # dispatched to 人社局
    order_answered: str = ""  # answered by 人社局, waiting for 张三's confirmation
    pad_url: str = ""  # the window rating pad's signed link for a visit the clerk recorded
    # enforcement (市场监管局's cases, one per step; the demo's published decision; a new lead)
    enf: dict[str, str] = field(default_factory=dict)  # step → case number; "lead" → lead ref
    # insight 容错纠错: two accountability leads of 人社局 naming approver-rsj as the official
    lead_open: int = 0  # raised, no 容错申请 yet
    lead_applied: int = 0  # approver-rsj applied for fault tolerance: waiting for the determination


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
    _messages(w)
    _commitment(w, api["company"])
    _supervision(w, api)
    _proxy_and_project(w, api)
    _credential(w, api["approver_owner"])
    _exchange(w, api)
    _security(w, api["security"])
    _feedback(w, api)
    _enforcement(w)
    _policies(w)
    _assistance(w)
    _accountability(w)
    return w


def _assistance(w: World) -> None:
    """An open 帮办预约 at the city centre (its clerks see it; 翠湖街道's clerk does not)."""
    from tongban.applications.services.assistance import request_assistance

    w.assistance = request_assistance(name="李奶奶", phone="13912340000", service="养老金资格认证",
                                      centre_code="yx-zwzx").pk


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
    w.post_check_ref = done["ref"]
    w.post_check = next(c["id"] for c in ok(Api("supervisor").get("/api/supervision/post-checks"))
                        if c["application_ref"] == done["ref"])
    company_draft = ok(company.post("/api/applications", {"item_code": FOOD_CHANGE_ITEM}), 201)
    w.company_draft_ref = company_draft["ref"]
    w.company_commitment_key = _key(company_draft, "与变更事项有关的材料")


def _supervision(w: World, api: dict[str, Api]) -> None:
    """The 审管联动 record of the company's approval (the queued task run as the worker would), two negative
    credit records of the company (one with a pending repair), the demo draw and one of its open inspections."""
    from django_tasks_db.models import DBTaskResult

    from tongban.supervision import services as supervision
    from tongban.supervision.models import Draw, EnforcementLead, Inspection, MarketEntity, SupervisionRecord
    from tongban.supervision.tasks import record_result_task

    for row in DBTaskResult.objects.filter(task_path=record_result_task.module_path, status="READY"):
        record_result_task.call(*row.args_kwargs["args"])
    w.sup_record = SupervisionRecord.objects.get(application_ref=w.post_check_ref).pk
    w.entity = ID_NUMBERS["yunxi-tech"]
    entity = MarketEntity.objects.get(uscc=w.entity)
    scjg = entity.supervising_departments.get(code="yx-scjg")
    w.credit_event = supervision.add_credit_event(entity, "complaint_upheld", "12345 投诉：价格标示不清，经核查属实",
                                                  department=scjg).pk
    w.credit_event_free = supervision.add_credit_event(entity, "supplement_overdue", "容缺材料逾期未补",
                                                       department=scjg).pk
    w.repair = ok(api["company"].post(f"/api/supervision/credit-events/{w.credit_event}/repair",
                                      {"reason": "已整改并公开明码标价"}))["id"]
    draw = Draw.objects.select_related("plan").filter(plan__department=scjg).order_by("id").first()
    w.draw, w.plan = draw.pk, draw.plan.code
    w.inspection = Inspection.objects.filter(draw=draw, status="assigned").order_by("id").first().pk
    w.lead = EnforcementLead.objects.filter(department=scjg, status="open").order_by("id").first().pk


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
    w.log_entry = AccessLogEntry.objects.filter(pii.matching("subject_id", ID_NUMBERS["zhangsan"])).order_by("-pk").first().pk
    accesslog.sync_tree()
    w.tree_size = accesslog.sign_tree_head().tree_size


def _messages(w: World) -> None:
    from tongban.notifications.models import Message

    w.message = Message.objects.get(recipient__username="zhangsan", event="application.accepted", ref=w.case_ref).pk


def _security(w: World, security: Api) -> None:
    """A refused-query burst of an exchange client involving 张三, confirmed and contained by the security team:
    张三 has its notice; the incident waits for its closing report."""
    from tongban.security import services
    from tongban.security.models import IncidentNotice
    from tongban.security.rules import Finding

    incident = services.open_incident(Finding(
        rule="exchange.refused_burst", severity="medium", title="client:测试系统 多次数据查询被拒绝",
        dedup_key="exchange.refused_burst:client:测试系统", subject_label="client:测试系统",
        affected={ID_NUMBERS["zhangsan"]: {"resources": ["household_register"], "refused": 3}},
        notice="接入方多次试图查询您的数据，均被拒绝。"))
    url = f"/api/security/incidents/{incident.pk}/transitions"
    ok(security.post(url, {"action": "confirm", "note": "确认"}))
    ok(security.post(url, {"action": "contain", "note": "已停用该接入系统密钥"}))
    w.incident = incident.pk
    w.incident_notice = IncidentNotice.objects.get(incident=incident).pk


def _policies(w: World) -> None:
    """The company (grade B) qualifies for the demo's 稳岗返还 and has its notice."""
    from tongban.policies import services
    from tongban.policies.models import PolicyMatch
    from tongban.supervision.models import MarketEntity

    MarketEntity.objects.filter(uscc=ID_NUMBERS["yunxi-tech"]).update(grade="B")
    services.match(["YX-ZC-WGFH"])
    w.policy_notice = PolicyMatch.objects.get(policy__code="YX-ZC-WGFH",
                                              subject_hash=pii.lookup_hash(ID_NUMBERS["yunxi-tech"])).pk


def _pdf_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + name.encode(), "application/pdf")


def _feedback(w: World, api: dict[str, Api]) -> None:
    """Two closed 工伤认定 cases of 张三 at 人社局 (the ``decision_made`` event invites him to rate them): one
    unrated, one rated 非常不满意 with his real name (a rectification for 人社局); his 12345 work orders."""
    zhang, operator, rsj = api["citizen"], api["hotline"], api["approver_owner"]
    holder = {"kind": "natural", "name": "张三", "id_number": ID_NUMBERS["zhangsan"], "user_id": w.users["citizen"]}
    for ref in ("AUTHZ-FB-1", "AUTHZ-FB-2"):
        events.decision_made.send(sender=None, application_ref=ref, item_code=INJURY_ITEM, outcome="approved",
                                  holder=holder, result={"licence_type": ""}, organisation_code=OWNER_ORG,
                                  window_code="yx-zwzx-w01")
    w.rate_service = f"AUTHZ-FB-1:{INJURY_ITEM}"
    ok(zhang.post("/api/ratings", {"service": f"AUTHZ-FB-2:{INJURY_ITEM}", "level": 1, "comment": "排队三小时"}), 201)
    w.rectification = ok(rsj.get("/api/ratings/rectifications"))[0]["id"]
    text = "单位拖欠工资三个月不发，老板也联系不上"
    w.order = ok(zhang.post("/api/hotline/orders", {"text": text}), 201)["number"]
    w.order_dup = ok(zhang.post("/api/hotline/orders", {"text": text + "，请帮忙"}), 201)["number"]
    numbers = []
    for _ in range(2):
        number = ok(zhang.post("/api/hotline/orders", {"text": "工伤认定超过时限还没结果"}), 201)["number"]
        ok(operator.post(f"/api/hotline/orders/{number}/dispatch", {"department": OWNER_ORG}))
        numbers.append(number)
    w.order_dispatched, w.order_answered = numbers
    ok(rsj.post(f"/api/hotline/orders/{w.order_answered}/answer", {"text": "已督促加快办理"}))
    w.pad_url = ok(api["clerk"].post("/api/ratings/window-services", {
        "window": "yx-zwzx-w01", "department": OWNER_ORG, "person_name": "王五"}), 201)["pad_url"]


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


def _accountability(w: World) -> None:
    """Two leads of 人社局 (its approver the official): one open, one with the official's 容错申请."""
    import datetime as dt

    from tongban.core.models import Organisation
    from tongban.insight.accountability import services as acc
    from tongban.insight.accountability.models import AccountabilityLead

    rsj = Organisation.objects.get(code=OWNER_ORG)
    official = User.objects.get(username="approver-rsj")
    leads = [AccountabilityLead.objects.create(
        source="red_light", source_ref=f"authz-{n}", department=rsj, official=official,
        official_label=official.display_name, subject=f"「工伤认定审查」超过时限（矩阵{n}）", occurred_on=dt.date(2026, 3, 9))
        for n in (1, 2)]
    w.lead_open, w.lead_applied = leads[0].pk, leads[1].pk
    acc.apply_for_tolerance(w.lead_applied, official, "试行容缺受理后补正材料集中到达，审查延后", ["reform", "no_gain"])
