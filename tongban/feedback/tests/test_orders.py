"""12345 work orders: intake, import, classify, dispatch/return/reassign, deadlines, answer, confirm and reopen,
duplicates and merge, knowledge base, complaint and report routing."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from tongban.core import events
from tongban.core.calendar import WorkingCalendar
from tongban.core.models import User
from tongban.feedback import conf, selectors, services
from tongban.feedback.errors import IMPORT_ROW, FeedbackError
from tongban.feedback.models import TrainingExample, WorkOrder

pytestmark = pytest.mark.django_db

NOISE = "青山区翠湖路烧烤摊油烟扰民，每天晚上到十二点，多次反映无果"


@pytest.fixture
def hotline(feedback_demo, model) -> User:
    return User.objects.get(username="hotline")


def _order(hotline, text=NOISE, **fields) -> WorkOrder:
    return services.create_order({"text": text, "division": "910102000000", "address": "翠湖路", **fields},
                                 actor=hotline, channel=WorkOrder.Channel.PHONE)


def test_intake_proposes_type_and_department(hotline):
    order = _order(hotline)
    assert order.number.startswith("GD") and order.status == WorkOrder.Status.NEW
    assert order.proposed_type == "complaint" and order.proposed_department.code == "yx-cg"
    assert order.type == "complaint" and 0 < order.confidence <= 1
    assert order.events.get().kind == "intake"


def test_work_order_without_text_is_refused(hotline):
    with pytest.raises(FeedbackError) as empty:
        services.create_order({"text": "   "}, actor=hotline)
    assert empty.value.detail == {"field": "text"} and not WorkOrder.objects.exists()


def test_dispatch_sets_deadlines_and_keeps_corrections(hotline, settings):
    settings.TONGBAN_HOTLINE_DAYS = "complaint=4"
    order = _order(hotline)
    order = services.dispatch_order(order, hotline, department="yx-sthj")  # corrected: not the proposal
    today = timezone.localdate()
    assert order.status == WorkOrder.Status.DISPATCHED and order.department.code == "yx-sthj"
    assert order.handling_due == WorkingCalendar.load(order.division).add_working_days(today, 4)
    assert order.receipt_due - order.dispatched_at == dt.timedelta(hours=conf.receipt_hours())
    example = TrainingExample.objects.get()
    assert (example.text, example.type, example.department_code) == (NOISE, "complaint", "yx-sthj")


def test_urgent_orders_have_the_urgent_deadline(hotline):
    order = services.dispatch_order(_order(hotline, urgency="紧急"), hotline, department="yx-cg")
    assert order.urgency == "urgent"
    assert order.handling_due == WorkingCalendar.load(order.division).add_working_days(timezone.localdate(), 1)
    assert not TrainingExample.objects.exists()  # the proposal was confirmed


def test_return_reassign_answer_confirm_and_reopen_once(hotline):
    order = services.dispatch_order(_order(hotline), hotline, department="yx-sthj")
    sthj = User.objects.create(username="staff-sthj", kind="staff", organisation=order.department)
    cg = User.objects.get(username="approver-cg")
    with pytest.raises(FeedbackError) as not_theirs:
        services.receive_order(order, cg)
    assert not_theirs.value.status == 403
    with pytest.raises(FeedbackError) as no_reason:
        services.return_order(order, sthj, reason=" ")
    assert no_reason.value.detail == {"field": "reason"}
    order = services.return_order(order, sthj, reason="油烟扰民属城管职责")
    assert order.status == WorkOrder.Status.RETURNED and order.department is None
    order = services.dispatch_order(order, hotline, department="yx-cg")
    order = services.receive_order(order, cg)
    order = services.answer_order(order, cg, text="已责令摊主安装油烟净化器")
    zhang = User.objects.get(username="zhangsan")
    with pytest.raises(FeedbackError):
        services.confirm_order(order, zhang, satisfied=True)  # not the caller's order
    order = services.confirm_order(order, hotline, satisfied=False, note="回访：仍有油烟")
    assert order.status == WorkOrder.Status.DISPATCHED and order.reopen_count == 1 and order.answer == ""
    order = services.answer_order(services.receive_order(order, cg), cg, text="已取缔")
    order = services.confirm_order(order, hotline, satisfied=False)
    assert order.status == WorkOrder.Status.CLOSED and order.satisfaction == "dissatisfied"  # reopened only once
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["intake", "dispatch", "return", "dispatch", "receive", "answer", "reopen", "receive", "answer",
                     "confirm"]


def test_citizen_files_and_confirms_their_own_order(feedback_demo, model):
    zhang = User.objects.get(username="zhangsan")
    order = services.create_order({"text": "小区门口路灯坏了一整条街晚上很黑"}, actor=zhang)
    assert order.person == zhang and order.contact_name == "张三" and order.channel == "web"
    assert order in selectors.orders_for_person(zhang)


def test_duplicates_within_seven_days_are_proposed_and_merged(hotline):
    first = _order(hotline)
    second = _order(hotline, text="青山区翠湖路烧烤摊油烟扰民，每天晚上到十二点，多次反映没人管")
    other = _order(hotline, text="河东区滨江路公交站牌被撞倒了")
    old = _order(hotline)
    WorkOrder.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    found = [d.order for d in selectors.duplicate_candidates(second)]
    assert found == [first]
    assert other not in found
    merged = services.merge_orders(second, first, hotline)
    assert merged.status == WorkOrder.Status.MERGED and merged.duplicate_of == first
    with pytest.raises(FeedbackError):
        services.merge_orders(first, first, hotline)


def test_complaint_about_staff_goes_to_the_discipline_role(hotline):
    order = _order(hotline, text="人社局窗口工作人员私下收取好处费", type="complaint", subject="staff",
                   subject_name="某窗口工作人员")
    order = services.dispatch_order(order, hotline, department="yx-rsj")
    assert order.discipline
    approver = User.objects.get(username="approver-rsj")
    discipline = User.objects.get(username="discipline-rsj")
    assert not selectors.can_handle(approver, order) and order not in selectors.orders_for_department(approver)
    assert selectors.can_handle(discipline, order) and order in selectors.orders_for_department(discipline)
    services.receive_order(order, discipline)


def test_report_about_an_entity_becomes_a_supervision_lead(hotline, django_capture_on_commit_callbacks):
    leads = []

    def receiver(sender, **kwargs):
        leads.append(kwargs)

    events.entity_reported.connect(receiver, dispatch_uid="test.lead")
    try:
        order = _order(hotline, text="举报翠湖路一家小作坊无证生产食品", type="report", subject="entity",
                       subject_name="翠湖路食品作坊", subject_code="")
        with django_capture_on_commit_callbacks(execute=True):
            services.dispatch_order(order, hotline, department="qs-scjg")
    finally:
        events.entity_reported.disconnect(dispatch_uid="test.lead")
    assert len(leads) == 1
    assert leads[0]["order_number"] == order.number and leads[0]["entity_name"] == "翠湖路食品作坊"
    assert leads[0]["department_code"] == "qs-scjg" and leads[0]["division_code"] == "910102000000"


def _xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_csv_and_xlsx(hotline):
    csv_data = "诉求内容,类型,区划代码,联系电话\n路灯坏了一整条街晚上很黑,求助,910103000000,13900000000\n\n" \
               "公积金提取需要什么材料,,,\n".encode("gb18030")
    rows = services.parse_import_file("calls.csv", csv_data)
    orders = services.import_orders(rows, actor=hotline)
    assert [o.type for o in orders] == ["help", "consult"]  # the second type from the classifier
    assert orders[0].division.code == "910103000000" and orders[1].channel == "import"
    xlsx = _xlsx([["text", "type", "anonymous"], ["医保卡突然无法使用", "help", "是"]])
    (order,) = services.import_orders(services.parse_import_file("calls.xlsx", xlsx), actor=hotline)
    assert order.anonymous and order.contact_name == ""


@pytest.mark.parametrize(("content", "row", "field"), [
    ("诉求内容,类型\n路灯坏了,求助\n,咨询\n", 3, "text"),
    ("诉求内容,类型\n路灯坏了,求助\n公积金,闲聊\n", 3, "type"),
    ("诉求内容,区划代码\n路灯坏了,999\n", 2, "division"),
    ("诉求内容,匿名\n路灯坏了,也许\n", 2, "anonymous"),
])
def test_import_with_a_bad_row_names_it_and_writes_nothing(hotline, content, row, field):
    rows = services.parse_import_file("calls.csv", content.encode())
    with pytest.raises(FeedbackError) as bad:
        services.import_orders(rows, actor=hotline)
    assert bad.value.code == IMPORT_ROW and bad.value.detail == {"row": row, "field": field}
    assert f"第 {row} 行" in bad.value.message
    assert not WorkOrder.objects.exists()


def test_import_file_without_text_column_or_of_another_kind(hotline):
    with pytest.raises(FeedbackError) as header:
        services.parse_import_file("calls.csv", "类型\n求助\n".encode())
    assert header.value.detail == {"row": 1, "field": "text"}
    with pytest.raises(FeedbackError):
        services.parse_import_file("calls.txt", b"x")


def test_only_operators_import(feedback_demo, model):
    with pytest.raises(FeedbackError) as refused:
        services.import_orders([{"text": "x"}], actor=User.objects.get(username="clerk"))
    assert refused.value.status == 403


def test_knowledge_base_answers_a_consultation_from_the_catalogue(demo_core):
    from rich.console import Console

    from tongban.catalog import demo as catalog_demo

    catalog_demo.load(Console(quiet=True))
    answers = services.knowledge_answers("请问工伤认定需要准备哪些材料")
    assert answers and answers[0]["item_code"] == "YX-RSJ-QR-0001"
    assert answers[0]["materials"] and answers[0]["guide_url"] == "/catalog/items/YX-RSJ-QR-0001/"
    text = services.orders.knowledge_text(answers[0])
    assert "工伤认定" in text and "所需材料" in text


def test_operator_answers_a_consultation_at_once(hotline):
    order = _order(hotline, text="公积金提取需要什么材料", type="consult")
    order = services.answer_order(order, hotline, text="请携带身份证和购房合同到公积金中心办理")
    assert order.status == WorkOrder.Status.ANSWERED
    order = services.confirm_order(order, hotline, satisfied=True)
    assert order.status == WorkOrder.Status.CLOSED


def test_bad_deadline_setting_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TONGBAN_HOTLINE_DAYS = "complaint=five"
    with pytest.raises(ImproperlyConfigured, match="TONGBAN_HOTLINE_DAYS"):
        conf.handling_days()
    settings.TONGBAN_HOTLINE_DAYS = "help:soon=2"
    with pytest.raises(ImproperlyConfigured, match="TYPE:urgent"):
        conf.deadline_days("help", "normal")
    settings.TONGBAN_HOTLINE_DAYS = ""
    assert conf.handling_days() == conf.DEFAULT_DAYS


def test_urgent_deadline_per_type(hotline, settings):
    settings.TONGBAN_HOTLINE_DAYS = "report:urgent=3,report=12"
    assert conf.deadline_days("report", "urgent") == 3 and conf.deadline_days("report", "normal") == 12
    assert conf.deadline_days("help", "urgent") == conf.urgent_days() == 1
    order = services.dispatch_order(_order(hotline, type="report", urgency="urgent"), hotline, department="yx-cg")
    assert order.handling_due == WorkingCalendar.load(order.division).add_working_days(timezone.localdate(), 3)


def test_overdue_receipt_and_handling(hotline):
    order = services.dispatch_order(_order(hotline), hotline, department="yx-cg")
    assert not order.is_overdue()
    assert order.is_overdue(order.receipt_due + dt.timedelta(minutes=1))  # not received in time
    order = services.receive_order(order, User.objects.get(username="approver-cg"))
    assert not order.is_overdue(order.receipt_due + dt.timedelta(minutes=1))
    late = timezone.make_aware(dt.datetime.combine(order.handling_due + dt.timedelta(days=1), dt.time(9)))
    assert order.is_overdue(late) and order in selectors.overdue_orders(late)


def test_the_periodic_check_flags_overdue_orders_once(hotline):
    from tongban.workflow.registry import periodic_jobs

    order = services.dispatch_order(_order(hotline), hotline, department="yx-cg")
    job = periodic_jobs()["feedback.overdue_work_orders"]
    assert job(timezone.now()) == {"receipt": 0, "handling": 0}
    late = order.receipt_due + dt.timedelta(minutes=5)
    assert job(late) == {"receipt": 1, "handling": 0}
    assert job(late) == {"receipt": 0, "handling": 0}  # once
    assert order.events.filter(kind="receipt_overdue").count() == 1
