"""The evidence broker through ``tongban.core.evidence.fetch``: grants, fields, masking, consent, refusals
and failures (all logged), malformed provider answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core import evidence, pii
from tongban.core.evidence import (
    ISSUED,
    SHARED,
    Evidence,
    EvidenceError,
    EvidenceNotFound,
    EvidenceRefused,
    EvidenceRequest,
    ProviderUnavailable,
)
from tongban.core.models import User
from tongban.exchange import errors, services
from tongban.exchange.models import AccessLogEntry, Grant, ProviderRecord

pytestmark = pytest.mark.django_db

ZHANGSAN = "910102199001011234"
YUNXI = "91910100MA1YX0001K"


def req(code: str, org: str, subject: str = ZHANGSAN, *, case: str = "A-1", fields=(), source=SHARED, **kw):
    return EvidenceRequest(source=source, code=code, subject_id=subject, requester_org=org, purpose="办理事项",
                           case_ref=case, fields=tuple(fields), **kw)


def consent(code: str, org: str, subject: str = ZHANGSAN, case: str = "A-1", source: str = SHARED):
    return services.give_consent(subject_id=subject, code=code, consumer_org=org, purpose="办理事项", case_ref=case,
                                 source=source)


def last() -> AccessLogEntry:
    return AccessLogEntry.objects.order_by("-id").first()


def refused(request: EvidenceRequest, code: str) -> AccessLogEntry:
    before = AccessLogEntry.objects.count()
    with pytest.raises(EvidenceRefused) as exc:
        evidence.fetch(request)
    assert exc.value.code == code
    assert AccessLogEntry.objects.count() == before + 1
    entry = last()
    assert (entry.outcome, entry.error_code, entry.subject_id, entry.consumer_org) == (
        "refused", code, request.subject_id, request.requester_org)
    return entry


def test_granted_fields_only_with_masking(exchange_demo):
    consent("household_register", "yx-scjg")
    ev = evidence.fetch(req("household_register", "yx-scjg", actor_id=User.objects.get(username="approver-scjg").pk))
    # the grant: id_number, name, gender, birth_date, household_address; clear: id_number, name
    assert set(ev.data) == {"id_number", "name", "gender", "birth_date", "household_address"}
    assert ev.data["id_number"] == ZHANGSAN and ev.data["name"] == "张三"
    assert ev.data["birth_date"] == "1990-**-**" and ev.data["gender"] == "*"
    assert ev.data["household_address"].startswith("东川省云溪市") and "*" in ev.data["household_address"]
    assert set(ev.masked_fields) == {"gender", "birth_date", "household_address"}
    assert ev.provider_org == "yx-ga" and ev.title == "户籍人口基本信息"
    entry = last()
    assert entry.outcome == "granted" and entry.actor == "approver-scjg" and entry.case_ref == "A-1"
    assert entry.fields == list(ev.data) and set(entry.masked_fields) == set(ev.masked_fields)
    assert entry.grant_id == Grant.objects.get(consumer__code="yx-scjg", resource__code="household_register").pk
    # a narrower request returns just that; the ID number is masked where the grant does not need it in clear
    ev = evidence.fetch(req("household_register", "yx-scjg", fields=["name"]))
    assert ev.data == {"name": "张三"}
    consent("household_register", "yx-zwzx")
    ev = evidence.fetch(req("household_register", "yx-zwzx"))
    assert ev.data == {"id_number": "9101**********1234", "name": "张*", "gender": "*"}


def test_unconditional_resource_needs_a_grant_but_no_consent(exchange_demo):
    ev = evidence.fetch(req("business_register", "yx-sw", YUNXI, case=""))
    assert ev.data["enterprise_name"] == "云溪星火科技有限公司"
    assert ev.data["legal_representative_id_number"] == "9101**********1234"
    assert ev.masked_fields == ("legal_representative_id_number",)
    refused(req("business_register", "yx-mz", YUNXI), errors.NO_GRANT)


def test_refusals_have_stable_codes_and_are_logged(exchange_demo):
    u = {x.username: x for x in User.objects.all()}
    consent("household_register", "yx-scjg")
    refused(req("household_register", "yx-sw"), errors.NO_GRANT)
    refused(req("household_register", "yx-scjg", fields=["name", "ethnicity"]), errors.FIELDS_NOT_GRANTED)
    refused(req("household_register", "yx-scjg", fields=["no_such_field"]), errors.FIELDS_NOT_GRANTED)
    refused(req("household_register", "yx-scjg", case="OTHER-CASE"), errors.NO_CONSENT)
    grant = Grant.objects.get(consumer__code="yx-scjg", resource__code="household_register")
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    refused(req("household_register", "yx-scjg"), errors.GRANT_EXPIRED)
    services.expire_grants()
    refused(req("household_register", "yx-scjg"), errors.GRANT_EXPIRED)
    # revocation takes effect at once
    g2 = Grant.objects.get(consumer__code="yx-wsjk", resource__code="household_register")
    consent("household_register", "yx-wsjk")
    assert evidence.fetch(req("household_register", "yx-wsjk")).data["name"] == "张三"
    services.revoke_grant(g2, actor=u["data-ga"], reason="停止使用")
    refused(req("household_register", "yx-wsjk"), errors.GRANT_REVOKED)
    # a pending request is not a grant
    services.request_grant(resource=grant.resource, consumer="yx-mz", fields=["name"], purpose="p", legal_basis="b")
    refused(req("household_register", "yx-mz"), errors.GRANT_PENDING)


def test_unknown_and_not_shared_resources(exchange_demo):
    from tongban.exchange.models import SharingType

    services.save_resource(code="tax_secret", name="涉税保密信息", owner="yx-sw",
                           schema={"type": "object", "properties": {"id_number": {"type": "string"}}},
                           field_sensitivity={"id_number": "sensitive_personal"}, subject_field="id_number",
                           sharing_type=SharingType.NOT_SHARED, not_shared_basis="《税收征收管理法》")
    refused(req("tax_secret", "yx-scjg"), errors.NOT_SHAREABLE)
    with pytest.raises(EvidenceError) as exc:
        evidence.fetch(req("no_such_resource", "yx-scjg"))
    assert exc.value.code == "evidence.no_provider"


def test_consent_withdrawn_or_for_a_named_ref(exchange_demo):
    c = consent("birth_medical_certificate", "yx-ga", case="B-7")
    ev = evidence.fetch(req("birth_medical_certificate", "yx-ga", case="B-7", consent_ref=str(c.ref)))
    assert ev.data["child_name"] == "张小溪" and ev.data["mother_name"] == "李四"
    assert ev.data["guardian_id_number"] == "9101**********1234"  # not needed in clear for 出生登记
    refused(req("birth_medical_certificate", "yx-ga", case="B-7", consent_ref="not-a-uuid"), errors.NO_CONSENT)
    services.withdraw_consent(c, user=None)
    refused(req("birth_medical_certificate", "yx-ga", case="B-7"), errors.NO_CONSENT)


def test_consent_exempt_grant(exchange_demo):
    u = {x.username: x for x in User.objects.all()}
    grant = services.request_grant(resource=Grant.objects.filter(resource__code="social_insurance").first().resource,
                                   consumer="yx-sw", fields=["id_number", "status"], purpose="社保费征收",
                                   legal_basis="《社会保险费征缴暂行条例》")
    services.decide_grant(grant, actor=u["data-rsj"], approve=True, consent_exempt=True)
    assert evidence.fetch(req("social_insurance", "yx-sw", case="")).data["status"] == "正常参保"


def test_subject_not_in_register(exchange_demo):
    consent("household_register", "yx-scjg", subject="910102200001010000")
    with pytest.raises(EvidenceNotFound):
        evidence.fetch(req("household_register", "yx-scjg", subject="910102200001010000"))
    assert (last().outcome, last().error_code) == ("failed", "evidence.not_found")


def test_malformed_provider_answer_is_rejected_and_not_returned(exchange_demo):
    consent("household_register", "yx-scjg")
    record = ProviderRecord.objects.get(pii.matching("subject_id", ZHANGSAN), resource__code="household_register")
    ProviderRecord.objects.filter(pk=record.pk).update(data={**record.data, "birth_date": "01/01/1990"})
    with pytest.raises(EvidenceError) as exc:
        evidence.fetch(req("household_register", "yx-scjg"))
    assert exc.value.code == errors.BAD_PROVIDER_ANSWER and "birth_date" in str(exc.value)
    entry = last()
    assert (entry.outcome, entry.error_code) == ("failed", errors.BAD_PROVIDER_ANSWER)
    # a record of someone else is refused too
    ProviderRecord.objects.filter(pk=record.pk).update(data={**record.data, "id_number": "91010219880315432X"})
    with pytest.raises(EvidenceError, match="其他主体") as exc:
        evidence.fetch(req("household_register", "yx-scjg"))
    assert exc.value.code == errors.BAD_PROVIDER_ANSWER


class FlakyProvider:
    name = "flaky"
    organisation_code = "yx-ga"

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def fetch(self, request: EvidenceRequest) -> Evidence:
        if self.mode == "down":
            raise ProviderUnavailable("户籍系统维护中")
        if self.mode == "crash":
            raise KeyError("boom")
        return Evidence(source=request.source, code=request.code, provider_org="yx-ga", title="x",
                        data={"id_number": request.subject_id, "name": 42}, fetched_at=timezone.now())


@pytest.mark.parametrize("mode, code", [("down", "evidence.provider_unavailable"),
                                        ("crash", "evidence.provider_unavailable"),
                                        ("bad", errors.BAD_PROVIDER_ANSWER)])
def test_provider_failures_are_clear_and_logged(exchange_demo, mode, code):
    consent("household_register", "yx-scjg")
    evidence.register_provider(SHARED, "household_register", FlakyProvider(mode), replace=True)
    with pytest.raises(EvidenceError) as exc:
        evidence.fetch(req("household_register", "yx-scjg"))
    assert exc.value.code == code
    if mode == "down":
        assert isinstance(exc.value, ProviderUnavailable) and "维护" in str(exc.value)
    if mode == "crash":
        assert isinstance(exc.value, ProviderUnavailable) and "上传材料" in str(exc.value)
    assert (last().outcome, last().error_code) == ("failed", code)


def test_issued_licences_need_the_holders_consent(exchange_demo):
    class Wallet:
        name = "wallet"
        organisation_code = "yx-scjg"

        def fetch(self, request):
            return Evidence(source=ISSUED, code=request.code, provider_org="yx-scjg", title="营业执照",
                            data={"licence_no": "L-1", "holder": "云溪星火科技有限公司"}, fetched_at=timezone.now(),
                            reference="cred-1")

    evidence.register_provider(ISSUED, "business_licence", Wallet(), replace=True)
    request = req("business_licence", "yx-xf", YUNXI, source=ISSUED)
    refused(request, errors.NO_CONSENT)
    consent("business_licence", "yx-xf", YUNXI, source=ISSUED)
    ev = evidence.fetch(request)
    assert ev.data == {"licence_no": "L-1", "holder": "云溪星火科技有限公司"} and ev.reference == "cred-1"
    assert (last().outcome, last().source, last().resource) == ("granted", ISSUED, "business_licence")


def test_the_owner_reads_its_own_register_without_grant_or_consent(exchange_demo):
    ev = evidence.fetch(req("household_register", "yx-ga", case=""))
    assert ev.data["name"] == "张三" and ev.data["ethnicity"] == "汉族" and ev.masked_fields == ()
    entry = last()
    assert (entry.outcome, entry.grant_id, entry.consumer_org) == ("granted", None, "yx-ga")
    refused(req("household_register", "yx-ga", fields=["nope"]), errors.FIELDS_NOT_GRANTED)


def test_resource_cache_is_used_and_sees_changes_at_once(exchange_demo, django_assert_num_queries):
    from tongban.exchange.models import DataResource, SharingType

    consent("household_register", "yx-scjg")
    from tongban.core import store

    evidence.fetch(req("household_register", "yx-scjg"))  # warms the per-process resource cache
    before = store.STATEMENTS[0]
    with django_assert_num_queries(0):  # nothing through the ORM: the resource comes from the cache
        evidence.fetch(req("household_register", "yx-scjg"))
    assert store.STATEMENTS[0] - before == 3  # authorisation, provider read, log append (tongban.core.store)
    resource = DataResource.objects.get(code="household_register")
    resource.sharing_type = SharingType.NOT_SHARED
    resource.not_shared_basis = "test"
    resource.save()
    refused(req("household_register", "yx-scjg"), errors.NOT_SHAREABLE)
