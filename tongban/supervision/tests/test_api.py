"""The supervision JSON API: public credit and draws, supervisors' queues, errors naming the field."""

from __future__ import annotations

from django.test import Client

from tongban.supervision import services
from tongban.testing import Api, ok

from .conftest import code


def test_credit_is_public_and_unknown_code_is_404(world):
    body = ok(Client().get(f"/api/supervision/entities/{code(1)}/credit"))
    assert body["grade"] in {"A", "B", "C", "D"} and isinstance(body["reasons"], list) and body["reasons"]
    missing = Client().get("/api/supervision/entities/91000000MA0000000X/credit")
    assert missing.status_code == 404 and missing.json()["code"] == "supervision.not_found"


def test_public_draw_masks_inspectors_and_verifies(world):
    draw = services.run_draw("P-1", seed="api-seed")
    body = ok(Client().get(f"/api/supervision/draws/{draw.pk}"))
    assert (body["plan"]["code"], body["seed"], body["algorithm"]) == ("P-1", "api-seed", "tongban-sha256-rank-v1")
    names = {i["name"] for e in body["entities"] for i in e["inspectors"]}
    assert names and all(n.endswith("*") and len(n) >= 2 for n in names) and "钱立新" not in str(body)
    assert all(e["result"] is None for e in body["entities"])
    inputs = ok(Client().get(f"/api/supervision/draws/{draw.pk}/inputs"))
    assert inputs["inputs"]["entities"] and inputs["seed"] == "api-seed"
    assert ok(Client().get(f"/api/supervision/draws/{draw.pk}/verify"))["identical"] is True
    assert ok(Client().get("/api/supervision/log"))["size"] == 1
    assert [p["code"] for p in ok(Client().get("/api/supervision/plans"))] == ["P-1"]


def test_supervisor_only_operations(world):
    assert Api("zhangsan").get("/api/supervision/entities").status_code == 403
    rows = ok(Api("supervisor").get("/api/supervision/entities?grade=B"))
    assert len(rows) == 40
    bad = Api("supervisor").post("/api/supervision/plans", {
        "code": "P-2", "name": "计划", "department": "nope", "ratios": {"B": 0.1}, "period_start": "2026-01-01",
        "period_end": "2026-12-31", "checklist": ["x"]})
    assert bad.status_code == 422 and bad.json()["code"] == "supervision.unknown_department"
    assert bad.json()["detail"]["field"] == "department"
    unknown = Api("supervisor").post("/api/supervision/plans/NOPE/draw", {})
    assert unknown.status_code == 404
    drawn = ok(Api("supervisor").post("/api/supervision/plans/P-1/draw", {"seed": "s"}))
    mine = ok(Api("supervisor").get("/api/supervision/inspections"))
    assert len(mine) == drawn["entities"]
    done = ok(Api("supervisor").post(f"/api/supervision/inspections/{mine[0]['id']}",
                                     {"passed": True, "findings": "未发现问题"}))
    assert done == {"id": mine[0]["id"], "status": "passed", "published": True}
    again = Api("supervisor").post(f"/api/supervision/inspections/{mine[0]['id']}", {"passed": True, "findings": "x"})
    assert again.status_code == 409 and again.json()["code"] == "supervision.inspection_done"
