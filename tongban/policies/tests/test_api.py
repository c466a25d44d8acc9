"""The API and pages of 免申即享: a person's own notices only; the officer's list, dry run and publishing."""

from __future__ import annotations

import pytest

from tongban.policies import services
from tongban.policies.models import Policy, PolicyMatch

from .conftest import ELDERLY, STARTUP

pytestmark = pytest.mark.django_db


def test_my_notices_decline_and_opt_out(client, population):
    services.save_policy(ELDERLY, publish=True)
    services.match()
    client.force_login(population["old"])
    [notice] = client.get("/api/policies/my-notices").json()
    assert notice["policy_name"] == "高龄津贴" and "85周岁" in notice["reason"] and notice["status"] == "notified"
    assert client.post(f"/api/policies/my-notices/{notice['id']}/decline").json()["status"] == "declined"
    assert client.post(f"/api/policies/my-notices/{notice['id']}/decline").status_code == 409
    assert client.post("/api/policies/opt-out", {"all_policies": True},
                       content_type="application/json").json() == {"withdrawn": 0}
    client.force_login(population["young"])
    assert client.get("/api/policies/my-notices").json() == []
    assert client.post(f"/api/policies/my-notices/{notice['id']}/decline").status_code == 404


def test_officer_lists_counts_dry_runs_and_publishes(client, population, users_admin):
    services.save_policy(ELDERLY, publish=True)
    services.save_policy(STARTUP)
    services.match()
    client.force_login(population["old"])
    assert client.get("/api/policies/").status_code == 403
    client.force_login(users_admin)
    rows = {r["code"]: r for r in client.get("/api/policies/").json()}
    assert rows["T-GLJT"]["matched"] == 1 and rows["T-GLJT"]["data_used"][0]["title"] == "年龄（周岁）"
    assert rows["T-CYBT"]["status"] == "draft" and rows["T-CYBT"]["conditions"][1] == "成立天数 ≤ 365"
    dry = client.post("/api/policies/T-CYBT/dry-run").json()
    assert dry["matched"] == 1 and dry["population"] == 6
    assert not PolicyMatch.objects.filter(policy__code="T-CYBT").exists()
    assert client.post("/api/policies/T-CYBT/publish").json()["status"] == "published"
    assert Policy.objects.get(code="T-CYBT").published_by == users_admin


def test_pages(client, population, users_admin):
    services.save_policy(ELDERLY, publish=True)
    services.save_policy(STARTUP)
    services.match()
    client.force_login(population["old"])
    html = client.get("/policies/my/").content.decode()
    assert "高龄津贴" in html and "确认，一键申请" not in html  # the test policy names no item: nothing to apply
    m = PolicyMatch.objects.get()
    assert client.post(f"/policies/my/{m.pk}/opt-out/").status_code == 302
    assert PolicyMatch.objects.get().status == "opted_out"
    assert client.get("/policies/").status_code == 403
    client.force_login(users_admin)
    assert client.post("/policies/manage/T-CYBT/dry-run/").status_code == 302
    html = client.get("/policies/").content.decode()
    assert "试算结果" in html and "匹配 <strong>1</strong>" in html and "成立天数 ≤ 365" in html


def test_the_officer_sees_a_refusal_of_shared_data_and_the_reads_of_a_dry_run(client, insurance_register,
                                                                              users_admin):
    from tongban.exchange.models import AccessLogEntry

    from .conftest import INSURED, grant

    services.save_policy(INSURED)
    client.force_login(users_admin)
    dry = client.post("/api/policies/T-QNZF/dry-run").json()
    assert dry["matched"] == 0 and dry["requested"] == 1 and "T-QNZF" in dry["refused"] and "社会保险参保信息" in dry["refused"]
    assert client.post("/policies/manage/T-QNZF/dry-run/").status_code == 302
    html = client.get("/policies/").content.decode()
    assert "未能认定：政策“青年人租房补贴”（T-QNZF）不能调取“社会保险参保信息”" in html
    assert "累计缴费月数（社会保险参保信息）" in html and "经数据共享交换按授权调取" in html
    grant(insurance_register)
    dry = client.post("/api/policies/T-QNZF/dry-run").json()
    assert dry["matched"] == 1 and dry["refused"] == "" and dry["sample"][0]["name"] == "小李"
    assert client.post("/policies/manage/T-QNZF/dry-run/").status_code == 302
    html = client.get("/policies/").content.decode()
    assert "请求共享数据 1 次，每次请求都已记入查询留痕" in html and "未能认定：" not in html
    assert list(AccessLogEntry.objects.values_list("outcome", "actor")) == [
        ("refused", "admin"), ("refused", "admin"), ("granted", "admin"), ("granted", "admin")]
