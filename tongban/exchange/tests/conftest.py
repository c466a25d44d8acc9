"""Fixtures of the data exchange tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def exchange_demo(demo_core):
    """The demo city plus the exchange demo: five registers, records, grants, data owners, a client."""
    from rich.console import Console

    from tongban.exchange import demo

    demo.load(Console(quiet=True))


@pytest.fixture(autouse=True)
def _fresh_breakers():
    from tongban.exchange.providers import reset_breakers

    reset_breakers()
    yield
    reset_breakers()
