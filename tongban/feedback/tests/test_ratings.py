"""好差评: rating once per own service within the window; real-name bad ratings are verified, rectified on the
working-day clock, revisited, or appealed to the service-management office."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.core import events
from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Organisation, User
from tongban.feedback import selectors, services
from tongban.feedback.errors import ALREADY_RATED, NOT_YOURS, RATING_CLOSED, FeedbackError
from tongban.feedback.models import Rating, Rectification, ServiceRecord

pytestmark = pytest.mark.django_db


def test_a_good_rating_once_per_service(service, zhang):
    rating = services.rate(zhang, service.ref, 5, indicators={"服务态度": 5, "服务效率": 4}, comment="很快")
    assert rating.department.code == "yx-rsj" and rating.window.code == "yx-zwzx-w01"
    assert not Rectification.objects.exists()  # a good rating opens nothing
    with pytest.raises(FeedbackError) as again:
        services.rate(zhang, service.ref, 4)
    assert again.value.code == ALREADY_RATED and again.value.status == 409
    assert Rating.objects.count() == 1


def test_someone_elses_service_is_refused(service):
    lisi = User.objects.get(username="lisi")
    with pytest.raises(FeedbackError) as refused:
        services.rate(lisi, service.ref, 1, comment="差")
    assert refused.value.code == NOT_YOURS and refused.value.status == 403
    assert not Rating.objects.exists()


def test_after_the_rating_window_closes(service, zhang):
    late = service.rate_until + dt.timedelta(minutes=1)
    with pytest.raises(FeedbackError) as closed:
        services.rate(zhang, service.ref, 5, now=late)
    assert closed.value.code == RATING_CLOSED and "评价期已于" in closed.value.message
    assert not Rating.objects.exists()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"level": 6}, "level"), ({"level": 1}, "comment"),  # a bad rating says why
    ({"level": 5, "indicators": {"颜值": 5}}, "indicators"), ({"level": 5, "indicators": {"服务态度": 9}}, "indicators"),
])
def test_bad_input_names_the_field(service, zhang, kwargs, field):
    level = kwargs.pop("level")
    with pytest.raises(FeedbackError) as bad:
        services.rate(zhang, service.ref, level, **kwargs)
    assert bad.value.detail == {"field": field}
    assert not Rating.objects.exists()


def test_the_service_is_matched_by_id_number_when_the_case_had_no_account(demo_core, zhang):
    record = services.record_service(ref="R-2:X", department=Organisation.objects.get(code="yx-ga"),
                                     person_id_number=zhang.id_number, person_name="张三")
    assert services.rate(zhang, record.ref, 4).rater == zhang


def test_real_name_bad_rating_is_rectified_on_the_working_day_clock_and_revisited(service, zhang):
    rating = services.rate(zhang, service.ref, 2, comment="等了两个小时", indicators={"服务效率": 1})
    rect = rating.rectification
    assert rect.status == Rectification.Status.VERIFYING and rect.department.code == "yx-rsj"
    staff = User.objects.get(username="approver-rsj")
    other = User.objects.get(username="approver-ga")
    with pytest.raises(FeedbackError) as foreign:
        services.verify(rect, other, note="x", days=5)
    assert foreign.value.status == 403
    with pytest.raises(FeedbackError) as too_long:
        services.verify(rect, staff, note="属实", days=16)
    assert too_long.value.detail == {"field": "days"}
    rect = services.verify(rect, staff, note="属实：叫号系统故障", days=10)
    today = timezone.localdate()
    assert rect.due_on == WorkingCalendar.load(rect.department.division).add_working_days(today, 10)
    assert rect.due_on > today + dt.timedelta(days=10)  # working days: weekends (and holidays) do not count
    with pytest.raises(FeedbackError) as early:
        services.revisit(rect, staff, result="satisfied")
    assert early.value.status == 409
    rect = services.rectify(rect, staff, note="增加叫号机并调整窗口")
    rect = services.revisit(rect, staff, result="satisfied", note="电话回访认可")
    assert rect.status == Rectification.Status.DONE
    stats = selectors.rating_stats("yx-rsj")
    assert stats["bad"] == 1 and stats["rectified_share"] == 1.0 and stats["revisited_share"] == 1.0


def test_anonymous_bad_rating_opens_no_rectification(service, zhang):
    rating = services.rate(zhang, service.ref, 1, comment="太慢", real_name=False)
    assert not Rectification.objects.filter(rating=rating).exists()


def test_appeal_is_decided_by_the_service_management_office(service, zhang):
    rect = services.rate(zhang, service.ref, 1, comment="不给办").rectification
    staff = User.objects.get(username="approver-rsj")
    rect = services.appeal(rect, staff, reason="申请材料不全，依法不予受理，已一次性告知")
    assert rect.status == Rectification.Status.APPEALED
    with pytest.raises(FeedbackError) as not_office:
        services.decide_appeal(rect, staff, upheld=True, decision="成立")
    assert not_office.value.status == 403
    rect = services.decide_appeal(rect, User.objects.get(username="admin"), upheld=True, decision="申诉成立")
    assert rect.status == Rectification.Status.REVISITING and rect.appeal_upheld  # still revisited (100%)
    with pytest.raises(FeedbackError):
        services.appeal(rect, staff, reason="again")


def test_rejected_appeal_sends_the_department_to_rectify_within_15_working_days(service, zhang):
    rect = services.rate(zhang, service.ref, 2, comment="态度差").rectification
    staff = User.objects.get(username="approver-rsj")
    services.appeal(rect, staff, reason="不实")
    rect = services.decide_appeal(rect, User.objects.get(username="admin"), upheld=False, decision="情况属实")
    assert rect.status == Rectification.Status.RECTIFYING and rect.limit_days == 15 and rect.due_on


def test_decision_made_invites_the_applicant_to_rate(demo_core, zhang):
    clerk = User.objects.get(username="clerk")
    holder = {"kind": "natural", "name": "张三", "id_number": zhang.id_number, "user_id": zhang.pk}
    for _ in range(2):  # delivered twice: one record
        events.decision_made.send(sender=None, application_ref="YX-E-1", item_code="YX-RSJ-QR-0001",
                                  outcome="approved", holder=holder, result={}, organisation_code="yx-rsj",
                                  window_code="yx-zwzx-w01", served_by=clerk.pk)
    record = ServiceRecord.objects.get()
    assert record.ref == "YX-E-1:YX-RSJ-QR-0001" and record.person == zhang and record.staff == clerk
    assert record.window.code == "yx-zwzx-w01" and record.rate_until > timezone.now() + dt.timedelta(days=29)
    events.decision_made.send(sender=None, application_ref="YX-E-2", item_code="X", outcome="approved",
                              holder=holder, organisation_code="no-such-org")  # an unknown department: ignored
    assert ServiceRecord.objects.count() == 1


def test_stats_take_a_constant_number_of_queries(service, zhang, demo_core):
    services.rate(zhang, service.ref, 1, comment="慢")
    with CaptureQueriesContext(connection) as few:
        selectors.rating_stats("yx-rsj")
    for i in range(5):
        record = services.record_service(ref=f"S-{i}", department=service.department, person=zhang)
        services.rate(zhang, record.ref, 1 + i % 5, comment="x")
    with CaptureQueriesContext(connection) as many:
        stats = selectors.rating_stats("yx-rsj")
    assert len(many) == len(few) <= 4
    assert stats["total"] == 6 and sum(level["count"] for level in stats["levels"]) == 6


def test_window_clerk_records_a_visit_and_the_person_rates_on_the_pad(demo_core, zhang):
    clerk = User.objects.get(username="clerk")
    record = services.record_window_service(clerk, window="yx-zwzx-w01", department="yx-ga", kind="notice",
                                            person_name="张三", person_id_number=zhang.id_number)
    assert record.person == zhang and record.staff == clerk and record.kind == ServiceRecord.Kind.NOTICE
    with pytest.raises(FeedbackError) as other_window:
        services.record_window_service(User.objects.get(username="clerk-ch"), window="yx-zwzx-w01",
                                       department="yx-ga")
    assert other_window.value.status == 403
    token = services.pad_token(record)
    rating = services.rate_by_pad(token, 2, comment="告知的材料不清楚", indicators={"服务水平": 2})
    assert rating.channel == Rating.Channel.PAD and rating.rater == zhang and rating.real_name
    assert Rectification.objects.filter(rating=rating).exists()
    with pytest.raises(FeedbackError) as again:
        services.rate_by_pad(token, 5)
    assert again.value.code == ALREADY_RATED
    with pytest.raises(FeedbackError) as forged:
        services.rate_by_pad(token[:-2] + "xx", 5)
    assert forged.value.status == 403


def test_a_one_time_notice_or_refusal_at_the_window_invites_the_person_to_rate(demo_core, zhang):
    clerk = User.objects.get(username="clerk")
    holder = {"kind": "natural", "name": "张三", "id_number": zhang.id_number, "user_id": zhang.pk}
    for _ in range(2):  # delivered twice: one record
        events.window_service_rendered.send(sender=None, application_ref="YX-W-1", kind="refusal", notice_code="N1",
                                            item_code="YX-RSJ-QR-0001", department_code="yx-rsj",
                                            window_code="yx-zwzx-w01", served_by=clerk.pk, holder=holder)
    record = ServiceRecord.objects.get()
    assert record.ref == "YX-W-1:refusal:N1" and record.kind == ServiceRecord.Kind.REFUSAL
    assert record.person == zhang and record.staff == clerk and record.window.code == "yx-zwzx-w01"
    assert selectors.services_for_person(zhang).filter(pk=record.pk).exists()  # on his list to rate
    services.rate(zhang, record.ref, 2, comment="理由说得不清楚")
    events.window_service_rendered.send(sender=None, application_ref="YX-W-2", kind="notice", notice_code="N2",
                                        department_code="no-such-org", holder=holder)  # unknown department: ignored
    assert ServiceRecord.objects.count() == 1
