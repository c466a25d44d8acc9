"""The Celery backend against a real broker (RabbitMQ on 127.0.0.1:5672, or TONGBAN_CELERY_BROKER_URL).

A Celery worker runs in a thread of the test process, consuming a queue unique to the test; tests skip only when
the broker cannot be reached.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskContext, default_task_backend, task, task_backends
from django_tasks.signals import task_finished
from typer.testing import CliRunner

from tongban import celery_app
from tongban.workflow import services, tasks
from tongban.workflow.celery_backend import CeleryBackend
from tongban.workflow.models import Event, ProcessInstance, Timer, Token

from .test_services import auto_process, cert_rules, timer_process

BACKEND = "tongban.workflow.celery_backend.CeleryBackend"
RUNS: list[dict[str, Any]] = []  # what `record` saw, in the worker thread


@task(takes_context=True)
def record(context: TaskContext, marker: str) -> str:
    RUNS.append({"marker": marker, "id": context.task_result.id, "at": timezone.now(),
                 "thread": threading.current_thread().name})
    return marker.upper()


def wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout:.0f} s")


def _broker_reachable() -> str | None:
    try:
        with celery_app.app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # noqa: BLE001 - any connection failure means: skip
        return f"{celery_app.app.conf.broker_url.split('@')[-1]}: {exc}"
    return None


@pytest.fixture(scope="module")
def celery_queue() -> Iterator[str]:
    """A queue unique to this module's run (no stale messages from earlier runs)."""
    problem = _broker_reachable()
    if problem:
        pytest.skip(f"Celery broker unreachable ({problem})")
    name = f"tongban-test-{uuid.uuid4().hex[:12]}"
    yield name
    _delete_queue(name)


def _delete_queue(name: str) -> None:
    with celery_app.app.connection_for_write() as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture(scope="module")
def celery_worker(celery_queue: str) -> Iterator[Any]:
    """One Celery worker (solo pool, in a thread) for the module: stopping one takes ~10 s (its idle poll)."""
    from celery.contrib.testing.worker import start_worker

    os.environ["CELERY_SKIP_CHECKS"] = "1"  # Django's system checks already ran for the test session
    with start_worker(celery_app.app, pool="solo", perform_ping_check=False, queues=[celery_queue],
                      shutdown_timeout=30) as w:
        yield w


@pytest.fixture
def queue(settings, celery_queue: str) -> str:
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": celery_queue}}}
    return celery_queue


@pytest.fixture
def worker(celery_worker: Any, queue: str) -> Any:
    RUNS.clear()
    return celery_worker


@pytest.fixture
def finished() -> Iterator[list[Any]]:
    """Task results finished in the Celery worker (django-tasks' task_finished signal, sent by the backend)."""
    results: list[Any] = []

    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        if sender is CeleryBackend:
            results.append(task_result)

    task_finished.connect(receiver)
    yield results
    task_finished.disconnect(receiver)


def _ran(task_obj: Any, results: list[Any]) -> list[Any]:
    return [r for r in results if r.task.module_path == task_obj.module_path]


def test_backend_is_selected_and_honest_about_what_it_supports(queue, monkeypatch):
    assert isinstance(task_backends["default"], CeleryBackend)
    assert default_task_backend.supports_defer and not default_task_backend.supports_get_result
    assert default_task_backend.default_celery_queue() == queue
    with pytest.raises(NotImplementedError):
        default_task_backend.get_result("whatever")
    sent: list[Any] = []
    monkeypatch.setattr(celery_app, "send", lambda *args, **kwargs: sent.append(args))
    with pytest.raises(TypeError):
        record.enqueue(object())  # not JSON: refused at enqueue, nothing published
    assert sent == []
    record.enqueue("fine")
    assert sent[0][1:] == (record.module_path, ["fine"], {})


def test_enqueued_task_runs_in_the_celery_worker(worker, finished):
    result = record.enqueue("hello")
    assert result.status == "READY" and result.backend == "default"
    [run] = wait_for(lambda: RUNS)
    assert run["marker"] == "hello" and run["id"] == result.id
    assert run["thread"] != threading.current_thread().name
    [done] = wait_for(lambda: _ran(record, finished))
    assert done.status == "SUCCESSFUL" and done.return_value == "HELLO"


def test_run_after_is_respected_also_beyond_the_eta_hop_limit(worker, monkeypatch):
    monkeypatch.setenv("TONGBAN_CELERY_MAX_ETA_SECONDS", "1")  # a 3 s delay travels as three hops
    run_after = timezone.now() + timedelta(seconds=3)
    result = record.using(run_after=run_after).enqueue("later")
    time.sleep(1.5)
    assert RUNS == []
    [run] = wait_for(lambda: RUNS)
    assert run["at"] >= run_after and run["id"] == result.id


