"""Notification channels (通知渠道): a plug-in registry (the core registry class) of the ways a message reaches a
person. Built in: ``inbox`` (站内消息, 我的消息: always on, delivered when the message is written), ``email``
(Django's e-mail backend, ``EMAIL_BACKEND``) and ``sms`` (短信: a provider plug-in, :data:`SMS_PROVIDERS`; the
default ``file`` provider writes one JSON line per SMS, ``console`` logs it). A deployment adds a channel (e.g. a
government app's push) with ``CHANNELS.register("app", MyChannel())`` and an SMS gateway with
``SMS_PROVIDERS.register("gateway", send)`` plus ``TONGBAN_SMS_PROVIDER=gateway`` (or a dotted path)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.module_loading import import_string

from tongban.core.registry import Registry

from . import conf

log = logging.getLogger("tongban.notifications")


class Channel(Protocol):
    key: str
    label: str
    optional: bool  # False: always on (the in-site inbox)

    def address(self, user: Any) -> str:
        """Where this person is reached ('' when they left no address)."""

    def send(self, *, address: str, subject: str, body: str, sms: str, link: str) -> str:
        """Send one message; return a receipt id. Raise on failure (the delivery is retried)."""


CHANNELS: Registry[str, Channel] = Registry("通知渠道")
SmsProvider = Callable[[str, str], str]
SMS_PROVIDERS: Registry[str, SmsProvider] = Registry("短信服务商")


class InboxChannel:
    key, label, optional = "inbox", "站内消息", False

    def address(self, user: Any) -> str:
        return user.username

    def send(self, *, address: str, subject: str, body: str, sms: str, link: str) -> str:
        return ""  # the message row is the in-site message


class EmailChannel:
    key, label, optional = "email", "电子邮件", True

    def address(self, user: Any) -> str:
        return (user.email or "").strip()

    def send(self, *, address: str, subject: str, body: str, sms: str, link: str) -> str:
        text = body + (f"\n\n查看详情：{conf.public_url()}{link}" if link else "")
        text += "\n\n（本邮件由系统自动发送，请勿直接回复。）"
        EmailMessage(subject=subject, body=text, from_email=conf.email_from(), to=[address]).send(fail_silently=False)
        return ""


class SmsChannel:
    key, label, optional = "sms", "手机短信", True

    def address(self, user: Any) -> str:
        return (user.phone or "").strip()

    def send(self, *, address: str, subject: str, body: str, sms: str, link: str) -> str:
        return provider()(address, f"【{conf.sms_signature()}】{sms or subject}")


_FILE_LOCK = threading.Lock()


def file_provider(phone: str, text: str) -> str:
    """Write the SMS as one JSON line to ``TONGBAN_SMS_FILE`` (development, demos, tests)."""
    receipt = uuid.uuid4().hex
    path = conf.sms_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"id": receipt, "to": phone, "text": text, "at": timezone.now().isoformat()},
                      ensure_ascii=False)
    with _FILE_LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return receipt


def console_provider(phone: str, text: str) -> str:
    """Log the SMS (the server log) instead of sending it."""
    receipt = uuid.uuid4().hex
    log.warning("SMS to %s: %s", phone, text)
    return receipt


def provider() -> SmsProvider:
    name = conf.sms_provider()
    found = SMS_PROVIDERS.find(name)
    if found is not None:
        return found
    try:
        return import_string(name)
    except ImportError as exc:
        raise RuntimeError(f"短信服务商 {name!r} 未注册（TONGBAN_SMS_PROVIDER）") from exc


def register_builtin() -> None:
    for channel in (InboxChannel(), EmailChannel(), SmsChannel()):
        if channel.key not in CHANNELS:
            CHANNELS.register(channel.key, channel)
    SMS_PROVIDERS.register("file", file_provider)
    SMS_PROVIDERS.register("console", console_provider)


def optional_channels() -> list[Channel]:
    return [c for c in CHANNELS.values() if c.optional]
