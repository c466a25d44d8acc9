from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.core.calendar import (
    NATIONAL_FIRST_YEAR,
    NATIONAL_LAST_YEAR,
    CalendarImportError,
    WorkingCalendar,
    default_calendar,
    from_overrides,
    import_calendar_days,
    parse_calendar_csv,
    special_days,
)
from tongban.core.models import AuditLog, CalendarDay, Division

NATIONAL = from_overrides()

# Dates that exercise 2004–2026 and the uncovered years on both sides.
dates = st.dates(min_value=date(2001, 1, 1), max_value=date(2030, 12, 31))


def brute_between(cal: WorkingCalendar, start: date, end: date) -> int:
    """Reference: walk day by day."""
    count = 0
    d = start + timedelta(days=1)
    while d <= end:
        count += cal.is_workday(d)
        d += timedelta(days=1)
    return count


def brute_add(cal: WorkingCalendar, start: date, n: int) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        n -= cal.is_workday(d)
    return d


# -- national calendar ----------------------------------------------------------------------------------------------


def test_national_years_are_those_of_the_package():
    assert (NATIONAL_FIRST_YEAR, NATIONAL_LAST_YEAR) == (2004, 2026)
    assert NATIONAL.covers(2004) and NATIONAL.covers(2026)
    assert not NATIONAL.covers(2003) and not NATIONAL.covers(2027)


def test_every_covered_day_matches_chinese_calendar():
    d = date(2004, 1, 1)
    mismatches = []
    while d.year <= 2026:
        if NATIONAL.is_workday(d) != chinese_calendar.is_workday(d):
            mismatches.append(d)
        d += timedelta(days=1)
    assert mismatches == []
    # and the precomputed year lists agree with is_workday
    for year in (2004, 2015, 2020, 2026):
        listed = set(NATIONAL.working_days_in(year))
        all_days = [date(year, 1, 1) + timedelta(days=i) for i in range(366 if year % 4 == 0 else 365)]
        assert listed == {x for x in all_days if chinese_calendar.is_workday(x)}


def test_spring_festival_2026():
    # 春节 2026: rest 2-15 .. 2-23; make-up workdays Saturday 2-14 and Saturday 2-28.
    assert date(2026, 2, 14).weekday() == 5 and NATIONAL.is_workday(date(2026, 2, 14))
    assert date(2026, 2, 28).weekday() == 5 and NATIONAL.is_workday(date(2026, 2, 28))
    for day in range(15, 24):
        assert not NATIONAL.is_workday(date(2026, 2, day))
    assert NATIONAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert NATIONAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert NATIONAL.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert NATIONAL.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)
    assert NATIONAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert NATIONAL.working_days_between(date(2026, 2, 14), date(2026, 2, 23)) == 0


def test_national_day_2026_with_saturday_make_up_workday():
    # 国庆+中秋 2026: rest 10-1 .. 10-7, make-up workdays Sunday 9-20 and Saturday 10-10.
    assert chinese_calendar.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert NATIONAL.is_workday(date(2026, 10, 10))
    assert not NATIONAL.is_workday(date(2026, 10, 11))
    assert NATIONAL.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert NATIONAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert NATIONAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert NATIONAL.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert NATIONAL.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert NATIONAL.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_start_day_is_not_counted_and_n_zero_is_start():
    workday = date(2026, 3, 2)  # Monday
    assert NATIONAL.is_workday(workday)
    assert NATIONAL.add_working_days(workday, 1) == date(2026, 3, 3)
    assert NATIONAL.add_working_days(workday, 0) == workday
    holiday = date(2026, 10, 3)
    assert NATIONAL.add_working_days(holiday, 0) == holiday  # n=0 -> start, even on a rest day
    assert NATIONAL.working_days_between(workday, workday) == 0
    assert NATIONAL.working_days_between(workday, date(2026, 3, 1)) == 0  # end before start
    assert NATIONAL.working_days_between(date(2026, 3, 1), workday) == 1  # end is counted


def test_negative_n_is_rejected():
    with pytest.raises(ValueError, match="n must be >= 0"):
        NATIONAL.add_working_days(date(2026, 1, 5), -1)


def test_years_outside_coverage_count_weekends_only():
    assert not NATIONAL.covers(2027)
    # 2027-01-01 is a Friday: a working day when nothing says otherwise
    assert date(2027, 1, 1).weekday() == 4 and NATIONAL.is_workday(date(2027, 1, 1))
    assert NATIONAL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert NATIONAL.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)
    assert NATIONAL.working_days_between(date(2027, 1, 1), date(2027, 12, 31)) == 260
    assert NATIONAL.working_days_between(date(2003, 1, 1), date(2003, 12, 31)) == 260
    assert NATIONAL.uncovered_years(date(2025, 6, 1), date(2028, 1, 1)) == [2027, 2028]


