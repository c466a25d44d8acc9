from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.applications import files, selectors, services
from tongban.applications.errors import ApplicationError
from tongban.applications.models import Application, ApplicationItem, Notice
from tongban.applications.services import Selection, intake
from tongban.core import events
from tongban.workflow import services as wf
from tongban.workflow.models import Task

PDF = b"%PDF-1.4\n% test material\n"
pytestmark = pytest.mark.django_db


def _upload(app, key, user, content=PDF):
    stored = files.store_bytes(content, name="m.pdf", content_type="application/pdf")
    return services.attach_file(app, key, stored, user)


def _provide_all(app, user, *, skip_tolerable=False):
    for m in app.materials.all():
        if m.status == "missing" and not (skip_tolerable and m.requirement == "tolerable"):
            _upload(app, m.key, user, PDF + m.key.encode())


def _decide(username, users, app, outcome="approve", opinion="符合条件"):
    user = users[username]
    task = Task.objects.get(instance_id__in=list(app.items.values_list("process_instance_id", flat=True)),
                            candidate_org=user.organisation, state__in=["open", "claimed"])
    wf.claim(task, user)
    return wf.complete(task, user, outcome, opinion=opinion)


def test_bundle_runs_parallel_department_reviews_and_gives_one_result(small_catalog, users):
    zhang = users["zhangsan"]
    decisions = []
    events.decision_made.connect(lambda **kw: decisions.append(kw), weak=False, dispatch_uid="t-bundle")
    try:
        app = services.create_application(user=zhang, bundle_code="T-BUNDLE",
                                          situations={"T-FIRE-01": Selection("T-FIRE-01", answers={"premises": "租赁"})})
        # the shared ID material is asked once for both items
        keys = list(app.materials.values_list("key", "item_codes"))
        assert ("name:申请人身份证明", ["T-SHOP-01", "T-FIRE-01"]) in keys
        _provide_all(app, zhang)
        services.submit(app, zhang, {"applicant_name": "张三", "applicant_phone": "13800000000",
                                     "shop_address": "翠湖路1号", "shop_area_sqm": 80})
        services.accept(app, users["clerk"])
        app.refresh_from_db()
        assert app.status == Application.Status.IN_REVIEW
        assert app.notices.filter(kind=Notice.Kind.ACCEPTANCE).exists()
        # each department sees its own task only
        open_tasks = Task.objects.filter(state="open")
        assert {t.candidate_org.code for t in open_tasks} == {"yx-scjg", "yx-xf"}
        _decide("approver-scjg", users, app)
        app.refresh_from_db()
        assert app.status == Application.Status.IN_REVIEW  # still waiting for the other department
        _decide("approver-xf", users, app)
        app.refresh_from_db()
        assert app.status == Application.Status.APPROVED
        assert app.notices.filter(kind=Notice.Kind.RESULT).count() == 1
        assert {d["item_code"] for d in decisions} == {"T-SHOP-01", "T-FIRE-01"}
    finally:
        events.decision_made.disconnect(dispatch_uid="t-bundle")


