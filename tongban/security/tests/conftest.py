"""Fixtures of the security operations tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _inline_workflow(settings):
    """Service tasks run inline (no worker in tests); fresh engine caches."""
    from tongban.workflow import engine

    settings.TONGBAN_WORKFLOW_INLINE = True
    engine.clear_caches()
    yield
    engine.clear_caches()


@pytest.fixture
def security_demo(demo_core):
    """The demo city (its accounts include ``security``) plus the exchange demo."""
    from rich.console import Console

    from tongban.exchange import demo

    demo.load(Console(quiet=True))
