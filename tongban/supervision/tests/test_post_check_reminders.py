"""告知承诺制: the person is reminded once before the department's post-check date (我的消息)."""

from __future__ import annotations

import datetime as dt

import pytest

from tongban.core.demo import ID_NUMBERS
from tongban.core.models import Organisation, User
from tongban.notifications.models import Message
from tongban.supervision import services
from tongban.supervision.jobs import post_check_reminders
from tongban.supervision.models import PostCheck

pytestmark = pytest.mark.django_db


def test_post_check_due_within_the_notice_days_is_told_once(demo_core, settings):
    settings.TONGBAN_NOTIFY_POST_CHECK_DAYS = 7
    today = dt.date(2026, 12, 1)
    scjg = Organisation.objects.get(code="yx-scjg")
    near = PostCheck.objects.create(application_ref="YX-PC-1", title="食品经营许可", department=scjg,
                                    subject_name="张三", subject_id_number=ID_NUMBERS["zhangsan"],
                                    due_on=today + dt.timedelta(days=5))
    PostCheck.objects.create(application_ref="YX-PC-2", title="户外招牌设置", department=scjg, subject_name="张三",
                             subject_id_number=ID_NUMBERS["zhangsan"], due_on=today + dt.timedelta(days=20))
    PostCheck.objects.create(application_ref="YX-PC-3", title="无账户的人", department=scjg, subject_name="王五",
                             subject_id_number="110101199001010000", due_on=today + dt.timedelta(days=2))
    assert services.remind_post_checks(today) == 1
    assert services.remind_post_checks(today + dt.timedelta(days=1)) == 0
    [told] = Message.objects.filter(recipient=User.objects.get(username="zhangsan"), event="supervision.post_check_due")
    assert told.subject == "承诺事项核查提醒：食品经营许可"
    assert "云溪市市场监督管理局将在 2026年12月6日 前核查" in told.body and "YX-PC-1" in told.body
    assert told.ref == near.application_ref
    near.status = PostCheck.Status.PASSED
    near.save()
    # the periodic job (the engine's tick) runs the same reminder: the far one is due now
    assert post_check_reminders(dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC)) == {"sent": 1}
