"""Catalogue search that understands people: phrases, segmentation, bundles first, typos; the shipped evaluation."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rich.console import Console

from tongban.catalog import demo, search

pytestmark = pytest.mark.django_db
EVAL_FILE = demo.DEMO_FILE.parent / "search_queries.json"
# Measured on the shipped queries against the demo catalogue (docs/catalog.md): MRR 0.93 when written; the
# threshold leaves room for catalogue edits, not for a search that stops understanding people.
MRR_THRESHOLD = 0.85


@pytest.fixture
def demo_catalog(demo_core):
    demo.load(Console(quiet=True))
    search.clear_index()
    yield
    search.clear_index()


def test_shipped_queries_reach_the_measured_mean_reciprocal_rank(demo_catalog):
    cases = json.loads(EVAL_FILE.read_text(encoding="utf-8"))["queries"]
    assert len(cases) >= 100
    result = search.evaluate(cases)
    misses = [r for r in result["rows"] if r["rank"] != 1]
    print(f"MRR={result['mrr']:.3f} recall@5={result['recall_at_5']:.3f}")
    for r in misses:
        print(r)
    assert result["mrr"] >= MRR_THRESHOLD


def test_colloquial_phrases_and_bundles_first(demo_catalog):
    assert search.ranked_codes("我想开一家饭店")[0] == "YX-YJS-CYKD"
    assert search.ranked_codes("生孩子要办什么")[0] == "YX-YJS-CS"
    assert search.ranked_codes("开公司")[0] == "YX-YJS-KBQY"
    births = search.ranked_codes("生孩子要办什么")
    assert "YX-GA-QR-0001" in births[:6]  # the bundle's items follow it


def test_typos_still_find_the_item(demo_catalog):
    assert search.ranked_codes("居往证签注")[0] == "YX-GA-GG-0002"
    assert "YX-GJJ-GG-0002" in search.ranked_codes("公职金提取")[:2]


def test_nonsense_finds_nothing(demo_catalog):
    assert search.ranked_codes("不存在的事项") == []
    assert search.ranked_codes("我想") == []


def test_api_ranks_by_the_new_search_and_lists_matching_bundles(client, demo_catalog):
    body = client.get("/api/catalog/items", {"q": "我想开一家饭店"}).json()
    assert body["bundles"][0]["code"] == "YX-YJS-CYKD"
    codes = [i["code"] for i in body["items"]]
    assert codes[0] in {"YX-SCJG-XK-0002", "YX-SCJG-XK-0002-01", "QS-SCJG-XK-0001-01"} and body["count"] == len(codes)
    # filters still apply to the ranked results
    only_rsj = client.get("/api/catalog/items", {"q": "交社保", "department": "yx-rsj"}).json()
    assert only_rsj["items"] and all(i["competent_department"]["code"] == "yx-rsj" or
                                     i["implementing_org"]["code"] == "yx-rsj" for i in only_rsj["items"])


def test_ranked_search_query_count_does_not_grow_with_results(client, demo_catalog):
    client.get("/api/catalog/items", {"q": "登记"})  # builds the in-memory index once
    with CaptureQueriesContext(connection) as narrow:
        assert client.get("/api/catalog/items", {"q": "居住证签注"}).json()["count"] >= 1
    with CaptureQueriesContext(connection) as wide:
        assert client.get("/api/catalog/items", {"q": "登记 许可 申领"}).json()["count"] >= 10
    assert len(wide) == len(narrow) <= 4


def test_saving_an_item_refreshes_the_index(demo_catalog):
    from tongban.catalog.models import ServiceItem

    assert search.ranked_codes("居住证签注")[0] == "YX-GA-GG-0002"
    ServiceItem.objects.filter(code="YX-GA-GG-0002").first().save()
    assert search._INDEX[0] is None


def test_search_page_shows_the_bundles_first(client, demo_catalog):
    html = client.get("/catalog/", {"q": "生孩子要办什么"}).content.decode()
    assert 'id="bundles-found"' in html and "出生一件事" in html
    assert html.index("出生一件事") < html.index("出生登记")


def test_cli_search_eval_reports_mrr(demo_catalog):
    import typer
    from typer.testing import CliRunner

    from tongban.catalog.cli import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["search-eval"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("queries=")
