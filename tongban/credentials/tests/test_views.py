from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User
from tongban.credentials import conf, services

pytestmark = pytest.mark.django_db


def _birth_certificate():
    user = User.objects.get(username="zhangsan")
    return services.issue_credential("birth_medical_certificate", user, {
        "child_name": "张小溪", "sex": "男", "birth_date": "2025-10-08", "mother_name": "王丽",
        "mother_id_number": "910102199203052346"})


def test_verify_page_shows_status_without_personal_data(client, licence_types):
    credential = _birth_certificate()
    html = client.get(f"/verify/{credential.id}/").content.decode()
    assert credential.licence_number in html and "出生医学证明" in html and "云溪市卫生健康委员会" in html
    assert "张*" in html and "有效" in html
    for secret in ("张三", ID_NUMBERS["zhangsan"], "王丽", "910102199203052346", "张小溪"):
        assert secret not in html, secret


def test_company_names_may_show(client, business_licence):
    html = client.get(f"/verify/{business_licence.id}/").content.decode()
    assert "云溪星火科技有限公司" in html and ID_NUMBERS["yunxi-tech"] not in html


def test_verify_page_reflects_revocation_at_once(client, business_licence):
    url = f"/verify/{business_licence.id}/"
    assert 'data-status="active"' in client.get(url).content.decode()
    services.revoke_credential(business_licence.id, reason="依法撤销登记")
    response = client.get(url)
    html = response.content.decode()
    assert 'data-status="revoked"' in html and "已撤销" in html and "依法撤销登记" in html
    assert response["Cache-Control"] == "no-store"
    assert client.get("/verify/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_verify_page_checks_uploaded_pdfs_and_pasted_vcs(client, business_licence):
    pdf = (conf.media_root() / business_licence.pdf_path).read_bytes()
    html = client.post("/verify/", {"file": SimpleUploadedFile("x.pdf", pdf, "application/pdf")}).content.decode()
    assert 'data-result="credentials.valid"' in html and business_licence.licence_number in html
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream") + 30] ^= 0x01
    html = client.post("/verify/", {"file": SimpleUploadedFile("x.pdf", bytes(tampered))}).content.decode()
    assert "未通过" in html and 'data-result="credentials.valid"' not in html
    html = client.post(f"/verify/{business_licence.id}/", {"vc": business_licence.vc_jws}).content.decode()
    assert 'data-result="credentials.valid"' in html
    html = client.post("/verify/", {}).content.decode()
    assert "请选择 PDF 文件" in html


def test_wallet_page_lists_own_credentials_with_download_links(client, business_licence, licence_types):
    birth = _birth_certificate()
    assert client.get("/credentials/wallet/").status_code == 302  # login first
    client.force_login(User.objects.get(username="zhangsan"))
    html = client.get("/credentials/wallet/").content.decode()
    assert birth.licence_number in html and business_licence.licence_number not in html
    assert f"/api/credentials/{birth.id}/pdf?token=" in html


def test_manage_page_lets_issuer_staff_change_status(business_licence, demo_core):
    staff = Client()
    staff.force_login(User.objects.get(username="approver-scjg"))
    assert business_licence.licence_number in staff.get("/credentials/manage/").content.decode()
    response = staff.post(f"/credentials/manage/{business_licence.id}/status/", {"action": "suspend",
                                                                                 "reason": "待核查"})
    assert response.status_code == 302
    business_licence.refresh_from_db()
    assert business_licence.status == "suspended"
    outsider = Client()
    outsider.force_login(User.objects.get(username="approver-ga"))
    assert business_licence.licence_number not in outsider.get("/credentials/manage/").content.decode()
    response = outsider.post(f"/credentials/manage/{business_licence.id}/status/", {"action": "revoke",
                                                                                    "reason": "x"})
    assert response.status_code == 403
    business_licence.refresh_from_db()
    assert business_licence.status == "suspended"
