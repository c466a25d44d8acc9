"""Fixtures of the enforcement tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _inline_workflow(settings):
    settings.TONGBAN_WORKFLOW_INLINE = True


@pytest.fixture
def benchmarks(demo_core):
    """The demo city, the demo benchmark table and the enforcement accounts (no demo cases)."""
    from tongban.enforcement import demo, importing

    importing.import_file(demo.BENCHMARKS)
    return demo.accounts()


@pytest.fixture
def staff(benchmarks):
    return benchmarks
