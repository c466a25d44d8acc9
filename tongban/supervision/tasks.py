"""Background tasks of supervision (Django's tasks framework, ``django_tasks`` backport)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def record_result_task(payload: dict[str, Any]) -> int | None:
    """审管联动: turn one approval result into the supervising department's record (idempotent)."""
    from .services import record_result

    record = record_result(payload)
    return record.pk if record is not None else None


@task()
def recompute_credit_task() -> dict[str, int]:
    from .services import recompute_credit

    return recompute_credit()
