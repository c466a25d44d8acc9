from __future__ import annotations

import base64

import pytest
from django.test import Client

from tongban.core.demo import DEMO_PASSWORD
from tongban.core.models import User
from tongban.credentials import bitstring, conf, keys, services, vc

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def _basic(username: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{username}:{DEMO_PASSWORD}".encode()).decode()}


def test_jwks_lists_every_issuer_key_including_rotated_ones(client, business_licence):
    old_kid = business_licence.vc_kid
    keys.rotate_org_keys("yx-scjg")
    response = client.get("/api/credentials/jwks.json")
    assert response.status_code == 200
    jwks = response.json()["keys"]
    by_kid = {k["kid"]: k for k in jwks}
    assert old_kid in by_kid and "retired_at" in by_kid[old_kid]
    assert by_kid[old_kid]["kty"] == "OKP" and by_kid[old_kid]["crv"] == "Ed25519" and "d" not in by_kid[old_kid]
    assert sum(1 for k in jwks if k["kid"].startswith("yx-scjg.ed25519.")) == 2
    seal_keys = [k for k in jwks if k["kty"] == "EC"]
    assert seal_keys and all("x5c" in k and "d" not in k for k in seal_keys)
    # the JWKS key really verifies the VC
    from joserfc.jwk import OKPKey

    public = OKPKey.import_key({k: v for k, v in by_kid[old_kid].items() if k in ("kty", "crv", "x")})
    assert vc.verify_signature(business_licence.vc_jws, public.as_pem(private=False).decode())


def test_status_is_public_and_reflects_revocation_at_once(client, business_licence, demo_core):
    url = f"/api/credentials/{business_licence.id}/status"
    body = client.get(url).json()
    assert body["status"] == "active" and body["status_list_index"] == 0 and body["reason"] == ""
    staff = _login(Client(), "approver-scjg")
    response = staff.post(f"/api/credentials/{business_licence.id}/revoke", {"reason": "虚假登记"},
                          content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    body = client.get(url).json()
    assert body["status"] == "revoked" and body["reason"] == "虚假登记" and body["changed_at"]
    assert client.get(url)["Cache-Control"] == "no-store"
    # the published status list too
    list_response = client.get(f"/api/credentials/status/{business_licence.revocation_list_id}")
    assert list_response["Content-Type"] == "application/vc+jwt"
    _h, payload, _r = vc.split(list_response.content.decode())
    assert bitstring.get_bit(bitstring.decode(payload["credentialSubject"]["encodedList"]), 0)
    # and verification through the API
    result = client.post("/api/credentials/verify", {"vc": business_licence.vc_jws},
                         content_type="application/json").json()
    assert result["valid"] is False and result["code"] == "credentials.revoked"
    # revoked is final
    again = staff.post(f"/api/credentials/{business_licence.id}/reinstate", {"reason": "x"},
                       content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "credentials.already_revoked"


def test_pdf_and_vc_are_for_the_holder_and_issuer_staff(business_licence, demo_core):
    pdf_url = f"/api/credentials/{business_licence.id}/pdf"
    vc_url = f"/api/credentials/{business_licence.id}/vc"
    anonymous = Client().get(pdf_url)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "credentials.login_required"
    stranger = _login(Client(), "zhangsan").get(vc_url)
    assert stranger.status_code == 403 and stranger.json()["code"] == "credentials.forbidden"
    other_department = _login(Client(), "approver-ga").get(pdf_url)
    assert other_department.status_code == 403
    holder = _login(Client(), "yunxi-tech")
    response = holder.get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content == (conf.media_root() / business_licence.pdf_path).read_bytes()
    response = holder.get(vc_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    assert response.content.decode() == business_licence.vc_jws
    assert _login(Client(), "approver-scjg").get(vc_url).status_code == 200
    assert _login(Client(), "admin").get(pdf_url).status_code == 200
    assert Client().get(vc_url, **_basic("yunxi-tech")).status_code == 200
    assert Client().get(vc_url, **_basic("zhangsan")).status_code == 403


def test_signed_download_tokens(business_licence, licence_types):
    token = services.download_token(business_licence)
    ok = Client().get(f"/api/credentials/{business_licence.id}/pdf", {"token": token})
    assert ok.status_code == 200 and ok.content.startswith(b"%PDF-")
    bad = Client().get(f"/api/credentials/{business_licence.id}/vc", {"token": token[:-2] + "xx"})
    assert bad.status_code == 403 and bad.json()["code"] == "credentials.bad_token"
    other = services.issue_credential("resident_id_card", User.objects.get(username="zhangsan"), {})
    assert Client().get(f"/api/credentials/{other.id}/vc", {"token": token}).status_code == 403


def test_not_found_and_bad_ids(client):
    response = client.get("/api/credentials/00000000-0000-0000-0000-000000000000/status")
    assert response.status_code == 404 and response.json()["code"] == "credentials.not_found"
    assert client.get("/api/credentials/not-a-uuid/status").status_code == 404
    response = client.get("/api/credentials/status/nope-revocation-1")
    assert response.status_code == 404 and response.json()["code"] == "credentials.status_list_not_found"


def test_verify_endpoint_accepts_pdf_uploads_and_vcs(client, business_licence):
    pdf = (conf.media_root() / business_licence.pdf_path).read_bytes()
    from django.core.files.uploadedfile import SimpleUploadedFile

    result = client.post("/api/credentials/verify", {"file": SimpleUploadedFile("l.pdf", pdf, "application/pdf")})
    body = result.json()
    assert result.status_code == 200 and body["valid"] and body["method"] == "pdf"
    assert body["credential_id"] == str(business_licence.id)
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream") + 30] ^= 0x01
    body = client.post("/api/credentials/verify", bytes(tampered), content_type="application/pdf").json()
    assert not body["valid"] and body["code"] in ("credentials.pdf_altered", "credentials.malformed_pdf")
    body = client.post("/api/credentials/verify", business_licence.vc_jws, content_type="text/plain").json()
    assert body["valid"] and body["method"] == "vc"
    body = client.post("/api/credentials/verify", {"vc": "x.y"}).json()
    assert body["code"] == "credentials.malformed_vc"
    empty = client.post("/api/credentials/verify", {})
    assert empty.status_code == 400 and empty.json()["code"] == "credentials.nothing_to_verify"
    broken = client.post("/api/credentials/verify", b"{", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["code"] == "credentials.bad_request"
    assert business_licence.events.filter(kind="verified").count() == 3


def test_issue_and_status_changes_need_issuer_staff(business_licence, demo_core):
    payload = {"licence_type": "food_operation_licence",
               "holder": {"kind": "legal", "name": "云溪星火科技有限公司", "id_number": "91910100MA1YX0001K"},
               "data": {"main_business": "小型餐馆"}, "application_ref": "YX-API-1"}
    assert Client().post("/api/credentials/issue", payload, content_type="application/json").status_code == 401
    forbidden = _login(Client(), "approver-ga").post("/api/credentials/issue", payload,
                                                      content_type="application/json")
    assert forbidden.status_code == 403
    staff = _login(Client(), "approver-scjg")
    created = staff.post("/api/credentials/issue", payload, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["licence_number"].startswith("JY-YX-SCJG-")
    invalid = staff.post("/api/credentials/issue", {**payload, "data": {"main_business": 5}},
                         content_type="application/json")
    assert invalid.status_code == 422 and invalid.json()["code"] == "credentials.invalid_data"
    assert invalid.json()["detail"][0]["field"] == "main_business"
    response = _login(Client(), "approver-ga").post(f"/api/credentials/{business_licence.id}/suspend",
                                                    {"reason": "x"}, content_type="application/json")
    assert response.status_code == 403
    missing_reason = staff.post(f"/api/credentials/{business_licence.id}/suspend", {},
                                content_type="application/json")
    assert missing_reason.status_code == 422 and missing_reason.json()["code"] == "credentials.reason_required"
    business_licence.refresh_from_db()
    assert business_licence.status == "active"


def test_session_writes_need_csrf(business_licence, demo_core):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="approver-scjg"))
    response = client.post(f"/api/credentials/{business_licence.id}/revoke", {"reason": "x"},
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "credentials.csrf_failed"
    business_licence.refresh_from_db()
    assert business_licence.status == "active"


def test_wallet_api_lists_the_holders_credentials_with_token_links(business_licence, licence_types):
    services.issue_credential("resident_id_card", User.objects.get(username="zhangsan"), {})
    body = _login(Client(), "yunxi-tech").get("/api/credentials/wallet").json()
    assert body["count"] == 1 and body["items"][0]["id"] == str(business_licence.id)
    link = body["items"][0]["links"]["pdf"]
    path = link.split("127.0.0.1:8000", 1)[1] if "127.0.0.1:8000" in link else link
    assert Client().get(path).status_code == 200
    assert Client().get("/api/credentials/wallet").status_code == 401


def test_public_lookups(client, business_licence):
    assert client.get("/api/credentials/root-ca.pem").content.startswith(b"-----BEGIN CERTIFICATE-----")
    issuer = client.get("/api/credentials/issuers/yx-scjg").json()
    assert issuer["name"] == "云溪市市场监督管理局" and issuer["jwks"]["keys"]
    assert client.get("/api/credentials/issuers/none").status_code == 404
    types = {t["code"] for t in client.get("/api/credentials/types").json()}
    assert {"business_licence", "food_operation_licence", "birth_medical_certificate"} <= types
