from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.catalog import services
from tongban.catalog.models import ServiceItem
from tongban.core.models import Organisation

pytestmark = pytest.mark.django_db


def test_search_is_paginated_with_total(client, catalog_small):
    body = client.get("/api/catalog/items", {"page_size": 4}).json()
    assert (body["count"], body["page"], body["page_size"], body["pages"]) == (6, 1, 4, 2)
    assert len(body["items"]) == 4
    page2 = client.get("/api/catalog/items", {"page_size": 4, "page": 2}).json()
    assert len(page2["items"]) == 2
    codes = [i["code"] for i in body["items"] + page2["items"]]
    assert codes == sorted(codes) and len(set(codes)) == 6
    beyond = client.get("/api/catalog/items", {"page": 9}).json()
    assert beyond["count"] == 6 and beyond["items"] == []
    assert client.get("/api/catalog/items", {"page": 0}).status_code == 422


def test_search_query_and_filters(client, catalog_small):
    body = client.get("/api/catalog/items", {"q": "食品 许可"}).json()
    # ranked (docs/catalog.md): the handling item a person applies for (新设) before its main item
    assert [i["code"] for i in body["items"]] == ["T-SCJG-XK-0001-01", "T-SCJG-XK-0001"]
    assert body["count"] == 2
    assert client.get("/api/catalog/items", {"q": "t-ga-ba"}).json()["count"] == 1  # code, any case
    assert [i["code"] for i in client.get("/api/catalog/items", {"department": "yx-ga"}).json()["items"]] == [
        "T-GA-BA-0001"]
    township = client.get("/api/catalog/items", {"exercise_level": "township"}).json()["items"]
    assert [(i["code"], i["implementing_org"]["code"]) for i in township] == [("T-MZ-JF-0001", "qs-ch-bmfw")]
    online = client.get("/api/catalog/items", {"online_level": "fully_online", "item_type": "filing"}).json()
    assert [i["code"] for i in online["items"]] == ["T-GA-BA-0001"]
    services.retire_item(ServiceItem.objects.get(code="T-GA-BA-0001"))
    assert client.get("/api/catalog/items", {"q": "公章"}).json()["count"] == 0


def test_item_detail_has_all_guide_elements(client, catalog_small):
    body = client.get("/api/catalog/items/T-SCJG-XK-0001-01").json()
    assert body["name"] == "食品经营许可证核发" and body["item_type_label"] == "行政许可"
    assert body["parent"] == {"code": "T-SCJG-XK-0001", "name": "食品经营许可"}
    assert body["handling_kind"] == "new" and body["handling_kind_label"] == "新设"
    assert (body["statutory_limit_days"], body["promised_limit_days"]) == (20, 5)
    materials = {m["code"]: m for m in body["materials"]}
    assert materials["M02"]["source"] == "issued" and materials["M02"]["licence_type"] == "business_licence"
    assert materials["M02"]["issuing_department"]["code"] == "yx-scjg" and materials["M02"]["waivable"]
    assert materials["M03"]["requirement"] == "tolerable" and materials["M03"]["commitment_replaceable"]
    assert [(s["code"], s["materials"]) for s in body["situations"]] == [
        ("S01", ["M01", "M02", "M03"]), ("S02", ["M01", "M02"])]
    assert body["situations"][0]["conditions"] == {"business_kind": "餐饮"}
    main = client.get("/api/catalog/items/T-SCJG-XK-0001").json()
    assert main["legal_basis"][0]["article"] == "第三十五条"
    assert main["excluded_steps"] == ["现场核查"]
    assert [s["name"] for s in main["process_steps"]] == ["受理", "现场核查", "决定"]
    assert main["children"] == [{"code": "T-SCJG-XK-0001-01", "name": "食品经营许可证核发"}]
    assert main["consultation"] == "0999-12345678"
    fees = client.get("/api/catalog/items/T-SW-QT-0001").json()
    assert fees["fee_required"] and fees["fees"][0]["basis"] == "财税〔2014〕101号"
    assert fees["bundles"] == [{"code": "T-YJS-KBQY", "name": "开办企业一件事"}]


