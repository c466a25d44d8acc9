"""Verification of e-licences: a VC as compact JWS (:func:`verify_vc`) or a sealed PDF (:func:`verify_pdf`).

Both return a :class:`VerificationResult` with ``valid`` and, on failure, a stable ``code`` and a clear
Chinese ``reason``: malformed input, forged signature, altered payload/document, unknown key id, untrusted
seal, revoked, suspended, expired, not yet valid. The status is always read fresh from the database (the
status list credential is rebuilt, its signature checked and its bit decoded), so a revocation shows at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from . import bitstring, keys, seal, selectors, services, sm2, vc
from .errors import CredentialError, NotFound
from .models import Credential, SealKey

STATUS_URL = re.compile(r"/api/credentials/status/(?P<list_id>[A-Za-z0-9_.-]+)$")
ISSUER_URL = re.compile(r"/api/credentials/issuers/(?P<code>[A-Za-z0-9_.-]+)$")


@dataclass
class VerificationResult:
    valid: bool
    code: str  # "credentials.valid" or a credentials.* error code
    reason: str
    method: str = ""  # "vc" | "pdf"
    credential_id: str = ""
    licence_type: str = ""
    licence_name: str = ""
    licence_number: str = ""
    issuer: str = ""
    status: str = ""
    valid_from: str = ""
    valid_until: str = ""
    kid: str = ""
    checks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fail(method: str, code: str, reason: str, **extra: Any) -> VerificationResult:
    return VerificationResult(False, code, reason, method=method, **extra)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _stored(credential_id: str) -> Credential | None:
    try:
        return selectors.get_credential(credential_id)
    except NotFound:
        return None


def _status_bit(entry: dict[str, Any]) -> tuple[bool | None, str]:
    """(bit, problem): resolve the entry's status list credential, check its signature and read the bit."""
    url = str(entry.get("statusListCredential", ""))
    match = STATUS_URL.search(url)
    if not match:
        return None, f"状态列表地址无法识别：{url}"
    try:
        index = int(str(entry.get("statusListIndex", "")))
    except ValueError:
        return None, "状态列表位置无效"
    try:
        list_payload, list_jws = services.status_list_credential(match.group("list_id"))
    except NotFound:
        return None, f"状态列表不存在：{url}"
    header, _payload, _raw = vc.split(list_jws)
    list_key = selectors.key_by_kid(str(header.get("kid", "")))
    if list_key is None or not vc.verify_signature(list_jws, list_key.public_key_pem):
        return None, "状态列表凭证签名无效"
    try:
        bits = bitstring.decode(list_payload["credentialSubject"]["encodedList"])
        return bitstring.get_bit(bits, index), ""
    except (ValueError, IndexError, KeyError) as exc:
        return None, f"状态列表无法解码：{exc}"


