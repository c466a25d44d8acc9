from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tongban.workflow import services, tasks
from tongban.workflow.models import Event, ProcessInstance, Timer, Token

from .helpers import bpmn, chain
from .test_services import auto_process, cert_rules, timer_process

pytestmark = pytest.mark.django_db


def test_tick_is_scheduled_once_and_reschedules_itself(users):
    from django_tasks_db.models import DBTaskResult

    assert tasks.schedule_tick() is True
    assert tasks.schedule_tick() is False  # one waiting tick is enough
    tasks.on_worker_start()
    assert DBTaskResult.objects.filter(task_path=tasks.tick.module_path).count() == 1
    services.deploy(timer_process(), "t.bpmn")
    inst = services.start("timed")
    Timer.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    DBTaskResult.objects.all().delete()
    result = tasks.tick.call()
    assert result["timers_fired"] == 1
    assert Event.objects.filter(instance=inst, type="timer.fired").count() == 1
    assert DBTaskResult.objects.filter(task_path=tasks.tick.module_path, status="READY").count() == 1


def test_fire_timer_task_calls_the_engine(users):
    services.deploy(timer_process(), "t.bpmn")
    inst = services.start("timed")
    timer = Timer.objects.get(instance=inst)
    assert tasks.fire_timer_task.call(timer.pk) is False  # not due yet
    Timer.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    assert tasks.fire_timer_task.call(timer.pk) is True
    assert tasks.fire_timer_task.call(timer.pk) is False


def test_service_tasks_on_another_backend_run_after_commit(settings, users, django_capture_on_commit_callbacks):
    settings.TONGBAN_WORKFLOW_INLINE = False
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.deploy_decisions(cert_rules(), "rules.dmn")
    services.deploy(auto_process(), "cert.bpmn")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inst = services.start("cert", variables={"credit": "A", "age": 30})
    assert len(callbacks) == 1
    inst.refresh_from_db()
    assert inst.status == "completed" and inst.variables["decision"] == "approve"


def test_timers_without_delayed_tasks_rely_on_the_sweep(settings, users, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.deploy(timer_process(), "t.bpmn")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inst = services.start("timed")
    assert callbacks == []  # nothing enqueued: ImmediateBackend cannot run later
    assert tasks.schedule_tick() is False
    assert services.fire_due_timers(now=timezone.now() + timedelta(hours=2)) == 1
    assert ProcessInstance.objects.get(pk=inst.pk).status == "running"


def test_intermediate_timer_not_yet_reached_is_not_fired(users):
    xml = bpmn("w", "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T00:00:00'
        "</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
        '    <bpmn:endEvent id="end"/>',
        chain("start", "wait", "end"),
    ]))
    services.deploy(xml, "w.bpmn")
    inst = services.start("w")
    timer = Timer.objects.get(instance=inst)
    assert timezone.localtime(timer.due_at).year == 2030
    assert services.fire_due_timers() == 0
    assert Token.objects.get(instance=inst).element_id == "wait"


@pytest.mark.django_db
def test_a_lost_service_task_message_is_sent_again_by_the_tick(settings):
    """The worker never got the message: after five minutes the periodic check sends it again, once more
    per tick until the handler ran, and the handler runs only once."""
    import datetime as dt

    from django.utils import timezone

    from tongban.workflow import services
    from tongban.workflow.models import Token

    settings.TONGBAN_WORKFLOW_INLINE = False
    services.deploy(SERVICE_PROCESS, "svc.bpmn")
    inst = services.start("svc_resend")
    token = Token.objects.get(instance=inst, state="waiting")
    assert token.data["service"] == "pending"
    assert services.resend_stale_service_tasks() == 0  # fresh: its own message is still on its way
    later = timezone.now() + dt.timedelta(minutes=6)
    assert services.resend_stale_service_tasks(later) == 1
    assert services.run_service_task(token.pk) is True
    assert services.run_service_task(token.pk) is False  # a duplicate delivery does nothing
    inst.refresh_from_db()
    assert inst.status == "completed"
    assert services.resend_stale_service_tasks(later) == 0


SERVICE_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:tongban="https://tongban.org/schema/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="svc_resend" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
    <bpmn:serviceTask id="work" tongban:handler="workflow.noop"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
