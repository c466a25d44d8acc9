"""Fixtures of the catalogue tests: the demo city plus a small catalogue file of our own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = FIXTURES / "catalog_small.json"


@pytest.fixture
def small_doc() -> dict[str, Any]:
    """The small catalogue as data (tests change a copy and write it out)."""
    return json.loads(SMALL.read_text(encoding="utf-8"))


@pytest.fixture
def catalog_small(demo_core):
    """The demo city with the small catalogue loaded."""
    from tongban.catalog import importing

    return importing.load_catalog(SMALL)


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th appearance of ``marker`` in ``text``."""
    index = -1
    for _ in range(occurrence):
        index = text.index(marker, index + 1)
    return text.count("\n", 0, index) + 1
