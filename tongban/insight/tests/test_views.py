"""The dashboards, drill-down, exports and monthly report on the hand-built log (March 2026)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.test import Client

from tongban.core.models import Role, RoleAssignment, User

from . import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    return world.build()


def _staff(username: str, org, *, role: str | None = None) -> Client:
    user = User.objects.create_user(username, password="pw-123456789", kind="staff", organisation=org)
    if role:
        RoleAssignment.objects.create(user=user, role=Role.objects.get_or_create(code=role, name=role)[0],
                                      organisation=org)
    client = Client()
    client.force_login(user)
    return client


def test_public_page_shows_chinese_names_charts_and_tables(log, client):
    r = client.get("/insight/", {"period": "2026-03", "indicator": "on_time_rate"})
    page = r.content.decode()
    assert r.status_code == 200
    assert "按时办结率" in page and "甲局" in page and "测试区" in page and "2026年3月" in page
    assert 'data-chart="line"' in page and 'id="trend"' in page and "<caption>" in page
    assert "echarts.common.min.js" in page and "查看办件" not in page  # no drill-down for the public
    assert "T-A</td>" not in page  # names, not codes


def test_public_page_refuses_a_bad_period_clearly(log, client):
    r = client.get("/insight/", {"period": "2026-13"})
    assert r.status_code == 400 and "YYYY-MM" in r.content.decode()
    assert client.get("/insight/", {"period": "2026-03", "org": "NOPE"}).status_code == 404


def test_staff_page_and_drill_down(log):
    admin = _staff("boss", log["a"], role=Role.ADMINISTRATOR)
    page = admin.get("/insight/staff/", {"period": "2026-03"}).content.decode()
    assert "查看办件" in page
    r = admin.get("/insight/staff/drill/", {"indicator": "on_time_rate", "period": "2026-03"})
    assert r.status_code == 200 and "<td>R2</td>" in r.content.decode() and "甲局" in r.content.decode()
    # staff of B see B's cases only
    b_staff = _staff("b-clerk", log["b"])
    assert b_staff.get("/insight/staff/drill/", {"indicator": "on_time_rate", "period": "2026-03",
                                                 "org": "T-A"}).status_code == 403
    own = b_staff.get("/insight/staff/drill/", {"indicator": "first_pass_rate", "period": "2026-03"})
    # (cells, not bare text: a random CSRF token may contain "R2")
    assert own.status_code == 200 and "<td>R4</td>" in own.content.decode() and "<td>R2</td>" not in own.content.decode()


def test_citizens_do_not_get_the_staff_pages(log):
    citizen = User.objects.create_user("c", password="pw-123456789", kind="natural")
    client = Client()
    client.force_login(citizen)
    assert client.get("/insight/staff/").status_code == 403
    assert client.get("/insight/staff/drill/", {"indicator": "on_time_rate"}).status_code == 403
    assert Client().get("/insight/staff/").status_code == 302  # to the login page


def test_csv_and_xlsx_exports(log, client):
    r = client.get("/insight/export.csv", {"period": "2026-03"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    platform = {x["指标标识"]: x["值"] for x in rows if x["机构"] == "全平台"}
    assert platform["on_time_rate"] == "80.0"
    per_b = {x["指标标识"]: x["值"] for x in rows if x["机构代码"] == "T-B"}
    assert per_b["on_time_rate"] == "100.0"
    x = client.get("/insight/export.xlsx", {"period": "2026-03", "org": "T-B"})
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    header = [c.value for c in sheet[1]]
    values = {row[header.index("指标标识")]: row[header.index("值")] for row in sheet.iter_rows(min_row=2,
                                                                                          values_only=True)}
    assert values["good_rating_rate"] == 50.0


def test_monthly_report_pdf(log, client):
    r = client.get("/insight/report.pdf", {"period": "2026-03"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and b"STSong-Light" in r.content
    assert client.get("/insight/report.pdf", {"period": "March"}).status_code == 400
