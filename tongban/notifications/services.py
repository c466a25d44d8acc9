"""Telling people what happened (消息通知): :func:`notify` writes the in-site message (我的消息, always) and queues
its e-mail / SMS deliveries on the channels the person chose; :func:`deliver` (the background worker) sends one
delivery, retrying with back-off; every message and every attempt is logged (``Message`` / ``Delivery``).

Contexts call ``notify`` from their services for their own events (applications: accepted, one-time notice,
refusal, supplement due, decision; feedback: rating invitation; supervision: post-check due; security: incident
notices) and ``receivers`` turn ``core.events`` into messages (``credential_issued``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core.models import User

from . import channels, conf, messages
from .errors import NotificationError
from .models import Delivery, Message, Preference

log = logging.getLogger("tongban.notifications")


def _enqueue(delivery_id: int, run_after: Any = None) -> None:
    """Queue one delivery. With the database task backend the task row is written in the caller's transaction (a
    transactional outbox: no message is lost, none is sent for a rolled-back fact); other backends get it after
    the commit."""
    from django_tasks_db.backend import DatabaseBackend

    from .tasks import deliver_task

    task = deliver_task.using(run_after=run_after) if run_after is not None else deliver_task
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(delivery_id)
    else:
        transaction.on_commit(lambda: task.enqueue(delivery_id), robust=True)


def notify(user: User | int | None, event: str, context: dict[str, Any] | None = None, *, link: str = "",
           ref: str = "", dedupe_key: str = "") -> Message | None:
    """Tell ``user`` about ``event`` (a key of ``messages.TEMPLATES``) with the template's ``context``.

    Writes the message (the in-site inbox) and one delivery per channel: ``inbox`` sent at once; each optional
    channel the person chose is queued for the background worker, or logged as skipped when the person left no
    address. A ``dedupe_key`` already used makes this a no-op (returns None), so reminders can be re-run. No user
    (an applicant without an account): nothing to do, None."""
    if user is None:
        return None
    if isinstance(user, int):
        found = User.objects.filter(pk=user).first()
        if found is None:
            return None
        user = found
    template = messages.TEMPLATES.find(event)
    if template is None:
        raise NotificationError(f"未知的消息事件 {event}", code="notifications.unknown_event")
    if dedupe_key and Message.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    ctx = {"name": user.display_name or user.get_full_name() or user.username, **(context or {})}
    subject, body, sms = messages.render(template, ctx)
    try:
        with transaction.atomic():
            message = Message.objects.create(recipient=user, event=event, subject=subject, body=body, short_text=sms[:300],
                                             link=link,
                                             ref=ref[:80], dedupe_key=dedupe_key or None)
    except IntegrityError:
        return None  # the same dedupe key written concurrently: told once
    now = timezone.now()
    rows = [Delivery(message=message, channel="inbox", address=user.username, status=Delivery.Status.SENT,
                     attempts=1, sent_at=now)]
    chosen = set(_chosen(user))
    for channel in channels.optional_channels():
        if channel.key not in chosen:
            continue
        address = channel.address(user)
        if address:
            rows.append(Delivery(message=message, channel=channel.key, address=address))
        else:
            rows.append(Delivery(message=message, channel=channel.key, status=Delivery.Status.SKIPPED,
                                 last_error=f"未留{channel.label}地址"))
    Delivery.objects.bulk_create(rows)  # sets the primary keys (PostgreSQL, SQLite ≥ 3.35)
    for row in rows:
        if row.status == Delivery.Status.PENDING:
            _enqueue(row.pk)
    return message


def _chosen(user: User) -> list[str]:
    from .selectors import chosen_channels

    return chosen_channels(user)


def deliver(delivery_id: int) -> str:
    """Send one queued delivery (the background worker). A failure is logged on the row and retried after
    ``TONGBAN_NOTIFY_RETRY_SECONDS`` × 2^(attempt−1) until ``TONGBAN_NOTIFY_MAX_ATTEMPTS``, then marked failed.
    Returns the row's status."""
    with transaction.atomic():
        row = (Delivery.objects.select_for_update().select_related("message").filter(pk=delivery_id).first())
        if row is None or row.status != Delivery.Status.PENDING:
            return row.status if row is not None else "missing"
        row.attempts += 1
        channel = channels.CHANNELS.find(row.channel)
        message = row.message
        try:
            if channel is None:
                raise RuntimeError(f"渠道 {row.channel} 未注册")
            row.provider_id = (channel.send(address=row.address, subject=message.subject, body=message.body,
                                            sms=message.short_text, link=message.link) or "")[:120]
        except Exception as exc:  # noqa: BLE001 - any failure of a provider is logged and retried
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= conf.max_attempts():
                row.status = Delivery.Status.FAILED
                row.next_attempt_at = None
                log.warning("notification %s on %s failed for good: %s", message.pk, row.channel, row.last_error)
            else:
                row.next_attempt_at = timezone.now() + timedelta(
                    seconds=conf.retry_seconds() * 2 ** (row.attempts - 1))
                _enqueue(row.pk, run_after=row.next_attempt_at)
        else:
            row.status, row.sent_at, row.next_attempt_at, row.last_error = (
                Delivery.Status.SENT, timezone.now(), None, "")
        row.save(update_fields=["attempts", "status", "sent_at", "next_attempt_at", "last_error", "provider_id"])
        return row.status


@transaction.atomic
def mark_read(user: User, message: Message) -> Message:
    if message.recipient_id != user.pk:
        raise NotificationError("不是您的消息", code="notifications.not_found", status=404)
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
    return message


def mark_all_read(user: User) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def set_channels(user: User, chosen: list[str], *, email: str | None = None, phone: str | None = None
                 ) -> Preference:
    """The person's choice of channels besides 站内消息 (always on), and optionally their e-mail and mobile number
    (stored on their account; the number encrypted at rest). Unknown channels are refused."""
    known = {c.key for c in channels.optional_channels()}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise NotificationError("未知的接收渠道：" + "、".join(unknown), detail={"channels": unknown})
    fields = []
    if email is not None:
        email = email.strip()
        if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
            raise NotificationError("电子邮箱格式不正确", detail={"field": "email"})
        user.email, fields = email, [*fields, "email"]
    if phone is not None:
        phone = phone.strip().replace(" ", "").replace("-", "")
        if phone and not (phone.lstrip("+").isdigit() and 5 <= len(phone) <= 20):
            raise NotificationError("手机号码格式不正确", detail={"field": "phone"})
        user.phone, fields = phone, [*fields, "phone"]
    if fields:
        user.save(update_fields=fields)
    pref, _ = Preference.objects.update_or_create(user=user, defaults={"channels": sorted(set(chosen))})
    return pref