def test_long_spans_cross_many_years():
    start, end = date(2003, 6, 1), date(2030, 6, 1)
    n = NATIONAL.working_days_between(start, end)
    assert n == brute_between(NATIONAL, start, end)
    assert NATIONAL.add_working_days(start, n) <= end
    assert NATIONAL.add_working_days(start, n + 1) > end
    with pytest.raises(OverflowError):
        NATIONAL.add_working_days(date(9999, 12, 1), 1000)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=0, max_value=800))
def test_add_matches_brute_force_and_inverts_between(start, n):
    end = NATIONAL.add_working_days(start, n)
    assert end == brute_add(NATIONAL, start, n)
    assert NATIONAL.working_days_between(start, end) == n
    if n > 0:
        assert NATIONAL.is_workday(end)


@settings(max_examples=200, deadline=None)
@given(dates, st.integers(min_value=-5, max_value=1200))
def test_between_matches_brute_force(start, span):
    end = start + timedelta(days=span)
    assert NATIONAL.working_days_between(start, end) == brute_between(NATIONAL, start, end)
    if end >= start:
        assert NATIONAL.working_days_between(end, start) == 0


@settings(max_examples=150, deadline=None)
@given(dates, st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=300))
def test_add_is_monotonic(start, n, m):
    lo, hi = sorted((n, m))
    assert NATIONAL.add_working_days(start, lo) <= NATIONAL.add_working_days(start, hi)
    later = start + timedelta(days=m)
    assert NATIONAL.add_working_days(start, n) <= NATIONAL.add_working_days(later, n)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(dates, st.booleans(), max_size=40),
    dates,
    st.integers(min_value=0, max_value=400),
)
def test_overrides_agree_with_brute_force(overrides, start, n):
    cal = from_overrides(overrides.items())
    for d, workday in overrides.items():
        assert cal.is_workday(d) is workday
    end = cal.add_working_days(start, n)
    assert end == brute_add(cal, start, n)
    assert cal.working_days_between(start, end) == n


# -- local overrides from the database -------------------------------------------------------------------------------


@pytest.fixture
def divisions(db):
    province = Division.objects.create(code="990000000000", name="测试省", level=Division.Level.PROVINCE)
    city = Division.objects.create(code="990100000000", name="测试市", level=Division.Level.CITY, parent=province)
    county = Division.objects.create(code="990102000000", name="甲县", level=Division.Level.COUNTY, parent=city)
    other = Division.objects.create(code="990103000000", name="乙县", level=Division.Level.COUNTY, parent=city)
    return province, city, county, other


@pytest.mark.django_db
def test_global_override_applies_everywhere(divisions):
    province, city, county, _ = divisions
    CalendarDay.objects.create(date=date(2026, 10, 12), is_workday=False, note="全市停工")
    for cal in (default_calendar(), WorkingCalendar.load(county), WorkingCalendar.load(province)):
        assert not cal.is_workday(date(2026, 10, 12))
        assert cal.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 14)
        assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 3


@pytest.mark.django_db
def test_most_specific_division_wins(divisions):
    province, city, county, other = divisions
    day = date(2026, 6, 15)  # an ordinary Monday
    CalendarDay.objects.create(date=day, is_workday=False, note="全域休息")
    CalendarDay.objects.create(date=day, division=city, is_workday=True, note="市里照常上班")
    CalendarDay.objects.create(date=day, division=county, is_workday=False, note="甲县民族节日")
    local = date(2026, 6, 16)
    CalendarDay.objects.create(date=local, division=other, is_workday=False, note="乙县节日")

    assert not default_calendar().is_workday(day)  # global row
    assert not WorkingCalendar.load(province).is_workday(day)  # global row (province has none)
    assert WorkingCalendar.load(city).is_workday(day)  # the city row beats the global one
    assert WorkingCalendar.load(other).is_workday(day)  # inherited from the city (ancestor)
    assert not WorkingCalendar.load(county).is_workday(day)  # the county's own row beats its ancestors'
    # a sibling's row does not leak
    assert WorkingCalendar.load(county).is_workday(local)
    assert not WorkingCalendar.load(other).is_workday(local)
    assert default_calendar().is_workday(local)
    assert WorkingCalendar.load(county).override_notes[day] == "甲县民族节日"


