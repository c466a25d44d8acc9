"""The supervision pages: the workbench with clock lights, the entity page with its reasons, public draws."""

from __future__ import annotations

from django.utils import timezone

from tongban.core import events
from tongban.supervision import services
from tongban.supervision.models import CreditRepair, Inspection

from .conftest import code


def _login(client, world, username):
    client.force_login(world["users"][username])
    return client


def test_workbench_lists_every_queue_with_lights(client, world):
    services.record_result({"application_ref": "A-1", "item_code": "S-FOOD-01", "outcome": "approved",
                            "holder": {"name": "测试企业1有限公司", "id_number": code(1)}, "result": {}})
    events.commitment_approved.send(sender=None, application_ref="C-1", title="食品经营许可证核发",
                                    holder={"name": "测试企业2有限公司", "id_number": code(2)},
                                    items=[{"item_code": "S-FOOD-01", "department_code": "yx-scjg"}],
                                    approved_on=timezone.localdate().isoformat())
    services.run_draw("P-1", seed="v")
    assert _login(client, world, "zhangsan").get("/supervision/").status_code == 403
    page = _login(client, world, "supervisor").get("/supervision/").content.decode()
    assert "A-1" in page and "C-1" in page and "食品经营双随机抽查" in page
    assert 'class="light green"' in page and "正常" in page
    response = client.post("/supervision/post-checks/", {"check": "999", "passed": "no", "result": "x"})
    assert response.status_code == 404


def test_inspection_result_from_the_workbench(client, world):
    draw = services.run_draw("P-1", seed="w")
    inspection = Inspection.objects.filter(draw=draw).first()
    _login(client, world, "supervisor")
    client.post(f"/supervision/inspections/{inspection.pk}/", {"passed": "no", "findings": ""})
    inspection.refresh_from_db()
    assert inspection.status == "assigned"  # the findings are required
    client.post(f"/supervision/inspections/{inspection.pk}/", {"passed": "no", "findings": "健康证明过期"})
    inspection.refresh_from_db()
    assert inspection.status == "failed" and inspection.published
    page = client.get(f"/supervision/draws/{draw.pk}/").content.decode()
    assert "健康证明过期" in page and "钱立新" not in page


def test_entity_page_and_repair_by_the_entity(client, world):
    from tongban.core.models import User

    entity = services.upsert_entity(uscc=code(99), name="自助餐饮有限公司", division="910102001000", industry="H",
                                    departments=["yx-scjg"])
    event = services.add_credit_event(entity, "penalty", "超范围经营", department=entity.supervising_departments.get())
    owner = User.objects.create_user("entity-owner", password="x", id_number=code(99), kind=User.Kind.LEGAL_PERSON)
    client.force_login(owner)
    page = client.get(f"/supervision/entities/{code(99)}/").content.decode()
    assert "自助餐饮有限公司" in page and "超范围经营" in page and "信用分" in page
    client.post(f"/supervision/entities/{code(99)}/repair/", {"event": event.pk, "reason": "已停止超范围经营"})
    assert CreditRepair.objects.get(event=event).status == "pending"
    assert _login(client, world, "lisi").get(f"/supervision/entities/{code(99)}/").status_code == 404
    assert client.get("/supervision/draws/").status_code == 200


def test_hot_pages_use_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    from django.test import Client

    for i in range(1, 8):
        services.record_result({"application_ref": f"Q-{i}", "item_code": "S-FOOD-01", "outcome": "approved",
                                "holder": {"name": f"测试企业{i}有限公司", "id_number": code(i)}, "result": {}})
    draw = services.run_draw("P-1", seed="q")
    _login(client, world, "supervisor")
    client.get("/supervision/")  # warm the calendar cache
    with django_assert_max_num_queries(25):
        page = client.get("/supervision/")
    assert page.content.decode().count("Q-") >= 7
    with django_assert_max_num_queries(8):
        Client().get(f"/api/supervision/draws/{draw.pk}")
    with django_assert_max_num_queries(8):
        Client().get(f"/supervision/draws/{draw.pk}/")


def test_back_office_lists(client, world):
    services.run_draw("P-1", seed="admin")
    _login(client, world, "admin")
    for model in ("marketentity", "inspector", "drawplan", "draw", "creditevent", "logentry"):
        assert client.get(f"/admin/supervision/{model}/").status_code == 200, model
