"""Supervision services: the register, 审管联动 records, post-checks, credit and repair, plans, draws, the log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tongban.core import events
from tongban.core.credit_gate import commitment_refusal
from tongban.supervision import drawing, selectors, services
from tongban.supervision.errors import Conflict, Forbidden, InvalidInput
from tongban.supervision.models import (
    CreditEvent,
    Draw,
    DrawPlan,
    EnforcementLead,
    Inspection,
    LogEntry,
    MarketEntity,
    PostCheck,
    SupervisionRecord,
)

from .conftest import COMPANY, code, entity_row

# --- the register ---------------------------------------------------------------------------------------------------

def test_csv_load_and_a_bad_row_names_row_and_field_and_writes_nothing(demo_core, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("uscc,name,kind,division,address,industry,legal_representative,established_on,departments\n"
                    f"{code(1)},云溪一号餐饮有限公司,法人,910102001000,翠湖路1号,H,王一,2020-01-02,yx-scjg;yx-xf\n"
                    f"{code(2)},青山区李记小吃店,个体工商户,910102101000,石桥镇2号,H,李二,,\n", encoding="utf-8")
    assert services.load_entities(good) == 2
    e = MarketEntity.objects.get(uscc=code(1))
    assert e.kind == "legal_person" and e.established_on == date(2020, 1, 2)
    assert set(e.supervising_departments.values_list("code", flat=True)) == {"yx-scjg", "yx-xf"}
    assert e.grade in "ABCD" and e.grade_reasons
    bad = tmp_path / "bad.csv"
    bad.write_text("uscc,name,division,industry\n"
                   f"{code(3)},新企业,910102001000,H\n"
                   f"{code(4)[:-1]}0,坏企业,910102001000,H\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        services.load_entities(bad)
    assert (err.value.row, err.value.field) == (3, "uscc") and "第 3 行" in err.value.message
    assert not MarketEntity.objects.filter(uscc=code(3)).exists()  # nothing written
    for row, field in [({"division": "999999999999"}, "division"), ({"industry": "Z"}, "industry"),
                       ({"kind": "合伙"}, "kind"), ({"established_on": "2020/1/1"}, "established_on"),
                       ({"departments": ["nope"]}, "departments"), ({"name": " "}, "name")]:
        with pytest.raises(InvalidInput) as err:
            services.load_entities([entity_row(9), {**entity_row(10), **row}])
        assert (err.value.row, err.value.field) == (2, field)
    with pytest.raises(InvalidInput) as err:
        services.load_entities([entity_row(11), entity_row(11)])
    assert err.value.field == "uscc" and "重复" in err.value.message
    assert MarketEntity.objects.count() == 2


# --- 审管联动 ----------------------------------------------------------------------------------------------------

def _decision(ref: str, item: str, *, holder_id: str = COMPANY, outcome: str = "approved", **extra) -> dict:
    return {"application_ref": ref, "item_code": item, "outcome": outcome, "organisation_code": "yx-scjg",
            "holder": {"kind": "legal", "name": "云溪星火科技有限公司", "id_number": holder_id},
            "result": {"result_name": "许可证", "data": {}}, **extra}


def test_an_approval_becomes_a_record_for_the_supervising_department(world):
    record = services.record_result(_decision("A-1", "S-FOOD-01"))
    assert record.department.code == "yx-scjg" and record.kind == "approval" and record.follow_up == "纳入双随机抽查"
    assert record.receipt_due > timezone.localdate()
    assert services.record_result(_decision("A-1", "S-FOOD-01")).pk == record.pk  # delivered twice: one record
    change = services.record_result(_decision("A-2", "S-FOOD-02", by_commitment=False))
    assert (change.department.code, change.kind, change.follow_up) == ("qs-scjg", "change", "变更事项现场核查")
    assert services.record_result(_decision("A-3", "S-FOOD-01", outcome="rejected")) is None
    entity = MarketEntity.objects.get(uscc=COMPANY)  # created from the result, with the licence
    assert {lic["item_code"] for lic in entity.licences} == {"S-FOOD-01", "S-FOOD-02"}
    assert entity.division.code == "910100000000"
    # a natural person gets a record but no entity
    person = services.record_result(_decision("A-4", "S-FOOD-01", holder_id="910102199001011234"))
    assert person.entity is None and SupervisionRecord.objects.count() == 3
    users = world["users"]
    with pytest.raises(Forbidden):
        services.receive_record(record, users["approver-scjg"])
    services.receive_record(record, users["supervisor"])
    with pytest.raises(Conflict):
        services.receive_record(record, users["supervisor"])
    assert selectors.light(timezone.localdate(), record.receipt_due) == "green"
    assert selectors.light(timezone.localdate() - timedelta(days=30), timezone.localdate() - timedelta(days=1)) == "red"


def test_decision_made_enqueues_the_record_in_the_senders_transaction(world):
    from django_tasks_db.models import DBTaskResult

    from tongban.supervision.tasks import record_result_task

    events.decision_made.send(sender=None, **_decision("A-9", "S-FOOD-01"))
    events.decision_made.send(sender=None, **_decision("A-10", "S-FOOD-01", outcome="rejected"))
    rows = list(DBTaskResult.objects.filter(task_path=record_result_task.module_path))
    assert len(rows) == 1 and not SupervisionRecord.objects.exists()  # not a synchronous call
    record_result_task.call(*rows[0].args_kwargs["args"])
    assert SupervisionRecord.objects.get().application_ref == "A-9"


# --- post-checks, credit, repair ------------------------------------------------------------------------------------

def test_failed_post_check_gives_credit_event_lead_and_revocation_event(world):
    received = []

    def capture(sender, **kwargs):
        received.append(kwargs)

    events.post_check_failed.connect(capture, dispatch_uid="test.capture")
    try:
        events.commitment_approved.send(
            sender=None, application_ref="C-1", title="食品经营许可证核发",
            holder={"kind": "legal", "name": "测试企业1有限公司", "id_number": code(1)},
            items=[{"item_code": "S-FOOD-01", "item_name": "食品经营许可证核发", "department_code": "yx-scjg"}],
            approved_on=timezone.localdate().isoformat())
        check = PostCheck.objects.get(application_ref="C-1")
        assert check.entity.uscc == code(1) and check.due_on > timezone.localdate()
        users = world["users"]
        with pytest.raises(Forbidden):
            services.complete_post_check(check, users["approver-scjg"], passed=False, result="x")
        with pytest.raises(InvalidInput):
            services.complete_post_check(check, users["supervisor"], passed=False, result=" ")
        services.complete_post_check(check, users["supervisor"], passed=False, result="经营场所与承诺不符")
    finally:
        events.post_check_failed.disconnect(dispatch_uid="test.capture")
    assert received and received[0]["application_ref"] == "C-1" and received[0]["reason"] == "经营场所与承诺不符"
    entity = MarketEntity.objects.get(uscc=code(1))
    assert entity.grade == "D" and any("告知承诺不实" in r for r in entity.grade_reasons)
    assert EnforcementLead.objects.get(entity=entity).source == "post_check"
    assert "D 级" in commitment_refusal(code(1))
    assert commitment_refusal(code(2)) is None and commitment_refusal("910102199001011234") is None
    with pytest.raises(Conflict):
        services.complete_post_check(check, users["supervisor"], passed=True, result="again")


def test_credit_repair_apply_review_restore(world):
    users = world["users"]
    entity = MarketEntity.objects.get(uscc=code(2))
    event = services.add_credit_event(entity, "commitment_breach", "承诺不实", department=entity.supervising_departments.get())
    entity.refresh_from_db()
    assert entity.grade == "D"
    with pytest.raises(Forbidden):
        services.apply_repair(event, users["zhangsan"], "已整改")
    with pytest.raises(InvalidInput):
        services.apply_repair(event, users["supervisor"], " ")
    repair = services.apply_repair(event, users["supervisor"], "已整改到位并公开承诺")
    with pytest.raises(Conflict):
        services.apply_repair(event, users["supervisor"], "再次申请")
    with pytest.raises(InvalidInput):
        services.review_repair(repair, users["supervisor"], approve=False)  # a refusal needs its reason
    services.review_repair(repair, users["supervisor"], approve=True, note="整改属实")
    entity.refresh_from_db()
    event.refresh_from_db()
    assert event.repaired and entity.grade == "B"
    positive = services.add_credit_event(entity, "commendation", "表彰")
    with pytest.raises(InvalidInput):
        services.apply_repair(positive, users["supervisor"], "x")


def test_recompute_credit_applies_decay(world):
    entity = MarketEntity.objects.get(uscc=code(3))
    CreditEvent.objects.create(entity=entity, kind="penalty", points=-20, description="超范围经营",
                               occurred_on=timezone.localdate() - timedelta(days=10))
    counts = services.recompute_credit()
    assert sum(counts.values()) == MarketEntity.objects.count()
    entity.refresh_from_db()
    assert entity.grade == "C" and entity.credit_score < 66
    later = services.recompute_credit(today=timezone.localdate() + timedelta(days=730))
    entity.refresh_from_db()
    assert entity.grade == "A" and later["A"] >= 1  # two years later the penalty counts a quarter, +10 good record


# --- plans and draws ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"ratios": {"B": 1.5}}, "ratios.B"), ({"ratios": {"B": -0.1}}, "ratios.B"), ({"ratios": {"E": 0.1}}, "ratios.E"),
    ({"ratios": {"B": "x"}}, "ratios.B"), ({"department": "nope"}, "department"), ({"item_codes": ["NOPE"]}, "item_codes"),
    ({"industries": ["Z"]}, "industries"), ({"division_codes": ["1"]}, "division_codes"),
    ({"period_end": "2025-01-01"}, "period_end"), ({"checklist": []}, "checklist"),
    ({"inspectors_per_entity": 1}, "inspectors_per_entity"), ({"department": "yx-xf"}, "inspectors"),
    ({"inspectors_per_entity": 6}, "inspectors"), ({"code": ""}, "code"),
])
def test_bad_plan_names_the_field_and_writes_nothing(world, change, field):
    plan = {"code": "P-NEW", "name": "新计划", "department": "yx-scjg", "ratios": {"B": 0.1},
            "period_start": "2026-01-01", "period_end": "2026-12-31", "checklist": ["检查"], **change}
    with pytest.raises(InvalidInput) as err:
        services.save_plan(**plan)
    assert err.value.field == field
    assert not DrawPlan.objects.filter(code="P-NEW").exists()


def test_draw_recomputes_identically_and_a_tampered_draw_shows_the_difference(world):
    draw = services.run_draw("P-1", seed="abc")
    assert draw.algorithm == drawing.ALGORITHM and draw.outcome
    assert len(draw.inputs["entities"]["B"]) == 40 and len(draw.outcome) == 10  # 25% of 40 grade-B entities
    assert set(draw.inputs["divisions"]) == {r["uscc"] for r in draw.outcome}  # step 2 needs only the drawn ones
    assert Inspection.objects.filter(draw=draw).count() == 10
    for row in draw.outcome:
        assert len(row["inspectors"]) == 2
    assert services.redraw(draw.pk) is None
    assert LogEntry.objects.get(index=draw.log_index).payload["seed"] == "abc"
    outcome = [dict(r) for r in draw.outcome]
    outcome[0]["inspectors"] = list(reversed(outcome[0]["inspectors"]))
    Draw.objects.filter(pk=draw.pk).update(outcome=outcome)
    assert services.redraw(draw.pk).startswith("entry 0:")
    Draw.objects.filter(pk=draw.pk).update(outcome=draw.outcome, inputs={**draw.inputs, "ratios": {"B": 1}})
    assert "inputs" in services.redraw(draw.pk)
    # the next draw avoids last time's inspectors (回避)
    second = services.run_draw("P-1", seed="abc")
    last = {r["uscc"]: set(r["inspectors"]) for r in draw.outcome}
    assert all(not (set(r["inspectors"]) & last.get(r["uscc"], set())) for r in second.outcome)


def test_draw_with_too_few_inspectors_after_avoidance_is_refused_and_leaves_nothing(world):
    entity = MarketEntity.objects.get(uscc=code(1))
    from tongban.supervision.models import Inspector

    for inspector in Inspector.objects.exclude(division__code="910102001000"):
        inspector.conflicts = [entity.uscc]
        inspector.save()
    DrawPlan.objects.filter(code="P-1").update(ratios={"B": 1})
    with pytest.raises(InvalidInput) as err:
        services.run_draw("P-1", seed="s")
    assert err.value.field == "inspectors" and entity.uscc in err.value.message
    assert not Draw.objects.exists() and not LogEntry.objects.exists() and not Inspection.objects.exists()
    with pytest.raises(InvalidInput) as err:
        services.run_draw("NOPE")
    assert err.value.field == "plan"


def test_inspection_result_is_published_and_counts_towards_credit(world):
    draw = services.run_draw("P-1", seed="xyz")
    inspection = Inspection.objects.filter(draw=draw).first()
    users = world["users"]
    with pytest.raises(Forbidden):
        services.record_inspection(inspection, users["zhangsan"], passed=False, findings="x")
    services.record_inspection(inspection, users["supervisor"], passed=False, findings="未建立进货查验记录")
    view = selectors.public_draw(draw)
    row = next(e for e in view["entities"] if e["uscc"] == inspection.entity.uscc)
    assert row["result"]["findings"] == "未建立进货查验记录"
    assert all("*" in i["name"] for e in view["entities"] for i in e["inspectors"])
    assert EnforcementLead.objects.filter(source="inspection").count() == 1
    assert inspection.entity.credit_events.filter(kind="inspection_failed").exists()


def test_the_log_detects_a_changed_entry(world):
    services.run_draw("P-1", seed="one")
    services.run_draw("P-1", seed="two")
    assert services.verify_log() is None
    first = LogEntry.objects.get(index=0)
    first.payload = {**first.payload, "seed": "changed"}
    first.save()
    assert services.verify_log() == "entry 0: payload does not match its leaf hash"
