"""The evidence broker installed in :mod:`tongban.core.evidence` (免证办理 / audited queries).

For every :class:`~tongban.core.evidence.EvidenceRequest` it

1. authorises: for a data resource (source ``shared``) the resource must be shareable and the
   consuming organisation must hold a usable grant covering the requested fields; a consent of the
   subject is needed for 有条件共享 resources unless the grant is consent-exempt; for an e-licence
   (source ``issued``) the holder's consent is always needed (no grant: the holder presents it);
2. calls the provider (remote providers have their own timeout, retries and circuit breaker) and
   rejects an answer that does not match the resource's JSON Schema or names another subject;
3. keeps only the granted fields and masks personal ones the grant does not need in clear;
4. appends the access to the tamper-evident log *before* any data leaves the exchange.

Refusals and provider failures are appended too (outcome ``refused`` / ``failed`` with the error
code), then raised as :class:`~tongban.core.evidence.EvidenceError` subclasses with stable codes.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from jsonschema import Draft202012Validator

from tongban.core.evidence import (
    SHARED,
    Evidence,
    EvidenceError,
    EvidenceProvider,
    EvidenceRefused,
    EvidenceRequest,
    ProviderUnavailable,
)
from tongban.core.models import User

from . import accesslog, errors
from .errors import BadProviderAnswer
from .masking import mask_value
from .models import MASKED_SENSITIVITIES, AccessLogEntry, Consent, DataResource, Grant, SharingType
from .providers import ResourceProvider

_actor: contextvars.ContextVar[str] = contextvars.ContextVar("exchange_actor", default="")


@contextlib.contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Name the actor recorded in the access log (e.g. ``client:社保业务系统``) for calls inside."""
    token = _actor.set(label)
    try:
        yield
    finally:
        _actor.reset(token)


def _actor_label(request: EvidenceRequest) -> str:
    label = _actor.get()
    if label:
        return label
    if request.actor_id:
        username = User.objects.filter(pk=request.actor_id).values_list("username", flat=True).first()
        return username or f"user:{request.actor_id}"
    return "system"


@dataclass
class Decision:
    resource: DataResource
    grant: Grant
    fields: list[str]
    unmasked: frozenset[str]


def _refuse(code: str, message: str) -> EvidenceRefused:
    return EvidenceRefused(message, code=code)


def consent_exists(request: EvidenceRequest, source: str, code: str) -> bool:
    """An active consent of the subject for this consumer, resource/licence type and case."""
    qs = Consent.objects.filter(subject_id=request.subject_id, source=source, code=code,
                                consumer__code=request.requester_org, case_ref=request.case_ref,
                                withdrawn_at__isnull=True)
    if request.consent_ref:
        try:
            qs = qs.filter(ref=uuid.UUID(str(request.consent_ref)))
        except ValueError:
            return False
    return qs.exists()


def authorise_shared(request: EvidenceRequest) -> Decision:
    """Check resource, grant, fields and consent; raise EvidenceRefused with a stable code."""
    grants = list(Grant.objects.filter(consumer__code=request.requester_org, resource__code=request.code)
                  .select_related("resource", "resource__owner").order_by("-requested_at", "-id"))
    resource = grants[0].resource if grants else (
        DataResource.objects.select_related("owner").filter(code=request.code).first())
    if resource is None or not resource.active:
        raise _refuse(errors.UNKNOWN_RESOURCE, f"数据资源“{request.code}”不存在或已停用")
    if resource.sharing_type == SharingType.NOT_SHARED:
        raise _refuse(errors.NOT_SHAREABLE, f"“{resource.name}”为不予共享资源")
    if not grants:
        raise _refuse(errors.NO_GRANT, f"本部门未获得“{resource.name}”的共享授权，请先提出共享申请")
    now = timezone.now()
    usable = [g for g in grants if g.is_usable(now)]
    if not usable:
        latest = grants[0]
        if latest.status == Grant.Status.EXPIRED or (latest.status == Grant.Status.APPROVED and latest.is_expired(now)):
            raise _refuse(errors.GRANT_EXPIRED, f"“{resource.name}”的共享授权已过期，请重新申请")
        if latest.status == Grant.Status.REVOKED:
            raise _refuse(errors.GRANT_REVOKED, f"“{resource.name}”的共享授权已被提供部门撤销")
        if latest.status == Grant.Status.REQUESTED:
            raise _refuse(errors.GRANT_PENDING, f"“{resource.name}”的共享申请尚在审核中")
        raise _refuse(errors.NO_GRANT, f"本部门没有“{resource.name}”的有效共享授权")
    requested = list(dict.fromkeys(request.fields))
    if requested:
        grant = next((g for g in usable if set(requested) <= set(g.fields)), None)
        if grant is None:
            outside = [f for f in requested if f not in usable[0].fields]
            raise _refuse(errors.FIELDS_NOT_GRANTED,
                          f"请求的数据项超出授权范围：{'、'.join(outside)}")
    else:
        grant = usable[0]
        requested = list(grant.fields)
    needs_consent = resource.sharing_type == SharingType.CONDITIONAL and not grant.consent_exempt
    if needs_consent and not consent_exists(request, SHARED, resource.code):
        raise _refuse(errors.NO_CONSENT, f"调取“{resource.name}”需要数据主体本人授权，尚未取得授权")
    return Decision(resource=resource, grant=grant, fields=requested, unmasked=frozenset(grant.unmasked_fields))


