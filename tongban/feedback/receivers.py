"""Reactions to other contexts' events: a decided case item invites its applicant to rate it (好差评)."""

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
