"""The search page and API do a fixed number of queries, whatever the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/catalog/items", "/catalog/"])
def test_search_query_count_does_not_grow_with_results(client, catalog_small, url):
    with CaptureQueriesContext(connection) as small:
        response = client.get(url, {"q": "T-GA"})
        assert response.status_code == 200 and "T-GA-BA-0001" in response.content.decode()
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"q": "T-"})
        assert response.status_code == 200 and "T-SW-QT-0001" in response.content.decode()
    assert len(large) == len(small)
