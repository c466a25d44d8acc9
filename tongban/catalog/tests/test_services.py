from __future__ import annotations

import copy
import datetime as dt

import pytest

from tongban.catalog import selectors, services
from tongban.catalog.errors import CatalogError, FrozenListError
from tongban.catalog.models import DutyList, ItemStatus, PowerEntry, ServiceItem
from tongban.core.models import AuditLog, Organisation, User

pytestmark = pytest.mark.django_db

ITEM = {
    "code": "X-1",
    "name": "测试事项",
    "item_type": "licensing",
    "competent_department": "yx-scjg",
    "implementing_org": "yx-scjg",
    "exercise_level": "city",
    "materials": [{"code": "A", "name": "申请书"}, {"code": "B", "name": "身份证明"}],
    "situations": [{"code": "S1", "name": "个人", "materials": ["B", "A"]}],
}


def _powers(*codes: str) -> list[dict[str, str]]:
    return [{"code": c, "name": f"职权{c}", "power_type": "licensing", "basis": "依据", "responsible_org": "某局"}
            for c in codes]


def _resp(power: str, code: str, text: str = "受理责任") -> dict[str, str]:
    return {"power_code": power, "code": code, "responsibilities": text, "accountability": "追责"}


@pytest.fixture
def admin_user(demo_core) -> User:
    return User.objects.get(username="admin")


@pytest.fixture
def scjg(demo_core) -> Organisation:
    return Organisation.objects.get(code="yx-scjg")


# --- items -------------------------------------------------------------------------------------


def test_upsert_item_creates_with_materials_and_situations(admin_user):
    item, status = services.upsert_item(ITEM, actor=admin_user, reason="新增测试事项")
    assert status == services.CREATED
    assert item.version == 1 and item.status == ItemStatus.PUBLISHED
    assert [m.code for m in item.materials.all()] == ["A", "B"]
    situation = item.situations.get()
    assert sorted(situation.materials.values_list("code", flat=True)) == ["A", "B"]
    record = item.history.latest()
    assert record.history_user == admin_user and record.history_change_reason == "新增测试事项"
    assert AuditLog.objects.filter(action="catalog.item.created", object_id=str(item.pk), actor=admin_user).exists()


def test_upsert_same_content_changes_nothing(admin_user):
    item, _ = services.upsert_item(ITEM, actor=admin_user)
    history, audits = item.history.count(), AuditLog.objects.count()
    again, status = services.upsert_item(copy.deepcopy(ITEM), actor=admin_user)
    assert status == services.UNCHANGED
    assert again.version == 1 and again.history.count() == history and AuditLog.objects.count() == audits


def test_published_change_bumps_version_and_replaces_materials(admin_user):
    item, _ = services.upsert_item(ITEM)
    material_a = item.materials.get(code="A")
    changed = copy.deepcopy(ITEM)
    changed["materials"] = [{"code": "A", "name": "申请书（新版）"}, {"code": "C", "name": "场所证明"}]
    changed["situations"] = [{"code": "S2", "name": "企业", "materials": ["C"]}]
    item, status = services.upsert_item(changed, actor=admin_user, reason="材料调整")
    assert status == services.UPDATED and item.version == 2
    assert [(m.code, m.name) for m in item.materials.all()] == [("A", "申请书（新版）"), ("C", "场所证明")]
    assert item.materials.get(code="A").pk == material_a.pk  # upserted by code, not recreated
    assert [s.code for s in item.situations.all()] == ["S2"]
    assert item.history.latest().history_change_reason == "材料调整"


def test_draft_edits_keep_version_publish_and_retire_bump(admin_user):
    draft = {**ITEM, "status": "draft"}
    item, _ = services.upsert_item(draft)
    item, _ = services.upsert_item({**draft, "name": "改名"})
    assert item.version == 1
    services.publish_item(item, actor=admin_user, reason="上线")
    assert item.status == ItemStatus.PUBLISHED and item.version == 2
    services.publish_item(item, actor=admin_user)  # already published: nothing
    assert item.version == 2
    services.retire_item(item, actor=admin_user, reason="事项取消")
    item.refresh_from_db()
    assert item.status == ItemStatus.RETIRED and item.version == 3
    assert [h.history_change_reason for h in selectors.item_history(item)][:2] == ["事项取消", "上线"]
    assert AuditLog.objects.filter(action="catalog.item.retired", reason="事项取消").count() == 1