@pytest.mark.django_db(transaction=True)
def test_timer_fires_once_even_when_delivered_twice(worker, finished, users):
    services.deploy(timer_process(timer="<bpmn:timeDuration>PT2S</bpmn:timeDuration>"), "t.bpmn")
    inst = services.start("timed")  # enqueues fire_timer_task(run_after=due) after commit
    timer = Timer.objects.get(instance=inst)
    tasks.fire_timer_task.using(run_after=timer.due_at).enqueue(timer.pk)  # a duplicate delivery
    runs = wait_for(lambda: len(_ran(tasks.fire_timer_task, finished)) >= 2 and _ran(tasks.fire_timer_task, finished))
    assert sorted(r.return_value for r in runs) == [False, True]
    timer.refresh_from_db()
    assert timer.fired_at is not None and timer.fired_at >= timer.due_at
    assert Event.objects.filter(instance=inst, type="timer.fired").count() == 1
    assert list(Token.objects.filter(instance=inst).exclude(state="done").values_list("element_id", flat=True)) == ["urge"]


@pytest.mark.django_db(transaction=True)
def test_service_task_of_a_started_process_runs_in_the_worker(worker, finished, users, settings):
    settings.TONGBAN_WORKFLOW_INLINE = False
    services.deploy_decisions(cert_rules(), "rules.dmn")
    services.deploy(auto_process(), "cert.bpmn")
    inst = services.start("cert", variables={"credit": "A", "age": 30})
    [run] = wait_for(lambda: _ran(tasks.run_service_task_task, finished))
    assert run.status == "SUCCESSFUL" and run.return_value is True
    inst = wait_for(lambda: ProcessInstance.objects.filter(pk=inst.pk, status="completed").first())
    assert inst.variables["decision"] == "approve"


@pytest.mark.django_db(transaction=True)
def test_tick_runs_once_per_worker_start_and_does_not_reschedule_itself(worker, queue, finished, users, settings):
    settings.TONGBAN_WORKFLOW_TICK_SECONDS = 1
    services.deploy(timer_process(), "t.bpmn")
    lost = f"{queue}-lost"
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": lost}}}
    inst = services.start("timed")
    _delete_queue(lost)  # its fire_timer_task message is lost ...
    Timer.objects.update(due_at=timezone.now() - timedelta(seconds=1))  # ... so only the sweep can fire it
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": queue}}}
    assert tasks.schedule_tick() is False  # periodic ticks come from beat on this backend
    tasks.on_worker_start()
    [run] = wait_for(lambda: _ran(tasks.tick, finished))
    assert run.status == "SUCCESSFUL" and run.return_value["timers_fired"] == 1
    assert Event.objects.filter(instance=inst, type="timer.fired").count() == 1
    time.sleep(2.5)  # two tick periods: no self-rescheduled tick arrives
    assert len(_ran(tasks.tick, finished)) == 1


def test_beat_schedules_the_periodic_check(settings):
    settings.TONGBAN_WORKFLOW_TICK_SECONDS = 42
    app = celery_app.make_app()
    schedule = celery_app.configure_beat(app, "q1")
    assert schedule == {"workflow.tick": {
        "task": "tongban.run_django_task", "schedule": 42.0, "args": (tasks.tick.module_path, [], {}),
        "options": {"queue": "q1"}}}
    assert app.conf.task_acks_late is True and app.conf.task_serializer == "json"


def _cli() -> Any:
    # the project-level CLI (bounded contexts do not import it statically: import-linter contract)
    return importlib.import_module("tongban.cli").app


@pytest.mark.django_db
def test_worker_celery_needs_the_celery_backend():
    result = CliRunner().invoke(_cli(), ["worker", "--celery"])
    assert result.exit_code == 2 and "TONGBAN_TASKS_BACKEND" in result.output


@pytest.mark.django_db
def test_worker_celery_runs_the_start_hooks_then_the_celery_worker(settings, monkeypatch, tmp_path):
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": "q-cli"}}}
    settings.TONGBAN_HOME = tmp_path
    calls: list[Any] = []
    monkeypatch.setattr(celery_app, "send", lambda *args, **kwargs: calls.append(("send", args[1], kwargs)))
    monkeypatch.setattr(celery_app.app, "worker_main", lambda argv: calls.append(("worker", argv)))
    beat_schedule = celery_app.app.conf.beat_schedule
    result = CliRunner().invoke(_cli(), ["worker", "--celery", "--concurrency", "4"])
    assert result.exit_code == 0, result.output
    (kind, path, options), (kind2, argv) = calls
    assert (kind, path, options["queue"], kind2) == ("send", tasks.tick.module_path, "q-cli", "worker")
    assert {"--queues=q-cli", "--pool=threads", "--concurrency=4", "--beat"} <= set(argv)
    assert celery_app.app.conf.beat_schedule["workflow.tick"]["options"] == {"queue": "q-cli"}
    calls.clear()
    assert CliRunner().invoke(_cli(), ["worker", "--celery", "--no-beat"]).exit_code == 0
    assert "--pool=solo" in calls[-1][1] and "--beat" not in calls[-1][1]
    celery_app.app.conf.beat_schedule = beat_schedule


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_after_commit_does_not_fail_the_engine_step(settings, users, monkeypatch, caplog):
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": "q-down"}}}

    def down(*args: Any, **kwargs: Any) -> str:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(celery_app, "send", down)
    services.deploy(timer_process(), "t.bpmn")
    inst = services.start("timed")  # committed; the timer message could not be published
    assert Timer.objects.filter(instance=inst, fired_at__isnull=True).count() == 1
    assert "broker down" in caplog.text
    assert services.fire_due_timers(now=timezone.now() + timedelta(hours=2)) == 1  # the sweep covers it
