"""A small catalogue for application tests: two items of two departments, one bundle of both."""

from __future__ import annotations

import pytest

from tongban.catalog.models import Bundle, BundleItem, Material, ServiceItem, Situation
from tongban.core.models import Organisation, User

PERSON = {
    "applicant_name": {"type": "string", "title": "申请人姓名", "minLength": 1},
    "applicant_phone": {"type": "string", "title": "联系电话", "pattern": "^1[0-9]{10}$"},
}


def make_item(code: str, name: str, dept: Organisation, *, commitment: bool = False, extra: dict | None = None,
              online: str = "at_most_once") -> ServiceItem:
    item = ServiceItem.objects.create(
        code=code, name=name, item_type="licensing", competent_department=dept, implementing_org=dept,
        exercise_level="city", statutory_limit_days=20, promised_limit_days=5, onsite_visits=1,
        commitment_allowed=commitment, online_level=online, result_name=f"{name}决定书",
        process_steps=[{"name": "受理"}, {"name": "补正材料", "excluded": True}, {"name": "决定"}],
        form_schema={"type": "object", "properties": {**PERSON, **(extra or {})},
                     "required": ["applicant_name", *list(extra or {})]},
    )
    return item


@pytest.fixture
def small_catalog(demo_core, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    scjg = Organisation.objects.get(code="yx-scjg")
    xf = Organisation.objects.get(code="yx-xf")
    shop = make_item("T-SHOP-01", "食品经营许可", scjg, commitment=True,
                     extra={"shop_address": {"type": "string", "title": "经营场所"}})
    fire = make_item("T-FIRE-01", "消防安全检查", xf,
                     extra={"shop_address": {"type": "string", "title": "经营场所"},
                            "shop_area_sqm": {"type": "number", "title": "面积", "minimum": 1}})
    for item in (shop, fire):
        Material.objects.create(item=item, code="ID", name="申请人身份证明", requirement="required",
                                commitment_replaceable=False)
        Material.objects.create(item=item, code="PLAN", name=f"{item.name}场所平面图", requirement="tolerable",
                                commitment_replaceable=True)
    Material.objects.create(item=shop, code="BL", name="营业执照", source="issued", licence_type="business_licence",
                            requirement="required", commitment_replaceable=True)
    lease = Material.objects.create(item=fire, code="LEASE", name="租赁合同", requirement="required")
    own = Situation.objects.create(item=fire, code="OWN", name="自有场所", conditions={"premises": "自有"})
    own.materials.set(fire.materials.exclude(pk=lease.pk))
    rent = Situation.objects.create(item=fire, code="RENT", name="租赁场所", conditions={"premises": "租赁"})
    rent.materials.set(fire.materials.all())
    bundle = Bundle.objects.create(code="T-BUNDLE", name="开店一件事", promised_limit_days=7)
    BundleItem.objects.create(bundle=bundle, item=shop, order=1)
    BundleItem.objects.create(bundle=bundle, item=fire, order=2)
    return {"shop": shop, "fire": fire, "bundle": bundle}


@pytest.fixture
def users(demo_core):
    return {u.username: u for u in User.objects.all()}
