"""我的消息 and 消息接收设置 pages, and the JSON API: a person sees and changes only their own."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.core.models import User
from tongban.notifications import messages, services
from tongban.notifications.models import Preference
from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(demo_core):
    zhang = User.objects.get(username="zhangsan")
    return services.notify(zhang, messages.DECIDED, {"title": "食品经营许可", "ref": "YX2026000009",
                                                     "results": "· 食品经营许可：准予许可", "results_short": "准予许可"},
                           link="/my/applications/YX2026000009/", ref="YX2026000009")


def _client(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


def test_inbox_lists_own_messages_and_detail_marks_read(told):
    c = _client("zhangsan")
    html = c.get("/messages/").content.decode()
    assert "办理结果：食品经营许可" in html and "未读" in html and "办理结果</td>" in html
    detail = c.get(f"/messages/{told.pk}/").content.decode()
    assert "已办结" in detail and "/my/applications/YX2026000009/" in detail and "站内消息：已发送" in detail
    told.refresh_from_db()
    assert told.read_at is not None
    assert "暂时没有消息" in _client("lisi").get("/messages/").content.decode()
    assert _client("lisi").get(f"/messages/{told.pk}/").status_code == 404
    assert Client().get("/messages/").status_code == 302


def test_read_all_and_preferences_page(told):
    c = _client("zhangsan")
    c.post("/messages/read-all/")
    told.refresh_from_db()
    assert told.read_at is not None
    page = c.get("/messages/settings/").content.decode()
    assert "手机短信" in page and "电子邮件" in page and "受理" in page
    r = c.post("/messages/settings/", {"channels": ["email"], "email": "zs@example.cn", "phone": "13800000000"})
    assert r.status_code == 302
    zhang = User.objects.get(username="zhangsan")
    assert Preference.objects.get(user=zhang).channels == ["email"] and zhang.email == "zs@example.cn"
    r = c.post("/messages/settings/", {"channels": ["sms"], "email": "bad", "phone": ""}, follow=True)
    assert "电子邮箱格式不正确" in r.content.decode()
    assert Preference.objects.get(user=zhang).channels == ["email"]  # nothing changed


def test_api_messages_read_and_preferences(told):
    api = Api("zhangsan")
    data = ok(api.get("/api/notifications/messages"))
    assert data["unread"] == 1
    assert [(m["id"], m["event_label"]) for m in data["messages"]] == [(told.pk, "办理结果")]
    assert {d["channel"] for d in data["messages"][0]["deliveries"]} == {"inbox", "sms"}  # the default channels
    assert ok(api.post(f"/api/notifications/messages/{told.pk}/read"))["read_at"] is not None
    assert ok(api.get("/api/notifications/messages?unread=true"))["messages"] == []
    other = Api("lisi")
    assert other.post(f"/api/notifications/messages/{told.pk}/read").status_code == 404
    assert ok(other.get("/api/notifications/messages"))["messages"] == []
    prefs = ok(api.post("/api/notifications/preferences", {"channels": ["sms"], "phone": "13800000000"}))
    assert prefs["channels"] == ["sms"] and prefs["phone"] == "13800000000"
    bad = api.post("/api/notifications/preferences", {"channels": ["fax"]})
    assert bad.status_code == 400 and bad.json()["code"] == "notifications.invalid"
    assert Client().get("/api/notifications/messages").status_code == 401


def test_the_inbox_page_costs_the_same_queries_for_5_or_30_messages(told):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    zhang = User.objects.get(username="zhangsan")
    c = _client("zhangsan")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/messages/").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(4):
        services.notify(zhang, messages.ACCEPTED, {"title": "户外招牌设置", "ref": "YX2026000010"})
    few = count()
    for _ in range(25):
        services.notify(zhang, messages.ACCEPTED, {"title": "户外招牌设置", "ref": "YX2026000010"})
    assert count() == few <= 12
