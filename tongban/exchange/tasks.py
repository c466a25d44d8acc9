"""Background tasks of the data exchange (Django's tasks framework, ``django_tasks`` backport)."""

from __future__ import annotations

from django_tasks import task


@task()
def sign_tree_head_task() -> int:
    """Periodic signed tree head, enqueued every ``TONGBAN_EXCHANGE_STH_EVERY`` appends: signs when
    the log grew since the newest head."""
    from .accesslog import latest_tree_head

    return latest_tree_head(max_age_seconds=0).tree_size


@task()
def expire_grants_task() -> int:
    """Mark grants past their expiry as expired."""
    from .services import expire_grants

    return expire_grants()
