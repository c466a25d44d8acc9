"""The working-day calendar (工作日历) behind every statutory clock (法定时限).

National data comes from ``chinese_calendar`` (public holidays 法定节假日 and make-up workdays 调休上班, known for
2004–2026). Local overrides (地方调整) are ``core.models.CalendarDay`` rows: global ones (no division) and ones of a
division or any of its ancestors; for one date the most specific row wins (own division > parent > ... > global).
Outside the package's years weekends are rest days and every weekday is a working day, unless an override says
otherwise.

A calendar object precomputes, per year and lazily, the sorted ordinals of its working days; counting and adding
working days are then bisections plus a walk over whole years, so computing thousands of due dates is cheap.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import chinese_calendar
from chinese_calendar import constants as _cc

if TYPE_CHECKING:
    from .models import Division

NATIONAL_FIRST_YEAR: int = min(_cc.holidays).year
NATIONAL_LAST_YEAR: int = max(_cc.holidays).year


def national_covers(year: int) -> bool:
    """Whether ``chinese_calendar`` has the national holiday notice (国务院办公厅节假日安排) for ``year``."""
    return NATIONAL_FIRST_YEAR <= year <= NATIONAL_LAST_YEAR


def national_is_workday(d: date) -> bool:
    """The national rule for one day: holidays and make-up workdays where known, else Monday–Friday."""
    if national_covers(d.year):
        return bool(chinese_calendar.is_workday(d))
    return d.weekday() < 5


@lru_cache(maxsize=512)
def _national_year(year: int) -> tuple[int, ...]:
    """Sorted ordinals of the national working days of ``year`` (shared by every calendar object)."""
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    if national_covers(year):
        holidays = _cc.holidays
        workdays = _cc.workdays
        out = []
        for o in range(first, last + 1):
            d = date.fromordinal(o)
            if d in workdays or (d.weekday() < 5 and d not in holidays):
                out.append(o)
        return tuple(out)
    # date.fromordinal(o).weekday() == (o + 6) % 7
    return tuple(o for o in range(first, last + 1) if (o + 6) % 7 < 5)


class WorkingCalendar:
    """National calendar (chinese_calendar, which knows 2004–2026) + local overrides (core.models.CalendarDay,
    global or per division and its ancestors). Outside the package's years: weekends are rest days unless an
    override says otherwise; `covers(year)` tells whether a year has holiday data."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        division: Division | None = None,
        notes: Mapping[date, str] | None = None,
    ) -> None:
        self.division = division
        self.override_notes: dict[date, str] = dict(notes or {})
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._override_years: dict[int, dict[int, bool]] = {}
        for d, workday in self._overrides.items():
            self._override_years.setdefault(d.year, {})[d.toordinal()] = bool(workday)
        self._years: dict[int, tuple[int, ...]] = {}

    # -- construction ---------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, division: Division | None = None) -> WorkingCalendar:
        """Read the overrides that apply to ``division`` (global rows when None) once; the object keeps them."""
        from django.db.models import Q

        from .models import CalendarDay

        chain = division_chain(division)  # most specific first
        rank = {pk: i for i, pk in enumerate(chain)}
        rows = CalendarDay.objects.filter(Q(division__isnull=True) | Q(division_id__in=chain))
        best: dict[date, tuple[int, bool, str]] = {}
        lowest = len(chain)  # global rows rank below every division
        for day, workday, note, division_id in rows.values_list("date", "is_workday", "note", "division_id"):
            r = lowest if division_id is None else rank[division_id]
            if day not in best or r < best[day][0]:
                best[day] = (r, workday, note)
        return cls(
            {d: w for d, (_, w, _n) in best.items()},
            division=division,
            notes={d: n for d, (_, _w, n) in best.items()},
        )

    # -- queries ----------------------------------------------------------------------------------------------------

    @property
    def overrides(self) -> Mapping[date, bool]:
        """The effective local overrides (date → is working day)."""
        return dict(self._overrides)

    def _year(self, year: int) -> tuple[int, ...]:
        days = self._years.get(year)
        if days is None:
            base = _national_year(year)
            changes = self._override_years.get(year)
            if changes:
                merged = set(base)
                for o, workday in changes.items():
                    if workday:
                        merged.add(o)
                    else:
                        merged.discard(o)
                days = tuple(sorted(merged))
            else:
                days = base
            self._years[year] = days
        return days

    def is_workday(self, d: date) -> bool:
        override = self._overrides.get(d)
        if override is not None:
            return override
        return national_is_workday(d)

    def is_overridden(self, d: date) -> bool:
        """Whether a local override decides ``d``."""
        return d in self._overrides

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after ``start`` (``start`` itself is not counted; n=0 gives ``start``)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        if n > 366 * (date.max.year - start.year + 1):
            raise OverflowError("the result lies beyond year 9999")
        year = start.year
        days = self._year(year)
        i = bisect_right(days, start.toordinal())
        left = len(days) - i
        if n <= left:
            return date.fromordinal(days[i + n - 1])
        n -= left
        while True:
            year += 1
            if year > date.max.year:
                raise OverflowError("the result lies beyond year 9999")
            days = self._year(year)
            if n <= len(days):
                return date.fromordinal(days[n - 1])
            n -= len(days)

    def working_days_between(self, start: date, end: date) -> int:
        """Count of working days in (start, end]; 0 when ``end <= start``."""
        if end <= start:
            return 0
        first = self._year(start.year)
        if start.year == end.year:
            return bisect_right(first, end.toordinal()) - bisect_right(first, start.toordinal())
        count = len(first) - bisect_right(first, start.toordinal())
        for year in range(start.year + 1, end.year):
            count += len(self._year(year))
        return count + bisect_right(self._year(end.year), end.toordinal())

    def working_days_in(self, year: int) -> list[date]:
        """Every working day of ``year``, in order."""
        return [date.fromordinal(o) for o in self._year(year)]

    def covers(self, year: int) -> bool:
        """Whether ``year`` has holiday data: the national notice, or local overrides in that year."""
        return national_covers(year) or year in self._override_years

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """The years between ``start`` and ``end`` (either order, inclusive) without holiday data."""
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if not self.covers(y)]

    def __repr__(self) -> str:
        where = self.division.code if self.division is not None else "national"
        return f"<WorkingCalendar {where} overrides={len(self._overrides)}>"


