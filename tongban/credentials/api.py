"""JSON API of the credentials context, mounted at /api/credentials/.

Public: jwks.json, root-ca.pem, issuers/{code}, types, status/{list_id} (status list credentials),
{id}/status, verify. Holder and issuer staff only (session, HTTP Basic, or a signed ``?token=`` from the
wallet): {id}, {id}/vc, {id}/pdf, {id}/sm2. Issuer staff only: issue, {id}/suspend|reinstate|revoke.
Errors: ``{"code": "credentials.<...>", "message": "...", "detail": ...}`` with a matching HTTP status.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from uuid import UUID

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema
from ninja.utils import check_csrf

from tongban.core.models import Organisation, User
from tongban.core.openapi import define_scheme, may_answer, public, signed_in

from . import conf, keys, selectors, services, vc, verification
from .errors import AccessDenied, CredentialError, InvalidData, NotFound
from .models import Credential

router = Router(tags=["电子证照 credentials"])
ROUTERS = [("/credentials", router)]

MAX_UPLOAD = 20 * 1024 * 1024

BASIC = define_scheme("credentials_basic", type="http", scheme="basic", answers=(429,),  # sign-in lockout
                      description="HTTP Basic with a platform account (holder or issuer staff); too many failed "
                                  "sign-ins lock the account or address (429 `auth.locked`).")
DOWNLOAD_TOKEN = define_scheme(
    "credentials_download_token", type="apiKey", in_="query", name="token",
    description="A signed download token from the wallet (`links.pdf` / `links.vc` carry it).")


def _basic_user(request: HttpRequest) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    user = authenticate(request, username=username, password=password)
    return user if user is not None and user.is_active else None


def _user(request: HttpRequest, *, write: bool = False) -> User | None:
    """The caller: a session user (CSRF-checked for writes) or HTTP Basic credentials."""
    basic = _basic_user(request)
    if basic is not None:
        return basic
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if write and check_csrf(request) is not None:
        raise CredentialError("CSRF 校验失败", code="credentials.csrf_failed", status=403)
    return user


def _require_user(request: HttpRequest, *, write: bool = False) -> User:
    user = _user(request, write=write)
    if user is None:
        raise CredentialError("请先登录", code="credentials.login_required", status=401)
    return user


def _credential_for_download(request: HttpRequest, credential_id: UUID) -> Credential:
    credential = selectors.get_credential(credential_id)
    token = request.GET.get("token", "")
    if token:
        if services.check_download_token(token, credential):
            return credential
        raise AccessDenied("下载链接无效或已过期", code="credentials.bad_token")
    user = _require_user(request)
    if not selectors.can_access(user, credential):
        raise AccessDenied("只有持证人和发证机关工作人员可以下载该证照")
    return credential


class ReasonIn(Schema):
    reason: str = ""


class HolderIn(Schema):
    kind: str
    name: str
    id_number: str
    user_id: int | None = None


class IssueIn(Schema):
    licence_type: str
    holder: HolderIn
    data: dict[str, Any]
    issuer_org: str = ""
    application_ref: str = ""
    item_code: str = ""


def _credential_out(credential: Credential, *, with_links: bool = True) -> dict[str, Any]:
    out = {
        "id": str(credential.id),
        "licence_type": credential.licence_type.code,
        "licence_name": credential.licence_type.name,
        "licence_number": credential.licence_number,
        "holder": {"kind": credential.holder_kind, "name": credential.holder_name,
                   "id_number": credential.holder_id_number},
        "issuer": {"code": credential.issuer.code, "name": credential.issuer.name},
        "data": credential.data,
        "issued_at": credential.issued_at.isoformat(),
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": credential.valid_until.isoformat() if credential.valid_until else None,
        "status": credential.status,
        "status_reason": credential.status_reason,
        "application_ref": credential.application_ref,
        "item_code": credential.item_code,
        "pdf_sha256": credential.pdf_sha256,
        "vc_kid": credential.vc_kid,
    }
    if with_links:
        base = f"{conf.public_url()}/api/credentials/{credential.id}"
        out["links"] = {"pdf": f"{base}/pdf", "vc": f"{base}/vc", "status": f"{base}/status",
                        "verify": selectors.verify_url(credential.id)}
    return out


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


# --- public ------------------------------------------------------------------------------------------

@router.get("/jwks.json", summary="Public keys of all issuers (JWK Set, incl. rotated keys)")
@public
def jwks(request: HttpRequest) -> HttpResponse:
    response = _json(selectors.jwks())
    response["Cache-Control"] = "no-cache"
    return response


@router.get("/root-ca.pem", summary="The platform root CA certificate (trust anchor of the PDF seals)")
@public
def root_ca(request: HttpRequest) -> HttpResponse:
    return HttpResponse(keys.root_ca().certificate_pem, content_type="application/x-pem-file")


@router.get("/types", summary="Licence types with their data schemas")
@public
def licence_types(request: HttpRequest) -> HttpResponse:
    return _json([{"code": t.code, "name": t.name, "vc_type": t.vc_type, "holder_kind": t.holder_kind,
                   "validity_years": t.validity_years, "issuing_org": t.issuing_org.code if t.issuing_org else None,
                   "schema": t.schema} for t in selectors.licence_types()])


@router.get("/issuers/{code}", summary="An issuer: its id, name and keys")
@public
def issuer(request: HttpRequest, code: str) -> HttpResponse:
    org = selectors.get_issuer(code)
    return _json({"id": selectors.issuer_id(org), "name": org.name, "code": org.code,
                  "jwks": selectors.jwks(org), "sm2_keys": json.loads(json.dumps(selectors.sm2_keys(org), default=str))})


@router.get("/status/{list_id}", summary="A Bitstring Status List credential (JWS; ?format=json for the JSON)")
@public
def status_list(request: HttpRequest, list_id: str) -> HttpResponse:
    payload, token = services.status_list_credential(list_id)
    if request.GET.get("format") == "json":
        response: HttpResponse = _json(payload)
    else:
        response = HttpResponse(token, content_type=vc.MEDIA_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@router.get("/{uuid:credential_id}/status", summary="Current status of a credential (public)")
@public
def credential_status(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    credential = selectors.get_credential(credential_id)
    view = selectors.public_view(credential)
    response = _json({
        "id": str(credential.id), "licence_number": credential.licence_number,
        "licence_type": credential.licence_type.code, "status": credential.status,
        "reason": credential.status_reason, "changed_at": credential.status_changed_at.isoformat()
        if credential.status_changed_at else None,
        "status_list_index": credential.status_list_index,
        "status_lists": {"revocation": selectors.status_list_url(credential.revocation_list)
                         if credential.revocation_list else None,
                         "suspension": selectors.status_list_url(credential.suspension_list)
                         if credential.suspension_list else None},
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": credential.valid_until.isoformat() if credential.valid_until else None,
        "expired": view["expired"], "valid": view["valid"],
    })
    response["Cache-Control"] = "no-store"
    return response


@router.post("/verify", summary="Verify a VC (field/JSON 'vc') or a sealed PDF (file upload 'file' or raw PDF body)")
@public
@signed_in("session", BASIC)  # optional: a signed-in verifier is recorded
@may_answer(413)
def verify(request: HttpRequest) -> HttpResponse:
    token: str | None = None
    pdf: bytes | None = None
    sm2_signature: str | None = None
    upload = request.FILES.get("file") or request.FILES.get("pdf")
    content_type = request.content_type or ""
    if upload is not None:
        if upload.size > MAX_UPLOAD:
            raise InvalidData("文件过大（最大 20 MB）", code="credentials.file_too_large", status=413)
        pdf = upload.read()
    elif content_type == "application/pdf":
        pdf = request.body
    elif content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise InvalidData("请求体不是有效的 JSON", code="credentials.bad_request", status=400) from None
        if not isinstance(body, dict):
            raise InvalidData("请求体必须是 JSON 对象", code="credentials.bad_request", status=400)
        token = body.get("vc") or body.get("jws")
        sm2_signature = body.get("sm2_signature")
    elif content_type in ("application/vc+jwt", "text/plain", "application/jwt"):
        token = request.body.decode(errors="replace")
    else:
        token = request.POST.get("vc") or request.POST.get("jws")
        sm2_signature = request.POST.get("sm2_signature") or None
    if pdf is None and not token:
        raise InvalidData("请提供要核验的 PDF 文件（file）或可验证凭证（vc）", code="credentials.nothing_to_verify",
                          status=400)
    result = verification.verify_pdf(pdf) if pdf is not None else verification.verify_vc(
        str(token), sm2_signature=sm2_signature)
    services.record_verification(result.credential_id, method=result.method, valid=result.valid, code=result.code,
                                 actor=_user(request))
    return _json(result.to_dict())


# --- holder and issuer staff -------------------------------------------------------------------------

@router.get("/wallet", summary="The caller's licence wallet (证照夹)")
@signed_in("session", BASIC)
def wallet(request: HttpRequest) -> HttpResponse:
    user = _require_user(request)
    items = []
    for credential in selectors.credentials_for_holder(user):
        item = _credential_out(credential)
        token = services.download_token(credential)
        item["links"]["pdf"] += f"?token={token}"
        item["links"]["vc"] += f"?token={token}"
        items.append(item)
    return _json({"count": len(items), "items": items})


@router.get("/{uuid:credential_id}", summary="A credential with its data (holder / issuer staff)")
@signed_in("session", BASIC, DOWNLOAD_TOKEN)
@may_answer(403)
def credential_detail(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    return _json(_credential_out(_credential_for_download(request, credential_id)))


@router.get("/{uuid:credential_id}/vc", summary="The VC as compact JWS (application/vc+jwt)")
@signed_in("session", BASIC, DOWNLOAD_TOKEN)
@may_answer(403)
def credential_vc(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    credential = _credential_for_download(request, credential_id)
    response = HttpResponse(credential.vc_jws, content_type=vc.MEDIA_TYPE)
    response["Content-Disposition"] = f'inline; filename="{credential.licence_number}.vc.jwt"'
    return response


@router.get("/{uuid:credential_id}/pdf", summary="The sealed PDF (application/pdf)")
@signed_in("session", BASIC, DOWNLOAD_TOKEN)
@may_answer(403)
def credential_pdf(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    credential = _credential_for_download(request, credential_id)
    path = conf.media_root() / credential.pdf_path
    if not credential.pdf_path or not path.is_file():
        raise NotFound("证照 PDF 文件缺失", code="credentials.file_missing")
    response = HttpResponse(path.read_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{credential.licence_number}.pdf"'
    return response


@router.get("/{uuid:credential_id}/sm2", summary="The detached SM2/SM3 signature of the VC (national algorithms)")
@signed_in("session", BASIC, DOWNLOAD_TOKEN)
@may_answer(403)
def credential_sm2(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    credential = _credential_for_download(request, credential_id)
    if not credential.sm2_signature:
        raise NotFound("该证照没有 SM2 签名（未启用国密选项）", code="credentials.no_sm2_signature")
    key = selectors.key_by_kid(credential.sm2_kid)
    return _json({"alg": "SM2-SM3", "kid": credential.sm2_kid, "public_key": key.public_key_pem if key else None,
                  "signed": "JWS payload (base64url-decoded bytes)", "signature": credential.sm2_signature})


@router.post("/issue", response={201: dict[str, Any]}, summary="Issue an e-licence (issuer staff)")
@signed_in("session", BASIC)
@may_answer(404, 503)
def issue(request: HttpRequest, payload: IssueIn) -> HttpResponse:
    user = _require_user(request, write=True)
    licence_type = selectors.get_licence_type(payload.licence_type)
    default_issuer = licence_type.issuing_org.code if licence_type.issuing_org else ""
    org = selectors.get_issuer(payload.issuer_org or default_issuer)
    _check_issuer_staff(user, org, "签发证照")
    credential = services.issue_credential(
        licence_type, payload.holder.model_dump(), payload.data, org, application_ref=payload.application_ref,
        item_code=payload.item_code, actor=user)
    return _json(_credential_out(credential), status=201)


def _check_issuer_staff(user: User, org: Organisation, action: str) -> None:
    if not selectors.is_issuer_staff(user, org):
        raise AccessDenied(f"只有发证机关的工作人员可以{action}")


def _status_action(request: HttpRequest, credential_id: UUID, action: str, reason: str) -> HttpResponse:
    user = _require_user(request, write=True)
    credential = selectors.get_credential(credential_id)
    _check_issuer_staff(user, credential.issuer, "变更证照状态")
    credential = services.change_status(credential.id, action, reason=reason, actor=user)
    return _json({"id": str(credential.id), "status": credential.status, "reason": credential.status_reason,
                  "changed_at": credential.status_changed_at.isoformat() if credential.status_changed_at else None})


@router.post("/{uuid:credential_id}/suspend", summary="Suspend (issuer staff; reason required)")
@signed_in("session", BASIC)
def suspend(request: HttpRequest, credential_id: UUID, payload: ReasonIn) -> HttpResponse:
    return _status_action(request, credential_id, "suspend", payload.reason)


@router.post("/{uuid:credential_id}/reinstate", summary="Reinstate a suspended credential (issuer staff)")
@signed_in("session", BASIC)
def reinstate(request: HttpRequest, credential_id: UUID, payload: ReasonIn) -> HttpResponse:
    return _status_action(request, credential_id, "reinstate", payload.reason)


@router.post("/{uuid:credential_id}/revoke", summary="Revoke, finally (issuer staff; reason required)")
@signed_in("session", BASIC)
def revoke(request: HttpRequest, credential_id: UUID, payload: ReasonIn) -> HttpResponse:
    return _status_action(request, credential_id, "revoke", payload.reason)
