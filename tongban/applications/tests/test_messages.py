"""The applicant is told at each step of the case (我的消息): accepted, one-time notice, refusal, supplement due,
the result; and invited to rate it (feedback). Messages are written in the step's transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.applications import services
from tongban.applications.models import Application
from tongban.notifications.models import Message

from .test_services import _decide, _provide_all

pytestmark = pytest.mark.django_db


def _told(user, event: str) -> list[Message]:
    return list(Message.objects.filter(recipient=user, event=event).order_by("pk"))


def test_accept_tolerate_remind_decide_tells_the_applicant_each_time(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    _provide_all(app, zhang, skip_tolerable=True)
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    services.accept(app, users["clerk"], tolerate=True, supplement_days=3)
    app.refresh_from_db()
    [accepted] = _told(zhang, "application.accepted")
    assert accepted.subject == "您的申请已受理：食品经营许可"
    assert f"办件编号 {app.ref}" in accepted.body and "5 个工作日内办结" in accepted.body
    assert "容缺受理" in accepted.body and "食品经营许可场所平面图" in accepted.body
    assert accepted.link == f"/my/applications/{app.ref}/"
    sup = app.supplements.get()
    # far from the deadline: the case log gets the daily reminder, the person is not disturbed yet
    services.send_supplement_reminders(sup.deadline - dt.timedelta(days=10))
    assert _told(zhang, "application.supplement_due") == []
    services.send_supplement_reminders(sup.deadline - dt.timedelta(days=2))
    services.send_supplement_reminders(sup.deadline - dt.timedelta(days=1))
    [due] = _told(zhang, "application.supplement_due")  # once per deadline
    assert f"{sup.deadline.year}年{sup.deadline.month}月{sup.deadline.day}日" in due.subject
    assert "还有 2 天" in due.body and "食品经营许可场所平面图" in due.body
    _decide("approver-scjg", users, app)
    assert _told(zhang, "application.decided") == []  # the result is held until the supplement
    from tongban.applications import files

    stored = files.store_bytes(b"%PDF-1.4 late", name="plan.pdf", content_type="application/pdf")
    services.supplement_material(app, "name:食品经营许可场所平面图", stored, zhang)
    app.refresh_from_db()
    assert app.status == Application.Status.APPROVED
    [decided] = _told(zhang, "application.decided")
    assert "· 食品经营许可（云溪市市场监督管理局）：" in decided.body and app.ref in decided.subject + decided.body
    [invitation] = _told(zhang, "feedback.rating_invitation")
    assert invitation.subject == "请您评价这次服务：食品经营许可" and "云溪市市场监督管理局" in invitation.body
    until = timezone.localdate() + dt.timedelta(days=30)
    assert f"{until.year}年{until.month}月" in invitation.body


def test_one_time_notice_and_refusal_are_told(small_catalog, users, django_capture_on_commit_callbacks):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_one_time_notice(app, users["clerk"], note="平面图须标明面积")
    [notice] = _told(zhang, "application.one_time_notice")
    assert "1. 申请人身份证明" in notice.body and "补充说明：平面图须标明面积" in notice.body
    assert "已经交过的材料不用再交" in notice.body
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(app, users["clerk"], "不属于本窗口受理范围")
    [refused] = _told(zhang, "application.refused")
    assert "理由：不属于本窗口受理范围" in refused.body and "行政复议" in refused.body
    # the window services invite a rating too (feedback's service records)
    assert len(_told(zhang, "feedback.rating_invitation")) == 2


def test_a_failed_step_tells_nobody(small_catalog, users):
    from tongban.applications.errors import ApplicationError

    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    with pytest.raises(ApplicationError):
        services.accept(app, users["clerk"])  # materials missing
    assert not Message.objects.filter(recipient=zhang).exists()
