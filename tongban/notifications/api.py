"""JSON API of a person's messages (我的消息) and channel choices, mounted under ``/api/notifications/``.

Authentication: ``Authorization: Bearer <token>`` (``POST /api/auth/token``) or the browser session (with CSRF for
writes). Any signed-in user, for their own messages only: another person's message answers 404
``notifications.not_found``. Errors are ``{"code", "message", "detail"?}``: 401 ``auth.required``, 404
``notifications.not_found``, 400 ``notifications.invalid`` (unknown channel, malformed e-mail or phone number), 422
``request.invalid`` (malformed body or parameters).
"""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from tongban.core.auth import API_AUTH, AuthedRequest
from tongban.core.openapi import ErrorOut

from . import channels, selectors, services
from .errors import NotFound
from .messages import TEMPLATES
from .models import Message

router = Router(tags=["notifications 消息通知"], auth=API_AUTH)
ROUTERS = [("notifications/", router)]


class DeliveryOut(Schema):
    channel: str
    channel_label: str
    status: str
    status_label: str
    attempts: int
    sent_at: datetime | None


class MessageOut(Schema):
    id: int
    event: str
    event_label: str
    subject: str
    body: str
    link: str
    ref: str
    created_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryOut]


class MessageListOut(Schema):
    unread: int
    messages: list[MessageOut]


class PreferencesOut(Schema):
    channels: list[str]  # chosen optional channels; 站内消息 (inbox) is always on
    available: dict[str, str]  # channel key -> label
    email: str
    phone: str


class PreferencesIn(Schema):
    channels: list[str]
    email: str | None = None
    phone: str | None = None


def _message(m: Message) -> dict:
    labels = {c.key: c.label for c in channels.CHANNELS.values()}
    template = TEMPLATES.find(m.event)
    return {"id": m.pk, "event": m.event, "event_label": template.label if template else m.event,
            "subject": m.subject, "body": m.body, "link": m.link, "ref": m.ref, "created_at": m.created_at,
            "read_at": m.read_at,
            "deliveries": [{"channel": d.channel, "channel_label": labels.get(d.channel, d.channel),
                            "status": d.status, "status_label": d.get_status_display(), "attempts": d.attempts,
                            "sent_at": d.sent_at} for d in m.deliveries.all()]}


def _preferences(user) -> dict:  # type: ignore[no-untyped-def]
    return {"channels": selectors.chosen_channels(user),
            "available": {c.key: c.label for c in channels.optional_channels()},
            "email": user.email or "", "phone": user.phone or ""}


@router.get("messages", response={200: MessageListOut, 401: ErrorOut, 422: ErrorOut}, summary="我的消息（仅本人）")
def list_messages(request: AuthedRequest, unread: bool = False):
    rows = selectors.messages_for(request.user, unread_only=unread).prefetch_related("deliveries")[:200]
    return 200, {"unread": selectors.unread_count(request.user), "messages": [_message(m) for m in rows]}


@router.post("messages/{message_id}/read", response={200: MessageOut, 401: ErrorOut, 404: ErrorOut},
             summary="标记一条消息为已读")
def read_message(request: AuthedRequest, message_id: int):
    message = selectors.message_for(request.user, message_id)
    if message is None:
        raise NotFound("消息不存在")
    services.mark_read(request.user, message)
    return 200, _message(message)


@router.get("preferences", response={200: PreferencesOut, 401: ErrorOut}, summary="我的消息接收设置")
def get_preferences(request: AuthedRequest):
    return 200, _preferences(request.user)


@router.post("preferences", response={200: PreferencesOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
            summary="设置接收渠道（站内消息始终开启）和手机号、电子邮箱")
def put_preferences(request: AuthedRequest, payload: PreferencesIn):
    services.set_channels(request.user, payload.channels, email=payload.email, phone=payload.phone)
    return 200, _preferences(request.user)
