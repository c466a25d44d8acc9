"""Background delivery of e-mail and SMS (Django's tasks framework, the ``django_tasks`` backport): one task per
delivery; a failed attempt is retried later with a doubling back-off until ``TONGBAN_NOTIFY_MAX_ATTEMPTS``."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_task(delivery_id: int) -> str:
    from .services import deliver

    return deliver(delivery_id)
