"""Evidence fetch (免证办理) plug-in points, shared by contexts that may not import each other.

Providers (a data resource of a department, or the e-licence wallet) register in :data:`PROVIDERS` (a
:class:`~tongban.core.registry.Registry`) under (source, code): source "shared" with a data-resource code, or
"issued" with a licence type; a second provider under the same key is refused unless it replaces the first on
purpose (``replace=True``, e.g. when a resource or licence type is saved again). The exchange context installs
a *broker* that checks consent and grants and appends every access to the
tamper-evident access log before calling the provider. Applications call :func:`fetch` and never
import the exchange or credentials contexts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tongban.core.errors import DomainError
from tongban.core.registry import Registry

SHARED = "shared"
ISSUED = "issued"


@dataclass(frozen=True)
class EvidenceRequest:
    source: str  # SHARED (data resource) or ISSUED (licence type)
    code: str  # data-resource code or licence type
    subject_id: str  # ID number / unified social credit code the evidence is about
    requester_org: str  # organisation code of the consuming department
    purpose: str
    case_ref: str = ""  # application reference (办件编号)
    consent_ref: str = ""  # the applicant's consent record
    actor_id: int | None = None  # the user acting (approver, clerk), if any
    actor_label: str = ""  # their username, when the caller has it (saves the access log a lookup)
    fields: tuple[str, ...] = ()  # requested fields; empty = all granted fields


@dataclass(frozen=True)
class Evidence:
    source: str
    code: str
    provider_org: str  # organisation code of the issuing / owning department
    title: str
    data: dict[str, Any]
    fetched_at: datetime
    reference: str = ""  # e.g. credential id or register record id
    masked_fields: tuple[str, ...] = field(default=())


class EvidenceError(DomainError):
    """Base class; ``code`` is a stable machine-readable error code. A provider that failed in another way
    (a malformed or refused answer) is a bad gateway for the caller: HTTP 502."""

    code = "evidence.error"
    status = 502


class ProviderUnavailable(EvidenceError):
    code = "evidence.provider_unavailable"
    status = 503


class EvidenceNotFound(EvidenceError):
    code = "evidence.not_found"
    status = 404


class EvidenceRefused(EvidenceError):
    """Not authorised (no grant, no consent, ...): 403; a refusal because the resource is unknown says 404."""

    code = "evidence.refused"
    status = 403


class NoProvider(EvidenceError):
    code = "evidence.no_provider"
    status = 404


class EvidenceProvider(Protocol):
    name: str
    organisation_code: str

    def fetch(self, request: EvidenceRequest) -> Evidence:
        """Return the evidence, or raise EvidenceNotFound / ProviderUnavailable / EvidenceError."""
        ...


Resolver = Callable[[str], EvidenceProvider | None]

PROVIDERS: Registry[tuple[str, str], EvidenceProvider] = Registry("证明材料提供方 evidence providers")
RESOLVERS: Registry[str, Resolver] = Registry("证明材料来源解析 evidence resolvers")
_broker: Callable[[EvidenceRequest, EvidenceProvider], Evidence] | None = None


def register_provider(source: str, code: str, provider: EvidenceProvider, *, replace: bool = False) -> None:
    """Register ``provider`` under (source, code); another provider already there is refused
    (:class:`~tongban.core.registry.DuplicateRegistration`) unless ``replace``."""
    PROVIDERS.register((source, code), provider, replace=replace)


def register_resolver(source: str, resolver: Resolver, *, replace: bool = False) -> None:
    """A fallback for ``source`` codes not registered one by one (e.g. any catalogued data resource,
    including ones added at run time); it returns a provider or None."""
    RESOLVERS.register(source, resolver, replace=replace)


def provider_for(source: str, code: str) -> EvidenceProvider:
    provider = PROVIDERS.find((source, code))
    if provider is None:
        resolver = RESOLVERS.find(source)
        provider = resolver(code) if resolver is not None else None
    if provider is None:
        raise NoProvider(f"没有可提供“{code}”的数据来源 (no provider for {source}:{code})")
    return provider


def providers() -> dict[tuple[str, str], EvidenceProvider]:
    return dict(PROVIDERS.items())


def set_broker(broker: Callable[[EvidenceRequest, EvidenceProvider], Evidence] | None) -> None:
    """Install the access broker (the exchange context): it authorises, logs, then calls the provider."""
    global _broker
    _broker = broker


def fetch(request: EvidenceRequest) -> Evidence:
    provider = provider_for(request.source, request.code)
    if _broker is None:
        raise EvidenceRefused("数据共享交换服务未启用，无法调取证明材料", code="evidence.no_broker")
    return _broker(request, provider)


# --- consent (the subject agrees that a department fetches their evidence for one case) ----------------

ConsentRecorder = Callable[..., str]
_consent_recorder: ConsentRecorder | None = None


def set_consent_recorder(recorder: ConsentRecorder | None) -> None:
    """Install the consent register (the exchange context): ``recorder(subject_id=, source=, code=,
    consumer_org=, purpose=, case_ref=, user=) -> consent reference``."""
    global _consent_recorder
    _consent_recorder = recorder


def record_consent(*, subject_id: str, source: str, code: str, consumer_org: Any, purpose: str,
                   case_ref: str = "", user: Any = None) -> str:
    """Record the subject's consent and return its reference (pass it as ``EvidenceRequest.consent_ref``).
    ``consumer_org``: the consuming organisation's code, or its ``core.Organisation`` row when the caller has it
    (spares reading it again)."""
    if _consent_recorder is None:
        raise EvidenceRefused("数据共享交换服务未启用，无法登记授权", code="evidence.no_broker")
    return _consent_recorder(subject_id=subject_id, source=source, code=code, consumer_org=consumer_org,
                             purpose=purpose, case_ref=case_ref, user=user)
