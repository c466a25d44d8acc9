"""The evidence broker installed in :mod:`tongban.core.evidence` (免证办理 / audited queries).

For every :class:`~tongban.core.evidence.EvidenceRequest` it

1. authorises: for a data resource (source ``shared``) the resource must be shareable and the
   consuming organisation must hold a usable grant covering the requested fields; a consent of the
   subject is needed for 有条件共享 resources unless the grant is consent-exempt (the owner
   department reading its own register needs neither grant nor consent); for an e-licence
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
from datetime import datetime
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from jsonschema import Draft202012Validator

from tongban.core import pii, schema_messages, store
from tongban.core.evidence import (
    SHARED,
    Evidence,
    EvidenceError,
    EvidenceProvider,
    EvidenceRefused,
    EvidenceRequest,
    ProviderUnavailable,
)
from tongban.core.models import Organisation, User

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
    label = _actor.get() or request.actor_label
    if label:
        return label
    if request.actor_id:
        username = User.objects.filter(pk=request.actor_id).values_list("username", flat=True).first()
        return username or f"user:{request.actor_id}"
    return "system"


@dataclass
class Decision:
    resource: DataResource
    grant_id: int | None  # None: the owner department reading its own register
    fields: list[str]
    unmasked: frozenset[str]


def _refuse(code: str, message: str, *, status: int | None = None) -> EvidenceRefused:
    return EvidenceRefused(message, code=code, status=status)


def _consents(request: EvidenceRequest, source: str, code: str) -> QuerySet[Consent] | None:
    """Active consents of the subject for this resource/licence type and case (consumer left open);
    None when the named consent ref is not even a UUID."""
    qs = Consent.objects.filter(pii.matching("subject_id", request.subject_id), source=source, code=code,
                                case_ref=request.case_ref, withdrawn_at__isnull=True)
    if request.consent_ref:
        try:
            qs = qs.filter(ref=uuid.UUID(str(request.consent_ref)))
        except ValueError:
            return None
    return qs


def consent_exists(request: EvidenceRequest, source: str, code: str) -> bool:
    """An active consent of the subject for this consumer, resource/licence type and case."""
    qs = _consents(request, source, code)
    return qs is not None and qs.filter(consumer__code=request.requester_org).exists()


# Resources change rarely: keep them per process, checked against ``updated_at`` on every query
# (the grant query returns it), so a change to a resource is seen at once.
_resources: dict[int, tuple[Any, DataResource]] = {}


def _resource(pk: int, updated_at: Any) -> DataResource:
    hit = _resources.get(pk)
    if hit is not None and hit[0] == updated_at:
        return hit[1]
    resource = DataResource.objects.select_related("owner").get(pk=pk)
    if len(_resources) > 1024:
        _resources.clear()
    _resources[pk] = (resource.updated_at, resource)
    return resource


@dataclass
class GrantRow:
    """One of the consumer's grants for the resource, with what the authorisation needs beside it."""

    grant: Grant
    resource_updated_at: datetime
    has_consent: bool  # an active consent of the subject for this consumer, resource and case


def _col(model: type, alias: str, name: str) -> str:
    return f"{alias}.{store.column(model, name)}"


@cache
def _grants_sql(with_ref: bool) -> str:
    """The authorisation query (the hot path: SQL built once from the models by :mod:`tongban.core.store`): the
    consumer's grants for the resource, newest first, each with the resource's ``updated_at`` and whether a
    matching consent exists."""
    g, r, o, c = (store.table(m) for m in (Grant, DataResource, Organisation, Consent))
    ref = f" AND {_col(Consent, 'c', 'ref')} = %s" if with_ref else ""
    consent = (f"SELECT 1 FROM {c} c WHERE {_col(Consent, 'c', 'subject_id_hash')} = %s "
               f"AND {_col(Consent, 'c', 'source')} = %s AND {_col(Consent, 'c', 'code')} = %s "
               f"AND {_col(Consent, 'c', 'case_ref')} = %s AND {_col(Consent, 'c', 'withdrawn_at')} IS NULL "
               f"AND {_col(Consent, 'c', 'consumer')} = {_col(Grant, 'g', 'consumer')}{ref}")
    return (f"SELECT {store.columns(Grant, 'g')}, {_col(DataResource, 'r', 'updated_at')}, EXISTS ({consent}) "
            f"FROM {g} g INNER JOIN {r} r ON {_col(DataResource, 'r', 'id')} = {_col(Grant, 'g', 'resource')} "
            f"INNER JOIN {o} o ON {_col(Organisation, 'o', 'id')} = {_col(Grant, 'g', 'consumer')} "
            f"WHERE {_col(Organisation, 'o', 'code')} = %s AND {_col(DataResource, 'r', 'code')} = %s "
            f"ORDER BY {_col(Grant, 'g', 'requested_at')} DESC, {_col(Grant, 'g', 'id')} DESC")


