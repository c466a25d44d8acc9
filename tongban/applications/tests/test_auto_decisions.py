"""秒批: items decided by their DMN decision table, recorded for audit, re-run by ``decision explain``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tongban.applications import files, services, workflow_bridge
from tongban.applications.models import Application, ApplicationItem, AutoDecision
from tongban.core import events, subject_facts
from tongban.workflow import services as wf
from tongban.workflow.models import DecisionDefinition, Task

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% test material\n"

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="t" name="t" namespace="t">
  <decision id="t_rules" name="测试秒批规则">
    <decisionTable id="t_rules_table" hitPolicy="FIRST">
      <input id="i1" label="年龄"><inputExpression><text>age</text></inputExpression></input>
      <input id="i2" label="信用等级"><inputExpression><text>grade</text></inputExpression></input>
      <input id="i3" label="经营场所"><inputExpression><text>shop_address</text></inputExpression></input>
      <output id="o1" name="outcome"/><output id="o2" name="reason"/>
      <rule id="r_old"><description>已到退休年龄</description><inputEntry><text>&gt;= 60</text></inputEntry>
        <inputEntry><text>-</text></inputEntry><inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"refer"</text></outputEntry><outputEntry><text>"已到退休年龄"</text></outputEntry></rule>
      <rule id="r_grade"><inputEntry><text>-</text></inputEntry><inputEntry><text>not("A")</text></inputEntry>
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"refer"</text></outputEntry><outputEntry><text>"信用等级不是A级"</text></outputEntry></rule>
      <rule id="r_ok"><inputEntry><text>[16..60)</text></inputEntry><inputEntry><text>"A"</text></inputEntry>
        <inputEntry><text>-</text></inputEntry>
        <outputEntry><text>"approve"</text></outputEntry><outputEntry><text>"符合条件"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


@pytest.fixture
def auto_item(small_catalog):
    wf.deploy_decisions(RULES, "t.dmn")
    item = small_catalog["shop"]
    item.auto_decision_key = "t_rules"
    item.auto_decision_inputs = {"age": "applicant.age", "grade": "fact.credit_grade",
                                 "shop_address": "form.shop_address"}
    item.save()
    return item


@pytest.fixture
def grade():
    grades = {"value": "A"}
    with subject_facts.PROVIDERS.isolated() as registry:
        registry.register("credit_grade", lambda subject: grades["value"], replace=True)
        yield grades


def _apply(users, code="T-SHOP-01", form=None):
    zhang = users["zhangsan"]
    app = services.create_application(user=zhang, item_code=code)
    for m in app.materials.all():
        if m.status == "missing":
            stored = files.store_bytes(PDF + m.key.encode(), name="m.pdf", content_type="application/pdf")
            services.attach_file(app, m.key, stored, zhang)
    services.submit(app, zhang, form or {"applicant_name": "张三", "shop_address": "翠湖路1号"})
    services.accept(app, users["clerk"])
    app.refresh_from_db()
    return app


def test_all_inputs_present_and_approve_decides_without_a_human_task(auto_item, grade, users):
    decided = []
    events.decision_made.connect(lambda **kw: decided.append(kw), weak=False, dispatch_uid="t-auto")
    try:
        app = _apply(users)
    finally:
        events.decision_made.disconnect(dispatch_uid="t-auto")
    assert app.status == Application.Status.APPROVED
    assert not Task.objects.filter(element_id="review").exists()  # no human task was ever opened
    ai = app.items.get()
    assert ai.decided_by == "秒批（规则自动审批）"
    rec = AutoDecision.objects.get(application_item=ai)
    assert (rec.decision_key, rec.decision_version, rec.outcome) == ("t_rules", 1, "approve")
    assert rec.inputs == {"age": rec.inputs["age"], "grade": "A", "shop_address": "翠湖路1号"}
    assert rec.inputs["age"] >= 30  # 1990-01-01 born
    assert [h["id"] for h in rec.hits] == ["r_ok"]
    assert decided and decided[0]["outcome"] == "approved"


def test_refer_opens_the_review_task_showing_the_rule_hits(auto_item, grade, users, client):
    grade["value"] = "C"
    app = _apply(users)
    assert app.status == Application.Status.IN_REVIEW
    task = Task.objects.get(element_id="review", state="open")
    rec = AutoDecision.objects.get(application_item__application=app)
    assert rec.outcome == "refer" and [h["id"] for h in rec.hits] == ["r_grade"]
    assert rec.reason == "信用等级不是A级"
    client.force_login(users["approver-scjg"])
    page = client.get(f"/workbench/tasks/{task.pk}/").content.decode()
    assert "秒批规则" in page and "r_grade" in page and "信用等级不是A级" in page


def test_a_missing_input_refers_whatever_the_table_says(auto_item, grade, users):
    grade["value"] = None  # the entity is not in supervision's register
    app = _apply(users)
    rec = AutoDecision.objects.get(application_item__application=app)
    assert rec.outcome == "refer" and rec.missing == ["grade"] and "缺少输入" in rec.reason
    assert app.items.get().status == ApplicationItem.Status.IN_REVIEW


def test_an_item_without_a_table_keeps_the_human_review(small_catalog, users):
    app = _apply(users)
    assert Task.objects.filter(element_id="review", state="open").count() == 1
    assert not AutoDecision.objects.exists()
    assert app.status == Application.Status.IN_REVIEW


def test_explain_reruns_the_recorded_version_even_after_a_new_version(auto_item, grade, users):
    app = _apply(users)
    # a new version that would refer everyone: the audit re-runs the recorded version 1, which still agrees
    wf.deploy_decisions(RULES.replace('"approve"</text></outputEntry><outputEntry><text>"符合条件"',
                                      '"refer"</text></outputEntry><outputEntry><text>"改为人工"'), "t.dmn")
    assert DecisionDefinition.objects.filter(key="t_rules").count() == 2
    [entry] = services.auto_decisions.explain(app.ref)
    assert entry["agrees"] and entry["rerun"]["version"] == 1
    # tampering with the recorded inputs is caught by the re-run
    rec = entry["record"]
    rec.inputs = {**rec.inputs, "age": 70}
    rec.save()
    [entry] = services.auto_decisions.explain(app.ref)
    assert not entry["agrees"] and entry["rerun_outcome"] == "refer"


def test_cli_decision_explain_prints_table_version_inputs_and_hits(auto_item, grade, users):
    import typer

    from tongban.applications.cli import register
    from tongban.workflow.cli import register as register_workflow

    cli = typer.Typer()
    register_workflow(cli)
    register(cli)
    case = _apply(users)
    result = CliRunner().invoke(cli, ["decision", "explain", case.ref])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "t_rules" in out and "v1" in out and "r_ok" in out and "翠湖路1号" in out
    assert "复核：一致" in out
    missing = CliRunner().invoke(cli, ["decision", "explain", "NO-SUCH"])
    assert missing.exit_code == 1 and "不存在" in missing.output


def test_commitment_item_for_an_a_grade_entity_is_approved_by_rules_then_post_checked(auto_item, grade, users):
    auto_item.auto_decision_inputs = {"age": "applicant.age", "grade": "fact.credit_grade",
                                      "shop_address": "form.shop_address", "signed": "commitment"}
    auto_item.save()
    approved = []
    events.commitment_approved.connect(lambda **kw: approved.append(kw), weak=False, dispatch_uid="t-commit")
    try:
        zhang = users["zhangsan"]
        app = services.create_application(user=zhang, item_code="T-SHOP-01")
        stored = files.store_bytes(PDF, name="m.pdf", content_type="application/pdf")
        services.attach_file(app, "name:申请人身份证明", stored, zhang)
        services.sign_commitment(app, zhang, ["issued:business_licence:营业执照", "name:食品经营许可场所平面图"])
        services.submit(app, zhang, {"applicant_name": "张三", "shop_address": "翠湖路1号"})
        app.refresh_from_db()
    finally:
        events.commitment_approved.disconnect(dispatch_uid="t-commit")
    assert app.status == Application.Status.APPROVED
    assert AutoDecision.objects.get(application_item__application=app).inputs["signed"] is True
    assert app.items.get().decided_by == "秒批（规则自动审批）"
    assert approved and approved[0]["items"][0]["item_code"] == "T-SHOP-01"


def test_shipped_rules_deploy_and_the_demo_items_name_them():
    deployed = {entry.split(" v")[0] for entry in workflow_bridge.deploy_rules()}
    catalog = json.loads((Path(workflow_bridge.__file__).parents[1] / "catalog/demo/catalog.json").read_text())
    named = {i["auto_decision_key"] for i in catalog["items"] if i.get("auto_decision_key")}
    assert len(named) >= 6 and named <= deployed
    names = {i["name"] for i in catalog["items"] if i.get("auto_decision_key")}
    assert {"灵活就业人员参加企业职工基本养老保险登记", "居住证签注", "户外招牌设置许可"} <= names
    birth = next(b for b in catalog["bundles"] if b["name"] == "出生一件事")
    by_rules = [i for i in catalog["items"] if i["code"] in birth["items"] and i.get("auto_decision_key")]
    assert len(by_rules) >= 3
