"""The feedback JSON API, including the interfaces the acceptance checks use."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tongban.feedback.models import Rating, WorkOrder
from tongban.testing import Api, ok

pytestmark = pytest.mark.django_db


def test_post_rating_201_then_409_with_a_stable_code(service, feedback_demo):
    zhang = Api("zhangsan")
    body = {"service": service.ref, "level": 2, "comment": "排队太久", "indicators": {"服务效率": 2}}
    rating = ok(zhang.post("/api/ratings", body), 201)
    assert rating["level_label"] == "不满意" and rating["rectification"] == "verifying"
    again = zhang.post("/api/ratings", {**body, "level": 5})
    assert again.status_code == 409 and again.json()["code"] == "feedback.already_rated"
    other = Api("lisi").post("/api/ratings", body)
    assert other.status_code == 403 and other.json()["code"] == "feedback.not_your_service"
    assert Client().post("/api/ratings", body, content_type="application/json").status_code == 401
    bad = zhang.post("/api/ratings", {"service": service.ref, "level": "five"})
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"
    assert Rating.objects.count() == 1


def test_public_stats(service, feedback_demo):
    ok(Api("zhangsan").post("/api/ratings", {"service": service.ref, "level": 1, "comment": "态度差"}), 201)
    stats = ok(Client().get("/api/ratings/stats?org=yx-rsj"))
    assert stats["total"] == 1 and stats["bad"] == 1 and stats["bad_real_name"] == 1
    assert {lv["label"]: lv["count"] for lv in stats["levels"]}["非常不满意"] == 1
    assert stats["rectified_share"] == 0.0 and stats["revisited_share"] == 0.0
    window = ok(Client().get("/api/ratings/stats?org=yx-zwzx"))  # the centre: its windows' ratings
    assert window["total"] == 1
    assert Client().get("/api/ratings/stats?org=nowhere").json()["code"] == "feedback.not_found"
    ranking = ok(Client().get("/api/ratings/ranking?by=department"))
    assert ranking == [{"code": "yx-rsj", "name": "云溪市人力资源和社会保障局", "total": 1, "bad": 1,
                        "satisfaction_rate": 0.0}]


def test_rectification_through_the_api(service, feedback_demo):
    rating = ok(Api("zhangsan").post("/api/ratings", {"service": service.ref, "level": 1, "comment": "差"}), 201)
    rsj = Api("approver-rsj")
    (rect,) = ok(rsj.get("/api/ratings/rectifications"))
    assert rect["service"] == rating["service"]
    assert ok(Api("approver-ga").get("/api/ratings/rectifications")) == []
    assert Api("approver-ga").post(f"/api/ratings/rectifications/{rect['id']}/verify",
                                   {"note": "x", "days": 1}).status_code == 403
    too_long = rsj.post(f"/api/ratings/rectifications/{rect['id']}/verify", {"note": "属实", "days": 20})
    assert too_long.status_code == 422 and too_long.json()["detail"] == {"field": "days"}
    assert ok(rsj.post(f"/api/ratings/rectifications/{rect['id']}/verify", {"note": "属实", "days": 0}))["due_on"]
    ok(rsj.post(f"/api/ratings/rectifications/{rect['id']}/rectify", {"note": "已整改"}))
    done = ok(rsj.post(f"/api/ratings/rectifications/{rect['id']}/revisit", {"result": "satisfied"}))
    assert done["status"] == "done"
    stats = ok(Client().get("/api/ratings/stats?org=yx-rsj"))
    assert stats["rectified_share"] == 1.0 and stats["revisited_share"] == 1.0


def test_classify_for_operators(feedback_demo, model):
    hotline = Api("hotline")
    answer = ok(hotline.post("/api/hotline/classify", {"text": "单位拖欠工资三个月不发，老板也联系不上"}))
    assert answer["department"] == "yx-rsj" and answer["type"] in {"help", "complaint"}
    assert 0 < answer["confidence"] <= 1
    assert set(answer) >= {"type", "department", "confidence"}
    empty = hotline.post("/api/hotline/classify", {"text": " "})
    assert empty.status_code == 422 and empty.json()["detail"] == {"field": "text"}
    assert Api("zhangsan").post("/api/hotline/classify", {"text": "路灯坏了"}).status_code == 403
    assert Api("admin").post("/api/hotline/classify", {"text": "路灯坏了"}).status_code == 200


def test_order_lifecycle_through_the_api(feedback_demo, model):
    zhang, hotline, cg = Api("zhangsan"), Api("hotline"), Api("approver-cg")
    order = ok(zhang.post("/api/hotline/orders", {"text": "青山区翠湖路路灯坏了一整条街晚上很黑",
                                                  "division": "910102000000"}), 201)
    number = order["number"]
    assert order["proposed_department"] == "yx-cg" and order["channel"] == "api"
    assert [o["number"] for o in ok(zhang.get("/api/hotline/orders"))] == [number]
    assert ok(Api("lisi").get("/api/hotline/orders")) == []
    assert Api("lisi").get(f"/api/hotline/orders/{number}").status_code == 403
    assert Api("clerk").post("/api/hotline/orders", {"text": "x"}).status_code == 403  # staff go through 12345
    ok(hotline.post(f"/api/hotline/orders/{number}/dispatch", {"department": "yx-cg"}))
    assert [o["number"] for o in ok(cg.get("/api/hotline/orders"))] == [number]
    ok(cg.post(f"/api/hotline/orders/{number}/receive"))
    ok(cg.post(f"/api/hotline/orders/{number}/answer", {"text": "已修复路灯"}))
    closed = ok(zhang.post(f"/api/hotline/orders/{number}/confirm", {"satisfied": True}))
    assert closed["status"] == "closed" and closed["satisfaction"] == "satisfied"
    masked = ok(Api("evaluator").get(f"/api/hotline/orders/{number}"))
    assert masked["contact_name"] == "张*" and [e["kind"] for e in masked["events"]][-1] == "confirm"


def test_import_reports_the_bad_row(feedback_demo, model):
    hotline = Api("hotline")
    upload = SimpleUploadedFile("calls.csv", "诉求内容,类型\n路灯坏了,求助\n,咨询\n".encode(), "text/csv")
    bad = hotline.client.post("/api/hotline/import", {"file": upload}, headers=hotline.headers)
    assert bad.status_code == 422 and bad.json()["detail"] == {"row": 3, "field": "text"}
    assert not WorkOrder.objects.exists()
    good = SimpleUploadedFile("calls.csv", "诉求内容,类型\n路灯坏了,求助\n".encode(), "text/csv")
    done = ok(hotline.client.post("/api/hotline/import", {"file": good}, headers=hotline.headers))
    assert done["count"] == 1


def test_knowledge_is_public(demo_core):
    assert Client().get("/api/hotline/knowledge?q=工伤认定").status_code == 200


def test_evaluator_exports_masked_csv_and_parquet_and_draws_a_reproducible_sample(service, feedback_demo):
    ok(Api("zhangsan").post("/api/ratings", {"service": service.ref, "level": 4}), 201)
    evaluator = Api("evaluator")
    response = evaluator.get("/api/evaluation/data/ratings/export?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["person"] == "张*" and "张三" not in response.content.decode("utf-8-sig")
    parquet = evaluator.get("/api/evaluation/data/orders/export?format=parquet")
    assert parquet.status_code == 200
    ratings = pq.read_table(io.BytesIO(evaluator.get("/api/evaluation/data/ratings/export?format=parquet").content))
    assert ratings.num_rows == 1 and ratings.column("level").to_pylist() == [4]
    assert evaluator.get("/api/evaluation/data/ratings/export?format=xls").status_code == 422
    assert evaluator.get("/api/evaluation/data/nothing").status_code == 404
    first = ok(evaluator.post("/api/evaluation/sample", {"size": 5, "seed": 7}))
    assert first == ok(evaluator.post("/api/evaluation/sample", {"size": 5, "seed": 7}))
    assert first["cases"] == ["YX-T-0001"] and first["population"] == 1
    assert Api("approver-rsj").get("/api/evaluation/data/ratings").status_code == 403


def test_window_service_gives_the_pad_link(feedback_demo):
    created = ok(Api("clerk").post("/api/ratings/window-services", {
        "window": "yx-zwzx-w01", "department": "yx-rsj", "kind": "window_visit", "person_name": "王五"}), 201)
    assert created["pad_url"].startswith("/feedback/pad/")
    assert Client().get(created["pad_url"]).status_code == 200
    refused = Api("clerk-ch").post("/api/ratings/window-services", {"window": "yx-zwzx-w01", "department": "yx-rsj"})
    assert refused.status_code == 403


def test_lists_take_a_constant_number_of_queries(feedback_demo, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.core.models import User
    from tongban.feedback import services

    hotline_user = User.objects.get(username="hotline")
    operator, rsj = Api("hotline"), Api("approver-rsj")

    def counts() -> tuple[int, int]:
        out = []
        for api in (operator, rsj):
            with CaptureQueriesContext(connection) as queries:
                ok(api.get("/api/hotline/orders"))
            out.append(len(queries))
        return out[0], out[1]

    def add(n: int) -> None:
        for i in range(n):
            order = services.create_order({"text": f"单位拖欠工资第{i}个月", "type": "help"}, actor=hotline_user,
                                          propose=False)
            services.dispatch_order(order, hotline_user, department="yx-rsj")

    add(1)
    few = counts()
    add(5)
    assert counts() == few
