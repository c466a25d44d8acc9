"""A draft is the applicant's own until it is submitted (issue 17): staff neither read it, download its uploads,
add materials to it nor issue a one-time notice on it; the window clerk assisting in person is the exception,
recorded as the draft's submitter and in the audit log."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tongban.applications.models import Application, ProxyAuthorisation
from tongban.applications.services import intake
from tongban.applications.services.proxies import authorise_proxy
from tongban.core.models import AuditLog, Organisation
from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% draft test\n"
STAFF = ("clerk", "clerk-ch", "approver-scjg", "supervisor", "approver-ga")


def _draft() -> dict:
    zhang = Api("zhangsan")
    app = ok(zhang.post("/api/applications", {"item_code": "T-SHOP-01"}), 201)
    ok(zhang.upload(f"/api/applications/{app['ref']}/materials/{app['materials'][0]['key']}/file", PDF))
    return ok(zhang.get(f"/api/applications/{app['ref']}"))


def _page(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password="tongban-demo")
    return c


def test_staff_see_a_draft_only_once_it_is_submitted(small_catalog):
    draft = _draft()
    ref = draft["ref"]
    row = Application.objects.get(ref=ref).materials.filter(file__isnull=False).get()
    for username in STAFF:
        api = Api(username)
        for path in (f"/api/applications/{ref}", f"/api/applications/{ref}/form"):
            resp = api.get(path)
            assert resp.status_code == 404 and resp.json()["code"] == "application.not_found", (username, path)
        assert _page(username).get(f"/applications/{ref}/materials/{row.pk}/file").status_code == 403
    for username in ("clerk", "clerk-ch"):
        assert _page(username).get(f"/window/applications/{ref}/").status_code == 404
    assert ok(Api("admin").get(f"/api/applications/{ref}"))["status"] == "draft"

    ok(Api("zhangsan").post(f"/api/applications/{ref}/submit", {"form_data": {
        "applicant_name": "张三", "applicant_phone": "13800000001", "shop_address": "翠湖路1号"}}))
    assert ok(Api("clerk").get(f"/api/applications/{ref}"))["status"] == "submitted"
    assert ok(Api("approver-scjg").get(f"/api/applications/{ref}"))["status"] == "submitted"
    assert _page("clerk").get(f"/applications/{ref}/materials/{row.pk}/file").status_code == 200
    assert _page("clerk").get(f"/window/applications/{ref}/").status_code == 200
    # a department with no item in the case still sees nothing
    assert Api("approver-ga").get(f"/api/applications/{ref}").status_code == 404


def test_a_window_clerk_adds_nothing_to_a_draft_and_issues_no_notice_on_it(small_catalog):
    draft = _draft()
    ref = draft["ref"]
    owed = next(m["key"] for m in draft["materials"] if m["status"] == "missing")
    for username in ("clerk", "clerk-ch"):
        assert Api(username).upload(f"/api/applications/{ref}/supplements/{owed}", PDF + b"x").status_code == 404
        row = Application.objects.get(ref=ref).materials.get(key=owed)
        page = _page(username).post(f"/my/applications/{ref}/supplement/", {f"file-{row.pk}": SimpleUploadedFile("o.pdf", PDF + b"o", "application/pdf")})
        assert page.status_code == 403
        notice = Api(username).post(f"/api/window/applications/{ref}/one-time-notice")
        assert notice.status_code == 404
    # the admin sees the draft, but a one-time notice is for a submitted application only
    refused = Api("admin").post(f"/api/window/applications/{ref}/one-time-notice")
    assert refused.status_code == 409 and refused.json()["code"] == "window.not_pending"
    app = Application.objects.get(ref=ref)
    assert app.status == "draft" and not app.notices.exists()
    assert app.materials.get(key=owed).status == "missing"


def test_the_window_clerk_assisting_in_person_prepares_the_draft_and_it_is_recorded(small_catalog, users):
    clerk = users["clerk"]
    window = Organisation.objects.get(code="yx-zwzx-w01")
    proxy = authorise_proxy(agent=clerk, principal_name="王五", principal_id_number="910102197001010011",
                            scope="窗口帮办：食品经营许可", valid_until=timezone.localdate(),
                            kind=ProxyAuthorisation.Kind.CLERK)
    app = intake.create_application(user=clerk, item_code="T-SHOP-01", proxy=proxy,
                                    channel=Application.Channel.WINDOW, window=window)
    assert app.status == "draft" and app.submitted_by == clerk
    entry = AuditLog.objects.get(action="application.window_assist", object_id=str(app.pk))
    assert entry.actor == clerk and entry.detail["principal"] == "王五" and entry.detail["proxy"] == proxy.pk
    # the assisting clerk works on the draft; another window's clerk does not see it
    assert ok(Api("clerk").get(f"/api/applications/{app.ref}"))["status"] == "draft"
    key = app.materials.first().key
    ok(Api("clerk").upload(f"/api/applications/{app.ref}/materials/{key}/file", PDF + b"assist"))
    assert _page("clerk").get(f"/window/applications/{app.ref}/").status_code == 200
    assert Api("clerk-ch").get(f"/api/applications/{app.ref}").status_code == 404
    assert _page("clerk-ch").get(f"/window/applications/{app.ref}/").status_code == 404