@cache
def _grants_shape() -> tuple[Any, ...]:
    return (Grant, DataResource._meta.get_field("updated_at"), None)


@cache
def _ref_param() -> Any:
    return store.preparer(Consent, "ref")


def _grant_rows(request: EvidenceRequest) -> list[GrantRow]:
    params: list[Any] = [pii.lookup_hash(request.subject_id) or "-", SHARED, request.code, request.case_ref]
    if request.consent_ref:
        try:
            ref = uuid.UUID(str(request.consent_ref))
        except ValueError:
            ref = uuid.UUID(int=0)  # not a UUID: the nil UUID matches no consent (refs are uuid4)
        params.append(_ref_param()(ref))
    params += [request.requester_org, request.code]
    found = store.rows(_grants_shape(), _grants_sql(bool(request.consent_ref)), params)
    return [GrantRow(grant, updated_at, bool(has_consent)) for grant, updated_at, has_consent in found]


def authorise_shared(request: EvidenceRequest) -> Decision:
    """Check resource, grant, fields and consent (one query on the way to yes); raise EvidenceRefused
    with a stable code."""
    rows = _grant_rows(request)
    if rows:
        resource = _resource(rows[0].grant.resource_id, rows[0].resource_updated_at)
    else:
        resource = DataResource.objects.select_related("owner").filter(code=request.code).first()
    if resource is None or not resource.active:
        raise _refuse(errors.UNKNOWN_RESOURCE, f"数据资源“{request.code}”不存在或已停用", status=404)
    if request.requester_org == resource.owner.code:  # its own register: no grant, no consent, no masking
        requested = list(dict.fromkeys(request.fields)) or resource.field_names
        unknown = [f for f in requested if f not in resource.field_names]
        if unknown:
            raise _refuse(errors.FIELDS_NOT_GRANTED, f"“{resource.name}”没有这些数据项：{'、'.join(unknown)}")
        return Decision(resource=resource, grant_id=None, fields=requested, unmasked=frozenset(requested))
    if resource.sharing_type == SharingType.NOT_SHARED:
        raise _refuse(errors.NOT_SHAREABLE, f"“{resource.name}”为不予共享资源")
    if not rows:
        raise _refuse(errors.NO_GRANT, f"本部门未获得“{resource.name}”的共享授权，请先提出共享申请")
    now = timezone.now()
    usable = [r for r in rows if r.grant.is_usable(now)]
    if not usable:
        newest = rows[0].grant
        if newest.status == Grant.Status.EXPIRED or (newest.status == Grant.Status.APPROVED
                                                     and newest.is_expired(now)):
            raise _refuse(errors.GRANT_EXPIRED, f"“{resource.name}”的共享授权已过期，请重新申请")
        if newest.status == Grant.Status.REVOKED:
            raise _refuse(errors.GRANT_REVOKED, f"“{resource.name}”的共享授权已被提供部门撤销")
        if newest.status == Grant.Status.REQUESTED:
            raise _refuse(errors.GRANT_PENDING, f"“{resource.name}”的共享申请尚在审核中")
        raise _refuse(errors.NO_GRANT, f"本部门没有“{resource.name}”的有效共享授权")
    requested = list(dict.fromkeys(request.fields))
    if requested:
        row = next((r for r in usable if set(requested) <= set(r.grant.fields)), None)
        if row is None:
            outside = [f for f in requested if f not in usable[0].grant.fields]
            raise _refuse(errors.FIELDS_NOT_GRANTED, f"请求的数据项超出授权范围：{'、'.join(outside)}")
    else:
        row = usable[0]
        requested = list(row.grant.fields)
    needs_consent = resource.sharing_type == SharingType.CONDITIONAL and not row.grant.consent_exempt
    if needs_consent and not row.has_consent:
        raise _refuse(errors.NO_CONSENT, f"调取“{resource.name}”需要数据主体本人授权，尚未取得授权")
    return Decision(resource=resource, grant_id=row.grant.pk, fields=requested,
                    unmasked=frozenset(row.grant.unmasked_fields))


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
    problems = schema_messages.problems(_validator(resource, asked), data)
    if problems:
        first = problems[0]
        raise BadProviderAnswer(f"“{resource.name}”的提供方返回的数据不符合数据规范，已拒收："
                                f"{schema_messages.path_text(first.path)}: {first.message}")
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
    resource, grant_id = decision.resource, decision.grant_id
    asked = tuple(dict.fromkeys([*decision.fields, resource.subject_field]))
    try:
        evidence = _call(provider, dataclasses.replace(request, fields=asked), resource)
        data = validate_answer(resource, evidence.data, asked, request.subject_id)
    except EvidenceError as exc:
        _log(request, actor, AccessLogEntry.Outcome.FAILED, code=exc.code, fields=decision.fields,
             grant_id=grant_id)
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
    _log(request, actor, AccessLogEntry.Outcome.GRANTED, fields=list(out), masked=masked, grant_id=grant_id)
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
