"""The incident response process runs to close; the notify step tells the persons involved, and only them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.core.models import AuditLog, User
from tongban.security import process, selectors, services
from tongban.security.errors import BadTransition, Forbidden, SecurityError
from tongban.security.models import IncidentNotice, ScanRun, SecurityIncident
from tongban.workflow import services as wf
from tongban.workflow.models import ProcessInstance, Task

from .factories import LI, ZHANG, log

pytestmark = pytest.mark.django_db
Status = SecurityIncident.Status


@pytest.fixture
def incident(demo_core, settings) -> SecurityIncident:
    """A refused-query burst involving 张三 (has an account) and someone without one."""
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 3
    log(3, actor="client:社保业务系统", subjects=[ZHANG, "910102200001010000"])
    [opened] = services.scan(rules=["exchange.refused_burst"]).opened
    return opened


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _tasks(incident: SecurityIncident) -> list[tuple[str, str, str]]:
    return list(Task.objects.filter(instance_id=incident.process_instance_id).order_by("pk")
                .values_list("element_id", "state", "outcome"))


def test_an_opened_incident_waits_for_triage_by_the_security_team(incident):
    inst = ProcessInstance.objects.get(pk=incident.process_instance_id)
    assert inst.process_key == process.PROCESS_KEY and inst.business_key == f"security:{incident.pk}"
    [task] = Task.objects.filter(instance=inst)
    assert task.element_id == "triage" and task.candidate_role == "security_admin" and task.candidate_org_id is None
    assert selectors.actions(incident) == ("confirm", "dismiss")
    assert AuditLog.objects.filter(action="security.incident.open", object_id=str(incident.pk)).exists()


def test_the_response_runs_to_close_and_notifies_the_persons_involved(incident):
    security = _user("security")
    incident = services.transition(incident, "confirm", security, "确认为撞库式探测")
    assert incident.status == Status.CONTAINMENT and incident.triage_note == "确认为撞库式探测"
    assert not IncidentNotice.objects.exists()  # nobody is told before containment

    incident = services.transition(incident, "contain", security, "已停用该接入系统密钥")
    assert incident.status == Status.REPORT and incident.notified_at is not None
    [notice] = IncidentNotice.objects.all()
    assert notice.person == _user("zhangsan") and "第五十七条" in notice.text and "已停用该接入系统密钥" in notice.text
    from tongban.notifications.models import Message  # the notice reaches 我的消息 too (the one inbox)

    [told] = Message.objects.filter(event="security.incident_notice")
    assert told.recipient == notice.person and notice.text in told.body and told.link == "/security/my-notices/"

    incident = services.transition(incident, "close", security, "结案报告：密钥已吊销，未发生数据泄露。")
    assert incident.status == Status.CLOSED and incident.closed_by == security and incident.closed_at
    assert incident.report.startswith("结案报告")
    inst = ProcessInstance.objects.get(pk=incident.process_instance_id)
    assert inst.status == ProcessInstance.Status.COMPLETED
    assert _tasks(incident) == [("triage", "completed", "confirm"), ("contain", "completed", "contained"),
                                ("close", "completed", "close")]
    assert inst.variables["notices"] == 1
    assert selectors.actions(incident) == ()
    actions = set(AuditLog.objects.filter(object_id=str(incident.pk), object_type="security.securityincident")
                  .values_list("action", flat=True))
    assert actions >= {"security.incident.open", "security.incident.confirm", "security.incident.contain",
                       "security.incident.notify", "security.incident.close"}


def test_a_dismissed_incident_closes_without_notices(incident):
    security = _user("security")
    incident = services.transition(incident, "dismiss", security, "演练流量，非攻击")
    assert incident.status == Status.REPORT and incident.dismissed
    incident = services.transition(incident, "close", security, "误报，已记录")
    assert incident.status == Status.CLOSED
    assert not IncidentNotice.objects.exists()
    assert [t[0] for t in _tasks(incident)] == ["triage", "close"]


def test_only_the_security_team_acts_on_incidents(incident):
    for name in ("approver-rsj", "zhangsan", "clerk"):
        with pytest.raises(Forbidden):
            services.transition(incident, "confirm", _user(name))
    with pytest.raises(SecurityError) as err:
        services.transition(incident, "confirm", None)
    assert err.value.status == 401
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGE


def test_a_step_out_of_order_or_without_its_note_changes_nothing(incident):
    security = _user("security")
    with pytest.raises(BadTransition):
        services.transition(incident, "close", security, "too early")
    with pytest.raises(SecurityError) as err:
        services.transition(incident, "dismiss", security, "  ")
    assert err.value.status == 400
    with pytest.raises(SecurityError) as err:
        services.transition(incident, "escalate", security, "x")
    assert err.value.status == 400
    incident.refresh_from_db()
    assert incident.status == Status.TRIAGE and incident.triage_note == ""
    assert _tasks(incident) == [("triage", "open", "")]


def test_steps_completed_on_the_workflow_workbench_reach_the_incident(incident):
    security = _user("security")
    task = Task.objects.get(instance_id=incident.process_instance_id, element_id="triage")
    wf.complete(task, security, outcome="confirm")
    incident.refresh_from_db()
    assert incident.status == Status.CONTAINMENT
    task = Task.objects.get(instance_id=incident.process_instance_id, element_id="contain")
    wf.complete(task, security, outcome="contained")
    incident.refresh_from_db()
    assert incident.status == Status.REPORT and IncidentNotice.objects.filter(person__username="zhangsan").exists()
    task = Task.objects.get(instance_id=incident.process_instance_id, element_id="close")
    wf.complete(task, security, outcome="close", variables={"report": "工作台结案"})
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED and incident.report == "工作台结案"


def test_a_person_who_registered_later_is_notified_too(incident):
    lisi = User.objects.get(username="lisi")
    lisi.id_number = "910102200001010000"
    lisi.save(update_fields=["id_number", "id_number_hash"])
    security = _user("security")
    services.transition(incident, "confirm", security)
    services.transition(incident, "contain", security, "处置")
    assert set(IncidentNotice.objects.values_list("person__username", flat=True)) == {"zhangsan", "lisi"}


def test_notices_are_the_persons_own(incident):
    security = _user("security")
    services.transition(incident, "confirm", security)
    services.transition(incident, "contain", security, "处置")
    zhang, li = _user("zhangsan"), _user("lisi")
    assert selectors.notices_for(zhang).count() == 1 and selectors.unread_notice_count(zhang) == 1
    assert selectors.notices_for(li).count() == 0 and selectors.unread_notice_count(li) == 0
    notice = selectors.notices_for(zhang).get()
    assert selectors.notice_for(li, notice.pk) is None
    with pytest.raises(SecurityError):
        services.mark_notice_read(notice, li)
    services.mark_notice_read(notice, zhang)
    assert selectors.unread_notice_count(zhang) == 0


def test_the_periodic_scan_runs_once_per_interval(demo_core, settings):
    settings.TONGBAN_SECURITY_SCAN_SECONDS = 300
    settings.TONGBAN_SECURITY_REFUSED_QUERIES = 3
    log(3, actor="client:x", subjects=[LI])
    now = timezone.now()
    assert process.periodic_scan(now) == {"findings": 1, "opened": 1}
    assert process.periodic_scan(now + timedelta(seconds=60)) is None  # not due yet
    assert process.periodic_scan(now + timedelta(seconds=301)) == {"findings": 1, "opened": 0}  # being handled
    assert ScanRun.objects.filter(trigger="periodic").count() == 2


def test_the_scan_is_one_of_the_engine_periodic_jobs():
    from tongban.workflow.registry import periodic_jobs

    assert periodic_jobs()["security.scan"] is process.periodic_scan
