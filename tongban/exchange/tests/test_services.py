"""Resources, grant lifecycle (on the workflow engine), consents, client keys, evidence plans, demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core import pii
from tongban.core.evidence import ISSUED, SHARED, register_provider
from tongban.core.models import AuditLog, Organisation, User
from tongban.exchange import errors, services
from tongban.exchange.demo import DEMO_CLIENT_KEY, RESOURCES
from tongban.exchange.errors import ExchangeError
from tongban.exchange.models import Consent, DataResource, ExchangeClient, Grant, ProviderRecord, SharingType

pytestmark = pytest.mark.django_db

ZHANGSAN = "910102199001011234"


def users() -> dict[str, User]:
    return {u.username: u for u in User.objects.all()}


def resource(code: str) -> DataResource:
    return DataResource.objects.get(code=code)


# --- resources ------------------------------------------------------------------------------------


def test_demo_is_idempotent_and_wires_the_five_codes(exchange_demo):
    from rich.console import Console

    from tongban.core import evidence
    from tongban.exchange import demo

    counts = (DataResource.objects.count(), ProviderRecord.objects.count(), Grant.objects.count(),
              ExchangeClient.objects.count(), AuditLog.objects.count())
    demo.load(Console(quiet=True))
    assert (DataResource.objects.count(), ProviderRecord.objects.count(), Grant.objects.count(),
            ExchangeClient.objects.count(), AuditLog.objects.count()) == counts
    codes = {"household_register", "business_register", "social_insurance", "real_estate_register",
             "birth_medical_certificate"}
    assert set(DataResource.objects.values_list("code", flat=True)) == codes
    for code in codes:
        assert evidence.provider_for(SHARED, code).organisation_code == resource(code).owner.code
    owners = dict(DataResource.objects.values_list("code", "owner__code"))
    assert owners == {"household_register": "yx-ga", "business_register": "yx-scjg", "social_insurance": "yx-rsj",
                      "real_estate_register": "yx-zrzy", "birth_medical_certificate": "yx-wsjk"}
    # demo records of the core demo people exist
    assert ProviderRecord.objects.filter(pii.matching("subject_id", ZHANGSAN),
                                         resource__code="household_register").exists()
    assert ProviderRecord.objects.filter(pii.matching("subject_id", "91910100MA1YX0001K"),
                                         resource__code="business_register").exists()
    assert services.authenticate_client(DEMO_CLIENT_KEY).organisation.code == "yx-rsj"


def test_resource_definition_errors_are_clear_and_change_nothing(demo_core):
    spec = RESOURCES[0]
    base = dict(code="bad", name="坏资源", owner="yx-ga", schema=spec["schema"],
                field_sensitivity=spec["sensitivity"], subject_field="id_number")
    cases = [
        ({"schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}, "JSON Schema 无效"),
        ({"schema": {"type": "array"}}, "type: object"),
        ({"field_sensitivity": {"id_number": "secret"}}, "敏感级别"),
        ({"field_sensitivity": {"nope": "public"}}, "不在 JSON Schema 中"),
        ({"subject_field": "nope"}, "主体标识"),
        ({"sharing_type": SharingType.NOT_SHARED}, "不予共享"),
    ]
    for change, text in cases:
        with pytest.raises(ExchangeError) as exc:
            services.save_resource(**{**base, **change})
        assert exc.value.code == errors.INVALID and text in exc.value.message
    assert not DataResource.objects.filter(code="bad").exists()


def test_provider_records_are_validated(exchange_demo):
    with pytest.raises(ExchangeError, match="数据规范"):
        services.upsert_provider_record(resource("household_register"), {"id_number": "123", "name": "x"})


# --- grants ---------------------------------------------------------------------------------------


def test_conditional_grant_runs_as_a_process_and_the_owner_decides(exchange_demo, django_capture_on_commit_callbacks):
    from tongban.workflow.models import ProcessInstance, Task

    u = users()
    res = resource("social_insurance")
    grant = services.request_grant(resource=res, consumer="yx-scjg", fields=["id_number", "name", "status"],
                                   unmasked_fields=["name"], purpose="核验参保", legal_basis="《社会保险法》",
                                   actor=u["approver-scjg"])
    assert grant.status == Grant.Status.REQUESTED and grant.requested_by == u["approver-scjg"]
    task = Task.objects.get(instance_id=int(grant.process_instance_id), element_id="owner_review")
    assert task.candidate_role == "data_owner" and task.candidate_org.code == "yx-rsj" and task.limit_days == 10
    # Only the owner's data owner decides.
    for outsider in ("approver-rsj", "data-ga", "approver-scjg"):
        with pytest.raises(ExchangeError) as exc:
            services.decide_grant(grant, actor=u[outsider], approve=True)
        assert exc.value.code == errors.FORBIDDEN
    # Narrowing is allowed, widening is not.
    with pytest.raises(ExchangeError, match="缩小"):
        services.decide_grant(grant, actor=u["data-rsj"], approve=True, fields=["id_number", "name", "months_paid"])
    expires = timezone.now() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # the process's own hook is a no-op now
        grant = services.decide_grant(grant, actor=u["data-rsj"], approve=True, note="同意",
                                      fields=["id_number", "status"], unmasked_fields=[], expires_at=expires)
    assert callbacks
    grant.refresh_from_db()
    assert grant.status == Grant.Status.APPROVED and grant.fields == ["id_number", "status"]
    assert grant.decided_by == u["data-rsj"] and grant.expires_at == expires
    task.refresh_from_db()
    assert task.state == Task.State.COMPLETED and task.outcome == "approve"
    assert ProcessInstance.objects.get(pk=int(grant.process_instance_id)).status == "completed"
    with pytest.raises(ExchangeError) as exc:
        services.decide_grant(grant, actor=u["data-rsj"], approve=False, note="再审")
    assert exc.value.code == errors.BAD_STATE
    assert AuditLog.objects.filter(action="exchange.grant.approve", object_id=str(grant.pk)).exists()


def test_a_decision_on_the_workflow_workbench_reaches_the_grant(exchange_demo, django_capture_on_commit_callbacks):
    from tongban.workflow import services as wf
    from tongban.workflow.models import Task

    u = users()
    grant = services.request_grant(resource=resource("real_estate_register"), consumer="yx-mz", fields=["location"],
                                   purpose="低保核查", legal_basis="《社会救助暂行办法》", actor=None)
    task = Task.objects.get(instance_id=int(grant.process_instance_id), element_id="owner_review")
    with pytest.raises(wf.WorkflowError):
        wf.complete(task, u["data-ga"], outcome="reject", opinion="无关部门")  # not the owner's data owner
    with django_capture_on_commit_callbacks(execute=True):
        wf.complete(task, u["data-zrzy"], outcome="reject", opinion="用途与资源不符")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REJECTED
    assert grant.decision_note == "用途与资源不符" and grant.decided_by == u["data-zrzy"]


def test_reject_needs_a_reason_and_bad_requests_change_nothing(exchange_demo):
    u = users()
    res = resource("household_register")
    before = Grant.objects.count()
    bad = [
        dict(fields=[], purpose="p", legal_basis="b"),
        dict(fields=["nope"], purpose="p", legal_basis="b"),
        dict(fields=["gender"], unmasked_fields=["name"], purpose="p", legal_basis="b"),
        dict(fields=["household_type"], unmasked_fields=["household_type"], purpose="p", legal_basis="b"),
        dict(fields=["name"], purpose=" ", legal_basis="b"),
        dict(fields=["name"], purpose="p", legal_basis="b", expires_at=timezone.now() - timedelta(days=1)),
    ]
    for kwargs in bad:
        with pytest.raises(ExchangeError) as exc:
            services.request_grant(resource=res, consumer="yx-mz", actor=None, **kwargs)
        assert exc.value.code == errors.INVALID
    with pytest.raises(ExchangeError) as exc:  # a citizen cannot ask on behalf of a department
        services.request_grant(resource=res, consumer="yx-mz", fields=["name"], purpose="p", legal_basis="b",
                               actor=u["zhangsan"])
    assert exc.value.code == errors.FORBIDDEN
    assert Grant.objects.count() == before
    grant = services.request_grant(resource=res, consumer="yx-mz", fields=["name"], purpose="p", legal_basis="b")
    with pytest.raises(ExchangeError, match="理由"):
        services.decide_grant(grant, actor=u["data-ga"], approve=False, note="")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REQUESTED


def test_unconditional_is_approved_at_once_not_shared_is_refused(exchange_demo):
    grant = services.request_grant(resource=resource("business_register"), consumer="yx-mz",
                                   fields=["enterprise_name"], purpose="p", legal_basis="b")
    assert grant.status == Grant.Status.APPROVED and grant.expires_at > timezone.now() + timedelta(days=300)
    assert not grant.process_instance_id
    secret = services.save_resource(
        code="criminal_record", name="违法犯罪记录", owner="yx-ga",
        schema={"type": "object", "properties": {"id_number": {"type": "string"}}},
        field_sensitivity={"id_number": "sensitive_personal"}, subject_field="id_number",
        sharing_type=SharingType.NOT_SHARED, not_shared_basis="《中华人民共和国刑事诉讼法》")
    with pytest.raises(ExchangeError) as exc:
        services.request_grant(resource=secret, consumer="yx-mz", fields=["id_number"], purpose="p", legal_basis="b")
    assert exc.value.code == errors.NOT_SHAREABLE


def test_revoke_and_expire(exchange_demo):
    u = users()
    grant = Grant.objects.get(consumer__code="yx-scjg", resource__code="household_register")
    with pytest.raises(ExchangeError):
        services.revoke_grant(grant, actor=u["data-scjg"], reason="x")  # not the owner (yx-ga)
    with pytest.raises(ExchangeError, match="原因"):
        services.revoke_grant(grant, actor=u["data-ga"], reason=" ")
    services.revoke_grant(grant, actor=u["data-ga"], reason="用途已结束")
    grant.refresh_from_db()
    assert grant.status == Grant.Status.REVOKED and grant.revoked_reason == "用途已结束" and grant.revoked_at
    with pytest.raises(ExchangeError) as exc:
        services.revoke_grant(grant, actor=u["data-ga"], reason="again")
    assert exc.value.code == errors.BAD_STATE
    other = Grant.objects.get(consumer__code="yx-sw", resource__code="business_register")
    Grant.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.expire_grants() == 1
    other.refresh_from_db()
    assert other.status == Grant.Status.EXPIRED


# --- consents, clients, plans ---------------------------------------------------------------------


def test_consent_is_idempotent_only_for_oneself_and_can_be_withdrawn(exchange_demo):
    u = users()
    c1 = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                               purpose="开办企业", case_ref="A-1", user=u["zhangsan"])
    c2 = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                               purpose="开办企业", case_ref="A-1", user=u["zhangsan"])
    assert c1.pk == c2.pk
    with pytest.raises(ExchangeError) as exc:
        services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                              purpose="x", user=u["lisi"])
    assert exc.value.code == errors.FORBIDDEN
    with pytest.raises(ExchangeError) as exc:
        services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="nowhere", purpose="x")
    assert exc.value.code == errors.UNKNOWN_CONSUMER
    with pytest.raises(ExchangeError):
        services.withdraw_consent(c1, user=u["lisi"])
    services.withdraw_consent(c1, user=u["zhangsan"])
    c1.refresh_from_db()
    assert c1.withdrawn_at is not None
    # a clerk may record a consent given on paper at the window
    c3 = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg",
                               purpose="窗口书面授权", case_ref="A-1", user=u["clerk"])
    assert c3.pk != c1.pk and Consent.objects.filter(pii.matching("subject_id", ZHANGSAN),
                                                         withdrawn_at__isnull=True).count() == 1


def test_client_keys_are_hashed_and_checked(demo_core):
    client, key = services.create_client(name="测试系统", organisation="yx-ga")
    assert key.startswith(client.key_prefix + ".") and key.split(".", 1)[1] not in client.key_hash
    assert services.authenticate_client(key) == client
    assert services.authenticate_client(key + "x") is None
    assert services.authenticate_client("nonsense") is None
    assert services.authenticate_client(None) is None
    ExchangeClient.objects.filter(pk=client.pk).update(active=False)
    assert services.authenticate_client(key) is None


def test_preview_evidence_plan_says_who_what_and_why_not(exchange_demo):
    class Wallet:
        name = "wallet"
        organisation_code = "yx-wsjk"

        def fetch(self, request):  # pragma: no cover - not called by the preview
            raise AssertionError

    register_provider(ISSUED, "test_licence", Wallet())
    services.give_consent(subject_id=ZHANGSAN, code="birth_medical_certificate", consumer_org="yx-ga",
                          purpose="出生登记", case_ref="B-1")
    plan = services.preview_evidence_plan(
        [{"source": SHARED, "code": "birth_medical_certificate", "name": "出生医学证明"},
         {"source": SHARED, "code": "social_insurance", "name": "参保证明"},
         {"source": ISSUED, "code": "test_licence", "name": "电子证照"},
         {"source": ISSUED, "code": "no_such_licence", "name": "无"}],
        ZHANGSAN, "yx-ga", case_ref="B-1")
    birth, social, licence, missing = plan
    assert birth["available"] and birth["provider_org"] == "yx-wsjk" and birth["consent_required"]
    assert birth["consent_given"] is True
    masked = {f["name"] for f in birth["fields"] if f["masked"]}
    assert "guardian_id_number" in masked and "child_name" not in masked
    assert not social["available"] and "授权" in social["reason"]
    assert licence["available"] and licence["provider_org_name"] == Organisation.objects.get(code="yx-wsjk").name
    assert not licence["consent_given"]
    assert not missing["available"] and "上传" in missing["reason"]


def test_demo_grants_cover_every_shared_material_of_the_catalogue(exchange_demo):
    """With the demo catalogue loaded, each department can fetch every shared-data material it asks for."""
    from rich.console import Console

    from tongban.catalog import demo as catalog_demo
    from tongban.catalog.models import Material
    from tongban.exchange import demo

    catalog_demo.load(Console(quiet=True))
    demo.load(Console(quiet=True))
    materials = list(Material.objects.filter(source=Material.Source.SHARED).select_related("item__implementing_org"))
    assert materials, "the demo catalogue has shared-data materials"
    for m in materials:
        plan = services.preview_evidence_plan([{"source": SHARED, "code": m.data_resource, "name": m.name}],
                                              ZHANGSAN, m.item.implementing_org.code)
        assert plan[0]["available"], (m.item.code, m.data_resource, plan[0]["reason"])
