"""The incidents API and pages (security team only), a person's notices (only their own), the workbench page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tongban.core.models import User
from tongban.security import services
from tongban.security.models import IncidentNotice, SecurityIncident
from tongban.testing import Api

from .factories import ZHANG, failed_logins, log

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(demo_core, settings) -> SecurityIncident:
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 3
    log(3, actor="client:社保业务系统", subjects=[ZHANG])
    [opened] = services.scan(rules=["exchange.refused_burst"]).opened
    return opened


def _page(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# --- API ------------------------------------------------------------------------------------------------------


def test_the_security_team_lists_reads_and_steps_incidents_through_the_api(incident):
    api = Api("security")
    rows = api.get("/api/security/incidents").json()
    assert [r["id"] for r in rows] == [incident.pk]
    assert rows[0]["actions"] == ["confirm", "dismiss"] and rows[0]["affected_count"] == 1
    detail = api.get(f"/api/security/incidents/{incident.pk}").json()
    assert detail["affected"] == [{"subject_id": ZHANG, "username": "zhangsan",
                                   "detail": {"resources": ["household_register"], "refused": 3}, "notified": False}]
    url = f"/api/security/incidents/{incident.pk}/transitions"
    assert api.post(url, {"action": "confirm", "note": "确认"}).json()["status"] == "containment"
    done = api.post(url, {"action": "contain", "note": "已停用密钥"}).json()
    assert done["status"] == "report" and done["affected"][0]["notified"] is True
    closed = api.post(url, {"action": "close", "note": "结案报告"}).json()
    assert closed["status"] == "closed" and closed["report"] == "结案报告" and closed["closed_by"] == "security"
    assert api.get("/api/security/incidents?status=closed").json()[0]["id"] == incident.pk
    assert api.get("/api/security/incidents?status=triage").json() == []


def test_api_errors(incident):
    api = Api("security")
    url = f"/api/security/incidents/{incident.pk}/transitions"
    r = api.post(url, {"action": "close", "note": "x"})
    assert r.status_code == 409 and r.json()["code"] == "security.bad_transition"
    r = api.post(url, {"action": "dismiss"})
    assert r.status_code == 400 and r.json()["code"] == "security.invalid"
    r = api.post(url, {"note": "no action"})
    assert r.status_code == 422
    assert api.get("/api/security/incidents/999999").status_code == 404
    for name in ("approver-rsj", "zhangsan", "clerk"):
        other = Api(name)
        assert other.get("/api/security/incidents").status_code == 403
        assert other.get(f"/api/security/incidents/{incident.pk}").status_code == 403
        assert other.post(url, {"action": "confirm"}).status_code == 403
    assert Client().get("/api/security/incidents").status_code == 401
    incident.refresh_from_db()
    assert incident.status == SecurityIncident.Status.TRIAGE


def test_the_api_documents_its_errors_and_security():
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path, method, statuses in [("/api/security/incidents", "get", {"200", "401", "403", "422"}),
                                   ("/api/security/incidents/{incident_id}", "get", {"200", "401", "403", "404"}),
                                   ("/api/security/incidents/{incident_id}/transitions", "post",
                                    {"200", "400", "401", "403", "404", "409", "422"})]:
        op = paths[path][method]
        assert statuses <= {str(s) for s in op["responses"]}, (path, sorted(op["responses"]))
        assert op.get("security"), path


# --- pages ----------------------------------------------------------------------------------------------------


def test_incident_pages_for_the_security_team(incident):
    client = _page("security")
    listing = client.get("/security/incidents/").content.decode()
    assert f"/security/incidents/{incident.pk}/" in listing and "client:社保业务系统" in listing
    detail = client.get(f"/security/incidents/{incident.pk}/").content.decode()
    assert "研判" in detail and 'value="confirm"' in detail and ZHANG in detail
    r = client.post(f"/security/incidents/{incident.pk}/transition/", {"action": "confirm", "note": "确认"})
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.status == SecurityIncident.Status.CONTAINMENT
    r = client.post(f"/security/incidents/{incident.pk}/transition/", {"action": "contain"}, follow=True)
    assert "请写明已采取的控制与处置措施" in r.content.decode()  # the error is shown, nothing changed
    incident.refresh_from_db()
    assert incident.status == SecurityIncident.Status.CONTAINMENT
    assert 'href="/security/incidents/"' in client.get("/").content.decode()  # in the navigation
    assert client.get("/security/incidents/999999/").status_code == 404


def test_incident_pages_are_refused_to_everyone_else(incident):
    for name in ("approver-rsj", "zhangsan", "clerk", "supervisor"):
        client = _page(name)
        assert client.get("/security/incidents/").status_code == 403
        assert client.get(f"/security/incidents/{incident.pk}/").status_code == 403
        assert client.post(f"/security/incidents/{incident.pk}/transition/", {"action": "confirm"}).status_code == 403
        assert 'href="/security/incidents/"' not in client.get("/").content.decode()
    assert Client().get("/security/incidents/").status_code == 302  # to the login page
    incident.refresh_from_db()
    assert incident.status == SecurityIncident.Status.TRIAGE


def test_notices_are_shown_only_to_the_person_on_my_data(incident):
    security = User.objects.get(username="security")
    services.transition(incident, "confirm", security)
    services.transition(incident, "contain", security, "已停用该接入系统密钥")
    notice = IncidentNotice.objects.get()
    zhang, li = _page("zhangsan"), _page("lisi")
    assert 'href="/security/my-notices/"' in zhang.get("/exchange/my-data/").content.decode()
    mine = zhang.get("/security/my-notices/").content.decode()
    assert "已停用该接入系统密钥" in mine and "未读" in mine and "第五十七条" in mine
    theirs = li.get("/security/my-notices/").content.decode()
    assert "已停用该接入系统密钥" not in theirs and "没有涉及您的安全事件" in theirs
    assert li.post(f"/security/my-notices/{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None
    assert zhang.post(f"/security/my-notices/{notice.pk}/read/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert Client().get("/security/my-notices/").status_code == 302
    assert [n["id"] for n in Api("zhangsan").get("/api/security/my-notices").json()] == [notice.pk]
    assert Api("lisi").get("/api/security/my-notices").json() == []
    assert Client().get("/api/security/my-notices").status_code == 401


def test_my_tasks_shows_a_task_without_an_organisation(incident):
    """The security team's tasks have no candidate organisation: the workbench list must still render."""
    page = _page("security").get("/workflow/tasks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"security:{incident.pk}" in html and "研判" in html


def test_the_incident_list_costs_the_same_queries_for_one_or_many(incident, settings):
    api = Api("security")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/security/incidents").status_code == 200
        return len(ctx.captured_queries)

    one = count()
    settings.TONGBAN_SECURITY_LOGIN_FAILURES = 2
    failed_logins(2, usernames=["zhangsan"])
    log(3, actor="approver-rsj", outcome="granted", subjects=["910102199001010001", "910102199001010002", ZHANG])
    settings.TONGBAN_SECURITY_PERSONAL_READS = 3
    assert len(services.scan().opened) == 2
    assert count() == one
