from __future__ import annotations

import pytest

from tongban.workflow import engine


@pytest.fixture(autouse=True)
def _fresh_engine_caches(settings):
    """Each test deploys its own definitions and organisations: start from empty caches."""
    settings.TONGBAN_WORKFLOW_INLINE = True
    engine.clear_caches()
    yield
    engine.clear_caches()


@pytest.fixture
def users(demo_core):
    from tongban.core.models import User

    return {u.username: u for u in User.objects.all()}