def test_upsert_item_rejects_unknown_references(demo_core):
    with pytest.raises(CatalogError) as exc:
        services.upsert_item({**ITEM, "competent_department": "nope"})
    assert exc.value.code == "catalog.unknown_organisation"
    with pytest.raises(CatalogError) as exc:
        services.upsert_item({**ITEM, "node": "sub", "parent": "MISSING"})
    assert exc.value.code == "catalog.unknown_item"
    bad = copy.deepcopy(ITEM)
    bad["situations"][0]["materials"] = ["Z"]
    with pytest.raises(CatalogError) as exc:
        services.upsert_item(bad)
    assert exc.value.code == "catalog.unknown_material"
    assert not ServiceItem.objects.exists()  # each failure rolled back


def test_upsert_bundle(demo_core):
    services.upsert_item(ITEM)
    services.upsert_item({**ITEM, "code": "X-2", "competent_department": "yx-ga", "implementing_org": "yx-ga"})
    data = {"code": "B-1", "name": "一件事", "items": ["X-1", "X-2"], "optional_items": ["X-2"],
            "lead_department": "yx-scjg"}
    bundle, status = services.upsert_bundle(data)
    assert status == services.CREATED
    assert [(link.item.code, link.optional) for link in bundle.bundle_items.all()] == [("X-1", False), ("X-2", True)]
    assert services.upsert_bundle(data)[1] == services.UNCHANGED
    bundle, status = services.upsert_bundle({**data, "items": ["X-2", "X-1"], "optional_items": []})
    assert status == services.UPDATED
    assert [(link.item.code, link.optional) for link in bundle.bundle_items.all()] == [("X-2", False), ("X-1", False)]
    with pytest.raises(CatalogError):
        services.upsert_bundle({**data, "items": ["X-1", "NOPE"]})


# --- duty lists --------------------------------------------------------------------------------


def test_draft_publish_freeze_and_next_version(scjg, admin_user):
    draft = services.create_draft(scjg, actor=admin_user, reason="首次编制")
    assert draft.version == 1 and draft.status == DutyList.Status.DRAFT
    services.set_power(draft, _powers("P1")[0], actor=admin_user, reason="新增职权")
    services.set_responsibility(draft, _resp("P1", "R1"), actor=admin_user)
    with pytest.raises(CatalogError) as exc:
        services.create_draft(scjg)
    assert exc.value.code == "catalog.draft_exists"
    services.publish_duty_list(draft, effective_date=dt.date(2026, 1, 1), actor=admin_user, reason="公布")
    draft.refresh_from_db()
    assert draft.status == DutyList.Status.PUBLISHED and draft.published_by == admin_user

    # Published versions are frozen, through the services and on the model itself.
    with pytest.raises(FrozenListError, match="已发布"):
        services.set_power(draft, _powers("P2")[0])
    with pytest.raises(FrozenListError):
        services.remove_power(draft, "P1")
    entry = draft.powers.get()
    entry.name = "偷偷修改"
    with pytest.raises(FrozenListError):
        entry.save()
    with pytest.raises(FrozenListError):
        entry.delete()
    with pytest.raises(FrozenListError):
        services.publish_duty_list(draft)

    # The next draft copies the latest version's entries.
    v2 = services.create_draft(scjg, actor=admin_user, reason="职能调整")
    assert v2.version == 2
    assert list(v2.powers.values_list("code", "name")) == [("P1", "职权P1")]
    assert list(v2.responsibilities.values_list("code", flat=True)) == ["R1"]
    services.remove_power(v2, "P1", actor=admin_user, reason="职权取消")
    assert not v2.responsibilities.exists()  # its responsibilities go with it
    assert draft.powers.count() == 1  # v1 untouched


def test_publish_checks_dates_and_powers(scjg):
    v1 = services.create_version(scjg, powers=_powers("P1"), responsibilities=[], effective_date=dt.date(2026, 3, 1))
    draft = services.create_draft(scjg)
    with pytest.raises(CatalogError) as exc:
        services.publish_duty_list(draft, effective_date=dt.date(2026, 2, 1))
    assert exc.value.code == "catalog.effective_date_order"
    with pytest.raises(CatalogError) as exc:
        services.set_responsibility(draft, _resp("P9", "R9"))
    assert exc.value.code == "catalog.unknown_power"
    services.publish_duty_list(draft, effective_date=dt.date(2026, 3, 1))
    assert draft.version == v1.version + 1


