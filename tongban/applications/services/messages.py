"""What the applicant is told (我的消息, and e-mail / SMS as they chose) at each step of their case: accepted,
one-time notice, refusal, supplement falling due, the result. The wording is the notifications context's
(``tongban.notifications.messages``); here the facts of the case are put into it. Written in the caller's
transaction: a rolled-back step tells nobody."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tongban.notifications import services as notifications
from tongban.notifications.messages import ACCEPTED, DECIDED, ONE_TIME_NOTICE, REFUSED, SUPPLEMENT_DUE

from ..models import Application, ApplicationItem, Supplement


def _day(value: dt.date | dt.datetime) -> str:
    """A local date as people write it: 2026年12月7日."""
    from django.utils import timezone

    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def _tell(app: Application, event: str, context: dict[str, Any], *, dedupe_key: str = "") -> None:
    if app.applicant_id is None:
        return  # applied at a window without an account: the paper notice is what they get
    # the applicant's row when the caller has it (the applicant submitting), else read by id
    recipient = app.applicant if Application.applicant.is_cached(app) else app.applicant_id
    notifications.notify(recipient, event, {"title": app.title, "ref": app.ref, "name": app.applicant_name,
                                                   **context},
                         link=f"/my/applications/{app.ref}/", ref=app.ref, dedupe_key=dedupe_key)


def accepted(app: Application, owed: list[str], deadline: dt.date | None) -> None:
    owed_text = (f"\n\n以下材料实行容缺受理，请在 {_day(deadline)} 前补齐：{'、'.join(owed)}。补齐之前，审批结果暂不发放。"
                 if owed and deadline else "")
    _tell(app, ACCEPTED, {"accepted_on": _day(app.accepted_at or app.created_at),
                          "promised_days": app.promised_limit_days or "—", "owed": owed_text})


def one_time_notice(app: Application, missing: list[str], note: str = "") -> None:
    _tell(app, ONE_TIME_NOTICE, {"missing": "\n".join(f"{n}. {m}" for n, m in enumerate(missing, 1)),
                                 "missing_short": "、".join(missing), "note": f"补充说明：{note}" if note else ""})


def refused(app: Application, reason: str) -> None:
    _tell(app, REFUSED, {"reason": reason})


def decided(app: Application, items: list[ApplicationItem]) -> None:
    lines = [f"· {ai.item.name}（{ai.department.name}）：{ai.get_status_display()}"
             + (f"，{ai.opinion}" if ai.opinion else "") for ai in items]
    _tell(app, DECIDED, {"results": "\n".join(lines), "results_short": app.get_status_display()})


def supplement_due(sup: Supplement, today: dt.date, material_names: list[str]) -> bool:
    """Remind the applicant once when a supplement deadline is near (``TONGBAN_NOTIFY_SUPPLEMENT_DAYS``)."""
    from tongban.notifications import conf

    days = (sup.deadline - today).days
    if days > conf.supplement_days():
        return False
    app = sup.application
    if app.applicant_id is None:
        return False
    before = notifications.notify(app.applicant_id, SUPPLEMENT_DUE, {
        "title": app.title, "ref": app.ref, "name": app.applicant_name, "deadline": _day(sup.deadline),
        "days": max(days, 0), "materials": "、".join(material_names)},
        link=f"/my/applications/{app.ref}/supplement/", ref=app.ref,
        dedupe_key=f"supplement-due:{sup.pk}:{sup.deadline.isoformat()}")
    return before is not None
