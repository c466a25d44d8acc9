from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core import events
from tongban.core.demo import ID_NUMBERS
from tongban.core.models import AuditLog, User
from tongban.credentials import conf, selectors, services
from tongban.credentials.errors import InvalidData, InvalidTransition, NotFound
from tongban.credentials.models import Credential, CredentialEvent, StatusList

from .conftest import COMPANY

pytestmark = pytest.mark.django_db


def _zhangsan():
    user = User.objects.get(username="zhangsan")
    return {"kind": "natural", "name": user.display_name, "id_number": user.id_number, "user_id": user.pk}


BIRTH = {"child_name": "张小溪", "sex": "男", "birth_date": "2025-10-08", "mother_name": "王丽"}


def test_issue_stores_pdf_vc_number_and_status_entry(business_licence):
    c = business_licence
    assert c.licence_number == f"YYZZ-YX-SCJG-{c.valid_from.year}-000001"
    assert c.holder_name == COMPANY and c.holder_id_number == ID_NUMBERS["yunxi-tech"]
    assert c.data["name"] == COMPANY and c.data["credit_code"] == ID_NUMBERS["yunxi-tech"]  # filled from holder
    assert c.valid_until is None  # 长期
    pdf = (conf.media_root() / c.pdf_path).read_bytes()
    assert pdf.startswith(b"%PDF-") and c.pdf_path.startswith("credentials/")
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == c.pdf_sha256
    assert (conf.media_root() / c.pdf_path.replace(".pdf", ".vc.jwt")).read_text() == c.vc_jws
    assert c.revocation_list.purpose == "revocation" and c.suspension_list.purpose == "suspension"
    assert c.status_list_index == 0
    assert c.events.filter(kind=CredentialEvent.Kind.ISSUED).count() == 1
    assert AuditLog.objects.filter(action="credentials.issue", object_id=str(c.pk)).exists()


def test_numbers_are_per_type_issuer_and_year_and_status_indices_are_unique(licence_types):
    a = services.issue_credential("birth_medical_certificate", _zhangsan(), BIRTH)
    b = services.issue_credential("birth_medical_certificate", _zhangsan(), {**BIRTH, "child_name": "张小河"})
    other = services.issue_credential("resident_id_card", _zhangsan(), {})
    year = a.valid_from.year
    assert a.licence_number == f"CSYXZM-YX-WSJK-{year}-000001"
    assert b.licence_number == f"CSYXZM-YX-WSJK-{year}-000002"
    assert other.licence_number == f"SFZ-YX-GA-{year}-000001"
    assert (a.status_list_index, b.status_list_index) == (0, 1)
    assert other.status_list_index == 0 and other.revocation_list_id == "yx-ga-revocation-1"
    assert other.valid_until == other.valid_from.replace(year=other.valid_from.year + 20) - dt.timedelta(days=1)


def test_schema_errors_are_clear_and_create_nothing(licence_types):
    before = (Credential.objects.count(), StatusList.objects.count())
    with pytest.raises(InvalidData) as info:
        services.issue_credential("birth_medical_certificate", _zhangsan(),
                                  {"child_name": "", "sex": "未知", "birth_date": "2025-13-45", "colour": "red"})
    err = info.value
    assert err.code == "credentials.invalid_data"
    fields = {d["field"] for d in err.detail}
    assert {"child_name", "sex", "birth_date", "mother_name"} <= fields
    assert "母亲姓名：缺少必填字段" in err.message and "出生日期" in err.message and "colour" in err.message
    by_field = {d["field"]: d for d in err.detail}
    assert by_field["mother_name"]["label"] == "母亲姓名" and by_field["sex"]["message"].startswith("取值")
    assert by_field["colour"]["message"] == "不允许的字段 “colour”"
    assert (Credential.objects.count(), StatusList.objects.count()) == before
    assert not list(conf.media_root().glob("credentials/**/*.pdf"))


def test_holder_problems_are_refused(licence_types):
    with pytest.raises(InvalidData) as info:
        services.issue_credential("business_licence", _zhangsan(), {})
    assert info.value.code == "credentials.holder_kind_mismatch"
    with pytest.raises(InvalidData) as info:
        services.issue_credential("resident_id_card", {"kind": "natural", "name": "某人", "id_number": ""}, {})
    assert info.value.code == "credentials.invalid_holder"
    with pytest.raises(NotFound) as nf:
        services.issue_credential("no_such_type", _zhangsan(), {})
    assert nf.value.code == "credentials.unknown_licence_type"
    with pytest.raises(NotFound):
        services.issue_credential("resident_id_card", _zhangsan(), {}, issuer_org="nowhere")
    assert Credential.objects.count() == 0


