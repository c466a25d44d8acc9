"""The evidence plug-in point: providers and resolvers in registries, errors with their HTTP statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tongban.core import evidence
from tongban.core.errors import DomainError
from tongban.core.registry import DuplicateRegistration


class Provider:
    organisation_code = "org"

    def __init__(self, name: str) -> None:
        self.name = name

    def fetch(self, request: evidence.EvidenceRequest) -> evidence.Evidence:
        return evidence.Evidence(source=request.source, code=request.code, provider_org=self.organisation_code,
                                 title=self.name, data={"subject": request.subject_id},
                                 fetched_at=datetime.now(UTC))


def request(code: str = "test_register", source: str = "test") -> evidence.EvidenceRequest:
    return evidence.EvidenceRequest(source=source, code=code, subject_id="S1", requester_org="org", purpose="p")


@pytest.fixture(autouse=True)
def isolated_registries():
    broker = evidence._broker
    with evidence.PROVIDERS.isolated(), evidence.RESOLVERS.isolated():
        yield
    evidence.set_broker(broker)


def test_a_second_provider_under_a_key_is_refused_unless_it_replaces_the_first_on_purpose():
    first, second = Provider("first"), Provider("second")
    evidence.register_provider("test", "test_register", first)
    evidence.register_provider("test", "test_register", first)  # the same provider again: nothing changes
    with pytest.raises(DuplicateRegistration, match="test_register"):
        evidence.register_provider("test", "test_register", second)
    assert evidence.provider_for("test", "test_register") is first
    evidence.register_provider("test", "test_register", second, replace=True)
    assert evidence.provider_for("test", "test_register") is second
    assert evidence.providers()[("test", "test_register")] is second


def test_isolated_registrations_are_gone_afterwards():
    with evidence.PROVIDERS.isolated():
        evidence.register_provider("test", "only_inside", Provider("x"))
        assert ("test", "only_inside") in evidence.providers()
    assert ("test", "only_inside") not in evidence.providers()


def test_a_resolver_serves_codes_not_registered_one_by_one():
    made = Provider("resolved")
    evidence.register_resolver("test", lambda code: made if code.startswith("dyn_") else None)
    assert evidence.provider_for("test", "dyn_1") is made
    with pytest.raises(evidence.NoProvider) as exc:
        evidence.provider_for("test", "other")
    assert exc.value.code == "evidence.no_provider" and exc.value.status == 404 and "other" in exc.value.message
    with pytest.raises(DuplicateRegistration):
        evidence.register_resolver("test", lambda code: None)


def test_fetch_goes_through_the_broker_and_is_refused_without_one():
    evidence.register_provider("test", "test_register", Provider("p"))
    evidence.set_broker(None)
    with pytest.raises(evidence.EvidenceRefused) as exc:
        evidence.fetch(request())
    assert (exc.value.code, exc.value.status) == ("evidence.no_broker", 403)
    seen = []

    def broker(req, provider):
        seen.append(req.code)
        return provider.fetch(req)

    evidence.set_broker(broker)
    assert evidence.fetch(request()).data == {"subject": "S1"} and seen == ["test_register"]


@pytest.mark.parametrize("error, status, code", [
    (evidence.EvidenceError("x"), 502, "evidence.error"),
    (evidence.ProviderUnavailable("x"), 503, "evidence.provider_unavailable"),
    (evidence.EvidenceNotFound("x"), 404, "evidence.not_found"),
    (evidence.EvidenceRefused("x"), 403, "evidence.refused"),
    (evidence.EvidenceRefused("x", code="exchange.unknown_resource", status=404), 404, "exchange.unknown_resource"),
    (evidence.NoProvider("x"), 404, "evidence.no_provider"),
])
def test_evidence_errors_are_domain_errors_with_the_api_status(error, status, code):
    assert isinstance(error, DomainError)
    assert (error.status, error.code) == (status, code)
    assert error.as_dict() == {"code": code, "message": "x"}  # no detail: none given
