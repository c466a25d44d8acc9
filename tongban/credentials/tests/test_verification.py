from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from tongban.core.demo import ID_NUMBERS
from tongban.core.models import Organisation
from tongban.credentials import conf, keys, services, vc
from tongban.credentials.models import SealKey
from tongban.credentials.verification import verify_pdf, verify_vc

from .conftest import COMPANY

pytestmark = pytest.mark.django_db

COMPANY_HOLDER = {"kind": "legal", "name": COMPANY, "credit_code": ID_NUMBERS["yunxi-tech"]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_payload(token: str, payload: dict) -> str:
    header, _payload, signature = token.split(".")
    return f"{header}.{_b64(json.dumps(payload, ensure_ascii=False, separators=(',', ':')).encode())}.{signature}"


def test_a_fresh_vc_verifies_and_has_the_w3c_shape(business_licence):
    header, payload, _raw = vc.split(business_licence.vc_jws)
    assert header == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": business_licence.vc_kid}
    assert payload["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert payload["type"] == ["VerifiableCredential", "BusinessLicenceCredential"]
    assert payload["id"] == f"urn:uuid:{business_licence.id}"
    assert payload["issuer"]["id"].endswith("/api/credentials/issuers/yx-scjg")
    assert payload["credentialSubject"]["data"]["name"] == COMPANY
    entries = payload["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert all(e["type"] == "BitstringStatusListEntry" and e["statusListIndex"] == "0" for e in entries)
    assert "validUntil" not in payload  # 长期有效
    result = verify_vc(business_licence.vc_jws)
    assert result.valid and result.code == "credentials.valid"
    assert result.licence_number == business_licence.licence_number and result.status == "active"


def test_altered_payload_is_named(business_licence):
    _h, payload, _r = vc.split(business_licence.vc_jws)
    payload["credentialSubject"]["data"]["registered_capital"] = "壹亿元整"
    result = verify_vc(_with_payload(business_licence.vc_jws, payload))
    assert not result.valid and result.code == "credentials.payload_altered" and "篡改" in result.reason


def test_forged_signature_is_refused(business_licence):
    _h, payload, _r = vc.split(business_licence.vc_jws)
    forger = ed25519.Ed25519PrivateKey.generate()
    forged = vc.sign_compact(payload, forger, business_licence.vc_kid)  # claims the real kid
    result = verify_vc(forged)
    assert not result.valid and result.code == "credentials.bad_signature"
    head, body, sig = business_licence.vc_jws.split(".")
    broken = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    assert verify_vc(broken).code == "credentials.bad_signature"


def test_unknown_kid_and_malformed_input(business_licence):
    _h, payload, _r = vc.split(business_licence.vc_jws)
    stranger = vc.sign_compact(payload, ed25519.Ed25519PrivateKey.generate(), "elsewhere.ed25519.xyz")
    result = verify_vc(stranger)
    assert result.code == "credentials.unknown_kid" and "elsewhere.ed25519.xyz" in result.reason
    assert verify_vc("not a jws").code == "credentials.malformed_vc"
    assert verify_vc("").code == "credentials.malformed_vc"
    assert verify_vc("a.b.c").code == "credentials.malformed_vc"


def test_a_key_of_another_issuer_cannot_speak_for_this_one(business_licence, demo_core):
    other = keys.ensure_org_keys(Organisation.objects.get(code="yx-ga"))[SealKey.Algorithm.ED25519]
    _h, payload, _r = vc.split(business_licence.vc_jws)
    token = vc.sign_compact(payload, keys.load_private_key(other), other.kid)
    assert verify_vc(token).code == "credentials.issuer_mismatch"


def test_revocation_and_suspension_show_at_once(business_licence):
    pdf = (conf.media_root() / business_licence.pdf_path).read_bytes()
    assert verify_pdf(pdf).valid
    services.suspend_credential(business_licence.id, reason="涉嫌虚假登记")
    result = verify_vc(business_licence.vc_jws)
    assert result.code == "credentials.suspended" and "涉嫌虚假登记" in result.reason
    assert verify_pdf(pdf).code == "credentials.suspended"
    services.reinstate_credential(business_licence.id, reason="已澄清")
    assert verify_vc(business_licence.vc_jws).valid and verify_pdf(pdf).valid
    services.revoke_credential(business_licence.id, reason="撤销登记")
    assert verify_vc(business_licence.vc_jws).code == "credentials.revoked"
    result = verify_pdf(pdf)
    assert result.code == "credentials.revoked" and "撤销登记" in result.reason


def test_expired_and_not_yet_valid(licence_types):
    today = timezone.localdate()
    old = services.issue_credential("food_operation_licence", COMPANY_HOLDER, {},
                                    valid_from=today - dt.timedelta(days=366 * 6))
    result = verify_vc(old.vc_jws)
    assert result.code == "credentials.expired"
    assert verify_pdf((conf.media_root() / old.pdf_path).read_bytes()).code == "credentials.expired"
    future = services.issue_credential("food_operation_licence", COMPANY_HOLDER, {},
                                       valid_from=today + dt.timedelta(days=10))
    assert verify_vc(future.vc_jws).code == "credentials.not_yet_valid"


def test_key_rotation_keeps_old_credentials_verifiable(business_licence, licence_types):
    old_kid = business_licence.vc_kid
    keys.rotate_org_keys("yx-scjg")
    newer = services.issue_credential("food_operation_licence", COMPANY_HOLDER, {})
    assert newer.vc_kid != old_kid and newer.vc_kid.startswith("yx-scjg.ed25519.")
    assert verify_vc(business_licence.vc_jws).valid
    assert verify_vc(newer.vc_jws).valid
    # the PDFs sealed with the retired seal certificate still validate too
    assert verify_pdf((conf.media_root() / business_licence.pdf_path).read_bytes()).valid
    assert verify_pdf((conf.media_root() / newer.pdf_path).read_bytes()).valid


def test_tampered_pdf_is_refused(business_licence):
    pdf = bytearray((conf.media_root() / business_licence.pdf_path).read_bytes())
    pos = bytes(pdf).index(b"stream") + 30
    pdf[pos] ^= 0x20
    result = verify_pdf(bytes(pdf))
    assert not result.valid and result.code in {"credentials.pdf_altered", "credentials.malformed_pdf"}
    assert verify_pdf(b"hello").code == "credentials.malformed_pdf"
    assert verify_pdf(b"").code == "credentials.malformed_pdf"


def test_sm2_option_signs_and_verifies_the_vc(licence_types, settings):
    settings.TONGBAN_SEAL_ALGORITHM = "sm2"
    c = services.issue_credential("food_operation_licence", COMPANY_HOLDER, {})
    assert len(c.sm2_signature) == 128 and c.sm2_kid.startswith("yx-scjg.sm2.")
    result = verify_vc(c.vc_jws)
    assert result.valid and result.checks["sm2"] is True
    bad = c.sm2_signature[:-2] + ("00" if c.sm2_signature[-2:] != "00" else "11")
    assert verify_vc(c.vc_jws, sm2_signature=bad).code == "credentials.bad_sm2_signature"
    c.sm2_signature = bad
    c.save()
    assert verify_vc(c.vc_jws).code == "credentials.bad_sm2_signature"
