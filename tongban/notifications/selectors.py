"""Reads of the notifications context: a person's messages and channel choices, the delivery log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from . import conf
from .models import Delivery, Message, Preference


def messages_for(user: Any, *, unread_only: bool = False) -> QuerySet[Message]:
    qs = Message.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def message_for(user: Any, message_id: int) -> Message | None:
    """One of the person's own messages (None for anyone else's: it is hidden, not forbidden)."""
    return Message.objects.filter(recipient=user, pk=message_id).prefetch_related("deliveries").first()


def unread_count(user: Any) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).count()


def chosen_channels(user: Any) -> list[str]:
    """The optional channels the person chose (the deployment's defaults until they choose)."""
    pref = Preference.objects.filter(user=user).values_list("channels", flat=True).first()
    return list(pref) if pref is not None else conf.default_channels()


def deliveries(*, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    qs = Delivery.objects.select_related("message", "message__recipient")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-id")


def already_told(dedupe_keys: list[str]) -> set[str]:
    """Which of these dedupe keys a message was already written for (one query; reminder jobs skip them)."""
    if not dedupe_keys:
        return set()
    return set(Message.objects.filter(dedupe_key__in=dedupe_keys).values_list("dedupe_key", flat=True))