def division_chain(division: Division | None) -> list[int]:
    """Primary keys of ``division`` and its ancestors, most specific first (empty for None)."""
    chain: list[int] = []
    while division is not None and division.pk not in chain:
        chain.append(division.pk)
        division = division.parent
    return chain


def default_calendar() -> WorkingCalendar:
    """The calendar with national data and global overrides only: ``WorkingCalendar.load(None)``."""
    return WorkingCalendar.load(None)


def from_overrides(overrides: Iterable[tuple[date, bool]] = ()) -> WorkingCalendar:
    """A calendar built from explicit overrides without reading the database (tests, previews)."""
    return WorkingCalendar(dict(overrides))


# -- describing days ---------------------------------------------------------------------------------------------

WEEKDAY_NAMES = ("一", "二", "三", "四", "五", "六", "日")


def national_holiday_name(d: date) -> str:
    """The Chinese name of the national holiday that ``d`` is, or is a make-up workday for (e.g. 国庆节); ''."""
    if not national_covers(d.year):
        return ""
    english = _cc.holidays.get(d) or _cc.workdays.get(d)
    if not english:
        return ""
    try:
        return str(_cc.Holiday(english).chinese)
    except ValueError:
        return str(english)


@dataclass(frozen=True)
class SpecialDay:
    """A day whose status differs from the plain rule (Monday–Friday work, weekend rest)."""

    date: date
    is_workday: bool
    source: str  # "national" | "local"
    note: str


def special_days(cal: WorkingCalendar, year: int) -> list[SpecialDay]:
    """The non-standard days of ``year``: national holidays on weekdays, make-up workdays, local changes."""
    out: list[SpecialDay] = []
    workdays = set(cal._year(year))
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    for o in range(first, last + 1):
        d = date.fromordinal(o)
        workday = o in workdays
        plain = d.weekday() < 5
        if cal.is_overridden(d):
            if workday != national_is_workday(d) or workday != plain:
                out.append(SpecialDay(d, workday, "local", cal.override_notes.get(d, "")))
        elif workday != plain:
            name = national_holiday_name(d)
            note = f"{name}调休上班" if workday else name
            out.append(SpecialDay(d, workday, "national", note))
    return out


# -- local calendars (地方工作日历) from CSV ---------------------------------------------------------------------------

