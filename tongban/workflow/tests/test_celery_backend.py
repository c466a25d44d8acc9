"""The Celery backend against real brokers: RabbitMQ (127.0.0.1:5672) and Redis (127.0.0.1:6379, db 11).

The broker tests run once per broker (``[rabbitmq]``, ``[redis]``); ``TONGBAN_CELERY_BROKER_URL`` replaces the
default URL of its kind. A Celery worker runs in a thread of the test process, connected to that broker and
consuming a queue unique to the run; a broker's tests skip only when that broker cannot be reached.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import TaskContext, default_task_backend, task, task_backends
from django_tasks.signals import task_finished
from kombu import Connection, pools
from typer.testing import CliRunner

from tongban import celery_app
from tongban.workflow import services, tasks
from tongban.workflow.celery_backend import CeleryBackend
from tongban.workflow.models import Event, ProcessInstance, Timer, Token

from .test_services import auto_process, cert_rules, timer_process

BACKEND = "tongban.workflow.celery_backend.CeleryBackend"
RUNS: list[dict[str, Any]] = []  # what `record` saw, in the worker thread


def _broker_urls() -> dict[str, str]:
    """The brokers the module runs against; TONGBAN_CELERY_BROKER_URL replaces the default of its kind."""
    urls = {"rabbitmq": celery_app.DEFAULT_BROKER_URL, "redis": "redis://127.0.0.1:6379/11"}
    configured = os.environ.get("TONGBAN_CELERY_BROKER_URL")
    if configured:
        urls["redis" if configured.startswith(("redis:", "rediss:")) else "rabbitmq"] = configured
    return urls


BROKERS = _broker_urls()


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


def _use_broker(url: str) -> None:
    """Point the project's Celery app at ``url``: drop its pooled connections and producers (they stay bound to the
    broker they were opened on), so the next publish connects to the new broker."""
    app = celery_app.app
    app.conf.broker_url = url
    pools.reset()  # closes every pooled connection and producer (of this test process)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module", params=list(BROKERS))
def broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The broker of this run (one run per broker); the app's own broker is restored afterwards."""
    url = BROKERS[request.param]
    previous = celery_app.app.conf.broker_url
    _use_broker(url)
    try:
        problem = _broker_reachable()
        if problem:
            pytest.skip(f"Celery broker unreachable ({problem})")
        yield url
    finally:
        _use_broker(previous)


@pytest.fixture(scope="module")
def celery_queue(broker_url: str) -> Iterator[str]:
    """A queue unique to this module's run on this broker (no stale messages from earlier runs)."""
    name = f"tongban-test-{uuid.uuid4().hex[:12]}"
    yield name
    _delete_queue(name)


def _delete_queue(name: str) -> None:
    """Delete a queue with its messages. kombu's virtual transports (Redis: a list plus binding sets) only delete
    the bindings the deleting channel knows, so the queue is declared (bound) on the channel first."""
    with celery_app.app.connection_for_write() as conn:
        queue = celery_app.app.amqp.queues[name].bind(conn.default_channel)
        queue.declare()
        queue.delete()
        queue.exchange.delete()


def _queue_exists(url: str, name: str) -> bool:
    """Does the broker at ``url`` hold queue ``name``? (Redis: a queue with messages, or bindings, in it.)"""
    with Connection(url) as conn:
        channel = conn.channel()
        if conn.transport.driver_type == "redis":
            keys = [channel._q_for_pri(name, pri) for pri in channel.priority_steps]
            bindings = [channel.keyprefix_queue % name, channel.keyprefix_binding_permanent % name]
            return bool(channel.client.exists(*keys, *bindings))
        try:
            channel.queue_declare(name, passive=True)
        except conn.channel_errors:
            return False
        return True


@pytest.fixture(scope="module")
def celery_worker(celery_queue: str) -> Iterator[Any]:
    """One Celery worker (solo pool, in a thread) per broker run: stopping one takes ~10 s (its idle poll)."""
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


def test_messages_go_to_the_broker_of_the_run(broker_url, worker, queue, settings):
    """Switching brokers between the runs really switches: the worker consumes from this run's broker, and a task
    published to a queue nobody consumes is found on this broker (read over a connection of its own); the queue
    cleanup removes it again (on Redis: the list and its bindings)."""
    expected = Connection(broker_url)
    assert celery_app.app.conf.broker_url == broker_url
    assert worker.consumer.connection.as_uri(include_password=True) == expected.as_uri(include_password=True)
    if expected.transport.driver_type == "redis":  # the app's visibility timeout reaches the worker's channel
        timeout = worker.consumer.connection.default_channel.visibility_timeout
        assert timeout == celery_app.visibility_timeout(celery_app.app) > 2 * celery_app.hop_seconds(celery_app.app)
    probe = f"{queue}-probe"
    settings.TASKS = {"default": {"BACKEND": BACKEND, "OPTIONS": {"QUEUE": probe}}}
    result = record.enqueue("probe")
    try:
        with Connection(broker_url) as conn:
            probe_queue = celery_app.app.amqp.queues[probe].bind(conn.channel())
            message = wait_for(lambda: probe_queue.get(no_ack=True), timeout=5)
        assert message.headers["task"] == celery_app.TASK_NAME and message.headers["id"] == result.id
        assert message.decode()[0][:2] == [record.module_path, ["probe"]]
        record.enqueue("left behind")  # a message the cleanup has to delete
        assert _queue_exists(broker_url, probe)
    finally:
        _delete_queue(probe)
    assert not _queue_exists(broker_url, probe)
    assert RUNS == []  # the worker consumes its own queue only


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


def test_hops_stay_well_below_the_visibility_timeout(monkeypatch):
    """Redis redelivers a message held unacknowledged longer than its visibility timeout: a delayed task's hop is
    capped at half of it, even when TONGBAN_CELERY_MAX_ETA_SECONDS says more."""
    app = celery_app.make_app("redis://127.0.0.1:6379/11")
    assert app.conf.broker_transport_options == {"visibility_timeout": 3600}
    assert celery_app.hop_seconds(app) == 600  # the default hop, well inside RabbitMQ's consumer_timeout too
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(options) or SimpleNamespace(id="t"))
    monkeypatch.setenv("TONGBAN_CELERY_MAX_ETA_SECONDS", str(3 * 86400))
    now = timezone.now()
    celery_app.send(app, record.module_path, [], {}, queue="q", run_after=now + timedelta(days=2))
    assert timedelta(minutes=30) <= sent[-1]["eta"] - now < timedelta(minutes=31)
    monkeypatch.setenv("TONGBAN_CELERY_VISIBILITY_TIMEOUT", "7200")
    app = celery_app.make_app("redis://127.0.0.1:6379/11")
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append(options) or SimpleNamespace(id="t"))
    celery_app.send(app, record.module_path, [], {}, queue="q", run_after=now + timedelta(days=2))
    assert app.conf.broker_transport_options["visibility_timeout"] == 7200
    assert timedelta(minutes=60) <= sent[-1]["eta"] - now < timedelta(minutes=61)
    due = now + timedelta(minutes=5)
    celery_app.send(app, record.module_path, [], {}, queue="q", run_after=due)
    assert sent[-1]["eta"] == due and sent[-1]["kwargs"] == {"run_after": due.isoformat()}


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
