from __future__ import annotations

import pytest
from rich.console import Console

from tongban.catalog import demo
from tongban.catalog.models import DutyList, ServiceItem
from tongban.core.models import AuditLog

from .conftest import SMALL

pytestmark = pytest.mark.django_db


def test_demo_loader_is_idempotent(demo_core):
    console = Console(record=True, width=200)
    first = demo.load(console, path=SMALL)
    assert first is not None and first.items["created"] == 6
    counts = (ServiceItem.objects.count(), DutyList.objects.count(), AuditLog.objects.count())
    second = demo.load(console, path=SMALL)
    assert second is not None and not second.changed
    assert (ServiceItem.objects.count(), DutyList.objects.count(), AuditLog.objects.count()) == counts
    assert "未变 6" in console.export_text()


def test_missing_demo_file_is_reported_not_fatal(demo_core, tmp_path):
    console = Console(record=True, width=200)
    assert demo.load(console, path=tmp_path / "none.json") is None
    assert "没有找到演示目录文件" in console.export_text()


@pytest.mark.skipif(not demo.DEMO_FILE.exists(), reason="demo/catalog.json not written yet")
def test_the_demo_catalogue_loads_twice(demo_core):
    first = demo.load(Console(quiet=True))
    assert first is not None and first.items["created"] >= 45
    assert ServiceItem.objects.filter(exercise_level="township").exists()
    second = demo.load(Console(quiet=True))
    assert second is not None and not second.changed
