"""End to end: a lead event → 立案 → investigation → 法制审核 → 告知 → 听证 → 决定 (credit fact) → 送达 → 执行 →
结案 → 公示 (masked) → withdrawal; the case file exported as a bag that ``tongban archive verify`` accepts."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import typer
from django.test import Client
from typer.testing import CliRunner

from tongban.core import events
from tongban.credentials.cli import register as register_archive
from tongban.enforcement.cli import register
from tongban.enforcement.models import CaseRecord, EnforcementCase, Lead
from tongban.testing import Api, ok
from tongban.workflow.models import Task

runner = CliRunner()
app = typer.Typer()
register(app)
register_archive(app)
PHOTO = b"\x89PNG\r\n\x1a\n photo of the smoke outlet"


def test_lead_to_publication_and_export(staff, tmp_path, django_capture_on_commit_callbacks):
    credit: list[dict] = []

    def on_credit(sender, **kwargs):
        credit.append(kwargs)

    events.credit_fact.connect(on_credit, dispatch_uid="test.credit")
    try:
        _flow(tmp_path, credit, django_capture_on_commit_callbacks)
    finally:
        events.credit_fact.disconnect(dispatch_uid="test.credit")


def _flow(tmp_path: Path, credit: list[dict], on_commit) -> None:
    events.enforcement_lead_reported.send(
        sender="supervision", source="inspection", entity_uscc="910103199207081526", entity_name="王芳",
        item_code="DQ-118", description="双随机检查发现油烟超标排放", department_code="yx-cg")
    lead = Lead.objects.get(entity_name="王芳")
    assert lead.source == "inspection" and lead.department.code == "yx-cg"
    officer, legal, head = Api("officer-cg"), Api("legal-cg"), Api("head-cg")
    assert [x["ref"] for x in ok(officer.get("/api/enforcement/leads"))] == [lead.ref]

    case = ok(officer.post("/api/enforcement/cases", {"lead": lead.ref, "party_kind": "natural",
                                                      "facts": {"exceed_multiple": 1.5}}), 201)
    no = case["case_no"]
    assert case["party_name"] == "王芳" and case["stage"] == "filing"
    assert Task.objects.filter(instance_id=int(case["process_instance"]), element_id="filing").exists()
    case = ok(head.post(f"/api/enforcement/cases/{no}/filing", {"approve": True, "opinion": "同意立案"}))
    assert case["decision_clock"]["limit_days"] == 90 and case["decision_clock"]["light"] == "green"

    photo = ok(officer.post(f"/api/enforcement/cases/{no}/records", {
        "action": "现场检查", "text": "现场检查笔录",
        "attachments": [{"name": "排口照片.png", "kind": "photo", "content_base64": base64.b64encode(PHOTO).decode()},
                        {"name": "执法记录仪.mp4", "kind": "video", "uri": "evidence://cg/0001.mp4",
                         "sha256": "a" * 64, "size": 1024}]}), 201)
    assert photo["attachments"][0]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    fix = ok(officer.post(f"/api/enforcement/cases/{no}/records", {"action": "更正", "text": "检查时间应为上午",
                                                                   "amends": photo["seq"]}), 201)
    assert fix["amends"] == photo["seq"]

    # serious (1–2 times over the standard): 20000–35000; fine 30000 + hearing right (≥ 10000)
    case = ok(officer.post(f"/api/enforcement/cases/{no}/investigation", {"penalty_kinds": ["fine"], "fine": 30000}))
    assert case["stage"] == "notifying"  # not major before a hearing
    case = ok(officer.post(f"/api/enforcement/cases/{no}/notice", {"action": "give", "text": "送达告知书"}))
    assert case["hearing_deadline"] is not None
    assert ok(officer.post(f"/api/enforcement/cases/{no}/notice", {"action": "end"}), 409)["code"] == \
        "enforcement.hearing_pending"
    case = ok(officer.post(f"/api/enforcement/cases/{no}/notice", {"action": "hearing_request", "text": "当事人申请听证"}))
    assert case["stage"] == "hearing" and case["decision_clock"]["suspended"]
    case = ok(officer.post(f"/api/enforcement/cases/{no}/hearing", {"transcript": "听证笔录：当事人对事实无异议"}))
    # a hearing held makes the decision major: 法制审核 before the decision
    assert case["stage"] == "legal_review" and not case["decision_clock"]["suspended"]
    assert ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 30000}),
              409)["code"] == "enforcement.legal_review_required"
    case = ok(legal.post(f"/api/enforcement/cases/{no}/legal-review", {"approve": True, "opinion": "程序合法，同意"}))
    assert case["stage"] == "deciding"
    assert ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 36000}),
              422)["code"] == "enforcement.outside_benchmark"
    with on_commit(execute=True):
        case = ok(head.post(f"/api/enforcement/cases/{no}/decision", {"penalty_kinds": ["fine"], "fine": 30000,
                                                                       "decision_text": "罚款三万元"}))
    assert case["stage"] == "serving" and case["decision_level"] == "serious" and case["publish_due_on"]
    assert len(credit) == 1
    assert {k: credit[0][k] for k in ("entity_uscc", "kind", "points")} == {
        "entity_uscc": "910103199207081526", "kind": "administrative_penalty", "points": -10}
    assert no in credit[0]["reason"] and credit[0]["occurred_on"].isoformat() == case["decided_on"]
    assert ok(officer.post(f"/api/enforcement/cases/{no}/service", {"note": "直接送达"}))["stage"] == "executing"
    assert ok(officer.post(f"/api/enforcement/cases/{no}/execution", {"note": "罚款已缴纳"}))["stage"] == "closing"
    assert ok(officer.post(f"/api/enforcement/cases/{no}/closure", {}))["stage"] == "closed"

    assert ok(Client().get("/api/enforcement/public")) == []
    ok(officer.post(f"/api/enforcement/cases/{no}/publication"))
    public = ok(Client().get("/api/enforcement/public"))
    assert [p["case_no"] for p in public] == [no]
    assert public[0]["party_name"] == "王*" and public[0]["party_id_number"] == "910103********1526"
    assert "王芳" not in str(public)

    # the case file: every record, the attachment stored with its SHA-256, a bag the archive accepts
    records = CaseRecord.objects.filter(case__case_no=no)
    assert [r.seq for r in records] == list(range(1, records.count() + 1))
    dest = tmp_path / "bag"
    result = runner.invoke(app, ["enforcement", "export", no, str(dest)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["archive", "verify", str(dest)]).exit_code == 0
    decision = list((dest / "data" / "materials").glob("*决定书.pdf"))
    assert decision and decision[0].read_bytes().startswith(b"%PDF")
    photos = list((dest / "data" / "materials").glob("*排口照片.png"))
    assert photos and photos[0].read_bytes() == PHOTO
    assert (dest / "data" / "events.json").read_text().count('"action"') == records.count()
    photos[0].write_bytes(b"tampered")
    assert runner.invoke(app, ["archive", "verify", str(dest)]).exit_code == 1
    assert runner.invoke(app, ["enforcement", "export", no, str(dest)]).exit_code == 1  # never overwritten

    # withdrawal (e.g. after credit repair) takes it off the public list
    assert ok(officer.post(f"/api/enforcement/cases/{no}/withdrawal", {"reason": "信用修复"}), 403)
    ok(head.post(f"/api/enforcement/cases/{no}/withdrawal", {"reason": "信用修复"}))
    assert ok(Client().get("/api/enforcement/public")) == []
    assert EnforcementCase.objects.get(case_no=no).withdrawal_reason == "信用修复"
