"""Pages: the public resource catalogue, grants for staff, "my data" for citizens, the log page."""

from __future__ import annotations

import pytest

from tongban.core import evidence
from tongban.core.evidence import SHARED, EvidenceRequest
from tongban.core.models import User
from tongban.exchange import services
from tongban.exchange.models import Consent, Grant

pytestmark = pytest.mark.django_db

ZHANGSAN = "910102199001011234"


def login(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def test_public_catalogue_pages(exchange_demo, client):
    page = client.get("/exchange/resources/").content.decode()
    assert "政务信息资源目录" in page and "户籍人口基本信息" in page and "有条件共享" in page and "无条件共享" in page
    page = client.get("/exchange/resources/?q=不动产").content.decode()
    assert "不动产登记信息" in page and "户籍人口基本信息" not in page
    page = client.get("/exchange/resources/household_register/").content.decode()
    assert "云溪市公安局" in page and "敏感个人信息" in page and "公民身份号码" in page
    assert client.get("/exchange/resources/nope/").status_code == 404
    from tongban.exchange import accesslog

    sth = accesslog.sign_tree_head()
    page = client.get("/exchange/log/").content.decode()
    assert "查询留痕" in page and sth.root_hash in page and "/api/exchange/log/proof/inclusion" in page


def test_my_data_lists_who_read_what_when_and_why(exchange_demo, client):
    assert client.get("/exchange/my-data/").status_code == 302  # login required
    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                          purpose="开办企业", case_ref="KB-2026-001")
    evidence.fetch(EvidenceRequest(source=SHARED, code="household_register", subject_id=ZHANGSAN,
                                   requester_org="yx-scjg", purpose="企业设立登记核验身份", case_ref="KB-2026-001"))
    with pytest.raises(evidence.EvidenceRefused):
        evidence.fetch(EvidenceRequest(source=SHARED, code="household_register", subject_id=ZHANGSAN,
                                       requester_org="yx-cg", purpose="好奇", case_ref=""))
    page = login(client, "zhangsan").get("/exchange/my-data/").content.decode()
    assert "云溪市市场监督管理局" in page and "户籍人口基本信息" in page and "KB-2026-001" in page
    assert "企业设立登记核验身份" in page and "姓名" in page and "已提供" in page
    assert "云溪市城市管理局" in page and "已拒绝" in page and "exchange.no_grant" in page
    assert "开办企业" in page and "撤回授权" in page
    other = login(client, "lisi").get("/exchange/my-data/").content.decode()
    assert "KB-2026-001" not in other and "尚无部门查询过您的数据" in other


def test_withdraw_consent_from_my_data(exchange_demo, client):
    consent = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                                    purpose="开办企业", case_ref="K-1")
    login(client, "lisi")
    client.post(f"/exchange/my-data/consents/{consent.ref}/withdraw/")
    assert Consent.objects.get(pk=consent.pk).withdrawn_at is None
    login(client, "zhangsan")
    r = client.post(f"/exchange/my-data/consents/{consent.ref}/withdraw/")
    assert r.status_code == 302 and Consent.objects.get(pk=consent.pk).withdrawn_at is not None
    assert client.post("/exchange/my-data/consents/xyz/withdraw/").status_code == 404


def test_grants_page_is_for_staff_and_drives_the_lifecycle(exchange_demo, client):
    assert login(client, "zhangsan").get("/exchange/grants/").status_code == 403
    page = login(client, "approver-cg").get("/exchange/grants/").content.decode()
    assert "户外招牌设置审批" in page and "提出共享申请" in page
    r = client.post("/exchange/grants/new/", {"consumer": "yx-cg", "resource": "household_register",
                                              "fields": "id_number, name", "unmasked_fields": "name",
                                              "purpose": "违规招牌当事人核实", "legal_basis": "《城市市容和环境卫生管理条例》"})
    assert r.status_code == 302
    grant = Grant.objects.get(consumer__code="yx-cg", resource__code="household_register")
    assert grant.fields == ["id_number", "name"] and grant.unmasked_fields == ["name"] and grant.status == "requested"
    r = client.post("/exchange/grants/new/", {"consumer": "yx-cg", "resource": "household_register",
                                              "purpose": "", "legal_basis": ""})
    assert Grant.objects.filter(consumer__code="yx-cg", resource__code="household_register").count() == 1
    page = login(client, "data-ga").get("/exchange/grants/").content.decode()
    assert "待我审核：1 项" in page and "违规招牌当事人核实" in page
    client.post(f"/exchange/grants/{grant.pk}/decide/", {"decision": "reject", "note": ""})
    grant.refresh_from_db()
    assert grant.status == "requested"  # a rejection needs a reason
    client.post(f"/exchange/grants/{grant.pk}/decide/", {"decision": "approve", "note": "同意"})
    grant.refresh_from_db()
    assert grant.status == "approved" and grant.decided_by.username == "data-ga"
    login(client, "approver-cg").post(f"/exchange/grants/{grant.pk}/revoke/", {"reason": "x"})
    grant.refresh_from_db()
    assert grant.status == "approved"  # the consumer cannot revoke
    login(client, "data-ga").post(f"/exchange/grants/{grant.pk}/revoke/", {"reason": "整治结束"})
    grant.refresh_from_db()
    assert grant.status == "revoked" and grant.revoked_reason == "整治结束"


def test_admin_pages_and_openapi(exchange_demo, client):
    from tongban.exchange import accesslog

    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg", purpose="p")
    evidence.fetch(EvidenceRequest(source=SHARED, code="household_register", subject_id=ZHANGSAN,
                                   requester_org="yx-scjg", purpose="p"))
    accesslog.sign_tree_head()
    login(client, "admin")
    for model in ("dataresource", "grant", "consent", "accesslogentry", "signedtreehead", "providerrecord",
                  "exchangeclient"):
        assert client.get(f"/admin/exchange/{model}/").status_code == 200, model
    entry = client.get("/admin/exchange/accesslogentry/").content.decode()
    assert "yx-scjg" in entry
    grant = Grant.objects.first()
    assert client.get(f"/admin/exchange/grant/{grant.pk}/change/").status_code == 200
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/exchange/query", "/api/exchange/log/sth", "/api/exchange/log/proof/inclusion",
                 "/api/exchange/log/proof/consistency", "/api/exchange/grants", "/api/exchange/jwks.json"):
        assert path in paths, path
