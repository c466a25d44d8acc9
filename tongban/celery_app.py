"""The Celery application of tongban (Celery 异步任务: background work on RabbitMQ or Redis at scale).

Only used when ``TONGBAN_TASKS_BACKEND=tongban.workflow.celery_backend.CeleryBackend``: the django-tasks backend
hands every enqueued task to the one generic Celery task ``tongban.run_django_task`` defined here, and
``tongban worker --celery`` runs a Celery worker on this app.

Environment:

- ``TONGBAN_CELERY_BROKER_URL`` (default ``amqp://guest:guest@127.0.0.1:5672//``; ``redis://…`` works too);
- ``TONGBAN_CELERY_QUEUE`` (default ``tongban``): the queue tasks are sent to and the worker consumes;
- ``TONGBAN_CELERY_MAX_ETA_SECONDS`` (default 600): a delayed task (``run_after``) is never held by a worker
  longer than this; a message that arrives early is sent on again ("hops") until it is due. This keeps
  messages clear of RabbitMQ's ``consumer_timeout`` (30 min) and Redis' ``visibility_timeout``, which
  would otherwise redeliver or drop long-delayed messages (timers are often days away). The hop is also capped
  at half the visibility timeout (``hop_seconds``), whatever this variable says;
- ``TONGBAN_CELERY_VISIBILITY_TIMEOUT`` (default 3600, Redis only): seconds after which Redis hands a message that
  was delivered but not acknowledged to another worker (``broker_transport_options["visibility_timeout"]``;
  ignored by RabbitMQ). With ``task_acks_late`` a task that runs longer than this runs twice.

Messages are JSON; ``task_acks_late`` (a message is acknowledged after the task ran, so a crashed worker's task
is delivered again): every task must tolerate running twice (the engine's timers and service tasks do).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from celery import Celery

TASK_NAME = "tongban.run_django_task"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"


def default_queue() -> str:
    return os.environ.get("TONGBAN_CELERY_QUEUE", "tongban")


def max_eta_seconds() -> int:
    return int(os.environ.get("TONGBAN_CELERY_MAX_ETA_SECONDS", "600"))


def default_visibility_timeout() -> int:
    return int(os.environ.get("TONGBAN_CELERY_VISIBILITY_TIMEOUT", "3600"))


def visibility_timeout(celery: Celery) -> float:
    """Redis' visibility timeout of ``celery`` (seconds): a message held unacknowledged longer is redelivered."""
    options = celery.conf.broker_transport_options or {}
    return float(options.get("visibility_timeout", default_visibility_timeout()))


def hop_seconds(celery: Celery) -> float:
    """The longest a worker holds a delayed message: ``TONGBAN_CELERY_MAX_ETA_SECONDS``, and never more than half
    the visibility timeout (the rest is margin for delivery and the hop itself)."""
    return min(float(max_eta_seconds()), visibility_timeout(celery) / 2)


def make_app(broker_url: str | None = None) -> Celery:
    celery = Celery("tongban")
    celery.conf.update(
        broker_url=broker_url or os.environ.get("TONGBAN_CELERY_BROKER_URL", DEFAULT_BROKER_URL),
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": default_visibility_timeout()},  # Redis; RabbitMQ ignores it
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,  # results are not kept (the backend's get_result is not supported)
        task_default_queue=default_queue(),
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        enable_utc=True,
        timezone="UTC",
    )
    celery.task(name=TASK_NAME, bind=True)(run_django_task)
    return celery


def send(celery: Celery, module_path: str, args: list[Any], kwargs: dict[str, Any], *, queue: str,
         run_after: datetime | None = None, task_id: str | None = None) -> str:
    """Publish one django task; a ``run_after`` further away than the hop limit is sent as a hop (see above)."""
    options: dict[str, Any] = {"queue": queue}
    if task_id is not None:
        options["task_id"] = task_id
    if run_after is not None:
        from django.utils import timezone

        options["eta"] = min(run_after, timezone.now() + timedelta(seconds=hop_seconds(celery)))
    result = celery.send_task(
        TASK_NAME, args=[module_path, list(args), dict(kwargs)],
        kwargs={"run_after": run_after.isoformat() if run_after is not None else None}, **options,
    )
    return str(result.id)


def run_django_task(self: Any, module_path: str, args: list[Any], kwargs: dict[str, Any],
                    run_after: str | None = None) -> Any:
    """Import the django task at ``module_path`` and call it (in the worker). Sent on again while not yet due."""
    from django.utils import timezone

    if run_after is not None:
        due = datetime.fromisoformat(run_after)
        if due > timezone.now():
            queue = self.request.delivery_info.get("routing_key") if self.request.delivery_info else None
            send(self.app, module_path, args, kwargs, queue=queue or default_queue(), run_after=due,
                 task_id=str(self.request.id))
            return None
    from tongban.workflow.celery_backend import execute

    return execute(module_path, args, kwargs, task_id=str(self.request.id), attempt=self.request.retries + 1)


def periodic_tasks() -> dict[str, tuple[str, float]]:
    """Django tasks that Celery beat enqueues: name -> (module path, interval in seconds). Needs Django set up."""
    from tongban.workflow.tasks import tick, tick_seconds

    return {"workflow.tick": (tick.module_path, float(tick_seconds()))}


def configure_beat(celery: Celery, queue: str | None = None) -> dict[str, Any]:
    """Put ``periodic_tasks()`` into the app's ``beat_schedule`` (sent to ``queue``); returns the schedule."""
    schedule = {
        name: {"task": TASK_NAME, "schedule": seconds, "args": (path, [], {}),
               "options": {"queue": queue or celery.conf.task_default_queue}}
        for name, (path, seconds) in periodic_tasks().items()
    }
    celery.conf.beat_schedule = schedule
    return schedule


app = make_app()