CSV_COLUMNS = ("date", "is_workday", "note", "division_code")
_TRUE = {"1", "true", "yes", "y", "t", "是", "上班", "工作日", "班"}
_FALSE = {"0", "false", "no", "n", "f", "否", "休息", "休息日", "休", "放假"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CalendarImportError(Exception):
    """The file has errors; ``errors`` holds ``(line, message)`` pairs. Nothing was imported."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


@dataclass(frozen=True)
class ImportedDay:
    line: int
    date: date
    is_workday: bool
    note: str
    division_code: str


def parse_iso_date(text: str) -> date:
    """A strict ``YYYY-MM-DD`` date; ValueError with a readable message otherwise."""
    text = text.strip()
    if not _DATE_RE.match(text):
        raise ValueError(f"invalid date {text!r}: expected YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"invalid date {text!r}: no such day") from None


def parse_workday_flag(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"invalid is_workday {text.strip()!r}: expected 1/0, true/false, 上班/休息")


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 as saved by Chinese spreadsheet programs."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_calendar_csv(text: str) -> list[ImportedDay]:
    """Validate a local calendar: rows ``date,is_workday,note[,division_code]``, an optional header row naming
    those columns (in any order), blank lines and ``#`` comment lines ignored. Raises CalendarImportError."""
    from .models import CalendarDay, Division

    note_max = CalendarDay._meta.get_field("note").max_length or 100
    errors: list[tuple[int, str]] = []
    rows = list(csv.reader(io.StringIO(text)))
    columns = {name: i for i, name in enumerate(CSV_COLUMNS)}
    start = 0
    for index, row in enumerate(rows):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if "date" in (c.lower() for c in cells):
            header = [c.lower() for c in cells]
            unknown = [c for c in header if c not in CSV_COLUMNS]
            missing = [c for c in ("date", "is_workday") if c not in header]
            if unknown or missing or len(set(header)) != len(header):
                header_problems: list[str] = []
                if unknown:
                    header_problems.append(f"unknown column(s) {', '.join(unknown)}")
                if missing:
                    header_problems.append(f"missing column(s) {', '.join(missing)}")
                if len(set(header)) != len(header):
                    header_problems.append("duplicate column")
                errors.append((index + 1, f"bad header: {'; '.join(header_problems)} (expected {','.join(CSV_COLUMNS)})"))
                raise CalendarImportError(errors)
            columns = {name: header.index(name) for name in CSV_COLUMNS if name in header}
            start = index + 1
        break

    parsed: list[ImportedDay] = []
    seen: dict[tuple[date, str], int] = {}
    codes: set[str] = set()
    for index in range(start, len(rows)):
        line = index + 1
        cells = [c.strip() for c in rows[index]]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) > len(columns):
            errors.append((line, f"too many columns ({len(cells)}; expected at most {len(columns)})"))
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            i = columns.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        problems: list[str] = []
        day: date | None = None
        workday = False
        try:
            day = parse_iso_date(cell("date"))
        except ValueError as exc:
            problems.append(str(exc))
        try:
            workday = parse_workday_flag(cell("is_workday"))
        except ValueError as exc:
            problems.append(str(exc))
        note = cell("note")
        if len(note) > note_max:
            problems.append(f"note longer than {note_max} characters")
        code = cell("division_code")
        if problems:
            errors.append((line, "; ".join(problems)))
            continue
        assert day is not None
        key = (day, code)
        if key in seen:
            where = f" for division {code}" if code else ""
            errors.append((line, f"duplicate date {day}{where} (first on line {seen[key]})"))
            continue
        seen[key] = line
        if code:
            codes.add(code)
        parsed.append(ImportedDay(line, day, workday, note, code))

    if codes:
        known = set(Division.objects.filter(code__in=codes).values_list("code", flat=True))
        for item in parsed:
            if item.division_code and item.division_code not in known:
                errors.append((item.line, f"unknown division code {item.division_code!r}"))
    if errors:
        raise CalendarImportError(sorted(errors))
    if not parsed:
        raise CalendarImportError([(max(len(rows), 1), "no calendar days in file")])
    return parsed


def import_calendar_days(days: Iterable[ImportedDay], *, actor: Any = None, source: str = "") -> tuple[int, int]:
    """Create or update the CalendarDay rows (all in one transaction); returns (created, updated)."""
    from django.db import transaction

    from .models import CalendarDay, Division
    from .services import audit

    days = list(days)
    divisions = {d.code: d for d in Division.objects.filter(code__in={x.division_code for x in days if x.division_code})}
    created = updated = 0
    with transaction.atomic():
        for item in days:
            division = divisions.get(item.division_code) if item.division_code else None
            row = CalendarDay.objects.select_for_update().filter(date=item.date, division=division).first()
            if row is None:
                CalendarDay.objects.create(date=item.date, division=division, is_workday=item.is_workday, note=item.note)
                created += 1
            elif row.is_workday != item.is_workday or row.note != item.note:
                row.is_workday = item.is_workday
                row.note = item.note
                row.save(update_fields=["is_workday", "note"])
                updated += 1
        audit(
            "calendar.import",
            actor=actor,
            object_type="core.calendarday",
            reason=source,
            detail={
                "source": source,
                "days": len(days),
                "created": created,
                "updated": updated,
                "first": min(x.date for x in days).isoformat() if days else None,
                "last": max(x.date for x in days).isoformat() if days else None,
            },
        )
    return created, updated
