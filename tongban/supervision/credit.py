"""Credit grading (信用分级分类): pure functions from an entity's credit events to a score, a grade and reasons.

The rule (docs/supervision.md):

- every entity starts at ``BASE`` (85) points;
- each credit event that is not repaired adds its points times a decay factor ``0.5 ** (age_days / HALF_LIFE)``
  (a record counts half after ``HALF_LIFE`` days, a quarter after twice that, ...);
- a good record over time: ``+GOOD_YEAR_BONUS`` per full year since the later of the entity's establishment and
  its last unrepaired negative event, at most ``GOOD_RECORD_CAP``;
- grade A from 90 points, B from 75, C from 60, D below 60; a serious violation (严重违法失信) that is less
  than ``SERIOUS_DAYS`` days old and not repaired is grade D whatever the score.

A single recent failed commitment (-30) takes a new entity from 85 to 55: grade D, so it cannot use the
commitment route again until the record decays below the threshold or is repaired (信用修复).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

BASE = 85.0
HALF_LIFE = 365.0
GOOD_YEAR_BONUS = 5.0
GOOD_RECORD_CAP = 15.0
SERIOUS_DAYS = 3 * 365
THRESHOLDS = (("A", 90.0), ("B", 75.0), ("C", 60.0))

#: default points per event kind (a department may record other points for a particular event)
POINTS: dict[str, float] = {
    "commitment_breach": -30.0,
    "penalty": -20.0,
    "serious_penalty": -45.0,
    "complaint_upheld": -10.0,
    "supplement_overdue": -5.0,
    "inspection_failed": -15.0,
    "inspection_passed": 2.0,
    "post_check_passed": 2.0,
    "commendation": 5.0,
}

KIND_NAMES: dict[str, str] = {
    "commitment_breach": "告知承诺不实", "penalty": "行政处罚", "serious_penalty": "严重违法失信",
    "complaint_upheld": "投诉查实", "supplement_overdue": "容缺材料逾期未补", "inspection_failed": "抽查发现问题",
    "inspection_passed": "抽查未发现问题", "post_check_passed": "事后核查通过", "commendation": "表彰奖励",
}


@dataclass(frozen=True)
class Event:
    kind: str
    points: float
    occurred_on: date
    description: str = ""


@dataclass(frozen=True)
class Grading:
    grade: str
    score: float
    reasons: list[str]


def decay(age_days: int) -> float:
    return float(0.5 ** (max(age_days, 0) / HALF_LIFE))


def grade_for(score: float) -> str:
    for grade, minimum in THRESHOLDS:
        if score >= minimum:
            return grade
    return "D"


def grade(events: Iterable[Event], today: date, established_on: date | None = None) -> Grading:
    """The grade of one entity from its unrepaired events (the repaired ones are left out by the caller)."""
    score = BASE
    reasons: list[str] = []
    last_negative: date | None = None
    serious: Event | None = None
    for ev in sorted(events, key=lambda e: e.occurred_on):
        age = (today - ev.occurred_on).days
        counted = ev.points * decay(age)
        score += counted
        if ev.points < 0:
            last_negative = max(last_negative or ev.occurred_on, ev.occurred_on)
            if ev.kind == "serious_penalty" and age < SERIOUS_DAYS:
                serious = ev
        name = KIND_NAMES.get(ev.kind, ev.kind)
        reasons.append(f"{ev.occurred_on:%Y-%m-%d} {name}：{ev.description or name}"
                       f"（{ev.points:+g} 分，按时间衰减计 {counted:+.1f} 分）")
    since = max(d for d in (last_negative, established_on) if d is not None) if (last_negative or established_on) \
        else None
    if since is not None:
        years = (today - since).days // 365
        bonus = min(years * GOOD_YEAR_BONUS, GOOD_RECORD_CAP)
        if bonus > 0:
            score += bonus
            reasons.append(f"良好记录：连续 {years} 年无失信记录（+{bonus:g} 分）")
    score = round(score, 2)
    result = grade_for(score)
    if serious is not None and result != "D":
        result = "D"
        reasons.append(f"{serious.occurred_on:%Y-%m-%d} 严重违法失信未满 {SERIOUS_DAYS // 365} 年，直接评为 D 级")
    reasons.insert(0, f"信用分 {score:g}（基准 {BASE:g} 分；A ≥ 90，B ≥ 75，C ≥ 60，D < 60）：{result} 级")
    return Grading(result, score, reasons)
