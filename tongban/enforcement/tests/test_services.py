"""Services: the rules enforced in the engine, not the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rich.console import Console

from tongban.core import events
from tongban.enforcement import demo, selectors, services
from tongban.enforcement.errors import EnforcementError
from tongban.enforcement.models import CaseRecord, EnforcementCase, Lead
from tongban.workflow.models import Notification, Task


def _filed(staff, facts, item="SP-122", **kw):
    case = services.open_case(staff["officer-scjg"], item_code=item, party_name="东门便利店",
                              party_id_number="92910103MA1YX0003M", facts=facts, **kw)
    return services.decide_filing(case, staff["head-scjg"], approve=True)


def test_roles_are_checked_in_the_services(staff):
    with pytest.raises(EnforcementError) as exc:
        services.open_case(staff["officer-cg"], item_code="SP-122", party_name="x", facts={"goods_value": 1})
    assert exc.value.code == "enforcement.forbidden"
    case = services.open_case(staff["officer-scjg"], item_code="SP-122", party_name="x", facts={"goods_value": 1})
    with pytest.raises(EnforcementError):
        services.decide_filing(case, staff["officer-scjg"], approve=True)  # the head decides 立案


def test_bad_facts_refused_when_the_case_is_opened(staff):
    with pytest.raises(EnforcementError) as exc:
        services.open_case(staff["officer-scjg"], item_code="SP-122", party_name="x", facts={"goods_value": "多"})
    assert exc.value.detail["field"] == "facts.goods_value"
    assert not EnforcementCase.objects.exists()


def test_not_filed_ends_the_process_and_dismisses_the_lead(staff):
    lead = services.report_lead(source="complaint", entity_name="某店", item_code="SP-122", description="举报",
                                actor=staff["officer-scjg"])
    case = services.open_case(staff["officer-scjg"], item_code="SP-122", lead=lead)
    case = services.decide_filing(case, staff["head-scjg"], approve=False, opinion="证据不足")
    assert case.stage == EnforcementCase.Stage.NOT_FILED
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.DISMISSED
    with pytest.raises(EnforcementError) as exc:
        services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=50000)
    assert exc.value.code == "enforcement.bad_state"


def test_records_are_append_only(staff):
    case = _filed(staff, {"goods_value": 100})
    record = services.append_record(case, staff["officer-scjg"], "询问笔录", "询问当事人")
    record.text = "改过"
    with pytest.raises(EnforcementError) as exc:
        record.save()
    assert exc.value.code == "enforcement.record_immutable"
    with pytest.raises(EnforcementError):
        record.delete()
    assert CaseRecord.objects.get(pk=record.pk).text == "询问当事人"
    fix = services.amend_record(case, staff["legal-scjg"], record.seq, "询问对象应为店长")
    assert fix.amends_id == record.pk and fix.seq == record.seq + 1
    with pytest.raises(EnforcementError):
        services.append_record(case, staff["officer-cg"], "x")  # another department
    with pytest.raises(EnforcementError):
        services.append_record(case, staff["officer-scjg"], "视频", attachments=[{"name": "v.mp4", "uri": "x://v"}])


def test_hearing_window_is_five_working_days(staff):
    case = _filed(staff, {"goods_value": 100})
    case = services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["fine"], fine=50000)
    case = services.give_notice(case, staff["officer-scjg"])
    assert case.hearing_deadline > case.notified_on
    with pytest.raises(EnforcementError) as exc:
        services.request_hearing(case, staff["officer-scjg"], on=case.hearing_deadline + timedelta(days=1))
    assert exc.value.code == "enforcement.hearing_request_too_late"


def test_first_offence_may_go_unpunished_and_is_not_a_credit_fact(staff, django_capture_on_commit_callbacks):
    seen = []
    events.credit_fact.connect(lambda sender, **kw: seen.append(kw), weak=False, dispatch_uid="t.first")
    try:
        case = _filed(staff, {"goods_value": 100, "first_offence": True})
        case = services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["none"])
        case = services.give_notice(case, staff["officer-scjg"])
        assert case.hearing_deadline is None  # no hearing right without a penalty
        case = services.end_notice(case, staff["officer-scjg"])
        with django_capture_on_commit_callbacks(execute=True):
            case = services.decide(case, staff["head-scjg"], penalty_kinds=["none"], decision_text="首违不罚")
        assert case.decision_kinds == ["none"] and not case.is_penalty
        assert case.publish_due_on > case.decided_on
        assert seen == []
    finally:
        events.credit_fact.disconnect(dispatch_uid="t.first")


def test_mitigation_outside_the_range_needs_review(staff):
    case = _filed(staff, {"goods_value": 100, "coerced": True})
    with pytest.raises(EnforcementError) as exc:
        services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["fine"], fine=30000)
    assert exc.value.code == "enforcement.outside_benchmark"
    case = services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["fine"], fine=30000,
                                         justification="受他人胁迫实施违法行为（第三十二条第二项）")
    assert case.stage == EnforcementCase.Stage.LEGAL_REVIEW
    case = services.legal_review(case, staff["legal-scjg"], approve=True, opinion="减轻处罚理由成立")
    case = services.give_notice(case, staff["officer-scjg"])
    case = services.end_notice(case, staff["officer-scjg"], waived=True)
    with pytest.raises(EnforcementError) as exc:  # never heavier than notified (第四十五条)
        services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=40000,
                        justification="受他人胁迫")
    case = services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=30000,
                           justification="受他人胁迫")
    assert case.fine == 30000 and case.stage == EnforcementCase.Stage.SERVING


def test_legal_review_rejection_sends_the_case_back(staff):
    case = _filed(staff, {"goods_value": 20000})
    case = services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["fine"], fine=200000)
    case = services.legal_review(case, staff["legal-scjg"], approve=False, opinion="货值认定证据不足")
    assert case.stage == EnforcementCase.Stage.INVESTIGATING and case.review_status == "rejected"
    open_tasks = Task.objects.filter(instance_id=int(case.process_instance_id), state__in=["open", "claimed"])
    assert [t.element_id for t in open_tasks] == ["investigate"]


def test_decision_clock_counts_calendar_days_without_the_hearing(staff):
    case = _filed(staff, {"goods_value": 100})
    case.filed_on = date(2026, 1, 1)
    case.suspensions = [{"start": "2026-01-10", "end": "2026-01-19", "reason": "听证"}]
    clock = selectors.decision_clock(case, date(2026, 2, 1))
    assert (clock.elapsed, clock.due) == (31 - 10, date(2026, 4, 11))
    case = services.extend_deadline(case, staff["head-scjg"], days=30, reason="案情复杂")
    assert selectors.decision_clock(case, date(2026, 2, 1)).limit_days == 120


def test_overdue_publication_warns_the_head_once(staff):
    case = _filed(staff, {"goods_value": 100})
    case = services.finish_investigation(case, staff["officer-scjg"], penalty_kinds=["fine"], fine=50000)
    case = services.give_notice(case, staff["officer-scjg"])
    case = services.end_notice(case, staff["officer-scjg"], waived=True)
    case = services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=50000)
    later = timezone.localdate() + timedelta(days=30)
    assert list(selectors.overdue_publications(later)) == [case]
    assert services.warn_overdue_publications(later) == 1
    assert services.warn_overdue_publications(later) == 0
    assert Notification.objects.filter(recipient=staff["head-scjg"], kind="enforcement.publication_overdue").count() == 1


def test_malformed_lead_event_is_logged_not_raised(staff, caplog):
    events.enforcement_lead_reported.send(sender="x", source="rumour", entity_name="某", description="d")
    assert not Lead.objects.exists() and "refused" in caplog.text


def test_demo_loads_twice(demo_core):
    demo.load(Console(quiet=True))
    demo.load(Console(quiet=True))
    assert EnforcementCase.objects.count() == 3
    assert selectors.published().count() == 1
    assert Lead.objects.filter(status=Lead.Status.NEW).count() == 1


def test_decision_rules_apply_before_filing_too(staff):
    case = services.open_case(staff["officer-scjg"], item_code="SP-122", party_name="x", facts={"goods_value": 20000})
    with pytest.raises(EnforcementError) as exc:
        services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=1000)
    assert exc.value.code == "enforcement.outside_benchmark"
    with pytest.raises(EnforcementError) as exc:
        services.decide(case, staff["head-scjg"], penalty_kinds=["fine"], fine=200000)
    assert exc.value.code == "enforcement.legal_review_required"
    with pytest.raises(EnforcementError) as exc:
        services.decide(case, staff["head-scjg"], penalty_kinds=["warning"])
    assert exc.value.code == "enforcement.outside_benchmark"  # 警告 is not a penalty of this level
    small = services.open_case(staff["officer-scjg"], item_code="SP-122", party_name="y", facts={"goods_value": 10})
    with pytest.raises(EnforcementError) as exc:
        services.decide(small, staff["head-scjg"], penalty_kinds=["fine"], fine=50000)
    assert exc.value.code == "enforcement.bad_state"


def test_an_overdue_investigation_is_escalated_to_the_head(staff):
    from tongban.workflow import services as wf

    case = _filed(staff, {"goods_value": 100})
    task = Task.objects.get(instance_id=int(case.process_instance_id), element_id="investigate")
    assert task.limit_days == 30 and task.escalate_role == "enforcement_head"
    wf.check_clocks(timezone.localdate() + timedelta(days=90))
    assert Notification.objects.filter(recipient=staff["head-scjg"], kind="escalation", task=task).exists()


def test_major_criteria_are_configurable(staff, settings):
    from decimal import Decimal

    from django.core.exceptions import ImproperlyConfigured

    assert services.is_major(["fine"], Decimal(60000), hearing_held=False) == ["fine"]
    assert services.is_major(["revoke_licence"], None, hearing_held=True) == ["revocation", "hearing"]
    settings.TONGBAN_ENFORCEMENT_MAJOR_CRITERIA = "revocation"
    assert services.is_major(["fine"], Decimal(60000), hearing_held=True) == []
    settings.TONGBAN_ENFORCEMENT_MAJOR_CRITERIA = "fine"
    settings.TONGBAN_ENFORCEMENT_MAJOR_FINE = "100000"
    assert services.is_major(["fine"], Decimal(60000), hearing_held=False) == []
    settings.TONGBAN_ENFORCEMENT_MAJOR_CRITERIA = "fine,everything"
    with pytest.raises(ImproperlyConfigured):
        services.is_major(["fine"], Decimal(1), hearing_held=False)


def test_lead_event_without_source_does_not_break_the_sender(staff, caplog):
    events.enforcement_lead_reported.send(sender="x", entity_name="某", description="d", department_code="yx-scjg")
    assert not Lead.objects.exists()


def test_large_attachments_are_refused_by_content_and_kept_by_reference(staff, settings):
    settings.TONGBAN_MAX_UPLOAD_BYTES = 1024
    case = _filed(staff, {"goods_value": 100})
    with pytest.raises(EnforcementError):
        services.append_record(case, staff["officer-scjg"], "录像", attachments=[{"name": "v.mp4", "content": b"x" * 2048}])
    record = services.append_record(case, staff["officer-scjg"], "录像", attachments=[
        {"name": "v.mp4", "kind": "video", "uri": "evidence://v.mp4", "sha256": "b" * 64, "size": 10**9}])
    assert record.attachments[0]["uri"] == "evidence://v.mp4" and record.attachments[0]["size"] == 10**9
