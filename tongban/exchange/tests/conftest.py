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
def _fresh_state(settings):
    """Fresh circuit breakers and workflow caches; service tasks run inline (no worker in tests)."""
    from tongban.exchange.providers import reset_breakers
    from tongban.workflow import engine

    settings.TONGBAN_WORKFLOW_INLINE = True
    reset_breakers()
    engine.clear_caches()
    yield
    reset_breakers()
    engine.clear_caches()


@pytest.fixture(autouse=True)
def _restore_evidence_registry():
    """Tests may register extra providers: they go into copies of the registries, gone afterwards."""
    from tongban.core import evidence

    broker = evidence._broker
    with evidence.PROVIDERS.isolated(), evidence.RESOLVERS.isolated():
        yield
    evidence.set_broker(broker)
