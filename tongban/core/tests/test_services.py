from __future__ import annotations

import pytest

from tongban.core import selectors, services
from tongban.core.models import AuditLog, Organisation, Role, User


@pytest.mark.django_db
def test_demo_core_loads_idempotently(demo_core):
    from rich.console import Console

    from tongban.core import demo

    counts = (Organisation.objects.count(), User.objects.count(), AuditLog.objects.count())
    demo.load(Console(quiet=True))
    assert (Organisation.objects.count(), User.objects.count(), AuditLog.objects.count()) == counts
    assert Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT).count() >= 8


@pytest.mark.django_db
def test_roles_are_scoped_to_organisations(demo_core):
    approver = User.objects.get(username="approver-scjg")
    scjg = Organisation.objects.get(code="yx-scjg")
    ga = Organisation.objects.get(code="yx-ga")
    assert selectors.has_role(approver, Role.APPROVER, scjg)
    assert not selectors.has_role(approver, Role.APPROVER, ga)
    assert not selectors.has_role(approver, Role.WINDOW_CLERK)


@pytest.mark.django_db
def test_role_granted_with_children_covers_sub_organisations(demo_core):
    user = services.upsert_user("centre-head", display_name="中心主任")
    centre = Organisation.objects.get(code="yx-zwzx")
    services.grant_role(user, Role.WINDOW_CLERK, centre, include_children=True)
    window = Organisation.objects.get(code="yx-zwzx-w02")
    assert selectors.has_role(user, Role.WINDOW_CLERK, window)
    assert AuditLog.objects.filter(action="role.grant", detail__user="centre-head").count() == 1


@pytest.mark.django_db  # every page shows the site record (core/site.py)
def test_pages_are_chinese_unless_english_is_chosen(client, settings):
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r.headers["Content-Language"] == "zh-hans"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert r.headers["Content-Language"] == "en"
