"""The feedback pages: rating from the person's list, the operator's intake and dispatch, the department's work,
the evaluator's masked page and the public statistics. Refused actions go back with a message and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.core.models import User
from tongban.feedback import services
from tongban.feedback.models import Rating, Rectification, WorkOrder

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_person_rates_from_the_list(service, feedback_demo):
    zhang = _client("zhangsan")
    page = zhang.get("/feedback/rate/?case=YX-T-0001").content.decode()
    assert "工伤认定" in page and f"/feedback/rate/{service.ref}/" in page
    form = zhang.get(f"/feedback/rate/{service.ref}/").content.decode()
    assert "服务态度" in form and "非常不满意" in form  # a window service: the window sub-indicators
    refused = zhang.post(f"/feedback/rate/{service.ref}/", {"level": "1"}, follow=True)
    assert "差评请填写评价内容" in refused.content.decode() and not Rating.objects.exists()
    done = zhang.post(f"/feedback/rate/{service.ref}/", {"level": "2", "comment": "排队太久", "ind-服务效率": "2"})
    assert done.status_code == 302 and done["Location"] == "/feedback/rate/"
    rating = Rating.objects.get()
    assert rating.indicators == {"服务效率": 2} and rating.real_name
    assert "已评价" in zhang.get(f"/feedback/rate/{service.ref}/").content.decode()
    assert _client("lisi").get(f"/feedback/rate/{service.ref}/").status_code == 403


def test_operator_intake_dispatch_and_department_answer(feedback_demo, model):
    operator = _client("hotline")
    r = operator.post("/hotline/", {"text": "单位拖欠工资三个月不发", "division": "910103000000", "contact_name": "王五",
                                    "contact_phone": "13900000000"})
    order = WorkOrder.objects.get()
    assert r["Location"] == f"/hotline/orders/{order.number}/" and order.proposed_department.code == "yx-rsj"
    page = operator.get(r["Location"]).content.decode()
    assert "智能分类建议" in page and "云溪市人力资源和社会保障局" in page
    operator.post(r["Location"], {"action": "dispatch", "department": "yx-rsj"})
    order.refresh_from_db()
    assert order.status == "dispatched"
    rsj = _client("approver-rsj")
    assert order.number in rsj.get("/feedback/department/").content.decode()
    rsj.post(f"/feedback/department/orders/{order.number}/", {"action": "receive"})
    empty = rsj.post(f"/feedback/department/orders/{order.number}/", {"action": "answer", "text": ""}, follow=True)
    assert "答复内容不能为空" in empty.content.decode()
    rsj.post(f"/feedback/department/orders/{order.number}/", {"action": "answer", "text": "已责令发放"})
    order.refresh_from_db()
    assert order.status == "answered" and order.answer == "已责令发放"
    assert _client("approver-ga").get(f"/feedback/department/orders/{order.number}/").status_code == 403


def test_operator_page_shows_duplicates_and_knowledge(feedback_demo, model):
    from rich.console import Console

    from tongban.catalog import demo as catalog_demo

    catalog_demo.load(Console(quiet=True))
    hotline = User.objects.get(username="hotline")
    first = services.create_order({"text": "请问工伤认定需要准备哪些材料", "type": "consult"}, actor=hotline)
    second = services.create_order({"text": "请问工伤认定需要准备哪些材料呢", "type": "consult"}, actor=hotline)
    page = _client("hotline").get(f"/hotline/orders/{second.number}/").content.decode()
    assert first.number in page and "合并到此工单" in page
    assert "知识库" in page and "所需材料" in page


def test_rectification_page_for_the_department_and_the_office(service, feedback_demo):
    zhang = User.objects.get(username="zhangsan")
    rect = services.rate(zhang, service.ref, 1, comment="态度差").rectification
    rsj = _client("approver-rsj")
    url = f"/feedback/department/rectifications/{rect.pk}/"
    bad = rsj.post(url, {"action": "verify", "note": "属实", "days": "20"}, follow=True)
    assert "最多" in bad.content.decode()
    rsj.post(url, {"action": "appeal", "reason": "高峰期排队，非工作人员原因"})
    page = _client("admin").get(url).content.decode()
    assert "申诉成立" in page  # the office's decision form
    _client("admin").post(url, {"action": "decide", "upheld": "0", "decision": "属实"})
    rect.refresh_from_db()
    assert rect.status == Rectification.Status.RECTIFYING and rect.limit_days == 15
    assert _client("approver-ga").get(url).status_code == 403


def test_evaluator_page_is_masked(service, feedback_demo):
    services.rate(User.objects.get(username="zhangsan"), service.ref, 5)
    page = _client("evaluator").get("/feedback/evaluation/").content.decode()
    assert "张*" in page and "张三" not in page and "/api/evaluation/data/ratings/export?format=parquet" in page
    drawn = _client("evaluator").post("/feedback/evaluation/", {"size": "5", "seed": "9"}).content.decode()
    assert "YX-T-0001" in drawn
    assert _client("approver-rsj").get("/feedback/evaluation/").status_code == 403


def test_public_stats_page(service, feedback_demo):
    services.rate(User.objects.get(username="zhangsan"), service.ref, 4)
    page = Client().get("/feedback/stats/?org=yx-rsj").content.decode()
    assert "云溪市人力资源和社会保障局" in page and "评价总数 <strong>1</strong>" in page
    assert "各事项评价" in page and "工伤认定" in page
    assert Client().get("/feedback/stats/?org=nowhere").status_code == 404


def test_navigation_links_by_role(feedback_demo):
    assert "/hotline/" in _client("hotline").get("/").content.decode()
    assert "/feedback/evaluation/" in _client("evaluator").get("/").content.decode()
    citizen = _client("zhangsan").get("/").content.decode()
    assert "/feedback/rate/" in citizen and "/hotline/" not in citizen
    assert "/feedback/stats/" in Client().get("/").content.decode()


def test_rating_pad_page_needs_no_sign_in(feedback_demo):
    record = services.record_window_service(User.objects.get(username="clerk"), window="yx-zwzx-w01",
                                            department="yx-rsj", person_name="王五")
    url = f"/feedback/pad/{services.pad_token(record)}/"
    pad = Client()
    assert "服务态度" in pad.get(url).content.decode()
    pad.post(url, {"level": "5", "ind-服务态度": "5"})
    rating = Rating.objects.get()
    assert rating.channel == "pad" and rating.rater is None and rating.indicators == {"服务态度": 5}
    assert "已评价" in pad.get(url).content.decode()
    assert pad.get("/feedback/pad/forged/").status_code == 403


def test_operator_closes_a_consultation_at_once_from_the_knowledge_base(feedback_demo, model):
    hotline = User.objects.get(username="hotline")
    order = services.create_order({"text": "公积金提取需要什么材料", "type": "consult"}, actor=hotline)
    _client("hotline").post(f"/hotline/orders/{order.number}/", {"action": "answer", "text": "请携带身份证和购房合同",
                                                                 "close": "1"})
    order.refresh_from_db()
    assert order.status == "closed" and order.satisfaction == "satisfied"
    assert list(order.events.values_list("kind", flat=True)) == ["intake", "answer", "confirm"]
