from __future__ import annotations

import pytest

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