def test_not_found_errors_have_stable_codes(client, catalog_small):
    cases = {
        "/api/catalog/items/NOPE": "catalog.item_not_found",
        "/api/catalog/bundles/NOPE": "catalog.bundle_not_found",
        "/api/lists/nope/powers": "catalog.organisation_not_found",
        "/api/lists/nope/responsibilities": "catalog.organisation_not_found",
        "/api/lists/nope/versions": "catalog.organisation_not_found",
        "/api/lists/yx-rsj/powers": "catalog.list_not_published",
        "/api/lists/yx-scjg/diff?from=1&to=9": "catalog.list_version_not_found",
        "/api/lists/yx-ga/diff": "catalog.list_version_not_found",  # only one version
    }
    for url, code in cases.items():
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == code, url
        assert response.json()["message"]


def test_bundles(client, catalog_small):
    bundles = client.get("/api/catalog/bundles").json()
    assert [b["code"] for b in bundles] == ["T-YJS-KBQY"]
    detail = client.get("/api/catalog/bundles/T-YJS-KBQY").json()
    assert detail["lead_department"]["code"] == "yx-scjg"
    assert [(i["code"], i["competent_department"]["code"], i["optional"]) for i in detail["items"]] == [
        ("T-SCJG-DJ-0001", "yx-scjg", False), ("T-GA-BA-0001", "yx-ga", False), ("T-SW-QT-0001", "yx-sw", True)]


def _power(code: str) -> dict[str, str]:
    return {"code": code, "name": f"职权{code}", "power_type": "licensing", "basis": "依据", "responsible_org": "局"}


def test_lists_switch_to_the_new_version_on_its_effective_date(client, demo_core, monkeypatch):
    org = Organisation.objects.get(code="yx-cg")
    today = timezone.localdate()
    services.create_version(org, powers=[_power("P1")], effective_date=today - dt.timedelta(days=10),
                            responsibilities=[{"power_code": "P1", "code": "R1", "responsibilities": "责任",
                                               "accountability": "追责"}])
    services.create_version(org, powers=[_power("P1"), _power("P2")], responsibilities=None,
                            effective_date=today + dt.timedelta(days=5), reason="新增职权")
    body = client.get("/api/lists/yx-cg/powers").json()
    assert (body["version"], body["effective_date"], body["count"]) == (1, str(today - dt.timedelta(days=10)), 1)
    assert body["organisation"] == {"code": "yx-cg", "name": "云溪市城市管理局"}
    assert body["powers"][0]["power_type_label"] == "行政许可"
    versions = client.get("/api/lists/yx-cg/versions").json()
    assert versions["current_version"] == 1 and [v["version"] for v in versions["versions"]] == [2, 1]

    future = today + dt.timedelta(days=5)
    assert client.get("/api/lists/yx-cg/powers", {"on": str(future)}).json()["version"] == 2
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: future)
    body = client.get("/api/lists/yx-cg/powers").json()
    assert (body["version"], body["effective_date"], body["count"]) == (2, str(future), 2)
    resp = client.get("/api/lists/yx-cg/responsibilities").json()
    assert resp["version"] == 2 and [r["code"] for r in resp["responsibilities"]] == ["R1"]
    assert client.get("/api/lists/yx-cg/versions").json()["current_version"] == 2


def test_versions_and_diff(client, catalog_small):
    body = client.get("/api/lists/yx-scjg/diff").json()  # current (v2) against the one before
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert [p["code"] for p in body["powers"]["added"]] == ["P04"]
    assert [p["code"] for p in body["powers"]["removed"]] == ["P03"]
    changed = body["powers"]["changed"][0]
    assert changed["code"] == "P02"
    assert {"field": "name", "label": "职权名称", "from": "企业登记", "to": "经营主体登记"} in changed["changes"]
    same = client.get("/api/lists/yx-scjg/diff", {"from": 2, "to": 2}).json()
    assert same["powers"] == {"added": [], "removed": [], "changed": []}


def test_openapi_lists_the_catalogue_endpoints(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/catalog/items", "/api/catalog/items/{code}", "/api/catalog/bundles",
                 "/api/catalog/bundles/{code}", "/api/lists/{org_code}/powers",
                 "/api/lists/{org_code}/responsibilities", "/api/lists/{org_code}/versions",
                 "/api/lists/{org_code}/diff"):
        assert "get" in paths[path], path
    assert "404" in paths["/api/catalog/items/{code}"]["get"]["responses"]