@pytest.mark.django_db
def test_overrides_can_add_holiday_data_for_uncovered_years(divisions):
    _, city, county, _ = divisions
    assert not default_calendar().covers(2027)
    CalendarDay.objects.create(date=date(2027, 1, 1), division=city, is_workday=False, note="元旦")
    assert WorkingCalendar.load(county).covers(2027)
    assert not default_calendar().covers(2027)
    cal = WorkingCalendar.load(county)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert default_calendar().add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


@pytest.mark.django_db
def test_load_reads_once_then_needs_no_queries(divisions, django_assert_num_queries):
    _, _, county, _ = divisions
    CalendarDay.objects.create(date=date(2026, 6, 15), is_workday=False)
    county = Division.objects.select_related("parent__parent").get(pk=county.pk)
    with django_assert_num_queries(1):
        cal = WorkingCalendar.load(county)
    with django_assert_num_queries(0):
        start = date(2025, 1, 1)
        dues = [cal.add_working_days(start + timedelta(days=i % 700), 20 + i % 40) for i in range(5000)]
        counts = [cal.working_days_between(start, due) for due in dues]
    assert len(dues) == len(counts) == 5000


@pytest.mark.django_db
def test_special_days_lists_national_and_local_changes(divisions):
    CalendarDay.objects.create(date=date(2026, 6, 15), is_workday=False, note="地方节日")
    days = {d.date: d for d in special_days(default_calendar(), 2026)}
    assert days[date(2026, 10, 10)].is_workday and days[date(2026, 10, 10)].source == "national"
    assert "国庆" in days[date(2026, 10, 10)].note
    assert not days[date(2026, 10, 1)].is_workday
    assert date(2026, 10, 3) not in days  # a Saturday at rest is standard
    assert days[date(2026, 6, 15)].source == "local" and days[date(2026, 6, 15)].note == "地方节日"


# -- CSV import ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_parse_and_import_csv(divisions):
    text = (
        "date,is_workday,note,division_code\n"
        "2027-01-01,0,元旦,\n"
        "\n"
        "# comment\n"
        "2027-02-06,上班,春节调休,990100000000\n"
    )
    days = parse_calendar_csv(text)
    assert [(d.line, d.date, d.is_workday, d.division_code) for d in days] == [
        (2, date(2027, 1, 1), False, ""),
        (5, date(2027, 2, 6), True, "990100000000"),
    ]
    assert import_calendar_days(days, source="x.csv") == (2, 0)
    assert CalendarDay.objects.count() == 2
    assert AuditLog.objects.filter(action="calendar.import").count() == 1
    # importing again changes nothing; a changed note updates the row in place (no duplicate global rows)
    assert import_calendar_days(parse_calendar_csv(text), source="x.csv") == (0, 0)
    assert import_calendar_days(parse_calendar_csv("2027-01-01,0,元旦（新）\n"), source="y.csv") == (0, 1)
    assert CalendarDay.objects.count() == 2
    assert CalendarDay.objects.get(date=date(2027, 1, 1), division=None).note == "元旦（新）"


@pytest.mark.django_db
def test_parse_errors_name_lines_and_import_nothing(divisions):
    text = (
        "date,is_workday,note,division_code\n"
        "2027-13-01,0,bad month\n"
        "2027-01-04,maybe,\n"
        "2027/01/05,1,\n"
        "2027-01-06,1,,000000000000\n"
        "2027-01-07,1,ok\n"
        "2027-01-07,0,again\n"
        "2027-01-08,1,x,990100000000,extra\n"
    )
    with pytest.raises(CalendarImportError) as exc:
        parse_calendar_csv(text)
    errors = dict(exc.value.errors)
    assert sorted(errors) == [2, 3, 4, 5, 7, 8]
    assert "no such day" in errors[2]
    assert "is_workday" in errors[3]
    assert "YYYY-MM-DD" in errors[4]
    assert "unknown division code" in errors[5]
    assert "duplicate date 2027-01-07" in errors[7] and "line 6" in errors[7]
    assert "too many columns" in errors[8]
    assert CalendarDay.objects.count() == 0


@pytest.mark.django_db
def test_parse_rejects_bad_header_and_empty_file():
    with pytest.raises(CalendarImportError) as exc:
        parse_calendar_csv("date,workday,note\n2027-01-01,1,\n")
    assert exc.value.errors[0][0] == 1 and "unknown column" in exc.value.errors[0][1]
    with pytest.raises(CalendarImportError) as exc:
        parse_calendar_csv("date,is_workday,note\n")
    assert "no calendar days" in exc.value.errors[0][1]


@pytest.mark.django_db
def test_header_columns_may_be_reordered():
    days = parse_calendar_csv("note,date,is_workday\n元旦,2027-01-01,false\n")
    assert (days[0].date, days[0].is_workday, days[0].note) == (date(2027, 1, 1), False, "元旦")
