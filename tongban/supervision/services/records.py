"""审管联动: approval results → supervision records for the supervising department."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.catalog.models import ServiceItem
from tongban.core.models import Organisation, User
from tongban.core.services import audit

from .. import selectors, uscc
from ..errors import Conflict, Forbidden
from ..models import SupervisionRecord
from .register import _entity_for_subject

# --- 审管联动: approval results → supervision records ----------------------------------------------------------

def supervising_department(item_code: str, fallback_org: str = "") -> tuple[Organisation | None, str, str, str]:
    """``(department, follow-up, item name, handling kind)`` of an item, from the catalogue."""
    item = ServiceItem.objects.select_related("supervising_department", "competent_department").filter(
        code=item_code).first()
    if item is None:
        return Organisation.objects.filter(code=fallback_org).first(), "纳入日常监管", item_code, ""
    dept = item.supervising_department or item.competent_department
    return dept, item.post_approval_check or "纳入双随机抽查", item.name, item.handling_kind


def record_result(payload: dict[str, Any]) -> SupervisionRecord | None:
    """One approval result → one supervision record for the supervising department (idempotent: the same result
    delivered twice gives one record). Rejections create none."""
    if payload.get("outcome") != "approved":
        return None
    ref, item_code = str(payload.get("application_ref") or ""), str(payload.get("item_code") or "")
    department, follow_up, item_name, handling = supervising_department(item_code,
                                                                       str(payload.get("organisation_code") or ""))
    if not ref or department is None:
        return None
    holder = payload.get("holder") or {}
    data = (payload.get("result") or {}).get("data") or {}
    code = str(holder.get("id_number") or "")
    if not uscc.is_valid(uscc.normalise(code)) and isinstance(data, dict):
        code = str(data.get("credit_code") or code)
    name = str((data.get("name") if isinstance(data, dict) else "") or holder.get("name") or "")
    kind = (SupervisionRecord.Kind.COMMITMENT if payload.get("by_commitment")
            else SupervisionRecord.Kind.CHANGE if handling in ("change", "renew")
            else SupervisionRecord.Kind.CANCELLATION if handling == "cancel" else SupervisionRecord.Kind.APPROVAL)
    with transaction.atomic():
        existing = SupervisionRecord.objects.filter(application_ref=ref, item_code=item_code,
                                                    department=department).first()
        if existing is not None:
            return existing
        entity = _entity_for_subject(code, name, department)
        if entity is not None:
            licences = [lic for lic in entity.licences if lic.get("item_code") != item_code]
            licences.append({"item_code": item_code, "item_name": item_name, "application_ref": ref,
                             "on": timezone.localdate().isoformat(),
                             "status": "cancelled" if kind == SupervisionRecord.Kind.CANCELLATION else "valid"})
            entity.licences = licences
            entity.save(update_fields=["licences"])
        record = SupervisionRecord.objects.create(
            application_ref=ref, item_code=item_code, item_name=item_name, kind=kind, entity=entity,
            subject_name=name or code, subject_id_number=uscc.normalise(code), department=department,
            approving_department=str(payload.get("organisation_code") or ""), follow_up=follow_up,
            receipt_due=selectors.due_after(selectors.RECEIPT_WORKING_DAYS))
    return record


@transaction.atomic
def receive_record(record: SupervisionRecord, user: User) -> SupervisionRecord:
    """认领: the supervising department takes the result into its supervision."""
    record = SupervisionRecord.objects.select_for_update().get(pk=record.pk)
    if not selectors.can_supervise(user, record.department_id):
        raise Forbidden("只有监管部门的监管执法人员可以认领")
    if record.status == SupervisionRecord.Status.RECEIVED:
        raise Conflict("该记录已认领", code="supervision.already_received")
    record.status, record.received_at, record.received_by = (SupervisionRecord.Status.RECEIVED, timezone.now(),
                                                             user)
    record.save(update_fields=["status", "received_at", "received_by"])
    audit("supervision.receive", actor=user, obj=record)
    return record