_validators: dict[tuple[int, Any, tuple[str, ...]], Draft202012Validator] = {}


def _validator(resource: DataResource, asked: tuple[str, ...]) -> Draft202012Validator:
    key = (resource.pk, resource.updated_at, asked)
    validator = _validators.get(key)
    if validator is None:
        schema = copy.deepcopy(resource.schema or {})
        if "required" in schema:  # a provider may answer only the fields asked for
            schema["required"] = [f for f in schema["required"] if f in asked]
        validator = Draft202012Validator(schema)
        if len(_validators) > 512:
            _validators.clear()
        _validators[key] = validator
    return validator


def validate_answer(resource: DataResource, data: Any, asked: tuple[str, ...], subject_id: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadProviderAnswer(f"“{resource.name}”的提供方返回的不是一条记录，已拒收")
    errs = sorted(_validator(resource, asked).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errs:
        first = errs[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(记录)"
        raise BadProviderAnswer(
            f"“{resource.name}”的提供方返回的数据不符合数据规范，已拒收：{where}: {first.message}")
    subject = data.get(resource.subject_field)
    if subject is not None and str(subject) != subject_id:
        raise BadProviderAnswer(f"“{resource.name}”的提供方返回了其他主体的记录，已拒收")
    return data


def _log(request: EvidenceRequest, actor: str, outcome: str, *, code: str = "", fields=(), masked=(),
         grant_id: int | None = None) -> AccessLogEntry:
    return accesslog.append(
        actor=actor, consumer_org=request.requester_org, source=request.source, resource=request.code,
        subject_id=request.subject_id, case_ref=request.case_ref, purpose=request.purpose, fields=fields,
        masked_fields=masked, outcome=outcome, error_code=code, grant_id=grant_id,
    )


def _call(provider: EvidenceProvider, request: EvidenceRequest, resource: DataResource | None) -> Evidence:
    try:
        if resource is not None and isinstance(provider, ResourceProvider):
            return provider.fetch_for(resource, request)
        return provider.fetch(request)
    except EvidenceError:
        raise
    except Exception as exc:  # a broken provider is reported, never a raw traceback
        raise ProviderUnavailable(f"数据提供方调用异常（{type(exc).__name__}），请稍后重试或改为上传材料") from exc


def _fetch_shared(request: EvidenceRequest, provider: EvidenceProvider, actor: str) -> Evidence:
    try:
        decision = authorise_shared(request)
    except EvidenceRefused as exc:
        _log(request, actor, AccessLogEntry.Outcome.REFUSED, code=exc.code, fields=request.fields)
        raise
    resource, grant = decision.resource, decision.grant
    asked = tuple(dict.fromkeys([*decision.fields, resource.subject_field]))
    try:
        evidence = _call(provider, dataclasses.replace(request, fields=asked), resource)
        data = validate_answer(resource, evidence.data, asked, request.subject_id)
    except EvidenceError as exc:
        _log(request, actor, AccessLogEntry.Outcome.FAILED, code=exc.code, fields=decision.fields,
             grant_id=grant.pk)
        raise
    out: dict[str, Any] = {}
    masked: list[str] = []
    for name in decision.fields:
        if name not in data:
            continue
        value = data[name]
        if resource.sensitivity_of(name) in MASKED_SENSITIVITIES and name not in decision.unmasked:
            value = mask_value(value)
            masked.append(name)
        out[name] = value
    _log(request, actor, AccessLogEntry.Outcome.GRANTED, fields=list(out), masked=masked, grant_id=grant.pk)
    return Evidence(source=SHARED, code=resource.code, provider_org=resource.owner.code, title=resource.name,
                    data=out, fetched_at=evidence.fetched_at, reference=evidence.reference,
                    masked_fields=tuple(masked))


def _fetch_with_consent(request: EvidenceRequest, provider: EvidenceProvider, actor: str) -> Evidence:
    """E-licences (and any other non-catalogued source): the holder's consent, no grant, no masking."""
    if not consent_exists(request, request.source, request.code):
        exc = _refuse(errors.NO_CONSENT, "调取电子证照需要持证人本人授权，尚未取得授权")
        _log(request, actor, AccessLogEntry.Outcome.REFUSED, code=exc.code, fields=request.fields)
        raise exc
    try:
        evidence = _call(provider, request, None)
        if not isinstance(evidence.data, dict):
            raise BadProviderAnswer("证照提供方返回的不是一条记录，已拒收")
    except EvidenceError as exc:
        _log(request, actor, AccessLogEntry.Outcome.FAILED, code=exc.code, fields=request.fields)
        raise
    data = evidence.data
    if request.fields:
        data = {k: v for k, v in data.items() if k in set(request.fields)}
    _log(request, actor, AccessLogEntry.Outcome.GRANTED, fields=list(data))
    return dataclasses.replace(evidence, data=data)


def broker(request: EvidenceRequest, provider: EvidenceProvider) -> Evidence:
    """The function installed with :func:`tongban.core.evidence.set_broker`."""
    actor = _actor_label(request)
    if request.source == SHARED:
        return _fetch_shared(request, provider, actor)
    return _fetch_with_consent(request, provider, actor)
