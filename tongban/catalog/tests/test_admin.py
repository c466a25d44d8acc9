from __future__ import annotations

import pytest

from tongban.catalog.models import DutyList, ItemStatus, ServiceItem
from tongban.core.models import AuditLog, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, catalog_small):
    client.force_login(User.objects.get(username="admin"))
    return client


def test_admin_pages_open(staff):
    item = ServiceItem.objects.get(code="T-SCJG-XK-0001-01")
    for url in ("/admin/catalog/serviceitem/", f"/admin/catalog/serviceitem/{item.pk}/change/",
                f"/admin/catalog/serviceitem/{item.pk}/history/", "/admin/catalog/bundle/",
                "/admin/catalog/dutylist/", "/admin/catalog/dutylist/add/"):
        assert staff.get(url).status_code == 200, url
    html = staff.get(f"/admin/catalog/serviceitem/{item.pk}/change/").content.decode()
    assert "食品经营许可申请书" in html and "餐饮服务" in html  # material and situation inlines


def test_published_list_is_read_only_and_a_new_draft_copies_it(staff):
    v2 = DutyList.objects.get(organisation__code="yx-scjg", version=2)
    html = staff.get(f"/admin/catalog/dutylist/{v2.pk}/change/").content.decode()
    assert 'name="_save"' not in html and "食品安全抽样检验" in html
    response = staff.post("/admin/catalog/dutylist/add/", {"organisation": v2.organisation.pk,
                                                            "effective_date": "2026-10-01",
                                                            "change_reason": "年度调整"})
    assert response.status_code == 302
    draft = DutyList.objects.get(organisation__code="yx-scjg", version=3)
    assert draft.status == DutyList.Status.DRAFT and str(draft.effective_date) == "2026-10-01"
    assert list(draft.powers.values_list("code", flat=True)) == ["P01", "P02", "P04"]
    assert 'name="_save"' in staff.get(f"/admin/catalog/dutylist/{draft.pk}/change/").content.decode()
    # A second draft for the same organisation is refused.
    again = staff.post("/admin/catalog/dutylist/add/", {"organisation": v2.organisation.pk})
    assert again.status_code == 200 and "已有未发布的草稿 v3" in again.content.decode()

    response = staff.post("/admin/catalog/dutylist/", {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == DutyList.Status.PUBLISHED and draft.published_by.username == "admin"
    assert AuditLog.objects.filter(action="catalog.list.published", object_id=str(draft.pk),
                                   actor__username="admin").exists()


def test_item_actions(staff):
    item = ServiceItem.objects.get(code="T-GA-BA-0001")
    staff.post("/admin/catalog/serviceitem/", {"action": "retire", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.RETIRED, 2)
    staff.post("/admin/catalog/serviceitem/", {"action": "publish", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert (item.status, item.version) == (ItemStatus.PUBLISHED, 3)
    assert item.history.latest().history_user.username == "admin"