def test_holder_from_user_with_blank_id_number_is_matched_by_user(licence_types):
    user = User.objects.get(username="lisi")
    user.id_number = ""
    user.save()
    c = services.issue_credential("resident_id_card", {"kind": "natural", "name": "李四", "id_number": "X1",
                                                       "user_id": user.pk}, {})
    assert list(selectors.credentials_for_holder(user)) == [c]
    assert selectors.is_holder(user, c)


def test_status_changes_with_reason_and_revocation_is_final(business_licence, demo_core):
    clerk = User.objects.get(username="approver-scjg")
    c = business_licence
    with pytest.raises(InvalidData) as info:
        services.suspend_credential(c.id, reason="  ")
    assert info.value.code == "credentials.reason_required"
    services.suspend_credential(c.id, reason="经营异常核查", actor=clerk)
    c.refresh_from_db()
    assert c.status == "suspended" and c.status_reason == "经营异常核查" and c.status_changed_at
    with pytest.raises(InvalidTransition):
        services.suspend_credential(c.id, reason="again")
    services.reinstate_credential(c.id, reason="核查完毕", actor=clerk)
    services.revoke_credential(c.id, reason="申请人撤回登记", actor=clerk)
    with pytest.raises(InvalidTransition) as info:
        services.reinstate_credential(c.id, reason="恢复")
    assert info.value.code == "credentials.already_revoked"
    kinds = list(c.events.values_list("kind", flat=True))
    assert kinds == ["issued", "suspended", "reinstated", "revoked"]
    assert c.events.get(kind="revoked").actor == clerk
    assert AuditLog.objects.filter(action="credentials.revoke", reason="申请人撤回登记").exists()
    with pytest.raises(NotFound):
        services.revoke_credential("00000000-0000-0000-0000-000000000000", reason="x")


