"""The process-mining staff page and its JSON API: who may see them, and what they show on the hand-built log."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tongban.core.demo import DEMO_PASSWORD
from tongban.testing import Api, ok

from . import mining_log as ml

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(demo_core):
    return ml.build_all()


def _client(username: str) -> Client:
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


def test_staff_page_shows_the_discovered_model_with_the_bottleneck(cases):
    r = _client("admin").get(f"/insight/mining/?process={ml.KEY}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "瓶颈环节：消防核查" in html and "「现场核查」与「消防核查」并联办理" in html
    assert 'data-bpmn="mining-discovered-xml"' in html and "bpmn-navigated-viewer" in html
    marks = json.loads(html.split('id="mining-discovered-marks" type="application/json">')[1].split("</script>")[0])
    xml = json.loads(html.split('id="mining-discovered-xml" type="application/json">')[1].split("</script>")[0])
    assert marks["active"] and f'id="{marks["active"][0]}" name="消防核查"' in xml
    assert "审查 → 补正材料 → 审查" in html  # the rework loop


def test_staff_page_refuses_others_and_unknown_processes(cases):
    assert _client("zhangsan").get("/insight/mining/").status_code == 403
    assert _client("approver-scjg").get("/insight/mining/").status_code == 403
    assert Client().get("/insight/mining/").status_code == 302  # to the login page
    assert _client("admin").get("/insight/mining/?process=nope").status_code == 404


def test_api(cases):
    data = ok(Api("admin").get(f"/api/insight/mining?process={ml.KEY}"))
    assert data["bottleneck"] == "消防核查" and data["cases"] == 3
    assert [p["key"] for p in ok(Api("admin").get("/api/insight/mining/processes"))][0] == ml.KEY
    assert Api("zhangsan").get(f"/api/insight/mining?process={ml.KEY}").status_code == 403
    assert Client().get(f"/api/insight/mining?process={ml.KEY}").status_code == 401
    assert Api("admin").get("/api/insight/mining").status_code == 422
