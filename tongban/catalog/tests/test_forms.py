from __future__ import annotations

import pytest

from tongban.catalog.errors import CatalogError
from tongban.catalog.forms import ITEMS_KEY, FormConflict, merge_schemas, validate_form

A = {
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名"},
        "applicant_id_number": {"type": "string", "title": "身份证号", "pattern": "^[0-9]{17}[0-9X]$"},
        "shop_area_sqm": {"type": "number", "title": "经营面积"},
    },
    "required": ["applicant_name"],
}
B = {
    "type": "object",
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名"},
        "signboard_size": {"type": "string", "title": "招牌尺寸"},
        "applicant_id_number": {"type": "string", "title": "身份证号"},
    },
    "required": ["applicant_id_number", "signboard_size"],
}


def test_shared_fields_appear_once_and_list_their_items():
    merged = merge_schemas([("ITEM-A", A), ("ITEM-B", B), ("ITEM-C", None)], title="开店")
    props = merged["properties"]
    assert list(props) == ["applicant_name", "applicant_id_number", "shop_area_sqm", "signboard_size"]
    assert props["applicant_name"][ITEMS_KEY] == ["ITEM-A", "ITEM-B"]
    assert props["shop_area_sqm"][ITEMS_KEY] == ["ITEM-A"]
    # required in any item => required in the merged form
    assert set(merged["required"]) == {"applicant_name", "applicant_id_number", "signboard_size"}
    # the stricter definition (with pattern) is kept
    assert props["applicant_id_number"]["pattern"] == "^[0-9]{17}[0-9X]$"


def test_conflicting_types_are_reported():
    other = {"type": "object", "properties": {"shop_area_sqm": {"type": "string"}}}
    with pytest.raises(FormConflict, match="shop_area_sqm"):
        merge_schemas([("ITEM-A", A), ("ITEM-X", other)])


def test_validate_form_names_fields_in_chinese():
    merged = merge_schemas([("ITEM-A", A), ("ITEM-B", B)])
    errors = validate_form(merged, {"applicant_name": "张三", "applicant_id_number": "123"})
    fields = {e["field"] for e in errors}
    assert fields == {"applicant_id_number", "signboard_size"}
    assert any("招牌尺寸" in e["message"] for e in errors)
    assert validate_form(merged, {"applicant_name": "张三", "applicant_id_number": "91010219900101123X",
                                  "signboard_size": "3m×1m"}) == []


def test_validate_form_messages_come_from_the_core_translator():
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "area": {"type": "number", "title": "面积", "minimum": 1},
        "address": {"type": "object", "title": "地址", "required": ["city"],
                    "properties": {"city": {"type": "string", "title": "城市"}}},
        "tags": {"type": "array", "items": {"type": "string", "title": "标签"}},
    }}
    errors = validate_form(schema, {"area": 0, "address": {}, "tags": ["a", 3], "colour": "red"})
    assert errors == [
        {"field": "address.city", "message": "请填写“城市”"},  # nested fields are named by their own title
        {"field": "area", "message": "“面积”格式不正确：不能小于 1（实际 0）"},
        {"field": "colour", "message": "不允许的字段 “colour”"},
        {"field": "tags.1", "message": "“标签”格式不正确：类型错误：应为字符串，实际为 3"},
    ]
    assert validate_form(schema, []) == [{"field": "", "message": "类型错误：应为对象，实际为 []"}]


def test_form_conflict_is_a_catalogue_error_with_status_409():
    other = {"type": "object", "properties": {"shop_area_sqm": {"type": "string"}}}
    with pytest.raises(FormConflict) as exc:
        merge_schemas([("ITEM-A", A), ("ITEM-X", other)])
    assert exc.value.code == "catalog.form_conflict" and exc.value.status == 409
    assert isinstance(exc.value, CatalogError) and isinstance(exc.value, ValueError)


@pytest.mark.django_db
def test_bundle_form_api_merges_fields_once(client):
    from rich.console import Console

    from tongban.catalog import demo as catalog_demo
    from tongban.core import demo as core_demo

    core_demo.load(Console(quiet=True))
    catalog_demo.load(Console(quiet=True))
    r = client.get("/api/catalog/bundles/YX-YJS-KBQY/form")
    assert r.status_code == 200
    body = r.json()
    names = [f["name"] for f in body["fields"]]
    assert len(names) == len(set(names))  # each field once
    shared = [f for f in body["fields"] if len(f["items"]) > 1]
    assert {"enterprise_name", "legal_representative"} <= {f["name"] for f in shared}
    item_codes = {i["code"] for i in body["items"]}
    assert all(set(f["items"]) <= item_codes for f in body["fields"])
    assert body["schema"]["properties"]["enterprise_name"][ITEMS_KEY] == next(
        f["items"] for f in body["fields"] if f["name"] == "enterprise_name")
    assert any(len(m["items"]) > 1 for m in body["materials"])
    missing = client.get("/api/catalog/bundles/NOPE/form")
    assert missing.status_code == 404 and missing.json()["code"] == "catalog.bundle_not_found"
    # Two items of the bundle asking the same field with different types: the core handler answers 409.
    from tongban.catalog.models import ServiceItem

    codes = sorted(item_codes)[:2]
    for code, kind in zip(codes, ("string", "integer"), strict=True):
        ServiceItem.objects.filter(code=code).update(form_schema={
            "type": "object", "properties": {"enterprise_name": {"type": kind}}})
    conflict = client.get("/api/catalog/bundles/YX-YJS-KBQY/form")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "catalog.form_conflict" and "enterprise_name" in conflict.json()["message"]
