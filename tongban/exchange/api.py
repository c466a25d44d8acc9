"""JSON API of the data exchange, mounted under ``/api/exchange/``.

Callers: a consuming *system* sends its key in the ``X-Tongban-Client`` header (``prefix.secret``;
only a hash is stored); a *staff member* uses the session (their department is the consumer);
citizens use the session for consents and their own access log. The resource catalogue, the
signed tree head, proofs and the JWKS are public.

Errors are ``{"code", "message"}`` with stable codes: ``exchange.no_grant``, ``exchange.grant_expired``,
``exchange.grant_revoked``, ``exchange.grant_pending``, ``exchange.fields_not_granted``,
``exchange.not_shareable``, ``exchange.no_consent`` (403); ``exchange.unknown_resource``,
``evidence.not_found`` (404); ``exchange.bad_provider_answer`` (502);
``evidence.provider_unavailable`` (503); ``exchange.unauthenticated`` / ``exchange.bad_client_key``
(401); ``exchange.forbidden`` (403); ``exchange.invalid``, ``exchange.bad_proof_request`` (400);
``exchange.bad_state`` (409); ``exchange.not_found`` (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import codes_4xx, codes_5xx
from ninja.utils import check_csrf

from tongban.core.evidence import (
    EvidenceError,
    EvidenceNotFound,
    EvidenceRefused,
    NoProvider,
    ProviderUnavailable,
)
from tongban.core.models import Organisation, User

from . import accesslog, errors, keys, selectors, services
from .errors import BadProviderAnswer, ExchangeError
from .models import AccessLogEntry, Consent, ExchangeClient, Grant

router = Router(tags=["exchange 数据共享交换"])
ROUTERS = [("exchange/", router)]

CLIENT_HEADER = "X-Tongban-Client"


class ErrorOut(Schema):
    code: str
    message: str


def _err(status: int, code: str, message: str) -> tuple[int, dict[str, str]]:
    return status, {"code": code, "message": message}


def _exchange_error(exc: ExchangeError) -> tuple[int, dict[str, str]]:
    return _err(exc.status, exc.code, exc.message)


@dataclass
class Principal:
    user: User | None = None
    client: ExchangeClient | None = None


def _principal(request: HttpRequest, *, allow_client: bool = True) -> Principal | tuple[int, dict[str, str]]:
    header = request.headers.get(CLIENT_HEADER)
    if header and allow_client:
        client = services.authenticate_client(header)
        if client is None:
            return _err(401, errors.BAD_CLIENT_KEY, f"{CLIENT_HEADER} 密钥无效或已停用")
        return Principal(client=client)
    if not request.user.is_authenticated:
        return _err(401, errors.UNAUTHENTICATED, "请先登录，或以接入系统密钥调用")
    if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request) is not None:
        return _err(403, errors.FORBIDDEN, "CSRF 校验失败")
    return Principal(user=request.user)


# --- Resource catalogue ---------------------------------------------------------------------------


class FieldOut(Schema):
    name: str
    title: str
    type: Any
    sensitivity: str
    sensitivity_label: str


class ResourceOut(Schema):
    code: str
    name: str
    description: str
    owner: str
    owner_name: str
    sharing_type: str
    sharing_type_label: str
    sharing_conditions: str
    update_frequency: str
    update_frequency_label: str
    subject_field: str
    remote: bool
    fields: list[FieldOut]


def _resource_out(r) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "description": r.description, "owner": r.owner.code,
            "owner_name": r.owner.name, "sharing_type": r.sharing_type,
            "sharing_type_label": r.get_sharing_type_display(), "sharing_conditions": r.sharing_conditions,
            "update_frequency": r.update_frequency, "update_frequency_label": r.get_update_frequency_display(),
            "subject_field": r.subject_field, "remote": bool(r.endpoint_url), "fields": r.field_rows()}


@router.get("resources", response=list[ResourceOut], summary="政务信息资源目录（公开）")
def list_resources(request: HttpRequest, q: str = ""):
    return [_resource_out(r) for r in selectors.resources(q)]


@router.get("resources/{code}", response={200: ResourceOut, 404: ErrorOut}, summary="数据资源详情（公开）")
def get_resource(request: HttpRequest, code: str):
    resource = selectors.resource(code)
    if resource is None or not resource.active:
        return _err(404, errors.UNKNOWN_RESOURCE, f"数据资源“{code}”不存在")
    return _resource_out(resource)


# --- Audited queries ------------------------------------------------------------------------------


class QueryIn(Schema):
    resource: str
    subject_id: str
    purpose: str
    fields: list[str] = []
    case_ref: str = ""
    consent_ref: str = ""
    consumer_org: str = ""


class EvidenceOut(Schema):
    resource: str
    title: str
    provider_org: str
    subject_id: str
    data: dict[str, Any]
    masked_fields: list[str]
    fetched_at: dt.datetime
    reference: str


def _evidence_error(exc: EvidenceError) -> tuple[int, dict[str, str]]:
    if isinstance(exc, NoProvider) or exc.code == errors.UNKNOWN_RESOURCE:
        status = 404
    elif isinstance(exc, EvidenceRefused):
        status = 403
    elif isinstance(exc, EvidenceNotFound):
        status = 404
    elif isinstance(exc, ProviderUnavailable):
        status = 503
    else:
        status = 502
    return _err(status, exc.code, str(exc))


@router.post("query", response={200: EvidenceOut, codes_4xx: ErrorOut, codes_5xx: ErrorOut},
             summary="查询共享数据（经授权、脱敏、留痕）")
def query(request: HttpRequest, payload: QueryIn):
    """Query a data resource about a subject. Only granted fields come back; personal fields are masked
    unless the grant needs them in clear; every query and refusal is appended to the access log."""
    who = _principal(request)
    if isinstance(who, tuple):
        return who
    if who.client:
        consumer = who.client.organisation.code
        if payload.consumer_org and payload.consumer_org != consumer:
            return _err(403, errors.FORBIDDEN, "接入系统只能以其所属部门的身份查询")
    else:
        consumer = payload.consumer_org or (who.user.organisation.code if who.user.organisation else "")
        org = Organisation.objects.filter(code=consumer).first()
        if org is None or not services.can_request_for(who.user, org):
            return _err(403, errors.FORBIDDEN, "只有使用部门的工作人员可以查询共享数据")
    if not payload.subject_id.strip() or not payload.purpose.strip():
        return _err(400, errors.INVALID, "请填写主体标识（subject_id）和用途（purpose）")
    try:
        ev = services.query(code=payload.resource, subject_id=payload.subject_id.strip(), consumer_org=consumer,
                            purpose=payload.purpose.strip(), fields=payload.fields, case_ref=payload.case_ref,
                            consent_ref=payload.consent_ref, actor=who.user, client=who.client)
    except (BadProviderAnswer, EvidenceError) as exc:
        return _evidence_error(exc)
    return {"resource": ev.code, "title": ev.title, "provider_org": ev.provider_org,
            "subject_id": payload.subject_id.strip(), "data": ev.data, "masked_fields": list(ev.masked_fields),
            "fetched_at": ev.fetched_at, "reference": ev.reference}


# --- Grants ---------------------------------------------------------------------------------------


class GrantOut(Schema):
    id: int
    resource: str
    resource_name: str
    owner: str
    consumer: str
    consumer_name: str
    fields: list[str]
    unmasked_fields: list[str]
    purpose: str
    legal_basis: str
    consent_exempt: bool
    status: str
    status_label: str
    usable: bool
    requested_at: dt.datetime
    expires_at: dt.datetime | None
    decided_by: str
    decided_at: dt.datetime | None
    decision_note: str
    revoked_at: dt.datetime | None
    revoked_reason: str
    process_instance_id: str


def _grant_out(g: Grant) -> dict[str, Any]:
    return {"id": g.pk, "resource": g.resource.code, "resource_name": g.resource.name,
            "owner": g.resource.owner.code, "consumer": g.consumer.code, "consumer_name": g.consumer.name,
            "fields": g.fields, "unmasked_fields": g.unmasked_fields, "purpose": g.purpose,
            "legal_basis": g.legal_basis, "consent_exempt": g.consent_exempt, "status": g.status,
            "status_label": g.get_status_display(), "usable": g.is_usable(), "requested_at": g.requested_at,
            "expires_at": g.expires_at, "decided_by": str(g.decided_by or ""), "decided_at": g.decided_at,
            "decision_note": g.decision_note, "revoked_at": g.revoked_at, "revoked_reason": g.revoked_reason,
            "process_instance_id": g.process_instance_id}


class GrantIn(Schema):
    resource: str
    consumer_org: str = ""
    fields: list[str]
    unmasked_fields: list[str] = []
    purpose: str
    legal_basis: str
    expires_at: dt.datetime | None = None


class DecisionIn(Schema):
    approve: bool
    note: str = ""
    fields: list[str] | None = None
    unmasked_fields: list[str] | None = None
    expires_at: dt.datetime | None = None
    consent_exempt: bool | None = None


class RevokeIn(Schema):
    reason: str


def _session_user(request: HttpRequest) -> User | tuple[int, dict[str, str]]:
    who = _principal(request, allow_client=False)
    return who if isinstance(who, tuple) else who.user


@router.get("grants", response={200: list[GrantOut], 401: ErrorOut}, summary="共享授权（本部门使用或提供的）")
def list_grants(request: HttpRequest, status: str = "", resource: str = ""):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    qs = selectors.grants_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if resource:
        qs = qs.filter(resource__code=resource)
    return [_grant_out(g) for g in qs[:500]]


@router.post("grants", response={201: GrantOut, codes_4xx: ErrorOut}, summary="提出共享申请")
def request_grant(request: HttpRequest, payload: GrantIn):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    resource = selectors.resource(payload.resource)
    if resource is None:
        return _err(404, errors.UNKNOWN_RESOURCE, f"数据资源“{payload.resource}”不存在")
    consumer = payload.consumer_org or (user.organisation.code if user.organisation else "")
    try:
        grant = services.request_grant(resource=resource, consumer=consumer, fields=payload.fields,
                                       unmasked_fields=payload.unmasked_fields, purpose=payload.purpose,
                                       legal_basis=payload.legal_basis, expires_at=payload.expires_at, actor=user)
    except ExchangeError as exc:
        return _exchange_error(exc)
    return 201, _grant_out(grant)


def _grant(grant_id: int) -> Grant | None:
    return Grant.objects.select_related("resource", "resource__owner", "consumer").filter(pk=grant_id).first()


@router.post("grants/{grant_id}/decision", response={200: GrantOut, codes_4xx: ErrorOut}, summary="审核共享申请")
def decide_grant(request: HttpRequest, grant_id: int, payload: DecisionIn):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    grant = _grant(grant_id)
    if grant is None:
        return _err(404, errors.NOT_FOUND, "共享申请不存在")
    try:
        grant = services.decide_grant(grant, actor=user, approve=payload.approve, note=payload.note,
                                      fields=payload.fields, unmasked_fields=payload.unmasked_fields,
                                      expires_at=payload.expires_at, consent_exempt=payload.consent_exempt)
    except ExchangeError as exc:
        return _exchange_error(exc)
    return _grant_out(_grant(grant.pk))


@router.post("grants/{grant_id}/revoke", response={200: GrantOut, codes_4xx: ErrorOut}, summary="撤销授权（立即生效）")
def revoke_grant(request: HttpRequest, grant_id: int, payload: RevokeIn):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    grant = _grant(grant_id)
    if grant is None:
        return _err(404, errors.NOT_FOUND, "授权不存在")
    try:
        grant = services.revoke_grant(grant, actor=user, reason=payload.reason)
    except ExchangeError as exc:
        return _exchange_error(exc)
    return _grant_out(_grant(grant.pk))


# --- Consents and evidence plans ------------------------------------------------------------------


class ConsentIn(Schema):
    code: str
    consumer_org: str
    purpose: str
    case_ref: str = ""
    source: str = "shared"
    subject_id: str = ""


class ConsentOut(Schema):
    ref: str
    subject_id: str
    source: str
    code: str
    consumer_org: str
    consumer_name: str
    case_ref: str
    purpose: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None


def _consent_out(c: Consent) -> dict[str, Any]:
    return {"ref": str(c.ref), "subject_id": c.subject_id, "source": c.source, "code": c.code,
            "consumer_org": c.consumer.code, "consumer_name": c.consumer.name, "case_ref": c.case_ref,
            "purpose": c.purpose, "given_at": c.given_at, "withdrawn_at": c.withdrawn_at}


@router.post("consents", response={201: ConsentOut, codes_4xx: ErrorOut}, summary="授权部门调取本人数据")
def give_consent(request: HttpRequest, payload: ConsentIn):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    subject = payload.subject_id if (user.is_staff and payload.subject_id) else user.id_number
    if not subject:
        return _err(400, errors.INVALID, "账号未登记证件号码，无法授权")
    if payload.subject_id and payload.subject_id != subject:
        return _err(403, errors.FORBIDDEN, "只能对本人（本单位）的数据作出授权")
    try:
        consent = services.give_consent(subject_id=subject, code=payload.code, consumer_org=payload.consumer_org,
                                        purpose=payload.purpose, case_ref=payload.case_ref, source=payload.source,
                                        user=user)
    except ExchangeError as exc:
        return _exchange_error(exc)
    return 201, _consent_out(consent)


@router.get("consents", response={200: list[ConsentOut], 401: ErrorOut}, summary="我的授权")
def my_consents(request: HttpRequest):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    return [_consent_out(c) for c in selectors.consents_for_subject(user.id_number)] if user.id_number else []


@router.post("consents/{ref}/withdraw", response={200: ConsentOut, codes_4xx: ErrorOut}, summary="撤回授权")
def withdraw_consent(request: HttpRequest, ref: str):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    try:
        consent = Consent.objects.select_related("consumer").filter(ref=ref).first()
    except Exception:  # not a UUID
        consent = None
    if consent is None:
        return _err(404, errors.NOT_FOUND, "授权记录不存在")
    try:
        consent = services.withdraw_consent(consent, user=user)
    except ExchangeError as exc:
        return _exchange_error(exc)
    return _consent_out(consent)


class MaterialIn(Schema):
    source: str = "shared"
    code: str
    name: str = ""


class PlanIn(Schema):
    materials: list[MaterialIn]
    consumer_org: str
    subject_id: str = ""
    case_ref: str = ""


@router.post("evidence-plan", response={200: list[dict[str, Any]], codes_4xx: ErrorOut},
             summary="免证办理：预览将从哪些部门调取哪些数据")
def evidence_plan(request: HttpRequest, payload: PlanIn):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    subject = payload.subject_id if (user.is_staff and payload.subject_id) else user.id_number
    return services.preview_evidence_plan([m.dict() for m in payload.materials], subject, payload.consumer_org,
                                          payload.case_ref)


# --- Access log (查询留痕) --------------------------------------------------------------------------


class AccessOut(Schema):
    id: int
    seq: int | None
    at: dt.datetime
    consumer_org: str
    consumer_name: str
    resource: str
    resource_name: str
    case_ref: str
    purpose: str
    outcome: str
    outcome_label: str
    error_code: str
    fields: list[str]
    masked_fields: list[str]


@router.get("my-access-log", response={200: list[AccessOut], 401: ErrorOut}, summary="谁查询了我的数据")
def my_access_log(request: HttpRequest):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    return selectors.access_log_for_subject(user.id_number)


class SthOut(Schema):
    tree_size: int
    root_hash: str
    timestamp: int
    timestamp_iso: str
    signature: str
    key_id: str
    algorithm: str
    signed_data: str


@router.get("log/sth", response=SthOut, summary="签名树头（STH）")
def signed_tree_head(request: HttpRequest):
    return accesslog.tree_head_json(accesslog.latest_tree_head())


@router.get("log/proof/inclusion", response={200: dict[str, Any], 400: ErrorOut}, summary="包含证明（审计路径）")
def inclusion_proof(request: HttpRequest, seq: int = Query(...), tree_size: int = Query(...)):
    try:
        return accesslog.inclusion_proof(seq, tree_size)
    except ValueError as exc:
        return _err(400, errors.BAD_PROOF_REQUEST, str(exc))


@router.get("log/proof/consistency", response={200: dict[str, Any], 400: ErrorOut}, summary="一致性证明")
def consistency_proof(request: HttpRequest, first: int = Query(...), second: int = Query(...)):
    try:
        return accesslog.consistency_proof(first, second)
    except ValueError as exc:
        return _err(400, errors.BAD_PROOF_REQUEST, str(exc))


@router.get("log/entries/{entry_id}", response={200: dict[str, Any], codes_4xx: ErrorOut},
            summary="留痕条目、叶数据及其在树中的序号（本人或管理员）")
def log_entry(request: HttpRequest, entry_id: int):
    user = _session_user(request)
    if isinstance(user, tuple):
        return user
    entry = AccessLogEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return _err(404, errors.NOT_FOUND, "留痕条目不存在")
    if not (user.is_superuser or (user.id_number and user.id_number == entry.subject_id)):
        return _err(403, errors.FORBIDDEN, "只能查看与本人有关的留痕条目")
    return {"id": entry.pk, "seq": entry.seq, "leaf_data": accesslog.entry_bytes(entry).decode(),
            "leaf_hash": entry.leaf_hash,
            "leaf_hash_rule": "SHA-256(0x00 || UTF-8 leaf_data)"}


@router.get("jwks.json", summary="交换平台公钥（JWKS）：请求签名与留痕树头签名")
def jwks(request: HttpRequest):
    return keys.jwks()
