"""Settings of the enforcement context, read with defaults (``settings.py`` or the environment may set them).

- ``TONGBAN_ENFORCEMENT_MAJOR_FINE`` (yuan, default 50000): a fine above it makes a decision major (重大执法决定),
  so it needs 法制审核 first.
- ``TONGBAN_ENFORCEMENT_MAJOR_CRITERIA`` (default ``fine,revocation,suspension,hearing``): which criteria make a
  decision major: a fine above the amount, licence revocation (吊销许可证件), business suspension (责令停产停业 /
  责令关闭 / 限制开展生产经营活动), a hearing held (经过听证).
- ``TONGBAN_ENFORCEMENT_HEARING_FINE`` (yuan, default 10000): 较大数额罚款: from this amount the party may request a
  hearing (《行政处罚法》第六十三条).
- ``TONGBAN_ENFORCEMENT_DECISION_DAYS`` (default 90): days from 立案 to the decision (《行政处罚法》第六十条).
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CRITERIA = ("fine", "revocation", "suspension", "hearing")


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def _amount(name: str, default: str) -> Decimal:
    raw = _setting(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be an amount in yuan, not {raw!r}") from None
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative")
    return value


def major_fine() -> Decimal:
    return _amount("TONGBAN_ENFORCEMENT_MAJOR_FINE", "50000")


def hearing_fine() -> Decimal:
    return _amount("TONGBAN_ENFORCEMENT_HEARING_FINE", "10000")


def major_criteria() -> set[str]:
    raw = _setting("TONGBAN_ENFORCEMENT_MAJOR_CRITERIA", ",".join(CRITERIA))
    names = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = names - set(CRITERIA)
    if unknown:
        raise ImproperlyConfigured(f"TONGBAN_ENFORCEMENT_MAJOR_CRITERIA: unknown {sorted(unknown)}; "
                                   f"use {', '.join(CRITERIA)}")
    return names


def decision_days() -> int:
    raw = _setting("TONGBAN_ENFORCEMENT_DECISION_DAYS", "90")
    if not raw.isdigit() or int(raw) <= 0:
        raise ImproperlyConfigured(f"TONGBAN_ENFORCEMENT_DECISION_DAYS must be a positive number, not {raw!r}")
    return int(raw)