def test_return_for_correction_then_approve(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    _provide_all(app, zhang)
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    services.accept(app, users["clerk"])
    _decide("approver-scjg", users, app, outcome="return", opinion="平面图不清晰")
    task = Task.objects.get(element_id="correction", state="open")
    wf.complete(task, None, "corrected", check_permissions=False)
    _decide("approver-scjg", users, app)
    app.refresh_from_db()
    assert app.status == Application.Status.APPROVED


def test_invalid_form_is_refused_and_nothing_changes(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    with pytest.raises(ApplicationError) as err:
        services.submit(app, zhang, {"applicant_phone": "123"})
    assert err.value.code == "application.invalid_form"
    assert {e["field"] for e in err.value.detail["errors"]} >= {"applicant_name", "applicant_phone"}
    app.refresh_from_db()
    assert app.status == Application.Status.DRAFT and app.form_data == {}


def test_commitment_approves_at_once_and_failed_post_check_revokes(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    _upload(app, "name:申请人身份证明", zhang)
    services.sign_commitment(app, zhang, ["issued:business_licence:营业执照", "name:食品经营许可场所平面图"])
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    app.refresh_from_db()
    assert app.status == Application.Status.APPROVED
    assert app.events.filter(kind="post_check").exists()  # handed to supervision through commitment_approved
    # supervision owns the post-check; its failure comes back as an event and revokes the approval here
    events.post_check_failed.send(sender=None, application_ref=app.ref, holder={}, reason="现场与承诺不符")
    app.refresh_from_db()
    assert app.status == Application.Status.REVOKED
    assert app.items.get().status == ApplicationItem.Status.REVOKED
    assert "现场与承诺不符" in app.events.filter(kind="revoked").get().message


def test_commitment_refused_for_material_that_cannot_be_replaced(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    with pytest.raises(ApplicationError) as err:
        services.sign_commitment(app, zhang, ["name:申请人身份证明"])
    assert err.value.code == "commitment.material_not_replaceable"


def test_tolerant_acceptance_holds_result_until_supplement(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    _provide_all(app, zhang, skip_tolerable=True)
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    with pytest.raises(ApplicationError) as err:
        services.accept(app, users["clerk"])
    assert err.value.code == "window.materials_missing"
    services.accept(app, users["clerk"], tolerate=True, supplement_days=3)
    sup = app.supplements.get()
    assert sup.deadline == __import__("tongban.core.calendar", fromlist=["x"]).default_calendar().add_working_days(
        timezone.localdate(), 3)
    assert services.send_supplement_reminders() == 1
    assert services.send_supplement_reminders() == 0  # once a day
    _decide("approver-scjg", users, app)
    app.refresh_from_db()
    assert app.status == Application.Status.RESULT_HELD
    assert not app.notices.filter(kind=Notice.Kind.RESULT).exists()
    stored = files.store_bytes(PDF + b"late", name="plan.pdf", content_type="application/pdf")
    services.supplement_material(app, "name:食品经营许可场所平面图", stored, zhang)
    app.refresh_from_db()
    assert app.status == Application.Status.APPROVED
    assert app.notices.filter(kind=Notice.Kind.RESULT).exists()


def test_one_time_notice_lists_all_missing(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    notice = services.issue_one_time_notice(app, users["clerk"])
    assert notice.kind == Notice.Kind.ONE_TIME
    assert len(notice.content["lists"][0][1]) == 3
    app.refresh_from_db()
    assert app.status == Application.Status.INCOMPLETE
    with files.open_file(notice.file) as fh:
        assert fh.read(5) == b"%PDF-"


def test_proxy_application_records_authorisation(small_catalog, users):
    agent = users["lisi"]
    with pytest.raises(ApplicationError):
        services.authorise_proxy(agent=agent, principal_name="张三", principal_id_number=users["zhangsan"].id_number,
                                 scope="食品经营许可", valid_until=timezone.localdate() + dt.timedelta(days=30))
    letter = files.store_bytes(PDF + b"letter", name="letter.pdf", content_type="application/pdf")
    proxy = services.authorise_proxy(agent=agent, principal_name="张三",
                                     principal_id_number=users["zhangsan"].id_number, scope="食品经营许可",
                                     valid_until=timezone.localdate() + dt.timedelta(days=30), document=letter)
    app = services.create_application(user=agent, item_code="T-SHOP-01", proxy=proxy)
    assert app.applicant == users["zhangsan"] and app.submitted_by == agent
    assert app.events.filter(kind="proxy").exists()
    with pytest.raises(ApplicationError) as err:
        services.create_application(user=users["yunxi-tech"], item_code="T-SHOP-01", proxy=proxy)
    assert err.value.code == "proxy.not_agent"


def test_window_visits_are_counted_against_the_promise(small_catalog, users):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    from tongban.core.models import Organisation

    window = Organisation.objects.get(code="yx-zwzx-w01")
    services.record_visit(app, users["clerk"], window, "提交材料")
    assert selectors.visit_report(app) == {"promised": 1, "actual": 1, "kept": True}
    services.record_visit(app, users["clerk"], window, "领取结果")
    assert selectors.visit_report(app)["kept"] is False


def test_situation_guide_picks_materials(small_catalog):
    fire = small_catalog["fire"]
    assert services.guide_questions(fire) == [{"key": "premises", "answers": ["自有", "租赁"]}]
    assert services.pick_situation(fire, {"premises": "自有"}).code == "OWN"
    with pytest.raises(ApplicationError) as err:
        services.pick_situation(fire, {"premises": "借用"})
    assert err.value.code == "application.situation_unresolved"


def test_engine_tick_sends_supplement_reminders(small_catalog, users):
    from tongban.workflow import tasks as wf_tasks

    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code="T-SHOP-01")
    _provide_all(app, zhang, skip_tolerable=True)
    services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    services.accept(app, users["clerk"], tolerate=True)
    result = wf_tasks.tick.call()
    assert result["jobs"]["applications.supplement_reminders"] == {"sent": 1}
    assert app.events.filter(kind="reminder").count() == 1


def test_reference_numbers_follow_each_other_and_continue_after_existing_ones(small_catalog, users):
    from tongban.applications.models import Application, SequenceCounter

    first = services.create_application(user=users["zhangsan"], item_code="T-SHOP-01")
    prefix = intake.ref_prefix()
    assert first.ref == f"{prefix}000001"
    second = services.create_application(user=users["zhangsan"], item_code="T-SHOP-01")
    assert second.ref == f"{prefix}000002"
    # rows numbered before the counter existed (or a counter lost): the next number continues after them
    Application.objects.filter(pk=second.pk).update(ref=f"{prefix}000041")
    SequenceCounter.objects.filter(prefix=prefix).delete()
    third = services.create_application(user=users["zhangsan"], item_code="T-SHOP-01")
    assert third.ref == f"{prefix}000042"


def test_a_rolled_back_create_does_not_use_up_a_number(small_catalog, users, monkeypatch):
    def broken(selection):
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(intake, "material_plan", broken)  # fails after the number was taken
        with pytest.raises(RuntimeError):
            services.create_application(user=users["zhangsan"], item_code="T-SHOP-01")
    first = services.create_application(user=users["zhangsan"], item_code="T-SHOP-01")
    assert first.ref.endswith("000001")


def test_a_refusal_and_a_one_time_notice_tell_the_window_service_after_commit(small_catalog, users,
                                                                               django_capture_on_commit_callbacks):
    from tongban.core import events

    seen: list[dict] = []

    def listener(sender, **kwargs):
        seen.append(kwargs)

    events.window_service_rendered.connect(listener, dispatch_uid="test.window_service")
    try:
        zhang = users["zhangsan"]
        app = services.create_application(user=zhang, item_code="T-SHOP-01")
        services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
        with django_capture_on_commit_callbacks(execute=True):
            notice = services.issue_one_time_notice(app, users["clerk"])
        with django_capture_on_commit_callbacks(execute=False) as pending:
            refusal = services.refuse(app, users["clerk"], "不属于本窗口受理范围")
        assert len(seen) == 1  # not before the commit
        for callback in pending:
            callback()
    finally:
        events.window_service_rendered.disconnect(dispatch_uid="test.window_service")
    assert [(s["kind"], s["notice_code"]) for s in seen] == [("notice", notice.code), ("refusal", refusal.code)]
    assert seen[1]["application_ref"] == app.ref and seen[1]["item_code"] == "T-SHOP-01"
    assert seen[1]["served_by"] == users["clerk"].pk and seen[1]["holder"]["user_id"] == zhang.pk
