"""Row locks under real concurrency (PostgreSQL only: SQLite serialises writers anyway)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from tongban.workflow import services
from tongban.workflow.models import Event, ProcessInstance, Task, Timer, Token

from .helpers import bpmn, chain, user_task
from .test_services import ITEM_PROCESS, bundle_process, parallel_process, timer_process

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def slow_steps(monkeypatch):
    """Widen the race window: every engine step pauses after reading the instance's tokens, inside its lock.
    Without the row locks, these tests then fail reliably; with them, steps just queue."""
    import time

    from tongban.workflow.engine import Run

    original = Run.load.__func__

    def slow_load(cls, *args, **kwargs):
        run = original(cls, *args, **kwargs)
        time.sleep(0.05)
        return run

    monkeypatch.setattr(Run, "load", classmethod(slow_load))
    from tongban.workflow.services import runtime

    original_child_ended = runtime._child_ended

    def slow_child_ended(*args, **kwargs):
        time.sleep(0.05)
        return original_child_ended(*args, **kwargs)

    monkeypatch.setattr(runtime, "_child_ended", slow_child_ended)


def run_together(functions):
    """Run the callables in threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(functions))
    errors: list[BaseException] = []

    def wrap(fn):
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]


def test_parallel_approvers_completing_at_the_same_moment(users):
    services.deploy(parallel_process(), "par.bpmn")
    who = {"scjg": users["approver-scjg"], "xf": users["approver-xf"], "cg": users["approver-cg"]}
    instances = [services.start("par", f"C-{n}") for n in range(6)]
    for inst in instances:
        tasks = list(Task.objects.filter(instance=inst))
        run_together([lambda t=t: services.complete(t.pk, who[t.element_id], "approve") for t in tasks])
    for inst in instances:
        assert Event.objects.filter(instance=inst, type="element.completed", element_id="join").count() == 1
        assert list(Task.objects.filter(instance=inst, state="open").values_list("element_id", flat=True)) == [
            "decide"]
        live = Token.objects.filter(instance=inst).exclude(state="done")
        assert [(t.element_id, t.state) for t in live] == [("decide", "waiting")]


def test_two_approvers_racing_for_one_task(users):
    from tongban.core.services import grant_role, upsert_user

    colleague = upsert_user("approver-scjg-2", display_name="同事", kind="staff")
    grant_role(colleague, "approver", users["approver-scjg"].organisation)
    xml = bpmn("one", "\n".join(['    <bpmn:startEvent id="start"/>', user_task("t", outcomes="approve,reject"),
                                 '    <bpmn:endEvent id="end"/>', chain("start", "t", "end")]))
    services.deploy(xml, "one.bpmn")
    for n in range(5):
        inst = services.start("one", f"R-{n}")
        task = Task.objects.get(instance=inst)
        outcomes: list[str] = []

        def attempt(user, outcome, task_id=task.pk, out=outcomes):
            try:
                services.complete(task_id, user, outcome)
                out.append(outcome)
            except services.WorkflowError as exc:
                assert exc.code == "workflow.task_not_open"

        run_together([lambda: attempt(users["approver-scjg"], "approve"), lambda: attempt(colleague, "reject")])
        assert len(outcomes) == 1
        task.refresh_from_db()
        assert task.outcome == outcomes[0]
        assert Event.objects.filter(instance=inst, element_id="t", type="element.completed").count() == 1


def test_bundle_items_finishing_at_the_same_moment(users):
    services.deploy(ITEM_PROCESS, "item.bpmn")
    services.deploy(bundle_process(), "bundle.bpmn")
    items = [{"code": c, "org": c, "process": "item_review"} for c in ("yx-scjg", "yx-xf", "yx-cg")]
    parent = services.start("bundle", "B-C", {"items": items})
    who = {"yx-scjg": users["approver-scjg"], "yx-xf": users["approver-xf"], "yx-cg": users["approver-cg"]}
    tasks = list(Task.objects.filter(instance__parent=parent).select_related("candidate_org"))
    run_together([lambda t=t: services.complete(t.pk, who[t.candidate_org.code], "approve") for t in tasks])
    assert list(Task.objects.filter(instance=parent).values_list("element_id", flat=True)) == ["deliver"]
    parent.refresh_from_db()
    assert len(parent.variables["items_ca_results"]) == 3


def test_timers_fire_exactly_once_with_two_workers(users):
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from tongban.workflow.tasks import fire_timer_task

    # non-interrupting: the task stays where it is, so only the timer row lock prevents a second firing
    services.deploy(timer_process(cancel=False), "t.bpmn")
    instances = [services.start("timed", f"T-{n}") for n in range(12)]
    past = timezone.now() - timedelta(minutes=1)
    Timer.objects.update(due_at=past)
    DBTaskResult.objects.all().delete()
    for timer in Timer.objects.order_by("pk"):  # every timer task delivered twice, back to back, so that the
        for _ in range(2):                      # two workers pick up the same timer at the same moment
            fire_timer_task.enqueue(timer.pk)
    assert DBTaskResult.objects.count() == 24

    def worker(name):
        def run():
            close_old_connections()
            Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                   max_tasks=None, worker_id=name, excluded_queue_names=[]).run()
            services.fire_due_timers()  # the periodic sweep racing with the other worker
        return run

    run_together([worker("w1"), worker("w2")])
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()
    workers = {w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids}
    assert workers == {"w1", "w2"}  # both workers really ran tasks
    assert Event.objects.filter(type="timer.fired").count() == 12
    for inst in instances:
        assert Task.objects.filter(instance=inst, element_id="urge").count() == 1
        assert Timer.objects.get(instance=inst).fired_at is not None
    assert sum(r for r in DBTaskResult.objects.filter(task_path=fire_timer_task.module_path)
               .values_list("return_value", flat=True) if r) == 12
    assert ProcessInstance.objects.filter(status="running").count() == 12
