"""The licence wallet as evidence provider (免证办理), called through tongban.core.evidence's registry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core import evidence
from tongban.core.demo import ID_NUMBERS
from tongban.credentials import services

from .conftest import COMPANY

pytestmark = pytest.mark.django_db


def _request(code: str, subject: str, fields: tuple[str, ...] = ()) -> evidence.EvidenceRequest:
    return evidence.EvidenceRequest(source=evidence.ISSUED, code=code, subject_id=subject, requester_org="yx-scjg",
                                    purpose="食品经营许可审查", case_ref="YX-2025-000888", fields=fields)


def test_every_builtin_licence_type_has_a_provider(licence_types):
    for code in licence_types:
        assert evidence.provider_for(evidence.ISSUED, code).fetch  # registered in ready()/ensure


def test_provider_returns_the_holders_active_credential(business_licence):
    provider = evidence.provider_for(evidence.ISSUED, "business_licence")
    got = provider.fetch(_request("business_licence", ID_NUMBERS["yunxi-tech"]))
    assert got.source == evidence.ISSUED and got.code == "business_licence" and got.provider_org == "yx-scjg"
    assert got.reference == str(business_licence.id)
    assert got.data == business_licence.data and got.data["name"] == COMPANY
    assert business_licence.licence_number in got.title
    only = provider.fetch(_request("business_licence", ID_NUMBERS["yunxi-tech"], ("name", "address")))
    assert set(only.data) == {"name", "address"}


def test_no_credential_revoked_or_expired_means_not_found(business_licence, licence_types):
    provider = evidence.provider_for(evidence.ISSUED, "business_licence")
    with pytest.raises(evidence.EvidenceNotFound):
        provider.fetch(_request("business_licence", "91910100MA1YX9999Z"))
    services.revoke_credential(business_licence.id, reason="撤销")
    with pytest.raises(evidence.EvidenceNotFound):
        provider.fetch(_request("business_licence", ID_NUMBERS["yunxi-tech"]))
    holder = {"kind": "legal", "name": COMPANY, "credit_code": ID_NUMBERS["yunxi-tech"]}
    services.issue_credential("food_operation_licence", holder, {},
                              valid_from=timezone.localdate() - dt.timedelta(days=366 * 6))
    food = evidence.provider_for(evidence.ISSUED, "food_operation_licence")
    with pytest.raises(evidence.EvidenceNotFound):
        food.fetch(_request("food_operation_licence", ID_NUMBERS["yunxi-tech"]))
    fresh = services.issue_credential("food_operation_licence", holder, {})
    assert food.fetch(_request("food_operation_licence", ID_NUMBERS["yunxi-tech"])).reference == str(fresh.id)


def test_a_registered_licence_type_is_stored_and_offered_as_evidence(demo_core):
    from tongban.core.registry import DuplicateRegistration
    from tongban.credentials.licence_types import LICENCE_TYPES, licence_type, register_licence_type
    from tongban.credentials.models import LicenceType

    spec = licence_type("fishing_permit", "捕捞许可证", "FishingPermitCredential", "BLXK", "any", "yx-scjg", 5,
                        {"vessel": ("船名", {"type": "string", "minLength": 1})}, ["vessel"], {})
    with LICENCE_TYPES.isolated(), evidence.PROVIDERS.isolated():
        register_licence_type(spec)
        with pytest.raises(DuplicateRegistration, match="fishing_permit"):
            register_licence_type({**spec, "name": "另一个"})
        codes = {t.code for t in services.ensure_licence_types()}
        assert "fishing_permit" in codes and "business_licence" in codes
        stored = LicenceType.objects.get(code="fishing_permit")
        assert stored.schema["required"] == ["vessel"] and stored.field_labels == {"vessel": "船名"}
        first = evidence.provider_for(evidence.ISSUED, "fishing_permit")
        services.ensure_licence_types()  # saved again: its provider is replaced on purpose, not refused
        assert evidence.provider_for(evidence.ISSUED, "fishing_permit") is not first
    assert "fishing_permit" not in LICENCE_TYPES