def verify_vc(token: str, *, sm2_signature: str | None = None) -> VerificationResult:
    """Verify a VC given as compact JWS: signature (key from the JWKS by kid), issuer, status, validity period.

    ``sm2_signature`` (hex) checks a detached SM2 signature too; without it, a stored SM2 signature of the
    credential (national-algorithm option) is checked when there is one.
    """
    method = "vc"
    if not isinstance(token, str) or not token.strip():
        return _fail(method, "credentials.malformed_vc", "请提供可验证凭证（紧凑 JWS）")
    token = token.strip()
    try:
        header, payload, raw = vc.split(token)
    except vc.MalformedJws as exc:
        return _fail(method, "credentials.malformed_vc", str(exc))
    credential_id = str(payload.get("id", "")).removeprefix("urn:uuid:")
    stored = _stored(credential_id)
    subject = payload.get("credentialSubject") if isinstance(payload.get("credentialSubject"), dict) else {}
    info = {
        "credential_id": credential_id if stored else "",
        "licence_type": str(subject.get("licenceType", "")),
        "licence_name": str(subject.get("licenceName", "")),
        "licence_number": str(subject.get("licenceNumber", "")),
        "issuer": str((payload.get("issuer") or {}).get("name", "")) if isinstance(payload.get("issuer"), dict) else "",
        "valid_from": str(payload.get("validFrom", "")),
        "valid_until": str(payload.get("validUntil", "")),
        "kid": str(header.get("kid", "")),
    }
    checks: dict[str, Any] = {}
    if header.get("alg") != vc.ALG:
        return _fail(method, "credentials.unsupported_alg", f"不支持的签名算法“{header.get('alg')}”（应为 EdDSA）",
                     checks=checks, **info)
    key = selectors.key_by_kid(info["kid"]) if info["kid"] else None
    if key is None or key.algorithm != SealKey.Algorithm.ED25519:
        return _fail(method, "credentials.unknown_kid", f"签名密钥“{info['kid']}”不是本平台任何发证机关的公钥",
                     checks=checks, **info)
    if not vc.verify_signature(token, key.public_key_pem):
        checks["signature"] = False
        if stored is not None and stored.vc_jws and stored.vc_jws.split(".")[1] != token.split(".")[1]:
            return _fail(method, "credentials.payload_altered", "凭证内容被篡改（与签名不符）", checks=checks, **info)
        return _fail(method, "credentials.bad_signature", "凭证签名无效（伪造或损坏的签名）", checks=checks, **info)
    checks["signature"] = True
    context = payload.get("@context")
    types = payload.get("type")
    if not (isinstance(context, list) and context and context[0] == vc.VC_CONTEXT
            and isinstance(types, list) and "VerifiableCredential" in types):
        return _fail(method, "credentials.malformed_vc", "不是 W3C 可验证凭证 2.0", checks=checks, **info)
    issuer = payload.get("issuer")
    issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
    issuer_match = ISSUER_URL.search(str(issuer_url or ""))
    if not issuer_match or issuer_match.group("code") != key.organisation.code:
        return _fail(method, "credentials.issuer_mismatch", "签名密钥不属于凭证所写的发证机关", checks=checks, **info)
    checks["issuer"] = key.organisation.code
    # national-algorithm (SM2) signature, when given or stored
    sm2_sig = sm2_signature if sm2_signature is not None else (stored.sm2_signature if stored else "")
    if sm2_sig:
        sm2_key = selectors.key_by_kid(stored.sm2_kid) if stored and stored.sm2_kid else (
            SealKey.objects.filter(organisation=key.organisation, algorithm=SealKey.Algorithm.SM2)
            .order_by("-created_at").first())
        ok = sm2_key is not None and sm2.verify(sm2_key.public_key_pem, raw, sm2_sig)
        checks["sm2"] = ok
        if not ok:
            return _fail(method, "credentials.bad_sm2_signature", "SM2 国密签名无效", checks=checks, **info)
    # status (Bitstring Status List), always fresh
    entries = payload.get("credentialStatus") or []
    if isinstance(entries, dict):
        entries = [entries]
    status = Credential.Status.ACTIVE
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        bit, problem = _status_bit(entry)
        if problem:
            return _fail(method, "credentials.status_unavailable", f"无法确认证照状态：{problem}", checks=checks, **info)
        purpose = entry.get("statusPurpose")
        checks[f"status_{purpose}"] = bit
        if bit and purpose == "revocation":
            status = Credential.Status.REVOKED
        elif bit and purpose == "suspension" and status != Credential.Status.REVOKED:
            status = Credential.Status.SUSPENDED
    info["status"] = status
    reason_suffix = f"（原因：{stored.status_reason}）" if stored is not None and stored.status_reason else ""
    if status == Credential.Status.REVOKED:
        return _fail(method, "credentials.revoked", f"证照已被撤销{reason_suffix}", checks=checks, **info)
    if status == Credential.Status.SUSPENDED:
        return _fail(method, "credentials.suspended", f"证照已被暂停使用{reason_suffix}", checks=checks, **info)
    now = timezone.now()
    valid_from, valid_until = _parse_time(payload.get("validFrom")), _parse_time(payload.get("validUntil"))
    if valid_from is not None and valid_from > now:
        return _fail(method, "credentials.not_yet_valid", "证照尚未生效", checks=checks, **info)
    if valid_until is not None and valid_until < now:
        return _fail(method, "credentials.expired", "证照已超过有效期", checks=checks, **info)
    return VerificationResult(True, "credentials.valid", "签名有效，证照有效", method=method, checks=checks, **info)


def verify_pdf(pdf: bytes) -> VerificationResult:
    """Verify a sealed licence PDF: PAdES seal valid and trusted, document intact, named credential active."""
    method = "pdf"
    if not pdf:
        return _fail(method, "credentials.malformed_pdf", "请上传 PDF 文件")
    if b"%PDF-" not in pdf[:1024]:
        return _fail(method, "credentials.malformed_pdf", "上传的文件不是 PDF")
    try:
        check = seal.validate_pdf(pdf, [keys.root_ca().certificate])
    except CredentialError as exc:
        return _fail(method, exc.code, exc.message)
    checks: dict[str, Any] = {"seal": check.details, "signer": check.signer, "signed_at": check.signed_at}
    if not check.ok:
        named = _stored(check.credential_id) if check.credential_id else None
        return _fail(method, check.code, check.reason, checks=checks, credential_id=str(named.id) if named else "")
    stored = _stored(check.credential_id) if check.credential_id else None
    if stored is None:
        return _fail(method, "credentials.not_found", "电子印章有效，但文件所指的证照在本平台不存在", checks=checks)
    info = {
        "credential_id": str(stored.id), "licence_type": stored.licence_type.code,
        "licence_name": stored.licence_type.name, "licence_number": stored.licence_number,
        "issuer": stored.issuer.name, "status": stored.status, "valid_from": stored.valid_from.isoformat(),
        "valid_until": stored.valid_until.isoformat() if stored.valid_until else "",
    }
    checks["same_as_issued"] = hashlib.sha256(pdf).hexdigest() == stored.pdf_sha256
    if stored.status == Credential.Status.REVOKED:
        return _fail(method, "credentials.revoked", f"证照已被撤销（原因：{stored.status_reason}）", checks=checks, **info)
    if stored.status == Credential.Status.SUSPENDED:
        return _fail(method, "credentials.suspended", f"证照已被暂停使用（原因：{stored.status_reason}）",
                     checks=checks, **info)
    today = timezone.localdate()
    if stored.valid_from > today:
        return _fail(method, "credentials.not_yet_valid", "证照尚未生效", checks=checks, **info)
    if stored.valid_until is not None and stored.valid_until < today:
        return _fail(method, "credentials.expired", "证照已超过有效期", checks=checks, **info)
    return VerificationResult(True, "credentials.valid", "电子印章有效、文件未被改动，证照有效", method=method,
                              checks=checks, **info)
