"""Settings of the feedback context, read with defaults (settings.py may override any of them).

- ``TONGBAN_RATING_WINDOW_DAYS`` (default 30): days after a service during which the person may rate it.
- ``TONGBAN_HOTLINE_RECEIPT_HOURS`` (default 2): hours a department has to receive (签收) a dispatched work order.
- ``TONGBAN_HOTLINE_DAYS`` (default ``consult=1,help=3,complaint=5,report=10,suggestion=10``): working days to
  answer a work order, per type (``TYPE=DAYS``) and, for urgent ones, per type (``TYPE:urgent=DAYS``).
- ``TONGBAN_HOTLINE_URGENT_DAYS`` (default 1): working days to answer an urgent work order of a type that
  ``TONGBAN_HOTLINE_DAYS`` gives no ``TYPE:urgent`` entry.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_DAYS = {"consult": 1, "help": 3, "complaint": 5, "report": 10, "suggestion": 10}
#: The 好差评 rule: a bad rating is rectified at once or within at most this many working days.
MAX_RECTIFY_DAYS = 15


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = _setting(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def rating_window_days() -> int:
    return _int("TONGBAN_RATING_WINDOW_DAYS", 30, minimum=1)


def receipt_hours() -> int:
    return _int("TONGBAN_HOTLINE_RECEIPT_HOURS", 2, minimum=1)


def urgent_days() -> int:
    return _int("TONGBAN_HOTLINE_URGENT_DAYS", 1, minimum=1)


def _hotline_days() -> tuple[dict[str, int], dict[str, int]]:
    """(normal, urgent) working days per type: the defaults, overridden by ``TONGBAN_HOTLINE_DAYS`` entries
    ``TYPE=DAYS`` (normal urgency) and ``TYPE:urgent=DAYS``; urgent ones default to ``TONGBAN_HOTLINE_URGENT_DAYS``."""
    raw = _setting("TONGBAN_HOTLINE_DAYS", "")
    normal = dict(DEFAULT_DAYS)
    urgent = dict.fromkeys(DEFAULT_DAYS, urgent_days())
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.partition("=")
        type_, _colon, urgency = key.strip().partition(":")
        if not sep or type_ not in DEFAULT_DAYS or urgency not in ("", "urgent") or not value.strip().isdigit() \
                or int(value) < 1:
            raise ImproperlyConfigured(
                f"TONGBAN_HOTLINE_DAYS: '{part}' is not TYPE=DAYS or TYPE:urgent=DAYS with TYPE one of "
                f"{', '.join(DEFAULT_DAYS)}")
        (urgent if urgency else normal)[type_] = int(value)
    return normal, urgent


def handling_days() -> dict[str, int]:
    """Working days to answer a work order of normal urgency, per type."""
    return _hotline_days()[0]


def deadline_days(type_: str, urgency: str) -> int:
    """Working days to answer a work order of this type and urgency."""
    normal, urgent = _hotline_days()
    return (urgent if urgency == "urgent" else normal)[type_]


def model_path() -> Path:
    """Where ``tongban hotline train`` keeps the trained classifier."""
    return Path(settings.TONGBAN_HOME) / "feedback" / "hotline-classifier.joblib"
