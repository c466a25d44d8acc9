from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tongban.catalog import services
from tongban.catalog.models import ServiceItem
from tongban.core.models import Organisation

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_catalogue_index_lists_and_searches(client, catalog_small):
    html = _text(client.get("/catalog/"))
    assert "共 6 个事项" in html
    assert '<label for="f-q">关键词</label>' in html and '<label for="f-department">部门</label>' in html
    assert 'href="/catalog/items/T-MZ-JF-0001/"' in html
    html = _text(client.get("/catalog/", {"q": "公章"}))
    assert "共 1 个事项" in html and "公章刻制备案" in html and "食品经营许可" not in html
    html = _text(client.get("/catalog/", {"exercise_level": "township"}))
    assert "高龄津贴申领" in html and "共 1 个事项" in html
    html = _text(client.get("/catalog/", {"department": "yx-scjg", "item_type": "licensing"}))
    assert "共 3 个事项" in html
    html = _text(client.get("/catalog/", {"q": "不存在的事项"}))
    assert "没有找到符合条件的事项" in html


def test_catalogue_pagination_keeps_the_filters(client, demo_core):
    for n in range(25):
        services.upsert_item({"code": f"P-{n:03d}", "name": f"批量事项{n}", "item_type": "public_service",
                              "competent_department": "yx-rsj", "implementing_org": "yx-rsj",
                              "exercise_level": "city"})
    html = _text(client.get("/catalog/", {"q": "批量"}))
    assert "共 25 个事项，第 1 / 2 页" in html
    assert 'href="?q=%E6%89%B9%E9%87%8F&amp;page=2" rel="next"' in html
    html = _text(client.get("/catalog/", {"q": "批量", "page": 2}))
    assert "P-024" in html and "P-000" not in html and 'rel="prev"' in html


def test_item_guide_shows_all_elements(client, catalog_small):
    html = _text(client.get("/catalog/items/T-SCJG-XK-0001-01/"))
    for text in ("食品经营许可证核发", "办理情形及所需材料", "情形1：餐饮服务", "情形2：预包装食品销售",
                 "容缺", "告知承诺", "免提交", "部门核发（电子证照）", "承诺办结时限",
                 "5 个工作日", "20 个工作日", "业务办理项（新设）", 'href="/catalog/items/T-SCJG-XK-0001/"'):
        assert text in html, text
    situation = re.search(r"情形2：预包装食品销售</h3>(.*?)</div>", html, re.S).group(1)
    assert "食品经营许可申请书" in situation and "经营场所平面图" not in situation
    main = _text(client.get("/catalog/items/T-SCJG-XK-0001/"))
    assert "《中华人民共和国食品安全法》</strong> 第三十五条" in main
    assert "现场核查（5 个工作日） <span class=\"mark excluded\">特殊环节，不计入办理时限</span>" in main
    assert "特殊环节（不计入办结时限）：现场核查" in main
    assert "0999-12345678" in main and "12345 政务服务便民热线" in main
    fees = _text(client.get("/catalog/items/T-SW-QT-0001/"))
    assert "工本费" in fees and "财税〔2014〕101号" in fees and "开办企业一件事" in fees


def test_unknown_or_retired_item_is_404(client, catalog_small):
    assert client.get("/catalog/items/NOPE/").status_code == 404
    services.retire_item(ServiceItem.objects.get(code="T-GA-BA-0001"))
    assert client.get("/catalog/items/T-GA-BA-0001/").status_code == 404


def test_bundle_pages(client, catalog_small):
    html = _text(client.get("/catalog/bundles/"))
    assert "开办企业一件事" in html and "包含 3 个事项" in html
    html = _text(client.get("/catalog/bundles/T-YJS-KBQY/"))
    assert "涉及 3 个部门" in html and "可选" in html and "牵头部门：云溪市市场监督管理局" in html
    assert client.get("/catalog/bundles/NOPE/").status_code == 404


def test_lists_pages(client, catalog_small):
    html = _text(client.get("/lists/"))
    assert 'href="/lists/yx-scjg/"' in html and 'href="/lists/yx-ga/"' in html
    html = _text(client.get("/lists/yx-scjg/"))
    assert "<strong>第 2 版</strong> · 生效日期 2026-07-01" in html
    assert "食品安全抽样检验" in html and "广告经营备案" not in html
    assert 'href="/api/lists/yx-scjg/powers"' in html and 'href="/api/lists/yx-scjg/responsibilities"' in html
    assert 'href="/lists/yx-scjg/?version=1"' in html and "与 v1 比较" in html
    old = _text(client.get("/lists/yx-scjg/", {"version": 1}))
    assert "广告经营备案" in old and "这是历史版本" in old
    assert client.get("/lists/yx-scjg/", {"version": 7}).status_code == 404
    assert client.get("/lists/yx-rsj/").status_code == 404
    assert client.get("/lists/nope/").status_code == 404


def test_list_diff_page(client, catalog_small):
    html = _text(client.get("/lists/yx-scjg/diff/", {"from": 1, "to": 2}))
    assert "v1 → v2" in html
    assert "权力事项：新增 1，删除 1，修改 1" in html
    assert "<del>企业登记</del> → <ins>经营主体登记</ins>" in html
    assert "食品安全抽样检验" in html and "广告经营备案" in html
    assert _text(client.get("/lists/yx-scjg/diff/")).count("v1 → v2") == 1  # defaults
    assert client.get("/lists/yx-ga/diff/").status_code == 404


def test_future_version_is_announced_not_current(client, demo_core):
    org = Organisation.objects.get(code="yx-cg")
    today = timezone.localdate()
    power = {"code": "P1", "name": "占道审批", "power_type": "licensing", "basis": "依据", "responsible_org": "城管局"}
    services.create_version(org, powers=[power], responsibilities=[], effective_date=today - dt.timedelta(days=1))
    services.create_version(org, powers=[{**power, "name": "占道审批（新）"}], responsibilities=[],
                            effective_date=today + dt.timedelta(days=30))
    html = _text(client.get("/lists/yx-cg/"))
    assert "<strong>第 1 版</strong>" in html and "待生效" in html
    assert "该版本尚未生效" in _text(client.get("/lists/yx-cg/", {"version": 2}))
