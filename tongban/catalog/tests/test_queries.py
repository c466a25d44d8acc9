"""The search page and API do a fixed number of queries, whatever the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/catalog/items", "/catalog/"])
def test_search_query_count_does_not_grow_with_results(client, catalog_small, url):
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"page_size": 2, "q": "T-"}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert client.get(url, {"page_size": 6, "q": "T-"}).status_code == 200
    assert len(large) == len(small)
