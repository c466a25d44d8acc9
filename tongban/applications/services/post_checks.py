"""告知承诺制 after approval: supervision owns the post-check (事后核查); when it fails, supervision sends
``core.events.post_check_failed`` and :func:`revoke_after_failed_post_check` (connected in ``apps.py``) revokes the
approval here. Credentials revokes the licences on the same event; the credit record is supervision's."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tongban.core.models import User
from tongban.core.services import audit

from ..models import Application, ApplicationItem
from .common import log


@transaction.atomic
def revoke_after_failed_post_check(sender: Any, *, application_ref: str = "", reason: str = "",
                                   checked_by: int | None = None, **kwargs: Any) -> Application | None:
    app = Application.objects.select_for_update().filter(ref=application_ref).first()
    if app is None or app.status == Application.Status.REVOKED:
        return None
    actor = User.objects.filter(pk=checked_by).first() if checked_by else None
    app.items.update(status=ApplicationItem.Status.REVOKED)
    app.status = Application.Status.REVOKED
    app.save(update_fields=["status"])
    audit("application.revoke", actor=actor, obj=app, reason=reason, detail={"cause": "post_check_failed"})
    log(app, "revoked", f"事后核查不通过，撤销审批决定（已记入信用记录）：{reason}", actor)
    return app
