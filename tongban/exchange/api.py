"""JSON API of the data exchange, mounted under ``/api/exchange/``.

Callers: a consuming *system* sends its key in the ``X-Tongban-Client`` header (``prefix.secret``;
only a hash is stored); a *staff member* uses the session (their department is the consumer);
citizens use the session for consents and their own access log. The resource catalogue, the
signed tree head, proofs and the JWKS are public.

Errors are ``{"code", "message"}`` (the one core handler answers every :class:`~tongban.core.errors.DomainError`
an endpoint or a service raises) with stable codes: ``exchange.no_grant``, ``exchange.grant_expired``,
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
from ninja.utils import check_csrf

from tongban.core.models import Organisation, User
from tongban.core.openapi import ErrorOut, define_scheme, may_answer, public, signed_in

from . import accesslog, errors, keys, selectors, services
from .errors import ExchangeError
from .models import AccessLogEntry, Consent, ExchangeClient, Grant

router = Router(tags=["exchange 数据共享交换"])
ROUTERS = [("exchange/", router)]

CLIENT_HEADER = "X-Tongban-Client"
CLIENT_KEY = define_scheme(
    "exchange_client_key", type="apiKey", in_="header", name=CLIENT_HEADER,
    description="A consuming system's key (`prefix.secret`), issued by `tongban exchange client-add`.")



def _forbidden(message: str) -> ExchangeError:
    return ExchangeError(message, code=errors.FORBIDDEN, status=403)


def _not_found(message: str, code: str = errors.NOT_FOUND) -> ExchangeError:
    return ExchangeError(message, code=code, status=404)


@dataclass
class Principal:
    user: User | None = None
    client: ExchangeClient | None = None


def _principal(request: HttpRequest, *, allow_client: bool = True) -> Principal:
    """The caller: a system (client key) or a signed-in user (CSRF-checked for writes); else 401/403."""
    header = request.headers.get(CLIENT_HEADER)
    if header and allow_client:
        client = services.authenticate_client(header)
        if client is None:
            raise ExchangeError(f"{CLIENT_HEADER} 密钥无效或已停用", code=errors.BAD_CLIENT_KEY, status=401)
        return Principal(client=client)
    if not request.user.is_authenticated:
        raise ExchangeError("请先登录，或以接入系统密钥调用", code=errors.UNAUTHENTICATED, status=401)
    if request.method not in ("GET", "HEAD", "OPTIONS") and check_csrf(request) is not None:
        raise _forbidden("CSRF 校验失败")
    return Principal(user=request.user)


def _session_user(request: HttpRequest) -> User:
    """The signed-in user (client keys are for queries only)."""
    return _principal(request, allow_client=False).user


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
@public
def list_resources(request: HttpRequest, q: str = ""):
    return [_resource_out(r) for r in selectors.resources(q)]


@router.get("resources/{code}", response={200: ResourceOut, 404: ErrorOut}, summary="数据资源详情（公开）")
@public
def get_resource(request: HttpRequest, code: str):
    resource = selectors.resource(code)
    if resource is None or not resource.active:
        raise _not_found(f"数据资源“{code}”不存在", errors.UNKNOWN_RESOURCE)
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


@router.post("query", response=EvidenceOut, summary="查询共享数据（经授权、脱敏、留痕）")
@signed_in(CLIENT_KEY, "session")
@may_answer(403, 404, 502, 503)
def query(request: HttpRequest, payload: QueryIn):
    """Query a data resource about a subject. Only granted fields come back; personal fields are masked
    unless the grant needs them in clear; every query and refusal is appended to the access log."""
    who = _principal(request)
    if who.client:
        consumer = who.client.organisation.code
        if payload.consumer_org and payload.consumer_org != consumer:
            raise _forbidden("接入系统只能以其所属部门的身份查询")
    else:
        consumer = payload.consumer_org or _own_org(who.user)
        org = Organisation.objects.filter(code=consumer).first()
        if org is None or not services.can_request_for(who.user, org):
            raise _forbidden("只有使用部门的工作人员可以查询共享数据")
    if not payload.subject_id.strip() or not payload.purpose.strip():
        raise ExchangeError("请填写主体标识（subject_id）和用途（purpose）", code=errors.INVALID)
    ev = services.query(code=payload.resource, subject_id=payload.subject_id.strip(), consumer_org=consumer,
                        purpose=payload.purpose.strip(), fields=payload.fields, case_ref=payload.case_ref,
                        consent_ref=payload.consent_ref, actor=who.user, client=who.client)
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


def _own_org(user: User) -> str:
    return user.organisation.code if user.organisation else ""


def _grant(grant_id: int, missing: str) -> Grant:
    grant = Grant.objects.select_related("resource", "resource__owner", "consumer").filter(pk=grant_id).first()
    if grant is None:
        raise _not_found(missing)
    return grant


@router.get("grants", response=list[GrantOut], summary="共享授权（本部门使用或提供的）")
@signed_in("session")
def list_grants(request: HttpRequest, status: str = "", resource: str = ""):
    user = _session_user(request)
    qs = selectors.grants_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if resource:
        qs = qs.filter(resource__code=resource)
    return [_grant_out(g) for g in qs[:500]]


@router.post("grants", response={201: GrantOut}, summary="提出共享申请")
@signed_in("session")
@may_answer(404)
def request_grant(request: HttpRequest, payload: GrantIn):
    user = _session_user(request)
    resource = selectors.resource(payload.resource)
    if resource is None:
        raise _not_found(f"数据资源“{payload.resource}”不存在", errors.UNKNOWN_RESOURCE)
    grant = services.request_grant(resource=resource, consumer=payload.consumer_org or _own_org(user),
                                   fields=payload.fields, unmasked_fields=payload.unmasked_fields,
                                   purpose=payload.purpose, legal_basis=payload.legal_basis,
                                   expires_at=payload.expires_at, actor=user)
    return 201, _grant_out(grant)


@router.post("grants/{grant_id}/decision", response=GrantOut, summary="审核共享申请")
@signed_in("session")
def decide_grant(request: HttpRequest, grant_id: int, payload: DecisionIn):
    user = _session_user(request)
    grant = services.decide_grant(_grant(grant_id, "共享申请不存在"), actor=user, approve=payload.approve,
                                  note=payload.note, fields=payload.fields, unmasked_fields=payload.unmasked_fields,
                                  expires_at=payload.expires_at, consent_exempt=payload.consent_exempt)
    return _grant_out(_grant(grant.pk, "共享申请不存在"))


@router.post("grants/{grant_id}/revoke", response=GrantOut, summary="撤销授权（立即生效）")
@signed_in("session")
def revoke_grant(request: HttpRequest, grant_id: int, payload: RevokeIn):
    user = _session_user(request)
    grant = services.revoke_grant(_grant(grant_id, "授权不存在"), actor=user, reason=payload.reason)
    return _grant_out(_grant(grant.pk, "授权不存在"))


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


@router.post("consents", response={201: ConsentOut}, summary="授权部门调取本人数据")
@signed_in("session")
@may_answer(404)
def give_consent(request: HttpRequest, payload: ConsentIn):
    user = _session_user(request)
    subject = _subject(user, payload.subject_id)
    if not subject:
        raise ExchangeError("账号未登记证件号码，无法授权", code=errors.INVALID)
    if payload.subject_id and payload.subject_id != subject:
        raise _forbidden("只能对本人（本单位）的数据作出授权")
    consent = services.give_consent(subject_id=subject, code=payload.code, consumer_org=payload.consumer_org,
                                    purpose=payload.purpose, case_ref=payload.case_ref, source=payload.source,
                                    user=user)
    return 201, _consent_out(consent)


def _subject(user: User, requested: str) -> str:
    """Whose data: staff may name a subject (a consent given on paper at a window: ``services.give_consent`` lets
    only window clerks and the admin record it, ``exchange.forbidden`` otherwise), others act for themselves."""
    return requested if (user.is_staff and requested) else user.id_number


@router.get("consents", response=list[ConsentOut], summary="我的授权")
@signed_in("session")
def my_consents(request: HttpRequest):
    user = _session_user(request)
    return [_consent_out(c) for c in selectors.consents_for_subject(user.id_number)] if user.id_number else []


@router.post("consents/{ref}/withdraw", response=ConsentOut, summary="撤回授权")
@signed_in("session")
def withdraw_consent(request: HttpRequest, ref: str):
    user = _session_user(request)
    consent = selectors.consent(ref)
    if consent is None:
        raise _not_found("授权记录不存在")
    return _consent_out(services.withdraw_consent(consent, user=user))


class MaterialIn(Schema):
    source: str = "shared"
    code: str
    name: str = ""


class PlanIn(Schema):
    materials: list[MaterialIn]
    consumer_org: str
    subject_id: str = ""
    case_ref: str = ""


@router.post("evidence-plan", response=list[dict[str, Any]], summary="免证办理：预览将从哪些部门调取哪些数据")
@signed_in("session")
@may_answer(404)
def evidence_plan(request: HttpRequest, payload: PlanIn):
    user = _session_user(request)
    return services.preview_evidence_plan([m.dict() for m in payload.materials], _subject(user, payload.subject_id),
                                          payload.consumer_org, payload.case_ref)


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


@router.get("my-access-log", response=list[AccessOut], summary="谁查询了我的数据")
@signed_in("session")
def my_access_log(request: HttpRequest):
    user = _session_user(request)
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
@public
def signed_tree_head(request: HttpRequest):
    return accesslog.tree_head_json(accesslog.latest_tree_head())


@router.get("log/proof/inclusion", response={200: dict[str, Any], 400: ErrorOut}, summary="包含证明（审计路径）")
@public
def inclusion_proof(request: HttpRequest, seq: int = Query(...), tree_size: int = Query(...)):
    return accesslog.inclusion_proof(seq, tree_size)


@router.get("log/proof/consistency", response={200: dict[str, Any], 400: ErrorOut}, summary="一致性证明")
@public
def consistency_proof(request: HttpRequest, first: int = Query(...), second: int = Query(...)):
    return accesslog.consistency_proof(first, second)


@router.get("log/entries/{entry_id}", response=dict[str, Any], summary="留痕条目、叶数据及其在树中的序号（本人或管理员）")
@signed_in("session")
@may_answer(403)
def log_entry(request: HttpRequest, entry_id: int):
    user = _session_user(request)
    entry = AccessLogEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise _not_found("留痕条目不存在")
    if not (user.is_superuser or (user.id_number and user.id_number == entry.subject_id)):
        raise _forbidden("只能查看与本人有关的留痕条目")
    return {"id": entry.pk, "seq": entry.seq, "leaf_data": accesslog.entry_bytes(entry).decode(),
            "leaf_hash": entry.leaf_hash,
            "leaf_hash_rule": "SHA-256(0x00 || UTF-8 leaf_data)"}


@router.get("jwks.json", summary="交换平台公钥（JWKS）：请求签名与留痕树头签名")
@public
def jwks(request: HttpRequest):
    return keys.jwks()
