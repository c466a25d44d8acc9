"""Compute the indicators of one month (and optionally one organisation, division or item), grouped or not.

One SQL query per fact (all its measures as aggregates of one scan) on the platform's own database — SQLite
or PostgreSQL — then each indicator's formula over the measures in Python. The fact queries come from the
declarative file (:mod:`.definitions`); nothing about an indicator is written here.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tongban.core.calendar import WorkingCalendar
from tongban.core.models import Division, Organisation

from ..errors import BadPeriod, InsightError, NotFound
from . import formula as formulas
from . import sql as sqlgen
from .definitions import Definitions, Indicator, current

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
GROUPS = ("org", "division", "item")
ANCHOR = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar month in local time: [start, end)."""

    text: str
    first_day: date
    next_day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), zoneinfo.ZoneInfo(settings.TIME_ZONE))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.next_day, datetime.min.time(), zoneinfo.ZoneInfo(settings.TIME_ZONE))

    def previous(self, n: int = 1) -> Period:
        y, m = self.first_day.year, self.first_day.month - n
        while m < 1:
            y, m = y - 1, m + 12
        return parse_period(f"{y:04d}-{m:02d}")


def parse_period(text: str) -> Period:
    """``YYYY-MM`` → the month; anything else is refused with a clear message."""
    m = _PERIOD.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise BadPeriod(f"统计期“{text}”格式不对：应为 YYYY-MM（例如 2026-05），年份 2000–2100，月份 01–12",
                        detail={"field": "period"})
    y, mo = int(m.group(1)), int(m.group(2))
    nxt = date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return Period(f"{y:04d}-{mo:02d}", date(y, mo, 1), nxt)


def current_period() -> Period:
    today = timezone.localdate()
    return parse_period(f"{today.year:04d}-{today.month:02d}")


@dataclass(frozen=True)
class Figure:
    """One indicator's value for one slice (``group`` is the org/division/item code when grouped).

    ``tolerated``: for a penalty indicator (one with a ``tolerated`` condition), how many records of the slice it
    left out because their accountability lead got an accepted 容错 determination; ``None`` for the others."""

    indicator: Indicator
    value: float | None
    measures: dict[str, float | int | None]
    group: str = ""
    tolerated: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The public shape: ``{"id", "dimension", "value", "unit"}``."""
        return {"id": self.indicator.id, "dimension": self.indicator.dimension, "value": self.value,
                "unit": self.indicator.unit}


# --- the working-day numbers ------------------------------------------------------------------------------------

def ensure_workdays(first: date, last: date) -> int:
    """Make :class:`WorkdayNumber` hold every day in [first, last] with its working-day number (from 2000-01-01,
    national calendar + global local overrides); returns how many rows were written (0 when up to date)."""
    from ..models import WorkdayNumber

    cal = WorkingCalendar.load()
    base = cal.working_days_between(ANCHOR, first - timedelta(days=1)) if first > ANCHOR else 0
    want: dict[str, tuple[int, bool]] = {}
    d, seq = first, base
    while d <= last:
        work = cal.is_workday(d)
        seq += work
        want[d.isoformat()] = (seq, work)
        d += timedelta(days=1)
    have = {day: (s, w) for day, s, w in WorkdayNumber.objects.filter(
        day__gte=first.isoformat(), day__lte=last.isoformat()).values_list("day", "seq", "is_workday")}
    if have == want:
        return 0
    stale = [day for day, v in want.items() if have.get(day) != v]
    with transaction.atomic():
        WorkdayNumber.objects.filter(day__in=[day for day in stale if day in have]).delete()
        WorkdayNumber.objects.bulk_create([WorkdayNumber(day=day, seq=want[day][0], is_workday=want[day][1])
                                           for day in stale], batch_size=1000)
    return len(stale)


def workday_range(period: Period) -> tuple[date, date]:
    """The days a month's figures may touch: cases decided this month may have started years before."""
    today = timezone.localdate()
    return date(period.first_day.year - 3, 1, 1), date(max(period.first_day.year, today.year) + 1, 12, 31)


# --- queries ----------------------------------------------------------------------------------------------------

