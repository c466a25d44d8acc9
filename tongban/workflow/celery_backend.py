"""A django-tasks backend that runs tasks on Celery (RabbitMQ or Redis) — Celery 后端.

Select it with ``TONGBAN_TASKS_BACKEND=tongban.workflow.celery_backend.CeleryBackend`` and run
``tongban worker --celery``. ``enqueue`` publishes one message for the generic Celery task
``tongban.run_django_task(module_path, args, kwargs)``; the worker imports the django task by its module path and
calls it. The Celery app is taken lazily from the project module ``tongban.celery_app`` (bounded contexts do not
import project modules; ``OPTIONS["APP_MODULE"]`` may name another module with ``app`` and ``send``).

What is supported, honestly:

- ``supports_defer``: ``run_after`` becomes the message ``eta`` (capped, see ``tongban.celery_app``: long delays
  hop until due); a task never runs before its ``run_after``;
- sync tasks only, default priority only, ``takes_context`` (the context's ``attempt`` is always 1);
- delivery is at least once (``task_acks_late``): a task may run twice after a worker crash or redelivery;
- ``get_result`` is not supported (no result backend): the returned ``TaskResult`` carries the Celery task id
  and stays ``READY``; results and errors are in the worker log and in the engine's own tables;
- periodic work comes from Celery beat (``has_beat``): the workflow ``tick`` does not re-enqueue itself on this
  backend, so worker restarts never pile up tick chains in the broker (see ``tongban.workflow.tasks``);
- ``OPTIONS``: ``QUEUE`` (Celery queue for django-tasks' ``default`` queue; default ``TONGBAN_CELERY_QUEUE``),
  other django-tasks queue names map to Celery queues of the same name.
"""

from __future__ import annotations

import importlib
import uuid
from typing import Any, TypeVar

from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import DEFAULT_TASK_QUEUE_NAME
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks.utils import get_exception_traceback, get_module_path, get_random_id, normalize_json
from typing_extensions import ParamSpec

T = TypeVar("T")
P = ParamSpec("P")

WORKER_ID = get_random_id()


class CeleryBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = False
    supports_get_result = False
    supports_priority = False
    has_beat = True
    """Periodic tasks are enqueued by Celery beat (``tongban worker --celery`` runs it), not by self-rescheduling."""

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self._module: Any = None

    @property
    def celery_module(self) -> Any:
        """The module holding ``app`` (the Celery app) and ``send`` (imported on first use)."""
        if self._module is None:
            self._module = importlib.import_module(self.options.get("APP_MODULE", "tongban.celery_app"))
        return self._module

    @property
    def celery_app(self) -> Any:
        return self.celery_module.app

    def default_celery_queue(self) -> str:
        """The Celery queue of django-tasks' ``default`` queue (what ``tongban worker --celery`` consumes)."""
        return str(self.options.get("QUEUE") or self.celery_app.conf.task_default_queue)

    def celery_queue(self, task: Task) -> str:
        if task.queue_name != DEFAULT_TASK_QUEUE_NAME:
            return task.queue_name
        return self.default_celery_queue()

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type:ignore[valid-type]
        kwargs: P.kwargs,  # type:ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        args = normalize_json(list(args))  # fail here, not in the worker, on what JSON cannot carry
        kwargs = normalize_json(dict(kwargs))
        task_id = self.celery_module.send(self.celery_app, task.module_path, args, kwargs, queue=self.celery_queue(task),
                       run_after=task.run_after, task_id=str(uuid.uuid4()))
        result: TaskResult[T] = TaskResult(
            task=task, id=task_id, status=TaskResultStatus.READY, enqueued_at=timezone.now(), started_at=None,
            last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs, backend=self.alias, errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result


def execute(module_path: str, args: list[Any], kwargs: dict[str, Any], *, task_id: str, attempt: int = 1) -> Any:
    """Run the django task at ``module_path`` (in the Celery worker), sending django-tasks' started/finished
    signals. Returns the JSON-normalised return value; re-raises the task's exception after recording it."""
    task = import_string(module_path)
    if not isinstance(task, Task):
        raise TypeError(f"{module_path} is not a django task")
    now = timezone.now()
    result: TaskResult = TaskResult(
        task=task, id=task_id, status=TaskResultStatus.RUNNING, enqueued_at=None, started_at=now,
        last_attempted_at=now, finished_at=None, args=args, kwargs=kwargs, backend=task.backend, errors=[],
        worker_ids=[WORKER_ID] * max(attempt, 1),
    )
    task_started.send(CeleryBackend, task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        value = normalize_json(value)
    except Exception as exc:
        object.__setattr__(result, "finished_at", timezone.now())
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        result.errors.append(TaskError(exception_class_path=get_module_path(type(exc)),
                                       traceback=get_exception_traceback(exc)))
        task_finished.send(CeleryBackend, task_result=result)
        raise
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "_return_value", value)
    task_finished.send(CeleryBackend, task_result=result)
    return value
