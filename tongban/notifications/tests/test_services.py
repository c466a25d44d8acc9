"""notify → the in-site message and its deliveries; deliver → e-mail / SMS through the channel plug-ins, retried."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tongban.core.models import User
from tongban.notifications import channels, messages, selectors, services
from tongban.notifications.errors import NotificationError
from tongban.notifications.models import Delivery, Message
from tongban.notifications.tasks import deliver_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db, settings, tmp_path):
    settings.TONGBAN_SMS_FILE = str(tmp_path / "sms.jsonl")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return User.objects.create_user("wangwu", password="x", display_name="王五", phone="13800000001",
                                    email="wangwu@example.cn")


def _queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=deliver_task.module_path).order_by("enqueued_at", "id"))


def _accepted(person: User, **kw):
    return services.notify(person, messages.ACCEPTED, {"title": "食品经营许可", "ref": "YX2026000001",
                                                       "accepted_on": "2026年12月7日", "promised_days": 5},
                           link="/my/applications/YX2026000001/", ref="YX2026000001", **kw)


def test_notify_writes_the_inbox_message_and_queues_the_chosen_channels(person):
    message = _accepted(person)
    assert message.subject == "您的申请已受理：食品经营许可"
    assert message.body.startswith("王五，您好！")
    assert "承诺在 5 个工作日内办结" in message.body
    deliveries = {d.channel: d for d in message.deliveries.all()}
    assert deliveries["inbox"].status == Delivery.Status.SENT
    assert deliveries["sms"].status == Delivery.Status.PENDING  # the default channels: sms
    assert "email" not in deliveries
    assert [r.args_kwargs["args"] for r in _queued()] == [[deliveries["sms"].pk]]
    assert selectors.unread_count(person) == 1


def test_the_worker_sends_the_sms_through_the_file_provider(person, settings):
    message = _accepted(person)
    row = _queued()[0]
    assert deliver_task.call(*row.args_kwargs["args"]) == "sent"
    lines = [json.loads(x) for x in Path(settings.TONGBAN_SMS_FILE).read_text(encoding="utf-8").splitlines()]
    assert [(x["to"], x["text"]) for x in lines] == [
        ("13800000001", "【通办】您的“食品经营许可”已受理（办件编号YX2026000001），承诺5个工作日内办结。进度可登录“我的办件”查看。")]
    sms = message.deliveries.get(channel="sms")
    assert (sms.status, sms.attempts, sms.provider_id) == ("sent", 1, lines[0]["id"])
    assert services.deliver(sms.pk) == "sent"  # a second run of the same task sends nothing
    assert len(Path(settings.TONGBAN_SMS_FILE).read_text(encoding="utf-8").splitlines()) == 1


def test_email_goes_through_django_email_backend_with_the_public_link(person, settings):
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn"
    services.set_channels(person, ["email"])
    message = _accepted(person)
    email = message.deliveries.get(channel="email")
    assert services.deliver(email.pk) == "sent"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["wangwu@example.cn"] and sent.subject == "您的申请已受理：食品经营许可"
    assert "https://zwfw.example.gov.cn/my/applications/YX2026000001/" in sent.body
    assert not message.deliveries.filter(channel="sms").exists()  # not chosen any more


def test_a_chosen_channel_without_address_is_logged_as_skipped(person):
    person.phone = ""
    person.save()
    message = _accepted(person)
    sms = message.deliveries.get(channel="sms")
    assert (sms.status, sms.last_error) == ("skipped", "未留手机短信地址")
    assert _queued() == []


def test_failed_sends_are_retried_with_back_off_then_marked_failed(person, settings):
    settings.TONGBAN_NOTIFY_MAX_ATTEMPTS = 3
    settings.TONGBAN_NOTIFY_RETRY_SECONDS = 30
    calls = []

    def flaky(phone: str, text: str) -> str:
        calls.append(phone)
        raise ConnectionError("短信网关无响应")

    settings.TONGBAN_SMS_PROVIDER = "test.flaky"
    with channels.SMS_PROVIDERS.isolated():
        channels.SMS_PROVIDERS.register("test.flaky", flaky)
        message = _accepted(person)
        sms = message.deliveries.get(channel="sms")
        before = timezone.now()
        assert services.deliver(sms.pk) == "pending"
        sms.refresh_from_db()
        assert sms.attempts == 1 and sms.last_error == "ConnectionError: 短信网关无响应"
        assert before + timedelta(seconds=29) < sms.next_attempt_at < timezone.now() + timedelta(seconds=31)
        queued = _queued()
        assert len(queued) == 2 and queued[1].run_after == sms.next_attempt_at  # the retry waits its turn
        assert services.deliver(sms.pk) == "pending"
        sms.refresh_from_db()
        assert sms.next_attempt_at > timezone.now() + timedelta(seconds=59)  # doubled
        assert services.deliver(sms.pk) == "failed"
        sms.refresh_from_db()
        assert (sms.status, sms.attempts, sms.next_attempt_at) == ("failed", 3, None)
        assert len(calls) == 3 and len(_queued()) == 3  # no retry after the last attempt
    assert message.deliveries.get(channel="inbox").status == "sent"  # the inbox has it whatever happens


def test_dedupe_key_tells_once_and_unknown_events_are_refused(person):
    assert _accepted(person, dedupe_key="k1") is not None
    assert _accepted(person, dedupe_key="k1") is None
    assert Message.objects.filter(recipient=person).count() == 1
    assert selectors.already_told(["k1", "k2"]) == {"k1"}
    with pytest.raises(NotificationError):
        services.notify(person, "no.such.event", {})
    assert services.notify(None, messages.ACCEPTED, {}) is None


def test_set_channels_validates_and_stores_the_addresses(person):
    with pytest.raises(NotificationError):
        services.set_channels(person, ["fax"])
    with pytest.raises(NotificationError):
        services.set_channels(person, ["sms"], phone="abc")
    with pytest.raises(NotificationError):
        services.set_channels(person, ["email"], email="not an email")
    services.set_channels(person, ["email", "sms"], email=" w@example.cn ", phone="139-0000-0002")
    person.refresh_from_db()
    assert (person.email, person.phone) == ("w@example.cn", "13900000002")
    assert selectors.chosen_channels(person) == ["email", "sms"]
    services.set_channels(person, [])
    message = _accepted(person)
    assert list(message.deliveries.values_list("channel", flat=True)) == ["inbox"]


def test_mark_read_only_for_the_recipient(person):
    other = User.objects.create_user("zhaoliu", password="x")
    message = _accepted(person)
    with pytest.raises(NotificationError):
        services.mark_read(other, message)
    services.mark_read(person, message)
    assert selectors.unread_count(person) == 0
    _accepted(person)
    assert services.mark_all_read(person) == 1
