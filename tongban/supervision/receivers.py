"""Reactions to platform events (``tongban.core.events``), connected in ``SupervisionConfig.ready()``.

- ``decision_made`` (an approval result) → a background task (the outbox: the task row is written in the sender's
  transaction, so the result is never lost and the approval never waits for supervision) creates the 审管联动
  record for the supervising department;
- ``commitment_approved`` (告知承诺制) → the post-check, owned by supervision;
- the commitment gate (凭信用审批): grade D may not choose the commitment route.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def _enqueue(task: Any, payload: dict[str, Any]) -> None:
    from django_tasks_db.backend import DatabaseBackend

    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(payload)  # the task row is written in the sender's transaction: a transactional outbox
    else:
        transaction.on_commit(lambda: task.enqueue(payload), robust=True)


def _plain(value: Any) -> Any:
    """The JSON-safe copy of a payload (dates as ISO strings)."""
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def on_decision_made(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("outcome") != "approved":
        return
    from .tasks import record_result_task

    _enqueue(record_result_task, _plain({k: v for k, v in kwargs.items() if k != "signal"}))


def on_commitment_approved(sender: Any, **kwargs: Any) -> None:
    from .services import open_post_checks

    open_post_checks(_plain({k: v for k, v in kwargs.items() if k != "signal"}))


def commitment_refusal(subject_id_number: str) -> str | None:
    from .services import commitment_refusal as refusal

    return refusal(subject_id_number)


def credit_grade(subject_id_number: str) -> str | None:
    """The entity's credit grade (A–D) for rules (秒批 inputs ``fact.credit_grade``), None when not registered."""
    from .selectors import find_entity

    entity = find_entity(subject_id_number)
    return entity.grade if entity is not None else None
