"""Recovery of background tasks whose worker died (the django-tasks database backend, ``django_tasks_db``).

A database worker marks the task it takes ``RUNNING`` and only marks it finished when the task returns. A worker
killed in between (``kill -9``, out of memory, a power cut) leaves the row ``RUNNING`` for ever: django-tasks-db
never runs it again. This module gives such tasks a lease:

- a task ``RUNNING`` for longer than ``TONGBAN_TASK_LEASE_SECONDS`` (default 900) counts as lost and is put back
  to ``READY`` (the same row: its id and result stay), so the next free worker runs it again;
- after ``TONGBAN_TASK_MAX_ATTEMPTS`` (default 3) lost runs it is marked ``FAILED`` (``WorkerLost``) instead: a
  task that kills its worker every time must not take the queue down with it;
- the check runs when ``tongban worker`` starts and then every ``TONGBAN_TASK_RECOVERY_SECONDS`` (default 60), as
  the self-rescheduling task ``recover_lost_tasks_task``.

A task run again must be idempotent. The platform's are: the engine's steps run in one transaction that a dead
worker never committed, and each re-checks its state under a row lock (a timer fires only while ``fired_at`` is
empty, a service task runs only while its token waits for it). The lease must exceed the longest task: a task
still running after it is run a second time in parallel, and only those checks keep that harmless.

Other backends (Celery) redeliver unacknowledged messages themselves; there this module does nothing.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)

LEASE_SECONDS = 900
RECOVERY_SECONDS = 60
MAX_ATTEMPTS = 3


class WorkerLost(Exception):
    """The worker running a task disappeared (recorded on tasks that lost their worker too often)."""


def _setting(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be greater than 0, got {value!r}")
    return number


def lease_seconds() -> float:
    return _setting("TONGBAN_TASK_LEASE_SECONDS", LEASE_SECONDS)


def recovery_seconds() -> float:
    return _setting("TONGBAN_TASK_RECOVERY_SECONDS", RECOVERY_SECONDS)


def max_attempts() -> int:
    return int(_setting("TONGBAN_TASK_MAX_ATTEMPTS", MAX_ATTEMPTS))


def _uses_database_backend() -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(recover_lost_tasks_task.get_backend(), DatabaseBackend)


def recover_lost_tasks(now: datetime | None = None, lease: float | None = None,
                       attempts: int | None = None) -> dict[str, int]:
    """Put tasks ``RUNNING`` for longer than the lease back to ``READY``, or mark them ``FAILED`` after
    ``attempts`` lost runs. Each row is changed by a conditional update, so two workers checking at the same
    time recover a task once. Returns ``{"requeued": n, "failed": m}``."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=lease if lease is not None else lease_seconds())
    limit = attempts if attempts is not None else max_attempts()
    requeued = failed = 0
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    for row in stale.only("id", "task_path", "started_at", "worker_ids"):
        same = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at)
        runs = len(row.worker_ids or [])
        if runs >= limit:
            message = (f"{WorkerLost.__name__}: the worker running this task disappeared {runs} time(s) "
                       f"(workers {', '.join(row.worker_ids)}); not run again")
            if same.update(status=TaskResultStatus.FAILED, finished_at=now, return_value=None,
                           exception_class_path=f"{__name__}.{WorkerLost.__name__}", traceback=message):
                failed += 1
                logger.error("task %s (%s) failed: %s", row.pk, row.task_path, message)
        elif same.update(status=TaskResultStatus.READY, started_at=None):
            requeued += 1
            logger.warning("task %s (%s) lost its worker %s; queued again (run %d of at most %d)", row.pk,
                           row.task_path, (row.worker_ids or ["?"])[-1], runs + 1, limit)
    return {"requeued": requeued, "failed": failed}


@task()
def recover_lost_tasks_task() -> dict[str, Any]:
    """The periodic recovery check; it enqueues its next run itself."""
    try:
        return recover_lost_tasks()
    finally:
        schedule_recovery()


def schedule_recovery(delay_seconds: float | None = None) -> bool:
    """Enqueue the next recovery check unless one is already waiting. Returns whether one was enqueued."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=recover_lost_tasks_task.module_path, status="READY").exists():
        return False
    delay = recovery_seconds() if delay_seconds is None else delay_seconds
    recover_lost_tasks_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
    return True


def on_worker_start() -> None:
    """Called by ``tongban worker`` before its loop: recover what a dead worker left, then check periodically."""
    if not _uses_database_backend():
        return
    try:
        counts = recover_lost_tasks()
        if counts["requeued"] or counts["failed"]:
            logger.warning("recovered tasks of dead workers at start: %s", counts)
        schedule_recovery()
    except Exception:  # noqa: BLE001 - the worker must start even if this fails (e.g. tables missing)
        logger.exception("could not recover or schedule the recovery of lost tasks")
