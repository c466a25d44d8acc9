"""Reference numbers under real concurrency (PostgreSQL only: SQLite serialises writers anyway)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection

from tongban.applications import services
from tongban.applications.models import Application

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_sixteen_concurrent_creates_get_sixteen_distinct_numbers(small_catalog, users):
    barrier = threading.Barrier(16)
    refs: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait()
            refs.append(services.create_application(user=users["zhangsan"], item_code="T-SHOP-01").ref)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(refs) == 16 and len(set(refs)) == 16
    numbers = sorted(int(r[-6:]) for r in refs)
    assert numbers == list(range(1, 17))
    assert Application.objects.count() == 16
