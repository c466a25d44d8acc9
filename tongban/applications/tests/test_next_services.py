"""Life-event suggestions after an approval: from the catalogue's links and from the event log."""

from __future__ import annotations

import pytest

from tongban.applications import selectors
from tongban.applications.models import Application, ApplicationItem
from tongban.catalog.models import Material

from .conftest import make_item

pytestmark = pytest.mark.django_db


def _approved(user, item, *, applicant_id=None):
    app = Application.objects.create(ref=f"T{Application.objects.count():06d}", item=item, title=item.name,
                                     applicant=user, applicant_name=user.display_name, applicant_id_number="x",
                                     status=Application.Status.APPROVED)
    ApplicationItem.objects.create(application=app, item=item, department=item.competent_department,
                                   status=ApplicationItem.Status.APPROVED)
    return app


def test_suggestions_from_licence_links_bundles_and_what_others_did_next(small_catalog, users):
    shop, fire = small_catalog["shop"], small_catalog["fire"]
    shop.result_licence_type, shop.result_name = "food_operation_licence", "食品经营许可证"
    shop.save()
    sign = make_item("T-SIGN-01", "户外招牌设置许可", fire.competent_department)
    Material.objects.create(item=sign, code="FL", name="食品经营许可证", source="issued",
                            licence_type="food_operation_licence")
    tax = make_item("T-TAX-01", "发票领用", fire.competent_department)
    # the event log: lisi had the same item approved, then applied for 发票领用
    _approved(users["lisi"], shop)
    _approved(users["lisi"], tax)
    app = _approved(users["zhangsan"], shop)
    found = selectors.next_services(app)
    codes = [s["code"] for s in found]
    assert codes[:2] == ["T-SIGN-01", "T-FIRE-01"]
    assert "T-TAX-01" in codes
    reasons = {s["code"]: s["reason"] for s in found}
    assert "食品经营许可证" in reasons["T-SIGN-01"] and "开店一件事" in reasons["T-FIRE-01"]
    assert "1 人" in reasons["T-TAX-01"]
    # what the person already applied for is not offered again; nothing before an approval
    _approved(users["zhangsan"], sign)
    assert "T-SIGN-01" not in [s["code"] for s in selectors.next_services(app)]
    app.status = Application.Status.IN_REVIEW
    assert selectors.next_services(app) == []


def test_case_page_offers_the_next_services(small_catalog, users, client):
    app = _approved(users["zhangsan"], small_catalog["shop"])
    client.force_login(users["zhangsan"])
    html = client.get(f"/my/applications/{app.ref}/").content.decode()
    assert "您可能还需要办理" in html and "消防安全检查" in html
