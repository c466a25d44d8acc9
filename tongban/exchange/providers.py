"""Evidence providers of the data exchange: local demo registers and remote department APIs.

- :class:`LocalTableProvider` reads :class:`~tongban.exchange.models.ProviderRecord` rows (the demo
  registers 户籍, 市场主体, 社保参保, 不动产登记, 出生医学证明).
- :class:`RemoteHttpProvider` calls a department's HTTP endpoint with a signed request: the body is a
  compact JWS (alg Ed25519, kid of the platform request key published at ``/api/exchange/jwks.json``)
  over the JSON request; it has a timeout, retries with exponential backoff and a per-endpoint
  :class:`CircuitBreaker` (opens after N consecutive failures, half-open after a cool-down).
- :class:`ResourceProvider` is what is registered in :mod:`tongban.core.evidence` under
  ``("shared", code)``: it dispatches to the remote endpoint when the resource has one, else to the
  local table.

Remote protocol: ``POST <endpoint_url>`` with ``Content-Type: application/jose`` and the JWS as body;
payload ``{"iss", "iat", "request_id", "resource", "subject_id", "fields", "requester_org", "purpose",
"case_ref"}``. Answer ``200 {"data": {...}, "reference": "..."}``, ``404`` when the register has no
record of the subject; anything else counts as a failure.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone
from joserfc import jws

from tongban.core import pii, site, store
from tongban.core.evidence import (
    SHARED,
    Evidence,
    EvidenceError,
    EvidenceNotFound,
    EvidenceRequest,
    ProviderUnavailable,
)

from . import keys
from .errors import BAD_PROVIDER_ANSWER, BadProviderAnswer
from .models import DataResource, ProviderRecord

UNAVAILABLE_MESSAGE = "数据提供部门“{name}”的接口暂时无法访问，请稍后重试，或改为上传该材料（已填写的内容不会丢失）。"
NOT_FOUND_MESSAGE = "“{name}”中未查询到该主体的记录，请核对证件号码，或改为上传该材料。"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# --- Circuit breaker ------------------------------------------------------------------------------


class CircuitBreaker:
    """Closed → (N consecutive failures) → open → (cool-down) → half-open: one trial call;
    success closes, failure opens again."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, threshold: int = 5, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at = 0.0
        self._state = self.CLOSED
        self._trial = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == self.OPEN and self.clock() - self.opened_at >= self.cooldown:
                return self.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        with self._lock:
            if self._state == self.CLOSED:
                return True
            if self._state == self.OPEN:
                if self.clock() - self.opened_at < self.cooldown:
                    return False
                self._state = self.HALF_OPEN
                self._trial = False
            if self._trial:  # half-open: one trial at a time
                return False
            self._trial = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self._state = self.CLOSED
            self._trial = False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._state == self.HALF_OPEN or self.failures >= self.threshold:
                self._state = self.OPEN
                self.opened_at = self.clock()
            self._trial = False


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(key: str) -> CircuitBreaker:
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = CircuitBreaker(
                threshold=int(_setting("TONGBAN_EXCHANGE_BREAKER_THRESHOLD", 5)),
                cooldown=float(_setting("TONGBAN_EXCHANGE_BREAKER_COOLDOWN", 30.0)),
            )
        return _breakers[key]


def reset_breakers() -> None:
    with _breakers_lock:
        _breakers.clear()


# --- Local registers ------------------------------------------------------------------------------


class LocalTableProvider:
    """A register kept in this platform's database (the demo's 户籍/市场主体/社保/不动产/出生医学证明)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = f"local:{code}"

    @property
    def organisation_code(self) -> str:
        return DataResource.objects.filter(code=self.code).values_list("owner__code", flat=True).first() or ""

    def fetch(self, request: EvidenceRequest) -> Evidence:
        return self.fetch_for(_resource(self.code), request)

    def fetch_for(self, resource: DataResource, request: EvidenceRequest) -> Evidence:
        """The read when the resource is already known (the broker's hot path: one indexed lookup, no join)."""
        record = read_record(resource.pk, request.subject_id)
        if record is None:
            raise EvidenceNotFound(NOT_FOUND_MESSAGE.format(name=resource.name))
        return Evidence(source=SHARED, code=self.code, provider_org=resource.owner.code, title=resource.name,
                        data=record.data, fetched_at=timezone.now(), reference=f"{self.code}:{record.pk}")


def _resource(code: str) -> DataResource:
    resource = DataResource.objects.select_related("owner").filter(code=code).first()
    if resource is None:
        raise EvidenceNotFound(f"数据资源“{code}”不存在")
    return resource


@cache
def _record_where() -> str:
    return (f"{store.column(ProviderRecord, 'resource')} = %s"
            f" AND {store.column(ProviderRecord, 'subject_id_hash')} = %s")


def read_record(resource_id: int, subject_id: str) -> ProviderRecord | None:
    """The local register record of a subject, with its ``pk`` and ``data`` loaded (one statement on the
    unique index on resource and subject, built from the model by :mod:`tongban.core.store`). The subject is
    found through its keyed hash: the column itself is encrypted (docs/privacy.md)."""
    found = store.select_fields(ProviderRecord, ("id", "data"), _record_where(),
                                (resource_id, pii.lookup_hash(subject_id)))
    return found[0] if found else None


# --- Remote department APIs -----------------------------------------------------------------------


def sign_request(payload: dict[str, Any]) -> str:
    """Compact JWS (Ed25519) over the JSON request, with the platform request key's kid."""
    key = keys.request_jwk()
    header = {"alg": "Ed25519", "kid": key.kid, "typ": "tongban-evidence-request+jws"}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, body, key, algorithms=["Ed25519"])


