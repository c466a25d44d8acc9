"""Settings of the feedback context, read with defaults (settings.py may override any of them).

- ``TONGBAN_RATING_WINDOW_DAYS`` (default 30): days after a service during which the person may rate it.
- ``TONGBAN_HOTLINE_RECEIPT_HOURS`` (default 2): hours a department has to receive (签收) a dispatched work order.
- ``TONGBAN_HOTLINE_DAYS`` (default ``consult=1,help=3,complaint=5,report=10,suggestion=10``): working days to
  answer a work order, per type.
- ``TONGBAN_HOTLINE_URGENT_DAYS`` (default 1): working days to answer an urgent work order of any type.
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


def handling_days() -> dict[str, int]:
    """Working days to answer, per work-order type (the defaults, overridden by ``TONGBAN_HOTLINE_DAYS``)."""
    raw = _setting("TONGBAN_HOTLINE_DAYS", "")
    days = dict(DEFAULT_DAYS)
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in DEFAULT_DAYS or not value.strip().isdigit() or int(value) < 1:
            raise ImproperlyConfigured(
                f"TONGBAN_HOTLINE_DAYS: '{part}' is not TYPE=DAYS with TYPE one of {', '.join(DEFAULT_DAYS)}")
        days[key] = int(value)
    return days


def model_path() -> Path:
    """Where ``tongban hotline train`` keeps the trained classifier."""
    return Path(settings.TONGBAN_HOME) / "feedback" / "hotline-classifier.joblib"