def test_history_records_who_when_why(scjg, admin_user):
    draft = services.create_draft(scjg, actor=admin_user, reason="编制")
    services.set_power(draft, _powers("P1")[0], actor=admin_user, reason="依据新法规增加")
    services.set_power(draft, {**_powers("P1")[0], "name": "改名"}, actor=admin_user, reason="名称规范")
    services.publish_duty_list(draft, effective_date=dt.date(2026, 1, 1), actor=admin_user, reason="公布")
    records = PowerEntry.history.filter(code="P1").order_by("history_date")
    assert [(r.history_type, r.name, r.history_change_reason, r.history_user) for r in records] == [
        ("+", "职权P1", "依据新法规增加", admin_user),
        ("~", "改名", "名称规范", admin_user),
    ]
    rows = selectors.duty_list_history(draft)
    assert {"依据新法规增加", "名称规范", "公布"} <= {r["reason"] for r in rows}
    assert all(r["user"] == admin_user for r in rows)
    assert all(r["at"] is not None for r in rows)
    actions = list(AuditLog.objects.filter(object_type="catalog.dutylist", object_id=str(draft.pk))
                   .values_list("action", flat=True))
    assert {"catalog.list.draft_created", "catalog.list.power_set", "catalog.list.published"} <= set(actions)


def test_diff_between_versions(scjg):
    v1 = services.create_version(scjg, powers=_powers("P1", "P2", "P3"),
                                 responsibilities=[_resp("P1", "R1"), _resp("P3", "R3")],
                                 effective_date=dt.date(2026, 1, 1))
    powers = _powers("P1", "P2", "P4")
    powers[1]["basis"] = "新依据"
    powers[1]["notes"] = "依据调整"
    v2 = services.create_version(scjg, powers=powers, responsibilities=[_resp("P1", "R1", "受理和审查责任")],
                                 effective_date=dt.date(2026, 7, 1))
    diff = selectors.diff_duty_lists(v1, v2)
    assert [p["code"] for p in diff.powers.added] == ["P4"]
    assert [p["code"] for p in diff.powers.removed] == ["P3"]
    assert [(c.code, [(f.field, f.old, f.new) for f in c.changes]) for c in diff.powers.changed] == [
        ("P2", [("basis", "依据", "新依据"), ("notes", "", "依据调整")])]
    assert [r["code"] for r in diff.responsibilities.removed] == ["R3"]
    assert [(c.code, c.changes[0].field, c.changes[0].label) for c in diff.responsibilities.changed] == [
        ("R1", "responsibilities", "责任事项")]
    assert selectors.diff_duty_lists(v2, v2).empty


def test_current_version_follows_effective_dates(scjg):
    v1 = services.create_version(scjg, powers=_powers("P1"), responsibilities=[], effective_date=dt.date(2026, 1, 1))
    v2 = services.create_version(scjg, powers=_powers("P1", "P2"), responsibilities=[],
                                 effective_date=dt.date(2026, 7, 1))
    services.create_version(scjg, powers=_powers("P9"), responsibilities=[], publish=False)  # a draft never counts
    assert selectors.current_duty_list(scjg, dt.date(2025, 12, 31)) is None
    assert selectors.current_duty_list(scjg, dt.date(2026, 6, 30)) == v1
    assert selectors.current_duty_list(scjg, dt.date(2026, 7, 1)) == v2
    assert [d.version for d in selectors.duty_list_versions(scjg)] == [2, 1]
    assert [d.version for d in selectors.duty_list_versions(scjg, published_only=False)] == [3, 2, 1]
    listed = selectors.organisations_with_lists(dt.date(2026, 7, 2))
    assert [(s.organisation.code, s.current.version, s.power_count) for s in listed] == [("yx-scjg", 2, 2)]


def test_delete_draft(scjg, admin_user):
    services.create_version(scjg, powers=_powers("P1"), responsibilities=[], effective_date=dt.date(2026, 1, 1))
    draft = services.create_draft(scjg, actor=admin_user)
    services.delete_draft(draft, actor=admin_user, reason="作废")
    assert list(DutyList.objects.filter(organisation=scjg).values_list("version", flat=True)) == [1]
    assert services.create_draft(scjg).version == 2
