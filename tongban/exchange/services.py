"""Write services of the data exchange: resources, grants, consents, client keys, evidence plans."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tongban.core import evidence, pii, schema_messages
from tongban.core.evidence import ISSUED, SHARED, Evidence, EvidenceRequest, NoProvider
from tongban.core.masking import mask_id
from tongban.core.models import Organisation, Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit
from tongban.workflow.services import WorkflowError

from . import errors, grant_process, selectors
from .accesslog import VerifyReport
from .broker import acting_as
from .errors import ExchangeError
from .models import (
    MASKED_SENSITIVITIES,
    Consent,
    DataResource,
    ExchangeClient,
    Grant,
    ProviderRecord,
    Sensitivity,
    SharingType,
    UpdateFrequency,
)
from .providers import ResourceProvider

STAFF_ROLES = (Role.APPROVER, Role.WINDOW_CLERK, Role.ADMINISTRATOR, Role.SUPERVISOR, Role.DATA_OWNER)


def _org(value: Organisation | str) -> Organisation:
    if isinstance(value, Organisation):
        return value
    org = Organisation.objects.filter(code=value).first()
    if org is None:
        raise ExchangeError(f"机构“{value}”不存在", code=errors.UNKNOWN_CONSUMER, status=404)
    return org


# --- Resources (政务信息资源目录) ----------------------------------------------------------------------


def check_resource_definition(*, schema: dict[str, Any], field_sensitivity: dict[str, str], subject_field: str,
                              sharing_type: str, update_frequency: str, not_shared_basis: str = "") -> None:
    """Raise ExchangeError(exchange.invalid) when a resource definition is not usable."""
    problems: list[str] = []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problems.append(f"JSON Schema 无效：{exc.message}")
    props = schema.get("properties") if isinstance(schema, dict) else None
    if schema.get("type") != "object" or not isinstance(props, dict) or not props:
        problems.append("JSON Schema 须为 type: object 且至少有一个数据项（properties）")
        props = {}
    valid_levels = set(Sensitivity.values)
    for name, level in (field_sensitivity or {}).items():
        if name not in props:
            problems.append(f"敏感级别中的数据项“{name}”不在 JSON Schema 中")
        if level not in valid_levels:
            problems.append(f"数据项“{name}”的敏感级别“{level}”无效（可选：{'、'.join(sorted(valid_levels))}）")
    if subject_field not in props:
        problems.append(f"主体标识数据项“{subject_field}”不在 JSON Schema 中")
    if sharing_type not in SharingType.values:
        problems.append(f"共享类型“{sharing_type}”无效")
    if update_frequency not in UpdateFrequency.values:
        problems.append(f"更新周期“{update_frequency}”无效")
    if sharing_type == SharingType.NOT_SHARED and not not_shared_basis.strip():
        problems.append("不予共享的资源须写明法律、行政法规或党中央、国务院政策依据")
    if problems:
        raise ExchangeError("；".join(problems), code=errors.INVALID)


@transaction.atomic
def save_resource(*, code: str, name: str, owner: Organisation | str, schema: dict[str, Any],
                  field_sensitivity: dict[str, str], subject_field: str,
                  sharing_type: str = SharingType.CONDITIONAL, update_frequency: str = UpdateFrequency.DAILY,
                  description: str = "", sharing_conditions: str = "", not_shared_basis: str = "",
                  endpoint_url: str = "", active: bool = True, actor: User | None = None) -> DataResource:
    """Create or update a catalogued data resource (idempotent by code) and register its provider."""
    check_resource_definition(schema=schema, field_sensitivity=field_sensitivity, subject_field=subject_field,
                              sharing_type=sharing_type, update_frequency=update_frequency,
                              not_shared_basis=not_shared_basis)
    owner = _org(owner)
    fields = {"name": name, "owner": owner, "schema": schema, "field_sensitivity": dict(field_sensitivity),
              "subject_field": subject_field, "sharing_type": sharing_type, "update_frequency": update_frequency,
              "description": description, "sharing_conditions": sharing_conditions,
              "not_shared_basis": not_shared_basis, "endpoint_url": endpoint_url, "active": active}
    resource = DataResource.objects.filter(code=code).first()
    if resource is None:
        resource = DataResource.objects.create(code=code, **fields)
        audit("exchange.resource.create", actor=actor, obj=resource, detail={"code": code})
    else:
        changed = [k for k, v in fields.items() if getattr(resource, k) != v]
        if changed:
            for k in changed:
                setattr(resource, k, fields[k])
            resource.save()
            audit("exchange.resource.update", actor=actor, obj=resource, detail={"changed": changed})
    evidence.register_provider(SHARED, code, ResourceProvider(code), replace=True)  # the resource as saved now
    return resource


def upsert_provider_record(resource: DataResource, data: dict[str, Any]) -> ProviderRecord:
    """Put one record into a local register (validated against the resource's schema)."""
    problems = schema_messages.problems(Draft202012Validator(resource.schema), data)
    if problems:
        where = "；".join(f"{schema_messages.path_text(p.path)}: {p.message}" for p in problems[:5])
        raise ExchangeError(f"记录不符合“{resource.name}”的数据规范：{where}", code=errors.INVALID)
    subject = str(data.get(resource.subject_field, ""))
    if not subject:
        raise ExchangeError(f"记录缺少主体标识“{resource.subject_field}”", code=errors.INVALID)
    record = ProviderRecord.objects.filter(pii.matching("subject_id", subject), resource=resource).first()
    if record is None:
        return ProviderRecord.objects.create(resource=resource, subject_id=subject, data=data)
    record.subject_id, record.data = subject, data
    record.save()
    return record


# --- Grants (共享申请与授权) ---------------------------------------------------------------------------


def can_request_for(user: User | None, consumer: Organisation) -> bool:
    if user is None:
        return True  # system / demo loader
    return any(has_role(user, role, consumer) for role in STAFF_ROLES)


def can_decide(user: User | None, resource: DataResource) -> bool:
    return user is not None and has_role(user, Role.DATA_OWNER, resource.owner)


def _check_fields(resource: DataResource, fields: Sequence[str], unmasked: Sequence[str]) -> tuple[list, list]:
    fields = list(dict.fromkeys(fields))
    unmasked = list(dict.fromkeys(unmasked))
    if not fields:
        raise ExchangeError("请至少选择一个数据项", code=errors.INVALID)
    unknown = [f for f in fields if f not in resource.field_names]
    if unknown:
        raise ExchangeError(f"“{resource.name}”没有这些数据项：{'、'.join(unknown)}", code=errors.INVALID)
    outside = [f for f in unmasked if f not in fields]
    if outside:
        raise ExchangeError(f"明文数据项须在申请的数据项之内：{'、'.join(outside)}", code=errors.INVALID)
    not_personal = [f for f in unmasked if resource.sensitivity_of(f) not in MASKED_SENSITIVITIES]
    if not_personal:
        raise ExchangeError(f"这些数据项不是个人信息，无需明文授权：{'、'.join(not_personal)}", code=errors.INVALID)
    return fields, unmasked


def _default_expiry() -> datetime:
    return timezone.now() + timedelta(days=int(getattr(settings, "TONGBAN_EXCHANGE_GRANT_DAYS", 365)))


@transaction.atomic
def request_grant(*, resource: DataResource, consumer: Organisation | str, fields: Sequence[str], purpose: str,
                  legal_basis: str, unmasked_fields: Sequence[str] = (), expires_at: datetime | None = None,
                  actor: User | None = None) -> Grant:
    """A consuming department asks for fields of a resource (共享申请).

    无条件共享 resources are approved at once (the request registers the use); 有条件共享 ones wait for
    the owner's decision (a process on the workflow engine when it is available); 不予共享 is refused.
    """
    consumer = _org(consumer)
    if not can_request_for(actor, consumer):
        raise ExchangeError("只有使用部门的工作人员可以提出共享申请", code=errors.FORBIDDEN, status=403)
    if not resource.active:
        raise ExchangeError(f"数据资源“{resource.name}”已停用", code=errors.UNKNOWN_RESOURCE, status=404)
    if resource.sharing_type == SharingType.NOT_SHARED:
        raise ExchangeError(f"“{resource.name}”为不予共享资源，不能申请", code=errors.NOT_SHAREABLE, status=403)
    if not purpose.strip() or not legal_basis.strip():
        raise ExchangeError("请填写使用用途和法律依据", code=errors.INVALID)
    fields, unmasked = _check_fields(resource, fields, unmasked_fields)
    if expires_at is not None and expires_at <= timezone.now():
        raise ExchangeError("有效期须晚于当前时间", code=errors.INVALID)
    grant = Grant.objects.create(resource=resource, consumer=consumer, fields=fields, unmasked_fields=unmasked,
                                 purpose=purpose.strip(), legal_basis=legal_basis.strip(), expires_at=expires_at,
                                 requested_by=actor if actor and actor.is_authenticated else None)
    audit("exchange.grant.request", actor=actor, obj=grant,
          detail={"resource": resource.code, "consumer": consumer.code, "fields": fields})
    if resource.sharing_type == SharingType.UNCONDITIONAL:
        _approve(grant, actor=None, note="无条件共享资源，登记后自动批准", expires_at=expires_at)
    else:
        try:
            grant_process.start(grant, actor=actor)
        except WorkflowError as exc:
            raise ExchangeError(f"共享申请审核流程未能启动：{exc}", code=exc.code, status=409) from exc
    return grant


def _approve(grant: Grant, *, actor: User | None, note: str, expires_at: datetime | None) -> None:
    grant.status = Grant.Status.APPROVED
    grant.decided_by = actor if actor and actor.is_authenticated else None
    grant.decided_at = timezone.now()
    grant.decision_note = note
    grant.expires_at = expires_at or grant.expires_at or _default_expiry()
    grant.save()
    audit("exchange.grant.approve", actor=actor, obj=grant, reason=note,
          detail={"expires_at": grant.expires_at.isoformat()})


@transaction.atomic
def decide_grant(grant: Grant, *, actor: User | None, approve: bool, note: str = "",
                 fields: Sequence[str] | None = None, unmasked_fields: Sequence[str] | None = None,
                 expires_at: datetime | None = None, consent_exempt: bool | None = None,
                 via_process: bool = False, check_role: bool = True) -> Grant:
    """The owner department approves (possibly narrowing fields) or rejects a requested grant.

    The decision is applied to the grant, then the owner's review task of the grant's process is
    completed in the same transaction (``via_process`` = the process itself is applying it).
    """
    grant = Grant.objects.select_for_update().select_related("resource", "resource__owner", "consumer").get(
        pk=grant.pk)
    if check_role and not can_decide(actor, grant.resource):
        raise ExchangeError("只有数据提供部门的数据管理人员可以审核共享申请", code=errors.FORBIDDEN, status=403)
    if grant.status != Grant.Status.REQUESTED:
        raise ExchangeError(f"该申请当前状态为“{grant.get_status_display()}”，不能审核", code=errors.BAD_STATE, status=409)
    if approve:
        if fields is not None or unmasked_fields is not None:
            new_fields, new_unmasked = _check_fields(
                grant.resource, grant.fields if fields is None else fields,
                grant.unmasked_fields if unmasked_fields is None else unmasked_fields)
            if not set(new_fields) <= set(grant.fields) or not set(new_unmasked) <= set(grant.unmasked_fields):
                raise ExchangeError("审核时只能缩小数据项范围，不能扩大", code=errors.INVALID)
            grant.fields, grant.unmasked_fields = new_fields, new_unmasked
        if expires_at is not None and expires_at <= timezone.now():
            raise ExchangeError("有效期须晚于当前时间", code=errors.INVALID)
        if consent_exempt is not None:
            grant.consent_exempt = consent_exempt
        _approve(grant, actor=actor, note=note, expires_at=expires_at)
    else:
        if not note.strip():
            raise ExchangeError("驳回须说明理由", code=errors.INVALID)
        grant.status = Grant.Status.REJECTED
        grant.decided_by = actor if actor and actor.is_authenticated else None
        grant.decided_at = timezone.now()
        grant.decision_note = note.strip()
        grant.save()
        audit("exchange.grant.reject", actor=actor, obj=grant, reason=grant.decision_note)
    if not via_process and grant.process_instance_id and grant_process.enabled():
        try:
            grant_process.complete(grant, actor=actor, approve=approve, note=note)
        except WorkflowError as exc:
            raise ExchangeError(f"审核流程未能完成：{exc}", code=exc.code, status=409) from exc
    return grant


@transaction.atomic
def revoke_grant(grant: Grant, *, actor: User | None, reason: str) -> Grant:
    """Revoke an approved grant; the next query is refused (exchange.grant_revoked)."""
    grant = Grant.objects.select_for_update().select_related("resource", "resource__owner").get(pk=grant.pk)
    if not can_decide(actor, grant.resource):
        raise ExchangeError("只有数据提供部门的数据管理人员可以撤销授权", code=errors.FORBIDDEN, status=403)
    if grant.status != Grant.Status.APPROVED:
        raise ExchangeError(f"该授权当前状态为“{grant.get_status_display()}”，不能撤销", code=errors.BAD_STATE, status=409)
    if not reason.strip():
        raise ExchangeError("撤销须说明原因", code=errors.INVALID)
    grant.status = Grant.Status.REVOKED
    grant.revoked_at = timezone.now()
    grant.revoked_reason = reason.strip()
    grant.save()
    audit("exchange.grant.revoke", actor=actor, obj=grant, reason=grant.revoked_reason)
    return grant


def expire_grants(now: datetime | None = None) -> int:
    """Mark approved grants past their expiry as expired (queries refuse them either way)."""
    now = now or timezone.now()
    expired = list(Grant.objects.filter(status=Grant.Status.APPROVED, expires_at__lte=now))
    for grant in expired:
        grant.status = Grant.Status.EXPIRED
        grant.save(update_fields=["status"])
        audit("exchange.grant.expire", obj=grant)
    return len(expired)


# --- Consents (个人授权) ------------------------------------------------------------------------------


@transaction.atomic
def give_consent(*, subject_id: str, code: str, consumer_org: Organisation | str, purpose: str,
                 case_ref: str = "", source: str = SHARED, user: User | None = None) -> Consent:
    """Record the subject's consent that ``consumer_org`` fetches ``code`` for ``case_ref`` (idempotent).

    ``user`` is the person consenting: the subject (their ``id_number``) or, for a consent given on
    paper at a window, a staff member recording it.
    """
    consumer = _org(consumer_org)
    if not subject_id.strip() or not purpose.strip():
        raise ExchangeError("授权须写明主体和用途", code=errors.INVALID)
    if not selectors.may_act_for_subject(user, subject_id):
        raise ExchangeError("只能对本人（本单位）的数据作出授权；代为登记书面授权的只能是综合窗口人员",
                            code=errors.FORBIDDEN, status=403)
    if source not in (SHARED, ISSUED):
        raise ExchangeError(f"数据来源“{source}”不正确：应为 {SHARED}（共享数据）或 {ISSUED}（电子证照）",
                            code=errors.INVALID)
    existing = Consent.objects.filter(pii.matching("subject_id", subject_id), source=source, code=code,
                                      consumer=consumer, case_ref=case_ref, withdrawn_at__isnull=True).first()
    if existing is not None:
        return existing
    consent = Consent.objects.create(subject_id=subject_id, source=source, code=code, consumer=consumer,
                                     case_ref=case_ref, purpose=purpose.strip(),
                                     user=user if user and user.is_authenticated else None)
    audit("exchange.consent.give", actor=user, obj=consent,
          detail={"subject": mask_id(subject_id), "code": code, "consumer": consumer.code, "case_ref": case_ref})
    return consent


@transaction.atomic
def withdraw_consent(consent: Consent, *, user: User | None) -> Consent:
    if not selectors.may_act_for_subject(user, consent.subject_id):
        raise ExchangeError("只能撤回本人的授权；代为登记书面撤回的只能是综合窗口人员", code=errors.FORBIDDEN, status=403)
    if consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        audit("exchange.consent.withdraw", actor=user, obj=consent)
    return consent


# --- System clients (接入系统) ------------------------------------------------------------------------


def hash_client_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_client(*, name: str, organisation: Organisation | str, actor: User | None = None
                  ) -> tuple[ExchangeClient, str]:
    """Register a consuming system; returns it and its key (shown once; only a hash is stored)."""
    org = _org(organisation)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    client = ExchangeClient.objects.create(name=name, organisation=org, key_prefix=prefix,
                                           key_hash=hash_client_key(secret))
    audit("exchange.client.create", actor=actor, obj=client, detail={"organisation": org.code})
    return client, f"{prefix}.{secret}"


def authenticate_client(header: str | None) -> ExchangeClient | None:
    """The active client whose key is ``header`` (``prefix.secret``), else None."""
    if not header or "." not in header:
        return None
    prefix, secret = header.strip().split(".", 1)
    client = ExchangeClient.objects.select_related("organisation").filter(key_prefix=prefix, active=True).first()
    if client is None or not hmac.compare_digest(client.key_hash, hash_client_key(secret)):
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        ExchangeClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


# --- The access log (查询留痕) ------------------------------------------------------------------------


def verify_access_log() -> VerifyReport:
    """Verify the tamper-evident access log: recompute every leaf and the Merkle tree, check every signed tree
    head. Returns the report (``ok``, ``problems``, ``first_bad_seq``, ``first_bad_head``, ``tree_size``)."""
    from .accesslog import verify_log

    return verify_log()


# --- Queries and evidence plans -------------------------------------------------------------------


def query(*, code: str, subject_id: str, consumer_org: str, purpose: str, fields: Iterable[str] = (),
          case_ref: str = "", consent_ref: str = "", actor: User | None = None,
          client: ExchangeClient | None = None, source: str = SHARED) -> Evidence:
    """An audited query by a system or a staff member (goes through the evidence broker)."""
    label = f"client:{client.name}" if client else (actor.username if actor else "system")
    request = EvidenceRequest(source=source, code=code, subject_id=subject_id, requester_org=consumer_org,
                              purpose=purpose, case_ref=case_ref, consent_ref=consent_ref,
                              actor_id=actor.pk if actor else None, fields=tuple(fields))
    with acting_as(label):
        return evidence.fetch(request)


def preview_evidence_plan(materials: list[dict[str, Any]], subject_id: str, consumer_org: str,
                          case_ref: str = "") -> list[dict[str, Any]]:
    """What will be fetched from whom, before the applicant consents (nothing is read here).

    ``materials``: ``[{"source": "shared"|"issued", "code": ..., "name": ...}]``. Each row says the
    provider department, the fields that will come back (and which masked), whether consent is
    needed and already given, and whether fetching is possible at all (else the reason, so the
    applicant uploads the material instead).
    """
    org_names = dict(Organisation.objects.values_list("code", "name"))
    plan = []
    for material in materials:
        source, code = material.get("source", SHARED), material.get("code", "")
        row: dict[str, Any] = {"source": source, "code": code, "name": material.get("name", code),
                               "provider_org": "", "provider_org_name": "", "resource_name": "", "fields": [],
                               "consent_required": True, "consent_given": False, "available": False,
                               "reason": ""}
        try:
            provider = evidence.provider_for(source, code)
        except NoProvider:
            row["reason"] = "暂无可调取的数据来源，请上传该材料"
            plan.append(row)
            continue
        if source == SHARED:
            _plan_shared(row, code, consumer_org, org_names)
        else:
            row["provider_org"] = getattr(provider, "organisation_code", "")
            row["provider_org_name"] = org_names.get(row["provider_org"], row["provider_org"] or "电子证照库")
            row["available"] = True
        if row["consent_required"]:
            row["consent_given"] = Consent.objects.filter(
                pii.matching("subject_id", subject_id), source=source, code=code, consumer__code=consumer_org,
                case_ref=case_ref, withdrawn_at__isnull=True).exists()
        plan.append(row)
    return plan


def _plan_shared(row: dict[str, Any], code: str, consumer_org: str, org_names: dict[str, str]) -> None:
    resource = DataResource.objects.select_related("owner").filter(code=code, active=True).first()
    if resource is None:
        row["reason"] = "数据资源不存在或已停用，请上传该材料"
        return
    row.update(provider_org=resource.owner.code, provider_org_name=resource.owner.name,
               resource_name=resource.name)
    titles = {f["name"]: f["title"] for f in resource.field_rows()}
    if resource.owner.code == consumer_org:  # the department's own register
        row["fields"] = [{"name": f, "title": titles[f], "masked": False} for f in resource.field_names]
        row.update(consent_required=False, available=True)
        return
    if resource.sharing_type == SharingType.NOT_SHARED:
        row["reason"] = "该数据不予共享，请上传该材料"
        return
    now = timezone.now()
    grant = next((g for g in Grant.objects.filter(resource=resource, consumer__code=consumer_org,
                                                  status=Grant.Status.APPROVED) if g.is_usable(now)), None)
    if grant is None:
        row["reason"] = f"{org_names.get(consumer_org, consumer_org)}尚无该数据的有效共享授权，请上传该材料"
        return
    row["fields"] = [{"name": f, "title": titles.get(f, f),
                      "masked": resource.sensitivity_of(f) in MASKED_SENSITIVITIES and f not in grant.unmasked_fields}
                     for f in grant.fields]
    row["consent_required"] = resource.sharing_type == SharingType.CONDITIONAL and not grant.consent_exempt
    row["available"] = True
