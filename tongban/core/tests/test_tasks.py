"""The lease on database-backend tasks: a task left RUNNING by a dead worker runs again, at most a few times.
(The same with real worker processes killed mid-task: ``tongban/tests/test_faults.py``.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from tongban.core import tasks

pytestmark = pytest.mark.django_db


@task()
def some_work() -> None:
    """Never run here: only its rows in the queue matter."""


def _running(started_ago: float, workers: list[str]) -> DBTaskResult:
    result = some_work.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(seconds=started_ago), worker_ids=workers)
    return DBTaskResult.objects.get(pk=result.id)


def test_a_task_running_past_its_lease_is_queued_again_and_a_fresh_one_is_left_alone():
    lost = _running(120, ["w1"])
    busy = _running(5, ["w2"])
    assert tasks.recover_lost_tasks(lease=60) == {"requeued": 1, "failed": 0}
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == "READY" and lost.started_at is None and lost.worker_ids == ["w1"]
    assert DBTaskResult.objects.ready().filter(pk=lost.pk).exists()
    assert busy.status == "RUNNING"
    assert tasks.recover_lost_tasks(lease=60) == {"requeued": 0, "failed": 0}  # nothing twice


def test_a_task_that_lost_its_worker_too_often_fails_with_the_reason():
    lost = _running(120, ["w1", "w2", "w3"])
    assert tasks.recover_lost_tasks(lease=60, attempts=3) == {"requeued": 0, "failed": 1}
    lost.refresh_from_db()
    assert lost.status == "FAILED" and lost.finished_at is not None
    assert lost.exception_class_path == "tongban.core.tasks.WorkerLost"
    assert "disappeared 3 time(s)" in lost.traceback and "w3" in lost.traceback


def test_the_periodic_check_is_scheduled_once(settings):
    settings.TONGBAN_TASK_RECOVERY_SECONDS = 30
    assert tasks.schedule_recovery() is True
    assert tasks.schedule_recovery() is False
    waiting = DBTaskResult.objects.get(task_path=tasks.recover_lost_tasks_task.module_path, status="READY")
    assert timedelta(seconds=25) < waiting.run_after - timezone.now() <= timedelta(seconds=30)


def test_on_worker_start_recovers_at_once_and_schedules_the_check(settings):
    settings.TONGBAN_TASK_LEASE_SECONDS = 60
    lost = _running(120, ["w1"])
    tasks.on_worker_start()
    lost.refresh_from_db()
    assert lost.status == "READY"
    assert DBTaskResult.objects.filter(task_path=tasks.recover_lost_tasks_task.module_path, status="READY",
                                       run_after__gt=timezone.now()).count() == 1


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bad_lease_setting_is_a_clear_error(settings, value):
    settings.TONGBAN_TASK_LEASE_SECONDS = value
    with pytest.raises(ValueError, match="TONGBAN_TASK_LEASE_SECONDS must be"):
        tasks.lease_seconds()
