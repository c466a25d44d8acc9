"""The statutory clock (法定时限 / 承诺时限): elapsed working days, due dates and warning lights.

Pure functions over a working-day calendar (``tongban.core.calendar.WorkingCalendar`` or anything with the same
``add_working_days`` / ``working_days_between`` methods); no database access of their own.

Counting rule: the start day does not count (期间开始之日不计算在期间内). A working day ``d`` counts when
``start < d <= on`` and ``d`` lies in no suspension ``[s.start, s.end]`` (both ends inclusive; ``end=None`` means
still suspended). Suspensions are the 中止 periods and the catalogue's 特殊环节 (补正材料, 专家评审, 听证, 公示).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

GREEN = "green"
YELLOW = "yellow"
RED = "red"


class Calendar(Protocol):
    def add_working_days(self, start: date, n: int) -> date: ...

    def working_days_between(self, start: date, end: date) -> int: ...


@dataclass(frozen=True)
class Suspension:
    """中止/特殊环节: working days inside it (inclusive) do not count."""

    start: date
    end: date | None  # None = still suspended
    reason: str = ""

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"suspension ends ({self.end}) before it starts ({self.start})")

    def covers(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)


@dataclass(frozen=True)
class ClockStatus:
    limit_days: int
    elapsed: int  # working days counted so far (suspended days excluded)
    remaining: int  # limit - elapsed (negative when overdue)
    due: date  # due date, extended by suspended working days
    light: str  # "green" | "yellow" | "red"
    suspended: bool


def _merged(suspensions: Sequence[Suspension], open_until: date | None) -> list[tuple[date, date]]:
    """Suspensions as sorted, disjoint, inclusive intervals. Open ones end at ``open_until`` (or their own start
    when it is None or earlier)."""
    spans: list[tuple[date, date]] = []
    for s in suspensions:
        end = s.end
        if end is None:
            end = max(s.start, open_until) if open_until is not None else s.start
        spans.append((s.start, end))
    spans.sort()
    merged: list[tuple[date, date]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + timedelta(days=1):
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def elapsed_working_days(cal: Calendar, start: date, on: date, suspensions: Sequence[Suspension] = ()) -> int:
    """Working days counted in (start, on], suspended working days excluded; 0 when ``on <= start``."""
    if on <= start:
        return 0
    total = cal.working_days_between(start, on)
    for a, b in _merged(suspensions, on):
        lo = max(a - timedelta(days=1), start)  # exclusive lower bound
        hi = min(b, on)
        if hi > lo:
            total -= cal.working_days_between(lo, hi)
    return total


def receipt_day(cal: Calendar, start: date) -> date:
    """``start`` when it is a working day, else the next working day (a case received on a weekend or holiday is
    deemed received on the next working day)."""
    if cal.working_days_between(start - timedelta(days=1), start) == 1:
        return start
    return cal.add_working_days(start, 1)


def due_date(
    cal: Calendar,
    start: date,
    limit_days: int,
    suspensions: Sequence[Suspension] = (),
    *,
    on: date | None = None,
) -> date:
    """The working day on which the ``limit_days``-th counted day falls (with a limit of 0, 即办: the day of
    receipt, ``receipt_day``).

    Known suspensions push it out by their working days. An open suspension (end None) is taken as ending ``on``
    (its start day when ``on`` is not given): the due date moves on for every day it stays open.
    """
    if limit_days < 0:
        raise ValueError(f"limit_days must be >= 0, got {limit_days}")
    remaining = limit_days
    cursor = start  # counting resumes after this day
    if remaining == 0:
        return receipt_day(cal, start)
    for a, b in _merged(suspensions, on):
        if b <= cursor:
            continue
        lo = max(a - timedelta(days=1), cursor)
        available = cal.working_days_between(cursor, lo)  # counted days before the suspension begins
        if remaining <= available:
            return cal.add_working_days(cursor, remaining)
        remaining -= available
        cursor = b
    return cal.add_working_days(cursor, remaining)


def light_for(elapsed: int, limit_days: int, yellow_share: float = 0.8) -> str:
    """red when ``elapsed > limit`` (overdue), yellow from ``ceil(yellow_share * limit)``, else green."""
    if elapsed > limit_days:
        return RED
    # round() first so that e.g. 0.7 * 10 == 7.000000000000001 does not become 8
    threshold = math.ceil(round(yellow_share * limit_days, 9))
    return YELLOW if elapsed >= threshold else GREEN


def clock_status(
    cal: Calendar,
    start: date,
    limit_days: int,
    on: date,
    suspensions: Sequence[Suspension] = (),
    yellow_share: float = 0.8,
) -> ClockStatus:
    """The clock of one task or case as of day ``on``."""
    if limit_days < 0:
        raise ValueError(f"limit_days must be >= 0, got {limit_days}")
    if not 0 <= yellow_share <= 1:
        raise ValueError(f"yellow_share must be between 0 and 1, got {yellow_share}")
    # 即办 (limit 0) received on a non-working day counts from the working day it is deemed received on
    counted_from = receipt_day(cal, start) if limit_days == 0 else start
    elapsed = elapsed_working_days(cal, counted_from, on, suspensions)
    return ClockStatus(
        limit_days=limit_days,
        elapsed=elapsed,
        remaining=limit_days - elapsed,
        due=due_date(cal, start, limit_days, suspensions, on=on),
        light=light_for(elapsed, limit_days, yellow_share),
        suspended=any(s.covers(on) for s in suspensions),
    )
