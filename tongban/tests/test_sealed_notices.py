"""告知文书 are sealed like licences: the applications context asks core.sealing, credentials seals (PAdES)."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.applications import files, services
from tongban.applications.models import Notice
from tongban.applications.tests.conftest import make_item
from tongban.catalog.models import Material
from tongban.core import sealing, site
from tongban.core.models import Organisation, User
from tongban.credentials import keys, seal

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(demo_core, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    item = make_item("T-SEAL-01", "食品经营许可", Organisation.objects.get(code="yx-scjg"),
                     extra={"shop_address": {"type": "string", "title": "经营场所"}})
    Material.objects.create(item=item, code="ID", name="申请人身份证明", requirement="required")
    return User.objects.get(username="zhangsan"), User.objects.get(username="clerk")


def test_a_one_time_notice_carries_the_service_centres_pades_seal(shop):
    zhang, clerk = shop
    app = services.create_application(user=zhang, item_code="T-SEAL-01")
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    notice = services.issue_one_time_notice(app, clerk)
    with files.open_file(notice.file) as fh:
        pdf = fh.read()
    check = seal.validate_pdf(pdf, [keys.root_ca().certificate])
    centre = Organisation.objects.get(code=site.current().service_centre_code)
    assert check.ok, check.reason
    assert centre.name in check.signer
    assert notice.content["seal"]["signer"] == centre.name
    # a changed byte breaks the seal
    tampered = pdf.replace(b"/Producer", b"/Producex", 1)
    assert tampered != pdf and not seal.validate_pdf(tampered, [keys.root_ca().certificate]).ok
    # the public check says so
    body = Client().get(f"/api/notices/{notice.code}/verify").json()
    assert body["sealed"] is True and body["seal_signer"] == centre.name
    page = Client().get(f"/notices/verify/{notice.code}/").content.decode()
    assert f"已加盖 {centre.name} 电子印章" in page
    assert Notice.objects.filter(pk=notice.pk, file__sha256=notice.file.sha256).exists()


def test_without_a_sealer_a_notice_is_issued_unsealed_and_says_so(shop):
    zhang, clerk = shop
    with sealing.SEALERS.isolated():
        sealing.SEALERS.unregister("pdf")
        app = services.create_application(user=zhang, item_code="T-SEAL-01")
        services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
        notice = services.issue_one_time_notice(app, clerk)
    assert "seal" not in notice.content
    body = Client().get(f"/api/notices/{notice.code}/verify").json()
    assert body["sealed"] is False
    assert "未加盖电子印章" in Client().get(f"/notices/verify/{notice.code}/").content.decode()
