"""帮办预约 (assisted service): a person asks a service centre for help at a window or by phone; the centre's
window clerks see the request on their workbench (/window/assistance/) and mark it handled."""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone

from tongban.catalog import selectors as catalog_selectors
from tongban.core.masking import mask_phone
from tongban.core.models import User
from tongban.core.services import audit

from ..errors import ApplicationError
from ..models import AssistanceRequest
from ..selectors import assistance_centres, centres_of_clerk

# A mobile number (11 digits starting with 1) or a fixed line with its area code (0xx-xxxxxxx, hyphen optional).
PHONE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}")


@transaction.atomic
def request_assistance(*, name: str, phone: str, service: str, centre_code: str,
                       channel: str = AssistanceRequest.Channel.WINDOW, preferred_date: dt.date | None = None,
                       preferred_period: str = AssistanceRequest.Period.ANY, note: str = "",
                       item_code: str = "", user: User | None = None) -> AssistanceRequest:
    """Record a request for assisted service (anyone may ask, signed in or not)."""
    name, phone, service, note = name.strip(), re.sub(r"\s", "", phone), service.strip(), note.strip()
    if not name:
        raise ApplicationError("请填写您的姓名", code="assistance.name_required")
    if not PHONE.fullmatch(phone):
        raise ApplicationError("联系电话格式不正确：请填写 11 位手机号码或带区号的固定电话",
                               code="assistance.invalid_phone")
    item = catalog_selectors.get_item(item_code) if item_code else None
    if not service and item is not None:
        service = item.name
    if not service:
        raise ApplicationError("请写明您要办的事", code="assistance.service_required")
    centre = assistance_centres().filter(code=centre_code).first()
    if centre is None:
        raise ApplicationError("请选择政务服务中心", code="assistance.centre_required")
    if channel not in AssistanceRequest.Channel.values:
        raise ApplicationError("请选择帮办方式", code="assistance.invalid_channel")
    if preferred_period not in AssistanceRequest.Period.values:
        raise ApplicationError("请选择希望的时段", code="assistance.invalid_period")
    if preferred_date is not None and preferred_date < timezone.localdate():
        raise ApplicationError("希望日期不能早于今天", code="assistance.past_date")
    request = AssistanceRequest.objects.create(
        name=name[:50], phone=phone, service=service[:200], item=item, channel=channel, centre=centre,
        preferred_date=preferred_date, preferred_period=preferred_period, note=note[:300],
        requested_by=user if user is not None and user.is_authenticated else None)
    audit("assistance.request", actor=request.requested_by, obj=request,
          detail={"centre": centre.code, "channel": channel, "phone": mask_phone(phone)})
    return request


@transaction.atomic
def mark_assistance_handled(request: AssistanceRequest, clerk: User, note: str = "") -> AssistanceRequest:
    """A window clerk of the request's centre records that the person was helped (or could not be reached)."""
    locked = AssistanceRequest.objects.select_for_update().get(pk=request.pk)
    if not centres_of_clerk(clerk).filter(pk=locked.centre_id).exists():
        raise ApplicationError("该帮办预约不属于您所在的服务中心", code="assistance.not_your_centre", status=403)
    if locked.handled_at is not None:
        raise ApplicationError("该帮办预约已办理", code="assistance.already_handled", status=409)
    locked.handled_at, locked.handled_by, locked.handled_note = timezone.now(), clerk, note.strip()[:300]
    locked.save(update_fields=["handled_at", "handled_by", "handled_note"])
    audit("assistance.handled", actor=clerk, obj=locked, detail={"centre": locked.centre.code})
    return locked
