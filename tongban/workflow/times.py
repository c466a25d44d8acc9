"""Time helpers of the engine: the local day of a step (cached while it lasts), ISO 8601 durations, the end of
a day, whole-number values (day limits, working days), stored suspensions and the clock of a task opened today."""

from __future__ import annotations

import calendar as _pycal
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.utils import timezone

from .bpmn import parse_duration
from .errors import WorkflowError

_TODAY: list[tuple[datetime, datetime, date, Any]] = []  # the local day of the last step: start, end, date, zone


def clear_day_cache() -> None:
    _TODAY.clear()


def local_date(now: datetime) -> date:
    """``timezone.localdate(now)``, without the time-zone conversion while ``now`` stays within the same local
    day as the previous call."""
    tz = timezone.get_current_timezone()
    day = _TODAY[0] if _TODAY else None
    if day is not None and day[3] is tz and day[0] <= now < day[1]:
        return day[2]
    today = timezone.localdate(now, tz)
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    _TODAY[:] = [(start, end_of_day(today), today, tz)]
    return today


def _add_months(dt: datetime, months: int) -> datetime:
    month0 = dt.month - 1 + months
    year = dt.year + month0 // 12
    month = month0 % 12 + 1
    day = min(dt.day, _pycal.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


def add_duration(start: datetime, text: str) -> datetime:
    parts = parse_duration(text)
    if parts is None:
        raise WorkflowError(f"invalid ISO 8601 duration {text!r}", code="workflow.invalid_timer")
    dt = start
    months = int(parts.get("y", 0)) * 12 + int(parts.get("mo", 0))
    if months:
        dt = _add_months(dt, months)
    return dt + timedelta(weeks=parts.get("w", 0), days=parts.get("d", 0), hours=parts.get("h", 0),
                          minutes=parts.get("mi", 0), seconds=parts.get("s", 0))


def end_of_day(d: date) -> datetime:
    """The instant a day is over: local midnight of the next day."""
    tz = timezone.get_current_timezone()
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def as_int(value: Any, what: str) -> int:
    """``value`` as a whole number of at least zero (``what`` names it in the error)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise WorkflowError(f"{what} must be a whole number, got {value!r}", code="workflow.invalid_value") from None
    if n < 0:
        raise WorkflowError(f"{what} must not be negative, got {n}", code="workflow.invalid_value")
    return n


def parse_suspensions(items: list[dict[str, Any]]) -> list[Any]:
    """Stored suspensions (``{"start", "end", "reason"}`` with ISO dates) as ``clock.Suspension`` values."""
    from .clock import Suspension

    out = []
    for s in items or []:
        out.append(Suspension(date.fromisoformat(s["start"]), date.fromisoformat(s["end"]) if s.get("end") else None,
                              s.get("reason", "")))
    return out


@lru_cache(maxsize=1024)
def fresh_clock(cal: Any, today: date, limit: int, share: float) -> tuple[date, str]:
    """Due date and light of a clock starting today (the same for every task opened today with this limit)."""
    from .clock import due_date, light_for

    return due_date(cal, today, limit), light_for(0, limit, share)
