"""帮办预约 (assisted service) and elder mode (适老化): the services, the public form, the clerks' list and the
switch (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tongban.applications.errors import ApplicationError
from tongban.applications.models import AssistanceRequest
from tongban.applications.services.assistance import mark_assistance_handled, request_assistance
from tongban.core.models import AuditLog

pytestmark = pytest.mark.django_db

PHONE = "13912340000"


def ask(**kw):
    values = {"name": "李奶奶", "phone": PHONE, "service": "养老金资格认证", "centre_code": "yx-zwzx"}
    return request_assistance(**{**values, **kw})


def test_a_request_is_recorded_with_the_phone_encrypted(demo_core):
    req = ask(channel="phone", preferred_date=timezone.localdate(), preferred_period="morning")
    assert req.centre.code == "yx-zwzx" and req.handled_at is None
    assert AssistanceRequest.objects.get(pk=req.pk).phone == PHONE
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM applications_assistancerequest WHERE id = %s", [req.pk])
        stored = cursor.fetchone()[0]
    assert PHONE not in stored
    audit = AuditLog.objects.get(action="assistance.request")
    assert PHONE not in str(audit.detail) and "139****0000" in str(audit.detail)


@pytest.mark.parametrize(("kw", "code"), [
    ({"name": " "}, "assistance.name_required"),
    ({"phone": "12345"}, "assistance.invalid_phone"),
    ({"service": ""}, "assistance.service_required"),
    ({"centre_code": "yx-scjg"}, "assistance.centre_required"),  # a department, not a service centre
    ({"channel": "letter"}, "assistance.invalid_channel"),
    ({"preferred_date": dt.date(2000, 1, 1)}, "assistance.past_date"),
])
def test_a_request_is_refused_when_incomplete_or_wrong(demo_core, kw, code):
    with pytest.raises(ApplicationError) as exc:
        ask(**kw)
    assert exc.value.code == code
    assert not AssistanceRequest.objects.exists()


def test_a_fixed_line_with_area_code_is_accepted(demo_core):
    assert ask(phone="0871-6512 3456").phone == "0871-65123456"


def test_only_a_clerk_of_the_centre_marks_it_handled_and_only_once(demo_core, users):
    req = ask(centre_code="qs-ch-bmfw")
    with pytest.raises(ApplicationError) as exc:
        mark_assistance_handled(req, users["clerk-sq"])  # 石桥镇's clerk, not 翠湖街道's
    assert exc.value.code == "assistance.not_your_centre"
    done = mark_assistance_handled(req, users["clerk-ch"], "已电话指导办理")
    assert done.handled_by == users["clerk-ch"] and done.handled_note == "已电话指导办理"
    with pytest.raises(ApplicationError) as exc:
        mark_assistance_handled(req, users["clerk-ch"])
    assert exc.value.code == "assistance.already_handled"


def test_the_public_form_creates_a_request_without_an_account(client, demo_core):
    page = client.get("/assist/")
    assert page.status_code == 200 and "帮办预约" in page.content.decode()
    assert "云溪市政务服务中心" in page.content.decode()
    bad = client.post("/assist/", {"name": "李奶奶", "phone": "1", "service": "认证", "centre": "yx-zwzx"})
    assert bad.status_code == 400 and "联系电话格式不正确" in bad.content.decode()
    assert 'value="李奶奶"' in bad.content.decode()  # what was typed stays
    ok = client.post("/assist/", {"name": "李奶奶", "phone": PHONE, "service": "养老金资格认证", "centre": "yx-zwzx",
                                  "channel": "window", "preferred_period": "afternoon"}, follow=True)
    assert ok.redirect_chain[-1][0] == "/assist/done/"
    assert "已收到您的帮办预约" in ok.content.decode()
    req = AssistanceRequest.objects.get()
    assert req.requested_by is None and req.preferred_period == "afternoon"


def test_clerks_see_their_centres_requests_and_mark_them_handled(client, demo_core, users):
    city = ask(name="王大爷")
    ask(name="赵阿姨", centre_code="qs-sq-bmfw")
    client.force_login(users["clerk"])
    page = client.get("/window/assistance/").content.decode()
    assert "王大爷" in page and PHONE in page and "赵阿姨" not in page
    created_local = timezone.localtime(city.created_at).strftime("%Y-%m-%d %H:%M")
    assert created_local in page  # local time, not UTC
    done = client.post(f"/window/assistance/{city.pk}/handled/", {"note": "已约周一上午到窗口"}, follow=True)
    assert "已办理：王大爷的帮办预约" in done.content.decode()
    city.refresh_from_db()
    assert city.handled_by == users["clerk"] and "已约周一上午到窗口" in done.content.decode()
    # another centre's request is not found for this clerk; citizens are refused the list
    other = AssistanceRequest.objects.get(name="赵阿姨")
    assert client.post(f"/window/assistance/{other.pk}/handled/").status_code == 404
    client.force_login(users["zhangsan"])
    assert client.get("/window/assistance/").status_code == 403


def test_the_window_queue_links_the_requests(client, demo_core, users):
    client.force_login(users["clerk"])
    assert 'href="/window/assistance/"' in client.get("/window/").content.decode()


def test_elder_mode_switch_is_on_every_page_and_remembered(client, demo_core):
    home = client.get("/catalog/").content.decode()
    assert 'href="/elder/?on=1&amp;next=/catalog/"' in home and 'class="elder"' not in home
    switched = client.get("/elder/", {"on": "1", "next": "/catalog/"})
    assert switched.status_code == 302 and switched["Location"] == "/catalog/"
    assert switched.cookies["tongban_elder"].value == "1"
    page = client.get("/catalog/").content.decode()  # the test client keeps the cookie
    assert '<html lang="zh-hans" class="elder">' in page and "退出长辈模式" in page
    assert "预约工作人员帮您办" in page  # the 帮办 entry on every page in elder mode
    off = client.get("/elder/", {"on": "0", "next": "/catalog/"})
    assert off.cookies["tongban_elder"].value == ""
    assert 'class="elder"' not in client.get("/catalog/").content.decode()


def test_elder_switch_does_not_redirect_off_site(client, demo_core):
    assert client.get("/elder/", {"on": "1", "next": "https://evil.example/"})["Location"] == "/"


def test_elder_mode_simplifies_a_citizens_menu(client, demo_core, users):
    client.force_login(users["zhangsan"])
    normal = client.get("/my/").content.decode()
    assert 'href="/lists/"' in normal and 'href="/exchange/my-data/"' in normal
    client.get("/elder/", {"on": "1"})
    elder = client.get("/my/").content.decode()
    assert 'href="/lists/"' not in elder and 'href="/exchange/my-data/"' not in elder
    assert 'href="/apply/"' in elder and 'href="/my/"' in elder
    assert 'class="button secondary elder-hide"' in elder  # secondary actions are hidden by the elder CSS


def test_staff_workbenches_are_one_menu(client, demo_core, users):
    client.force_login(users["admin"])
    page = client.get("/catalog/").content.decode()
    menu = page[page.index('<details class="workmenu">'):page.index("</details>")]
    assert 'href="/window/"' in menu and 'href="/workbench/"' in menu and 'href="/admin/"' in menu
    assert 'href="/catalog/"' not in menu


def test_an_item_page_offers_assistance_for_that_item(client, demo_core, small_catalog):
    from tongban.catalog.models import ServiceItem

    ServiceItem.objects.filter(code="T-SHOP-01").update(status="published")
    item_page = client.get("/catalog/items/T-SHOP-01/").content.decode()
    assert 'href="/assist/?item=T-SHOP-01"' in item_page
    form = client.get("/assist/", {"item": "T-SHOP-01"}).content.decode()
    assert 'value="食品经营许可"' in form and 'name="item" value="T-SHOP-01"' in form
    client.post("/assist/", {"name": "李奶奶", "phone": PHONE, "service": "", "item": "T-SHOP-01",
                             "centre": "yx-zwzx"})
    assert AssistanceRequest.objects.get().item.code == "T-SHOP-01"