def test_status_list_credential_reflects_the_bits(business_licence):
    from tongban.credentials import bitstring, vc

    c = business_licence
    payload, token = services.status_list_credential(c.revocation_list_id)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["credentialSubject"]["statusPurpose"] == "revocation"
    bits = bitstring.decode(payload["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072 and not bitstring.get_bit(bits, c.status_list_index)
    services.revoke_credential(c.id, reason="撤销")
    payload, token = services.status_list_credential(c.revocation_list_id)
    assert bitstring.get_bit(bitstring.decode(payload["credentialSubject"]["encodedList"]), c.status_list_index)
    header, signed_payload, _raw = vc.split(token)
    assert header["typ"] == "vc+jwt" and signed_payload == payload
    with pytest.raises(NotFound):
        services.status_list_credential("nope")


def test_decision_made_issues_once(licence_types, company_user, django_capture_on_commit_callbacks):
    received = []

    def on_issued(sender, **kwargs):
        received.append(kwargs)

    events.credential_issued.connect(on_issued)
    try:
        holder = {"kind": "legal", "name": COMPANY, "credit_code": ID_NUMBERS["yunxi-tech"], "user_id": company_user.pk}
        kwargs = dict(application_ref="YX-2025-000777", item_code="ITEM-FOOD", outcome="approved", holder=holder,
                      result={"licence_type": "food_operation_licence", "data": {"main_business": "小型餐馆"}},
                      organisation_code="yx-scjg")
        with django_capture_on_commit_callbacks(execute=True):
            events.decision_made.send(sender=None, **kwargs)
            events.decision_made.send(sender=None, **kwargs)  # delivered twice: still one licence
        events.decision_made.send(sender=None, **{**kwargs, "outcome": "rejected", "application_ref": "R-1"})
    finally:
        events.credential_issued.disconnect(on_issued)
    issued = Credential.objects.filter(application_ref="YX-2025-000777")
    assert issued.count() == 1
    c = issued.get()
    assert c.licence_type.code == "food_operation_licence" and c.data["operator_name"] == COMPANY
    assert c.valid_until is not None
    assert not Credential.objects.filter(application_ref="R-1").exists()
    assert received == [{"signal": events.credential_issued, "credential_id": str(c.id),
                         "licence_type": "food_operation_licence", "holder_id_number": ID_NUMBERS["yunxi-tech"],
                         "status": "active", "application_ref": "YX-2025-000777",
                         "licence_name": c.licence_type.name, "number": c.licence_number,
                         "valid_until": f"{c.valid_until.year}年{c.valid_until.month}月{c.valid_until.day}日"}]
    # the holder is told (我的消息): notifications reacts to credential_issued
    from tongban.notifications.models import Message

    told = Message.objects.get(recipient=company_user, event="credential.issued")
    assert told.subject == f"您的电子证照已发放：{c.licence_type.name}" and c.licence_number in told.body
    assert told.link == "/credentials/wallet/"


def test_decision_with_bad_data_does_not_break_the_sender(licence_types):
    events.decision_made.send(
        sender=None, application_ref="YX-BAD", item_code="I", outcome="approved",
        holder={"kind": "natural", "name": "张三", "id_number": ID_NUMBERS["zhangsan"]},
        result={"licence_type": "birth_medical_certificate", "data": {"child_name": "x"}}, organisation_code="")
    assert not Credential.objects.filter(application_ref="YX-BAD").exists()
    failure = AuditLog.objects.get(action="credentials.issue_failed", object_id="YX-BAD")
    assert failure.detail["code"] == "credentials.invalid_data"


def test_failed_post_check_revokes_the_application_results(business_licence):
    events.post_check_failed.send(sender=None, application_ref=business_licence.application_ref, holder={},
                                  reason="现场核查与承诺不符")
    business_licence.refresh_from_db()
    assert business_licence.status == "revoked" and "现场核查与承诺不符" in business_licence.status_reason


def test_download_tokens(business_licence, licence_types):
    token = services.download_token(business_licence)
    assert services.check_download_token(token, business_licence)
    other = services.issue_credential("resident_id_card", _zhangsan(), {})
    assert not services.check_download_token(token, other)
    assert not services.check_download_token(token + "x", business_licence)


def test_expired_tokens_are_refused(business_licence, settings, monkeypatch):
    token = services.download_token(business_licence)
    settings.TONGBAN_CREDENTIAL_TOKEN_MAX_AGE = 60
    later = timezone.now().timestamp() + 120
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert not services.check_download_token(token, business_licence)


def test_decision_without_licence_type_is_matched_by_result_name(licence_types, company_user):
    from tongban.catalog.models import ServiceItem
    from tongban.core.models import Organisation

    scjg = Organisation.objects.get(code="yx-scjg")
    ServiceItem.objects.create(code="ITEM-FOOD-NEW", name="食品经营许可证核发", item_type="licensing",
                               competent_department=scjg, implementing_org=scjg, exercise_level="city",
                               result_name="《食品经营许可证》")
    holder = {"kind": "legal", "name": COMPANY, "id_number": ID_NUMBERS["yunxi-tech"], "user_id": company_user.pk}
    bundle_form = {"main_business": "小型餐馆", "address": "翠湖路90号", "employees": 12, "bank": "农商行",
                   "legal_representative": ""}
    events.decision_made.send(sender=None, application_ref="YX-B-1", item_code="ITEM-FOOD-NEW", outcome="approved",
                              holder=holder, result={"data": bundle_form}, organisation_code="yx-scjg")
    food = Credential.objects.get(application_ref="YX-B-1")
    assert food.licence_type.code == "food_operation_licence"
    assert food.data == {"operator_name": COMPANY, "credit_code": ID_NUMBERS["yunxi-tech"],
                         "main_business": "小型餐馆", "address": "翠湖路90号"}
    events.decision_made.send(sender=None, application_ref="YX-B-2", item_code="ITEM-SEAL", outcome="approved",
                              holder=holder, result={"result_name": "印章刻制备案回执", "data": {}},
                              organisation_code="yx-ga")
    events.decision_made.send(sender=None, application_ref="YX-B-3", item_code="ITEM-X", outcome="approved",
                              holder=holder, result={"result_name": "营业执照（电子营业执照）", "data": bundle_form},
                              organisation_code="yx-scjg")
    assert not Credential.objects.filter(application_ref="YX-B-2").exists()
    assert Credential.objects.get(application_ref="YX-B-3").licence_type.code == "business_licence"
