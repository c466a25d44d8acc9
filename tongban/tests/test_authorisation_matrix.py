"""Authorisation as a tested matrix (issue 17): every API operation and page × every demo role.

The rows and their rules are in ``authz_cases``; the demo objects they name are built once for this module
(``authz_world``) and every cell runs in its own rolled-back transaction, so a cell that changes something (claims
a task, revokes a grant) leaves the next cell the same world.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import messages
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from .authz_cases import ROWS, Row
from .authz_doc import DOC, render
from .authz_world import ROLES, World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo data set and the matrix's objects, in one transaction rolled back after the module."""
    from tongban.workflow import engine

    home = tmp_path_factory.mktemp("authz")
    with django_db_blocker.unblock(), override_settings(
            MEDIA_ROOT=home / "files", KEYS_DIR=home / "keys", TONGBAN_ARCHIVES_DIR=home / "archives",
            TONGBAN_WORKFLOW_INLINE=True):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            engine.clear_caches()
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            engine.clear_caches()


@pytest.fixture(autouse=True)
def _tongban_home() -> None:
    """Replaces the per-test file directories of tongban/conftest.py: the module's files live as long as its world."""


class HoleOpen(AssertionError):
    """A known hole answered as it does today (allowed where the rule denies or hides)."""


def send(w: World, row: Row, role: str) -> Any:
    client = Client()
    headers = {}
    if role != "anonymous":
        if row.kind == "api":
            headers["Authorization"] = f"Bearer {w.tokens[role]}"
        else:
            client.cookies["sessionid"] = w.sessions[role]
    url = row.url(w)
    if row.method == "GET":
        return client.get(url, headers=headers)
    body = row.body(w, role) if row.body else {}
    if row.kind == "page" or row.multipart:
        return client.post(url, body, headers=headers)
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def observe(w: World, row: Row, response: Any) -> str:
    """allow / hide, or how it was refused: unauthenticated (401), login (redirect to sign in), denied (403/404),
    refused (a page's form action redirected back with an error message); anything else is ``status <code>``."""
    status = response.status_code
    if status == 401:
        return "unauthenticated"
    if status in (403, 404):
        return "denied"
    if 300 <= status < 400:
        location = response.get("Location", "")
        if location.startswith("/accounts/login/") and "next=" in location:
            return "login"
        stored = getattr(response.wsgi_request, "_messages", None)
        if stored is not None and any(m.level >= messages.ERROR for m in stored):
            return "refused"
        return "allow"
    if 200 <= status < 300:
        if row.visible is not None and not row.visible(w, response):
            return "hide"
        return "allow"
    return f"status {status}"


def denial(row: Row, role: str) -> set[str]:
    if role == "anonymous":
        return {"unauthenticated"} if row.kind == "api" else {"login"}
    refused = {f"status {code}" for code in row.refusals}
    return refused | ({"denied", "refused"} if row.kind == "page" and row.method == "POST" else {"denied"})


CELLS = [
    pytest.param(row, role, id=f"{row.id} · {role}", marks=[pytest.mark.xfail(
        raises=HoleOpen, strict=True, reason=row.holes[role])] if role in row.holes else [])
    for row in ROWS for role in ROLES
]


@pytest.mark.parametrize(("row", "role"), CELLS)
def test_cell(world: World, row: Row, role: str) -> None:
    if row.prepare is not None:
        row.prepare(world)
    response = send(world, row, role)
    observed = observe(world, row, response)
    expected = row.expect(role)
    wanted = denial(row, role) if expected == "deny" else {expected}
    if observed in wanted:
        return
    body = b"(a file)" if response.streaming else response.content[:400]
    detail = (f"{row.id} as {role}: expected {expected}, got {observed} (HTTP {response.status_code}): "
              f"{body.decode(errors='replace')}")
    if role in row.holes and observed == "allow":
        raise HoleOpen(detail)
    raise AssertionError(detail)


# --- the inventory is complete ----------------------------------------------------------------------------------


def _operations() -> set[tuple[str, str]]:
    from tongban.api import api

    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def _url_patterns(patterns: list[Any] | None = None, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for p in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(p.pattern)
        if route.startswith(("admin/", "api/")):
            continue
        if isinstance(p, URLResolver):
            out |= _url_patterns(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            out.add(route)
    return out


def test_every_api_operation_has_a_row() -> None:
    rows = {(r.method, r.route) for r in ROWS if r.kind == "api"}
    operations = _operations()
    assert not operations - rows, f"API operations without a row in authz_cases: {sorted(operations - rows)}"
    assert not rows - operations, f"rows naming no API operation: {sorted(rows - operations)}"


def test_every_page_has_a_row() -> None:
    rows = {r.route for r in ROWS if r.kind == "page"}
    patterns = _url_patterns()
    assert not patterns - rows, f"URL patterns without a row in authz_cases: {sorted(patterns - rows)}"
    assert not rows - patterns, f"rows naming no URL pattern: {sorted(rows - patterns)}"


def test_rows_are_unique_and_sound() -> None:
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for r in ROWS:
        assert r.rule, r.id
        assert set(r.allow) | set(r.hide) <= set(ROLES), r.id
        assert not set(r.allow) & set(r.hide), r.id
        assert not r.hide or r.visible is not None, f"{r.id}: a hidden cell needs a visibility check"
        for role in r.holes:
            assert r.expect(role) != "allow", f"{r.id}: a hole is a cell wrongly allowed today ({role})"


def test_the_documented_matrix_is_the_tested_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, ("docs/authorisation.md differs from tongban/tests/authz_cases.py: regenerate its "
                                  "tables with `python -m tongban.tests.authz_doc`")