class RemoteHttpProvider:
    """A department's register behind HTTPS, called with signed requests."""

    def __init__(self, code: str, endpoint_url: str, *, organisation_code: str = "", title: str = "",
                 timeout: float | None = None, retries: int | None = None, backoff: float | None = None,
                 transport: httpx.BaseTransport | None = None, breaker: CircuitBreaker | None = None) -> None:
        self.code = code
        self.name = f"remote:{code}"
        self.endpoint_url = endpoint_url
        self.organisation_code = organisation_code
        self.title = title or code
        self.timeout = float(_setting("TONGBAN_EXCHANGE_TIMEOUT", 3.0) if timeout is None else timeout)
        self.retries = int(_setting("TONGBAN_EXCHANGE_RETRIES", 2) if retries is None else retries)
        self.backoff = float(_setting("TONGBAN_EXCHANGE_BACKOFF", 0.2) if backoff is None else backoff)
        self.breaker = breaker or breaker_for(endpoint_url)
        self.client = httpx.Client(timeout=self.timeout, transport=transport)

    def _payload(self, request: EvidenceRequest) -> dict[str, Any]:
        return {
            "iss": site.public_url(),
            "iat": int(time.time()), "request_id": str(uuid.uuid4()), "resource": self.code,
            "subject_id": request.subject_id, "fields": list(request.fields),
            "requester_org": request.requester_org, "purpose": request.purpose, "case_ref": request.case_ref,
        }

    def _unavailable(self, detail: str) -> ProviderUnavailable:
        return ProviderUnavailable(UNAVAILABLE_MESSAGE.format(name=self.title) + f"（{detail}）")

    def fetch(self, request: EvidenceRequest) -> Evidence:
        if not self.breaker.allow():
            raise self._unavailable("熔断中，暂停调用")
        body = sign_request(self._payload(request))
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.post(self.endpoint_url, content=body.encode(), headers={
                    "Content-Type": "application/jose", "Accept": "application/json"})
            except httpx.TimeoutException:
                last = "超时"
                continue
            except httpx.TransportError as exc:
                last = f"连接失败: {type(exc).__name__}"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            self.breaker.record_success()  # the department answered: the link works
            return self._answer(response)
        self.breaker.record_failure()
        raise self._unavailable(f"已重试 {self.retries} 次，{last}")

    def _answer(self, response: httpx.Response) -> Evidence:
        if response.status_code == 404:
            raise EvidenceNotFound(NOT_FOUND_MESSAGE.format(name=self.title))
        if response.status_code != 200:
            raise EvidenceError(f"数据提供部门拒绝了请求（HTTP {response.status_code}）", code="exchange.provider_refused")
        try:
            doc = response.json()
        except ValueError:
            raise BadProviderAnswer("数据提供部门返回的内容不是 JSON，已拒收", code=BAD_PROVIDER_ANSWER) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
            raise BadProviderAnswer("数据提供部门返回的内容缺少 data 对象，已拒收", code=BAD_PROVIDER_ANSWER)
        return Evidence(source=SHARED, code=self.code, provider_org=self.organisation_code, title=self.title,
                        data=doc["data"], fetched_at=timezone.now(), reference=str(doc.get("reference", "")))


_remote: dict[tuple[str, str], RemoteHttpProvider] = {}
_remote_lock = threading.Lock()


def remote_provider(resource: DataResource) -> RemoteHttpProvider:
    key = (resource.code, resource.endpoint_url)
    with _remote_lock:
        if key not in _remote:
            _remote[key] = RemoteHttpProvider(resource.code, resource.endpoint_url,
                                              organisation_code=resource.owner.code, title=resource.name)
        return _remote[key]


class ResourceProvider:
    """The provider registered for ``("shared", code)``: remote endpoint if configured, else local table."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = f"shared:{code}"
        self.local = LocalTableProvider(code)

    @property
    def organisation_code(self) -> str:
        return self.local.organisation_code

    def fetch_for(self, resource: DataResource, request: EvidenceRequest) -> Evidence:
        if resource.endpoint_url:
            return remote_provider(resource).fetch(request)
        return self.local.fetch_for(resource, request)

    def fetch(self, request: EvidenceRequest) -> Evidence:
        return self.fetch_for(_resource(self.code), request)


def resolve_shared(code: str) -> ResourceProvider | None:
    """Resolver for ``("shared", code)`` not registered explicitly: any catalogued resource."""
    if DataResource.objects.filter(code=code).exists():
        return ResourceProvider(code)
    return None
