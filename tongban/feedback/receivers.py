"""Reactions to other contexts' events: a decided case item, a one-time notice or a refusal at the window invites
the person to rate the service (好差评)."""

from __future__ import annotations

import logging
from typing import Any

from tongban.catalog import selectors as catalog
from tongban.core.models import Organisation, User

from . import services
from .models import ServiceRecord

log = logging.getLogger(__name__)


def on_decision_made(sender: Any, *, application_ref: str = "", item_code: str = "", outcome: str = "",
                     holder: dict[str, Any] | None = None, organisation_code: str = "", window_code: str = "",
                     served_by: int | None = None, **kwargs: Any) -> ServiceRecord | None:
    """One service record per decided item of a case: the person may rate it within the rating window."""
    department = Organisation.objects.filter(code=organisation_code).first()
    if not application_ref or department is None:
        log.warning("feedback: no service record for %s/%s (department %r unknown)", application_ref, item_code,
                    organisation_code)
        return None
    holder = holder or {}
    item = catalog.get_item(item_code, published_only=False) if item_code else None
    person = User.objects.filter(pk=holder.get("user_id")).first() if holder.get("user_id") else None
    return services.record_service(
        ref=f"{application_ref}:{item_code}", kind=ServiceRecord.Kind.CASE if outcome == "approved"
        else ServiceRecord.Kind.REFUSAL, application_ref=application_ref, item_code=item_code,
        item_name=item.name if item else item_code, department=department,
        window=Organisation.objects.filter(code=window_code).first() if window_code else None,
        staff=User.objects.filter(pk=served_by).first() if served_by else None, person=person,
        person_name=str(holder.get("name", "")), person_id_number=str(holder.get("id_number") or ""),
        outcome=outcome)


def on_window_service(sender: Any, *, application_ref: str = "", kind: str = "", notice_code: str = "",
                      item_code: str = "", department_code: str = "", window_code: str = "",
                      served_by: int | None = None, holder: dict[str, Any] | None = None,
                      **kwargs: Any) -> ServiceRecord | None:
    """One service record per one-time notice or refusal at a window: the person may rate it."""
    department = Organisation.objects.filter(code=department_code).first()
    if not application_ref or department is None or kind not in ("notice", "refusal"):
        log.warning("feedback: no service record for %s %s (department %r unknown)", application_ref, kind,
                    department_code)
        return None
    holder = holder or {}
    item = catalog.get_item(item_code, published_only=False) if item_code else None
    person = User.objects.filter(pk=holder.get("user_id")).first() if holder.get("user_id") else None
    return services.record_service(
        ref=f"{application_ref}:{kind}:{notice_code}",
        kind=ServiceRecord.Kind.NOTICE if kind == "notice" else ServiceRecord.Kind.REFUSAL,
        application_ref=application_ref, item_code=item_code, item_name=item.name if item else item_code,
        department=department, window=Organisation.objects.filter(code=window_code).first() if window_code else None,
        staff=User.objects.filter(pk=served_by).first() if served_by else None, person=person,
        person_name=str(holder.get("name", "")), person_id_number=str(holder.get("id_number") or ""),
        outcome=kind)
