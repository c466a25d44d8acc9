"""Settings of the notifications context (each in the README's configuration table).

- ``TONGBAN_NOTIFY_DEFAULT_CHANNELS`` (``sms``): channels besides 站内消息 of a person who chose none yet;
- ``TONGBAN_NOTIFY_MAX_ATTEMPTS`` (``5``) and ``TONGBAN_NOTIFY_RETRY_SECONDS`` (``60``): attempts per e-mail / SMS
  and the first back-off (doubling each time);
- ``TONGBAN_NOTIFY_SUPPLEMENT_DAYS`` (``3``) / ``TONGBAN_NOTIFY_POST_CHECK_DAYS`` (``7``): days before a supplement
  deadline / a post-check date the person is reminded;
- ``TONGBAN_SMS_PROVIDER`` (``file``): ``file`` (one JSON line per SMS in ``TONGBAN_SMS_FILE``), ``console`` (the
  server log) or the dotted path of a provider callable ``send(phone, text) -> receipt id``;
- ``TONGBAN_SMS_FILE`` (``TONGBAN_HOME/outbox/sms.jsonl``), ``TONGBAN_SMS_SIGNATURE`` (the platform's name);
- e-mail: Django's ``EMAIL_BACKEND`` and friends (``TONGBAN_EMAIL_*`` in settings.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def _int(name: str, default: int, minimum: int = 0) -> int:
    try:
        return max(minimum, int(_setting(name, str(default))))
    except ValueError:
        return default


def default_channels() -> list[str]:
    return [c.strip() for c in _setting("TONGBAN_NOTIFY_DEFAULT_CHANNELS", "sms").split(",") if c.strip()]


def max_attempts() -> int:
    return _int("TONGBAN_NOTIFY_MAX_ATTEMPTS", 5, minimum=1)


def retry_seconds() -> int:
    return _int("TONGBAN_NOTIFY_RETRY_SECONDS", 60, minimum=1)


def supplement_days() -> int:
    return _int("TONGBAN_NOTIFY_SUPPLEMENT_DAYS", 3)


def post_check_days() -> int:
    return _int("TONGBAN_NOTIFY_POST_CHECK_DAYS", 7)


def sms_provider() -> str:
    return _setting("TONGBAN_SMS_PROVIDER", "file")


def sms_file() -> Path:
    default = Path(getattr(settings, "TONGBAN_HOME", "var")) / "outbox" / "sms.jsonl"
    return Path(_setting("TONGBAN_SMS_FILE", str(default)))


def sms_signature() -> str:
    return _setting("TONGBAN_SMS_SIGNATURE", "通办")


def public_url() -> str:
    """The platform's public base URL, for links in e-mails and SMS."""
    return _setting("TONGBAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def email_from() -> str:
    return str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "noreply@localhost")