def _agg(measure_agg: str, expr: str) -> str:
    if measure_agg == "count":
        return "COUNT(*)"
    if measure_agg == "count_distinct":
        return f"COUNT(DISTINCT {expr})"
    return f"{measure_agg.upper()}({expr})"


def _params(defs: Definitions) -> dict[str, object]:
    return {**defs.parameters, "today": timezone.localdate().isoformat()}


def _where(fact_time: str, period: Period | None, filters: dict[str, str]) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if fact_time != "none" and period is not None:
        if fact_time == "date":
            args += [period.first_day.isoformat(), period.next_day.isoformat()]
        else:
            args += [connection.ops.adapt_datetimefield_value(period.start),
                     connection.ops.adapt_datetimefield_value(period.end)]
        clauses.append("f.t >= %s AND f.t < %s")
    for col, value in filters.items():
        if value:
            clauses.append(f"f.{col} = %s")
            args.append(value)
    return clauses, args


def fact_query(defs: Definitions, fact_name: str, measure_names: Sequence[str], period: Period | None,
               filters: dict[str, str], group_by: str | None = None,
               counts: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """One aggregate query over one fact: ``SELECT [group,] agg AS measure, ..., [count of rows matching each of
    ``counts``] FROM (fact) f WHERE ...``."""
    fact = defs.facts[fact_name]
    params = _params(defs)
    cols = [f"{_agg(defs.measures[m].agg, sqlgen.expand(defs.measures[m].expr, connection.vendor, params))} AS {m}"
            for m in measure_names]
    cols += [f"SUM(CASE WHEN ({sqlgen.expand(cond, connection.vendor, params)}) THEN 1 ELSE 0 END) AS tol_{n}"
             for n, cond in enumerate(counts)]
    clauses, args = _where(fact.time, period, filters)
    head = f"f.{group_by} AS grp, " if group_by else ""
    query = (f"SELECT {head}{', '.join(cols)} FROM ({sqlgen.expand(fact.sql, connection.vendor, params)}) f"
             + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
             + (f" GROUP BY f.{group_by}" if group_by else ""))
    return query, args


def _check_filters(org: str, division: str) -> None:
    if org and not Organisation.objects.filter(code=org).exists():
        raise NotFound(f"机构代码“{org}”不存在", detail={"field": "org"})
    if division and not Division.objects.filter(code=division).exists():
        raise NotFound(f"区划代码“{division}”不存在", detail={"field": "division"})


def _select(defs: Definitions, ids: Iterable[str] | None) -> list[Indicator]:
    if ids is None:
        return list(defs.indicators)
    chosen = []
    for iid in ids:
        ind = defs.indicator(iid)
        if ind is None:
            raise NotFound(f"指标“{iid}”不存在", detail={"field": "indicator"})
        chosen.append(ind)
    return chosen


def compute(period: Period | str, *, org: str = "", division: str = "", item: str = "",
            group_by: str | None = None, indicators: Iterable[str] | None = None,
            definitions: Definitions | None = None) -> list[Figure]:
    """Every (or the chosen) indicator for the month and filters; with ``group_by`` one figure per indicator and
    org/division/item code found in the data (in the file's indicator order, then by code)."""
    period = parse_period(period) if isinstance(period, str) else period
    if group_by is not None and group_by not in GROUPS:
        raise InsightError(f"分组须为 {'、'.join(GROUPS)}", detail={"field": "group_by"})
    _check_filters(org, division)
    defs = definitions or current()
    chosen = _select(defs, indicators)
    ensure_workdays(*workday_range(period))
    by_fact: dict[str, list[str]] = {}
    tol_by_fact: dict[str, list[str]] = {}  # fact → the 容错 conditions of its penalty indicators
    for ind in chosen:
        for m in ind.measures:
            names = by_fact.setdefault(defs.measures[m].fact, [])
            if m not in names:
                names.append(m)
        if ind.tolerated:
            conds = tol_by_fact.setdefault(ind.fact, [])
            if ind.tolerated not in conds:
                conds.append(ind.tolerated)
    for fact_name in tol_by_fact:
        by_fact.setdefault(fact_name, [])
    filters = {"org": org, "division": division, "item": item}
    values: dict[str, dict[str, float | int | None]] = {}  # group → measure → value
    excluded: dict[str, dict[tuple[str, str], int]] = {}  # group → (fact, condition) → records left out
    with connection.cursor() as cursor:
        for fact_name, names in by_fact.items():
            conds = tol_by_fact.get(fact_name, [])
            query, args = fact_query(defs, fact_name, names, period, filters, group_by, conds)
            cursor.execute(query, args)
            for row in cursor.fetchall():
                grp = str(row[0] or "") if group_by else ""
                vals = row[1:] if group_by else row
                target = values.setdefault(grp, {})
                for name, v in zip(names, vals[:len(names)], strict=True):
                    target[name] = None if v is None else (float(v) if not isinstance(v, int) else v)
                for cond, v in zip(conds, vals[len(names):], strict=True):
                    excluded.setdefault(grp, {})[(fact_name, cond)] = int(v or 0)
    if not group_by:
        values.setdefault("", {})
    figures: list[Figure] = []
    for grp in sorted(values):
        for ind in chosen:
            got = {m: values[grp].get(m) for m in ind.measures}
            # an aggregate over no rows: counts are 0, sums are null → treat as 0 so that 0/0 gives null
            got = {m: (0 if v is None else v) for m, v in got.items()}
            value = formulas.evaluate(ind.formula, got)
            tol = excluded.get(grp, {}).get((ind.fact, ind.tolerated), 0) if ind.tolerated else None
            figures.append(Figure(ind, None if value is None else round(value, 2), got, grp, tol))
    if group_by:
        order = {ind.id: n for n, ind in enumerate(chosen)}
        figures.sort(key=lambda f: (order[f.indicator.id], f.group))
    return figures


def figures_json(period: Period | str, *, org: str = "") -> list[dict[str, Any]]:
    """The interface of the CLI and the API: ``[{"id", "dimension", "value", "unit"}, ...]``."""
    return [f.as_dict() for f in compute(period, org=org)]


def drill(indicator_id: str, period: Period | str, *, org: str = "", division: str = "", item: str = "",
          limit: int = 200, definitions: Definitions | None = None, tolerated: bool = False) -> list[dict[str, Any]]:
    """The records behind a figure (staff only): the indicator's fact rows in the slice that match its ``drill``
    condition (the late cases, the bad ratings, ...), newest first, at most ``limit``.

    With ``tolerated``: instead the records the (penalty) indicator left out by 容错纠错 (its ``tolerated``
    condition), each with ``lead``, the id of the accountability lead whose accepted determination excluded it."""
    period = parse_period(period) if isinstance(period, str) else period
    _check_filters(org, division)
    defs = definitions or current()
    ind = _select(defs, [indicator_id])[0]
    fact = defs.facts[ind.fact]
    params = _params(defs)
    clauses, args = _where(fact.time, period, {"org": org, "division": division, "item": item})
    if tolerated:
        if not ind.tolerated:
            raise InsightError(f"指标“{ind.name}”不涉及容错剔除", detail={"field": "tolerated"})
        clauses.append(f"({sqlgen.expand(ind.tolerated, connection.vendor, params)})")
    elif ind.drill:
        clauses.append(f"({sqlgen.expand(ind.drill, connection.vendor, params)})")
    time_col = "f.t" if fact.time != "none" else "NULL"
    lead_col = "f.tolerated_lead" if tolerated else "NULL"
    query = (f"SELECT f.ref, f.org, f.division, f.item, {time_col}, {lead_col} FROM "
             f"({sqlgen.expand(fact.sql, connection.vendor, params)}) f"
             + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
             + f" ORDER BY {time_col} DESC, f.ref LIMIT %s")
    ensure_workdays(*workday_range(period))
    with connection.cursor() as cursor:
        cursor.execute(query, [*args, int(limit)])
        rows = cursor.fetchall()
    out = []
    for ref, org_code, div_code, item_code, t, lead in rows:
        out.append({"ref": ref or "", "org": org_code or "", "division": div_code or "", "item": item_code or "",
                    "at": _as_datetime(t, fact.time), "lead": None if lead is None else int(lead)})
    return out


def _as_datetime(value: Any, kind: str) -> datetime | date | None:
    if value is None or kind == "none":
        return None
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, zoneinfo.ZoneInfo("UTC"))
    parsed = datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, zoneinfo.ZoneInfo("UTC"))
