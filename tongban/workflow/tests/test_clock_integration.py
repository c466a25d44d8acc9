"""The statutory clock on tasks and instances (due dates, suspension, lights, escalation)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.core.calendar import default_calendar
from tongban.workflow import clock, selectors, services
from tongban.workflow.errors import WorkflowError
from tongban.workflow.models import Event, Notification, ProcessInstance, Task

from .helpers import bpmn, chain, user_task

pytestmark = pytest.mark.django_db


def limited(limit: str = "5", process_attrs: str = "", excluded: bool = False) -> str:
    extra = f'tongban:limitDays="{limit}"'
    body = [
        '    <bpmn:startEvent id="start"/>',
        user_task("review", "审查", outcomes="approve,reject", extra=extra),
    ]
    ids = ["start", "review"]
    if excluded:
        body.append(user_task("site", "现场核查", extra='tongban:excludedStep="现场核查" tongban:limitDays="10"'))
        ids.append("site")
    body += ['    <bpmn:endEvent id="end"/>', chain(*ids, "end")]
    return bpmn("lim", "\n".join(body), process_attrs)


def test_task_due_date_on_the_working_day_calendar(users):
    services.deploy(limited(), "l.bpmn")
    inst = services.start("lim")
    task = Task.objects.get(instance=inst)
    today = timezone.localdate()
    cal = default_calendar()
    assert (task.limit_days, task.started_on) == (5, today)
    assert task.due_on == cal.add_working_days(today, 5)
    assert task.light == "green"


def test_limit_days_from_a_variable(users):
    services.deploy(limited("${review_days}"), "l.bpmn")
    inst = services.start("lim", variables={"review_days": 3})
    assert Task.objects.get(instance=inst).limit_days == 3
    with pytest.raises(WorkflowError) as info:
        services.start("lim", variables={"review_days": "abc"})
    assert info.value.code == "workflow.invalid_value"


def test_lights_and_escalation_once(users, settings):
    services.deploy(limited(), "l.bpmn")
    inst = services.start("lim", "L-1")
    task = Task.objects.get(instance=inst)
    cal = default_calendar()
    start = task.started_on
    services.check_clocks(cal.add_working_days(start, 3))
    task.refresh_from_db()
    assert task.light == "green"
    services.check_clocks(cal.add_working_days(start, 4))  # ceil(0.8 * 5) = 4 → yellow
    task.refresh_from_db()
    assert task.light == "yellow"
    settings.TONGBAN_CLOCK_YELLOW_SHARE = 0.5
    services.check_clocks(cal.add_working_days(start, 3))  # ceil(0.5 * 5) = 3
    task.refresh_from_db()
    assert task.light == "yellow"
    assert not Notification.objects.exists()
    overdue_day = cal.add_working_days(start, 6)
    counts = services.check_clocks(overdue_day)
    task.refresh_from_db()
    assert task.light == "red" and task.escalated_at is not None and counts["escalated"] == 1
    # the supervising role of the organisation (the demo "supervisor" of 市场监管局) is told, once
    [note] = Notification.objects.all()
    assert note.recipient == users["supervisor"] and note.kind == "escalation" and note.task == task
    assert "审查" in note.subject and "超期 1 个工作日" in note.subject
    assert services.check_clocks(overdue_day)["escalated"] == 0
    assert Notification.objects.count() == 1
    ev = Event.objects.get(type="task.escalated")
    assert ev.data["recipients"] == ["supervisor"]
    assert list(Event.objects.filter(type="clock.light").values_list("data__light", flat=True)) == [
        "yellow", "red"]


def test_escalation_falls_back_to_administrators_up_the_tree(users):
    services.deploy(limited().replace('tongban:candidateOrg="yx-scjg"', 'tongban:candidateOrg="yx-cg"'), "l.bpmn")
    inst = services.start("lim")
    task = Task.objects.get(instance=inst)
    services.check_clocks(default_calendar().add_working_days(task.started_on, 9))
    # nobody is supervisor in 城管局 or above; admin is administrator of 市政府 (its parent)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["admin"]


def test_suspension_extends_the_due_date(users):
    services.deploy(limited(), "l.bpmn")
    inst = services.start("lim", variables={"promised_limit_days": 10, "statutory_limit_days": 20})
    task = Task.objects.get(instance=inst)
    approver = users["approver-scjg"]
    cal = default_calendar()
    start = task.started_on
    s_on, r_on = cal.add_working_days(start, 1), cal.add_working_days(start, 3)
    services.suspend_clock(task, approver, "补正材料", on=s_on)
    with pytest.raises(WorkflowError) as info:
        services.suspend_clock(task, approver, "again", on=s_on)
    assert info.value.code == "workflow.clock_already_suspended"
    task.refresh_from_db()
    inst.refresh_from_db()
    assert task.suspended_since == s_on and inst.suspended_since == s_on
    # while suspended the task is not counted as overdue, however late it gets
    assert not selectors.overdue_tasks(task.candidate_org, cal.add_working_days(start, 30)).exists()
    services.resume_clock(task, approver, on=r_on)
    task.refresh_from_db()
    inst.refresh_from_db()
    expected = clock.due_date(cal, start, 5, [clock.Suspension(s_on, r_on)])
    assert task.due_on == expected == cal.add_working_days(start, 5 + 3)
    assert task.suspended_days == 3 and task.suspended_since is None
    assert inst.due_on == clock.due_date(cal, start, 10, [clock.Suspension(s_on, r_on)])
    assert inst.statutory_due_on == clock.due_date(cal, start, 20, [clock.Suspension(s_on, r_on)])
    assert selectors.task_clock(task, r_on).elapsed == 0  # the suspended days [s_on, r_on] do not count
    assert selectors.task_clock(task, cal.add_working_days(r_on, 1)).elapsed == 1
    with pytest.raises(WorkflowError) as info:
        services.resume_clock(task, approver)
    assert info.value.code == "workflow.clock_not_suspended"
    with pytest.raises(WorkflowError) as info:
        services.suspend_clock(task, users["approver-xf"], "补正材料")
    assert info.value.code == "workflow.not_candidate"


def test_instance_clock_and_excluded_step(users):
    services.deploy(limited(excluded=True, process_attrs='tongban:limitDays="15" tongban:statutoryLimitDays="20"'),
                    "l.bpmn")
    inst = services.start("lim")
    cal = default_calendar()
    assert (inst.limit_days, inst.statutory_limit_days) == (15, 20)
    assert inst.due_on == cal.add_working_days(inst.started_on, 15)
    services.complete(Task.objects.get(instance=inst, element_id="review"), users["approver-scjg"], "approve")
    inst.refresh_from_db()
    assert inst.suspended_since == timezone.localdate()  # 现场核查 is a 特殊环节: the case clock stops
    assert inst.suspensions[0]["reason"] == "现场核查"
    services.complete(Task.objects.get(instance=inst, element_id="site"), users["approver-scjg"])
    inst.refresh_from_db()
    assert inst.status == "completed" and inst.suspended_since is None
    assert inst.suspensions[0]["end"] == timezone.localdate().isoformat()


def test_suspending_an_instance_suspends_its_tasks(users):
    services.deploy(limited(process_attrs='tongban:limitDays="15"'), "l.bpmn")
    inst = services.start("lim")
    services.suspend_clock(inst, users["admin"], "专家评审")
    task = Task.objects.get(instance=inst)
    assert task.suspended_since is not None
    services.resume_clock(inst, users["admin"])
    task.refresh_from_db()
    inst.refresh_from_db()
    assert task.suspended_since is None and inst.suspended_since is None
    assert [e for e in Event.objects.filter(instance=inst).values_list("type", flat=True) if e.startswith("clock")] == [
        "clock.suspended", "clock.resumed"]


def test_overdue_tasks_of_an_organisation_is_one_indexed_query(users):
    services.deploy(limited(), "l.bpmn")
    for n in range(3):
        services.start("lim", f"O-{n}")
    other = limited().replace('tongban:candidateOrg="yx-scjg"', 'tongban:candidateOrg="yx-xf"').replace(
        'id="lim"', 'id="lim2"')
    services.deploy(other, "l2.bpmn")
    services.start("lim2")
    scjg = users["approver-scjg"].organisation
    later = default_calendar().add_working_days(timezone.localdate(), 6)
    with CaptureQueriesContext(connection) as ctx:
        overdue = list(selectors.overdue_tasks(scjg, later))
    assert len(ctx.captured_queries) == 1
    assert len(overdue) == 3 and {t.candidate_org_id for t in overdue} == {scjg.pk}
    assert not list(selectors.overdue_tasks(scjg, timezone.localdate()))
    sql = ctx.captured_queries[0]["sql"]
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"))  # already interpolated by Django
            plan = " ".join(str(r) for r in cur.fetchall())
            assert "wf_task_org_state_due" in plan


def test_my_tasks_only_shows_the_users_departments(users):
    services.deploy(limited(), "l.bpmn")
    services.start("lim")
    assert selectors.tasks_for_user(users["approver-scjg"]).count() == 1
    assert selectors.tasks_for_user(users["approver-xf"]).count() == 0
    assert selectors.tasks_for_user(users["zhangsan"]).count() == 0
    assert selectors.tasks_for_user(users["admin"]).count() == 1


def test_date_is_a_date():
    assert isinstance(timezone.localdate(), date)
    assert ProcessInstance.Status.RUNNING == "running"
