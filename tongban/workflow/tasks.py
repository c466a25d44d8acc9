"""Background work of the engine on Django's tasks framework (``django.tasks``; the django-tasks backport).

- every timer is enqueued as ``fire_timer_task`` with ``run_after=due_at``; firing locks the timer row and checks
  ``fired_at``, so it happens exactly once even when two workers (or the sweep below) race for it;
- service tasks run as ``run_service_task_task`` in the worker (inline when ``TONGBAN_WORKFLOW_INLINE``);
- ``tick`` is the periodic check: fire any due timer the queue missed, refresh clock lights, escalate overdue
  tasks; it re-enqueues itself every ``TONGBAN_WORKFLOW_TICK_SECONDS`` (default 60).

With the database backend (the embedded default) tasks are written in the same transaction as the engine step
(a transactional outbox); with other backends (Celery, ...) they are handed over after commit. A backend with its
own periodic scheduler (``has_beat``: Celery beat) gets ``tick`` from that scheduler, not from self-rescheduling.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def tick_seconds() -> int:
    return int(getattr(settings, "TONGBAN_WORKFLOW_TICK_SECONDS", 60))


@task()
def fire_timer_task(timer_id: int) -> bool:
    from .services import fire_timer

    return fire_timer(timer_id)


@task()
def run_service_task_task(token_id: int) -> bool:
    from .services import run_service_task

    return run_service_task(token_id)


@task()
def tick() -> dict[str, Any]:
    from .registry import periodic_jobs
    from .services import check_clocks, fire_due_timers, resend_stale_service_tasks

    try:
        fired = fire_due_timers()
        counts = check_clocks()
        counts["service_tasks_resent"] = resend_stale_service_tasks()
        jobs: dict[str, Any] = {}
        now = timezone.now()
        for name, job in periodic_jobs().items():
            try:
                jobs[name] = job(now)
            except Exception:  # noqa: BLE001 - one failing job must not stop the engine's check
                logger.exception("periodic job %s failed", name)
                jobs[name] = {"error": True}
    finally:
        schedule_tick()
    return {"timers_fired": fired, **counts, "jobs": jobs}


def _is_db_backend(backend: Any) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


def _enqueue(t: Any, *args: Any, run_after: datetime | None = None) -> None:
    backend = t.get_backend()
    if run_after is not None:
        if not backend.supports_defer:
            return  # no delayed tasks on this backend: the periodic sweep (tick / `tongban process tick`) fires it
        t = t.using(run_after=run_after)
    if _is_db_backend(backend):
        t.enqueue(*args)
    else:
        # robust: the engine step is committed; a broker that is down must not turn it into an error (the
        # periodic sweep fires timers whose message was lost; the failure is logged)
        transaction.on_commit(lambda: t.enqueue(*args), robust=True)


def enqueue_timer(timer: Any) -> None:
    _enqueue(fire_timer_task, timer.pk, run_after=timer.due_at)


def enqueue_service(token: Any) -> None:
    _enqueue(run_service_task_task, token.pk)


def schedule_tick(delay_seconds: int | None = None) -> bool:
    """Enqueue the next periodic check unless one is already waiting. Returns whether one was enqueued."""
    backend = tick.get_backend()
    if not backend.supports_defer:
        return False
    if _is_db_backend(backend):
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(task_path=tick.module_path, status="READY").exists():
            return False
    elif delay_seconds is None and getattr(backend, "has_beat", False):
        return False  # a scheduler (Celery beat) enqueues the periodic check; only explicit one-off ticks go out
    delay = tick_seconds() if delay_seconds is None else delay_seconds
    tick.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
    return True


def on_worker_start() -> None:
    """Called by ``tongban worker`` before the worker loop starts: make sure the periodic check runs."""
    try:
        schedule_tick(0)
    except Exception:  # noqa: BLE001 - the worker must start even if this fails (e.g. tables missing)
        logger.exception("could not schedule the workflow tick")
