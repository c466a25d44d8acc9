"""Shared pytest fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _tongban_home(tmp_path, settings):
    """Every test gets its own media and key directories."""
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.KEYS_DIR = tmp_path / "keys"
    settings.TONGBAN_ARCHIVES_DIR = tmp_path / "archives"  # e-archives of closed cases (credentials)


@pytest.fixture
def demo_core(db):
    """The demo city's divisions, organisations and accounts."""
    from rich.console import Console

    from tongban.core import demo

    demo.load(Console(quiet=True))


def pytest_configure(config):
    from django.conf import settings

    # Demo accounts are created in many tests: a fast hasher keeps them quick (tests only).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    """The engine caches organisation ids and calendars; a rolled-back test must not leak them into the next
    (PostgreSQL does not reuse ids the way SQLite does)."""
    from tongban.core import labels, site
    from tongban.workflow import engine

    engine.clear_caches()
    site.clear_cache()
    labels.clear_cache()
    yield
    engine.clear_caches()
    site.clear_cache()
    labels.clear_cache()


@pytest.fixture(autouse=True)
def _fresh_catalog_definitions():
    """Published definitions are kept per process (catalog/definitions.py); a rolled-back test's rows must not
    be served to the next test."""
    from tongban.catalog import definitions

    definitions.clear()
    yield
    definitions.clear()


@pytest.fixture(autouse=True)
def _fresh_search_index():
    """The catalogue search keeps its index in memory; a rolled-back test must not leak it into the next."""
    from tongban.catalog import search

    search.clear_index()
    yield
    search.clear_index()


# Browser tests (marker ``browser``) drive Debian's chromium through Playwright (no browser download).
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def chromium(monkeypatch):
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian chromium is not installed ({CHROMIUM}); apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; no 'playwright install' needed)")
    # Playwright's sync API keeps an event loop in this thread; the ORM checks below are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # ORM calls made while Playwright's loop runs use their own connection (asgiref context): close it.
            from django.db import connections

            connections.close_all()
