"""The exchange JSON API: client-key and session queries, 403 codes (logged), grants, consents, log proofs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core.models import User
from tongban.exchange import errors, merkle, services
from tongban.exchange.demo import DEMO_CLIENT_KEY
from tongban.exchange.models import AccessLogEntry, Grant

pytestmark = pytest.mark.django_db

ZHANGSAN = "910102199001011234"


def login(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def post(client, url: str, data: dict, **headers):
    return client.post(url, data, content_type="application/json", headers=headers)


def query(client, body: dict, **headers):
    return post(client, "/api/exchange/query", body, **headers)


def test_resource_catalogue_is_public(exchange_demo, client):
    rows = client.get("/api/exchange/resources").json()
    assert {r["code"] for r in rows} >= {"household_register", "birth_medical_certificate"}
    one = client.get("/api/exchange/resources/household_register").json()
    assert one["owner"] == "yx-ga" and one["sharing_type"] == "conditional" and one["sharing_type_label"] == "有条件共享"
    assert {"name": "id_number", "sensitivity": "sensitive_personal"}.items() <= \
        next(f for f in one["fields"] if f["name"] == "id_number").items()
    r = client.get("/api/exchange/resources/nope")
    assert r.status_code == 404 and r.json()["code"] == errors.UNKNOWN_RESOURCE


def test_query_with_a_client_key(exchange_demo, client):
    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-rsj", purpose="社保卡",
                          case_ref="S-1")
    r = query(client, {"resource": "household_register", "subject_id": ZHANGSAN, "purpose": "社保卡申领",
                       "case_ref": "S-1"}, **{"X-Tongban-Client": DEMO_CLIENT_KEY})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["data"] == {"id_number": ZHANGSAN, "name": "张三", "gender": "*", "birth_date": "1990-**-**"}
    assert body["masked_fields"] == ["gender", "birth_date"] and body["provider_org"] == "yx-ga"
    entry = AccessLogEntry.objects.order_by("-id").first()
    assert entry.actor == "client:人社局社会保险业务系统" and entry.consumer_org == "yx-rsj"
    # a system acts only for its own department
    r = query(client, {"resource": "household_register", "subject_id": ZHANGSAN, "purpose": "x",
                       "consumer_org": "yx-ga"}, **{"X-Tongban-Client": DEMO_CLIENT_KEY})
    assert r.status_code == 403 and r.json()["code"] == errors.FORBIDDEN
    r = query(client, {"resource": "household_register", "subject_id": ZHANGSAN, "purpose": "x"},
              **{"X-Tongban-Client": "demo0001.wrong"})
    assert r.status_code == 401 and r.json()["code"] == errors.BAD_CLIENT_KEY


@pytest.mark.parametrize("setup, body, code", [
    ("none", {"resource": "social_insurance"}, errors.NO_GRANT),
    ("none", {"resource": "household_register", "fields": ["ethnicity"]}, errors.FIELDS_NOT_GRANTED),
    ("expire", {"resource": "household_register"}, errors.GRANT_EXPIRED),
    ("revoke", {"resource": "household_register"}, errors.GRANT_REVOKED),
    ("none", {"resource": "household_register", "case_ref": "NO-CONSENT"}, errors.NO_CONSENT),
])
def test_refusals_are_403_with_stable_codes_and_logged(exchange_demo, client, setup, body, code):
    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg", purpose="p",
                          case_ref="A-1")
    grant = Grant.objects.get(consumer__code="yx-scjg", resource__code="household_register")
    if setup == "expire":
        Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    if setup == "revoke":
        services.revoke_grant(grant, actor=User.objects.get(username="data-ga"), reason="停用")
    login(client, "approver-scjg")
    before = AccessLogEntry.objects.count()
    r = query(client, {"subject_id": ZHANGSAN, "purpose": "登记", "case_ref": "A-1", **body})
    assert r.status_code == 403 and r.json()["code"] == code and r.json()["message"]
    assert AccessLogEntry.objects.count() == before + 1
    entry = AccessLogEntry.objects.order_by("-id").first()
    assert (entry.outcome, entry.error_code, entry.actor) == ("refused", code, "approver-scjg")


def test_session_query_rules(exchange_demo, client):
    r = query(client, {"resource": "business_register", "subject_id": "91910100MA1YX0001K", "purpose": "x"})
    assert r.status_code == 401 and r.json()["code"] == errors.UNAUTHENTICATED
    login(client, "zhangsan")  # a citizen is no consuming department
    r = query(client, {"resource": "business_register", "subject_id": "91910100MA1YX0001K", "purpose": "x"})
    assert r.status_code == 403
    login(client, "approver-sw")
    r = query(client, {"resource": "business_register", "subject_id": "91910100MA1YX0001K", "purpose": "发票申领"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "存续"
    r = query(client, {"resource": "business_register", "subject_id": "", "purpose": "x"})
    assert r.status_code == 400 and r.json()["code"] == errors.INVALID
    r = query(client, {"resource": "business_register", "subject_id": "91910100MA1YX9999X", "purpose": "x"})
    assert r.status_code == 404 and r.json()["code"] == "evidence.not_found"
    r = query(client, {"resource": "nope", "subject_id": "1", "purpose": "x"})
    assert r.status_code == 404
    r = query(client, {"resource": "business_register"})
    assert r.status_code == 422  # schema validation of the body


def test_grant_lifecycle_over_the_api(exchange_demo, client):
    login(client, "approver-cg")
    r = post(client, "/api/exchange/grants", {"resource": "social_insurance", "fields": ["id_number", "status"],
                                              "purpose": "环卫工人参保核验", "legal_basis": "《社会保险法》"})
    assert r.status_code == 201 and r.json()["status"] == "requested" and r.json()["consumer"] == "yx-cg"
    grant_id = r.json()["id"]
    r = post(client, f"/api/exchange/grants/{grant_id}/decision", {"approve": True})
    assert r.status_code == 403 and r.json()["code"] == errors.FORBIDDEN
    r = post(client, "/api/exchange/grants", {"resource": "social_insurance", "fields": ["bogus"],
                                              "purpose": "p", "legal_basis": "b"})
    assert r.status_code == 400 and r.json()["code"] == errors.INVALID
    login(client, "data-rsj")
    assert grant_id in [g["id"] for g in client.get("/api/exchange/grants?status=requested").json()]
    r = post(client, f"/api/exchange/grants/{grant_id}/decision", {"approve": True, "note": "同意",
                                                                     "fields": ["status"]})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["fields"] == ["status"]
    r = post(client, f"/api/exchange/grants/{grant_id}/decision", {"approve": False, "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == errors.BAD_STATE
    r = post(client, f"/api/exchange/grants/{grant_id}/revoke", {"reason": "项目结束"})
    assert r.status_code == 200 and r.json()["status"] == "revoked" and not r.json()["usable"]
    r = post(client, "/api/exchange/grants/999999/revoke", {"reason": "x"})
    assert r.status_code == 404


def test_consents_plan_and_my_access_log(exchange_demo, client):
    login(client, "zhangsan")
    r = post(client, "/api/exchange/evidence-plan", {
        "materials": [{"source": "shared", "code": "birth_medical_certificate", "name": "出生医学证明"}],
        "consumer_org": "yx-ga", "case_ref": "B-1"})
    assert r.status_code == 200 and r.json()[0]["provider_org_name"] == "云溪市卫生健康委员会"
    assert r.json()[0]["consent_given"] is False
    r = post(client, "/api/exchange/consents", {"code": "birth_medical_certificate", "consumer_org": "yx-ga",
                                                "purpose": "出生登记", "case_ref": "B-1"})
    assert r.status_code == 201 and r.json()["subject_id"] == ZHANGSAN
    ref = r.json()["ref"]
    r = post(client, "/api/exchange/consents", {"code": "birth_medical_certificate", "consumer_org": "yx-ga",
                                                "purpose": "x", "subject_id": "91010219880315432X"})
    assert r.status_code == 403
    # the department fetches; the citizen sees it
    login(client, "approver-ga")
    r = query(client, {"resource": "birth_medical_certificate", "subject_id": ZHANGSAN, "purpose": "出生登记",
                       "case_ref": "B-1"})
    assert r.status_code == 200 and r.json()["data"]["child_name"] == "张小溪"
    login(client, "zhangsan")
    log = client.get("/api/exchange/my-access-log").json()
    assert log[0]["consumer_org"] == "yx-ga" and log[0]["case_ref"] == "B-1" and "新生儿姓名" in log[0]["fields"]
    entry_id = log[0]["id"]
    assert log[0]["seq"] is None  # written at once, in the tree when the sequencer runs
    entry = client.get(f"/api/exchange/log/entries/{entry_id}").json()
    assert merkle.leaf_hash(entry["leaf_data"].encode()).hex() == entry["leaf_hash"]
    sth = client.get("/api/exchange/log/sth").json()  # signing sequences pending entries
    seq = client.get(f"/api/exchange/log/entries/{entry_id}").json()["seq"]
    proof = client.get(f"/api/exchange/log/proof/inclusion?seq={seq}&tree_size={sth['tree_size']}").json()
    assert proof["leaf_hash"] == entry["leaf_hash"] and proof["root_hash"] == sth["root_hash"]
    assert merkle.verify_inclusion(bytes.fromhex(entry["leaf_hash"]), seq, sth["tree_size"],
                                   [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(sth["root_hash"]))
    login(client, "lisi")
    assert client.get(f"/api/exchange/log/entries/{entry_id}").status_code == 403
    login(client, "zhangsan")
    r = post(client, f"/api/exchange/consents/{ref}/withdraw", {})
    assert r.status_code == 200 and r.json()["withdrawn_at"]
    assert client.get("/api/exchange/consents").json()[0]["withdrawn_at"]
    assert post(client, "/api/exchange/consents/not-a-uuid/withdraw", {}).status_code == 404


def test_sth_and_proofs_are_public_and_verify(exchange_demo, client):
    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg", purpose="p",
                          case_ref="A-1")
    login(client, "approver-scjg")
    for _ in range(5):
        query(client, {"resource": "household_register", "subject_id": ZHANGSAN, "purpose": "p", "case_ref": "A-1"})
    client.logout()
    first = client.get("/api/exchange/log/sth").json()
    assert first["tree_size"] == 5 and first["algorithm"] == "Ed25519"
    login(client, "approver-scjg")
    for _ in range(3):
        query(client, {"resource": "household_register", "subject_id": ZHANGSAN, "purpose": "p", "case_ref": "A-1"})
    client.logout()
    proof = client.get("/api/exchange/log/proof/inclusion?seq=2&tree_size=8").json()
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 2, 8,
                                   [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(proof["root_hash"]))
    cons = client.get("/api/exchange/log/proof/consistency?first=5&second=8").json()
    assert cons["first_root"] == first["root_hash"]
    assert merkle.verify_consistency(5, 8, bytes.fromhex(first["root_hash"]), bytes.fromhex(cons["second_root"]),
                                     [bytes.fromhex(h) for h in cons["proof"]])
    r = client.get("/api/exchange/log/proof/inclusion?seq=9&tree_size=8")
    assert r.status_code == 400 and r.json()["code"] == errors.BAD_PROOF_REQUEST
    assert client.get("/api/exchange/log/proof/consistency?first=1").status_code == 422
    jwks = client.get("/api/exchange/jwks.json").json()
    assert first["key_id"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"])  # public keys only
