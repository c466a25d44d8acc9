"""The statutory clock: pure functions over a calendar built without the database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tongban.core.calendar import from_overrides
from tongban.workflow.clock import (
    ClockStatus,
    Suspension,
    clock_status,
    due_date,
    elapsed_working_days,
    light_for,
    receipt_day,
)

CAL = from_overrides()


def brute_elapsed(start: date, on: date, suspensions) -> int:
    """Reference: walk day by day and apply the rule literally."""
    count = 0
    d = start + timedelta(days=1)
    while d <= on:
        if CAL.is_workday(d) and not any(s.start <= d and (s.end is None or d <= s.end) for s in suspensions):
            count += 1
        d += timedelta(days=1)
    return count


def brute_due(start: date, limit: int, suspensions) -> date:
    d = start
    counted = 0
    while counted < limit:
        d += timedelta(days=1)
        if CAL.is_workday(d) and not any(s.start <= d and (s.end is None or d <= s.end) for s in suspensions):
            counted += 1
    return d


# -- without suspensions -------------------------------------------------------------------------------------------


def test_plain_clock_across_national_day():
    start = date(2026, 9, 30)
    assert due_date(CAL, start, 5) == date(2026, 10, 13)
    assert elapsed_working_days(CAL, start, date(2026, 10, 12)) == 4
    assert elapsed_working_days(CAL, start, start) == 0
    assert elapsed_working_days(CAL, start, date(2026, 9, 1)) == 0
    assert due_date(CAL, start, 0) == start  # limit 0: due on the start day


def test_immediate_item_received_on_a_non_working_day_is_due_on_the_next_working_day():
    saturday = date(2026, 12, 5)
    monday = date(2026, 12, 7)
    assert due_date(CAL, saturday, 0) == monday
    assert clock_status(CAL, saturday, 0, saturday).due == monday
    on_monday = clock_status(CAL, saturday, 0, monday)
    assert (on_monday.elapsed, on_monday.light) == (0, "yellow")  # due today, not overdue
    on_tuesday = clock_status(CAL, saturday, 0, date(2026, 12, 8))
    assert (on_tuesday.elapsed, on_tuesday.light) == (1, "red")
    assert due_date(CAL, date(2026, 10, 1), 0) == date(2026, 10, 8)  # after the National Day holiday


def test_negative_limit_is_rejected():
    with pytest.raises(ValueError):
        due_date(CAL, date(2026, 3, 2), -1)
    with pytest.raises(ValueError):
        clock_status(CAL, date(2026, 3, 2), -1, date(2026, 3, 3))
    with pytest.raises(ValueError):
        clock_status(CAL, date(2026, 3, 2), 5, date(2026, 3, 3), yellow_share=1.5)


def test_suspension_must_not_end_before_it_starts():
    with pytest.raises(ValueError):
        Suspension(date(2026, 3, 5), date(2026, 3, 4))
    assert Suspension(date(2026, 3, 5), date(2026, 3, 5)).covers(date(2026, 3, 5))


# -- suspensions ------------------------------------------------------------------------------------------------------


def test_closed_suspension_stops_the_clock_and_moves_the_due_date():
    start = date(2026, 3, 2)  # Monday
    plain_due = due_date(CAL, start, 10)
    assert plain_due == date(2026, 3, 16)
    # 补正材料 from Wednesday 3-4 to Friday 3-6: three working days do not count
    s = Suspension(date(2026, 3, 4), date(2026, 3, 6), "补正材料")
    assert elapsed_working_days(CAL, start, date(2026, 3, 6), [s]) == 1  # only Tuesday 3-3
    assert elapsed_working_days(CAL, start, date(2026, 3, 9), [s]) == 2
    assert due_date(CAL, start, 10, [s]) == date(2026, 3, 19)
    assert due_date(CAL, start, 1, [s]) == date(2026, 3, 3)  # due before the suspension starts
    assert due_date(CAL, start, 2, [s]) == date(2026, 3, 9)


def test_suspension_over_a_weekend_costs_nothing():
    start = date(2026, 3, 2)
    weekend = Suspension(date(2026, 3, 7), date(2026, 3, 8), "公示")
    assert due_date(CAL, start, 10, [weekend]) == due_date(CAL, start, 10)
    assert elapsed_working_days(CAL, start, date(2026, 3, 20), [weekend]) == elapsed_working_days(
        CAL, start, date(2026, 3, 20)
    )


def test_suspension_over_a_make_up_workday_counts_that_day():
    # Saturday 2026-10-10 is a make-up workday: suspending it costs one working day
    start = date(2026, 9, 30)
    s = Suspension(date(2026, 10, 10), date(2026, 10, 11))
    assert elapsed_working_days(CAL, start, date(2026, 10, 12), [s]) == 3
    assert due_date(CAL, start, 5, [s]) == date(2026, 10, 14)


def test_overlapping_and_adjacent_suspensions_count_once():
    start = date(2026, 3, 2)
    a = Suspension(date(2026, 3, 3), date(2026, 3, 5), "专家评审")
    b = Suspension(date(2026, 3, 4), date(2026, 3, 10), "听证")
    c = Suspension(date(2026, 3, 11), date(2026, 3, 11), "公示")
    on = date(2026, 3, 20)
    assert elapsed_working_days(CAL, start, on, [a, b]) == brute_elapsed(start, on, [a, b])
    # 3-3 .. 3-10 suspended: 6 working days (3,4,5,6,9,10)
    assert elapsed_working_days(CAL, start, on, [a, b]) == elapsed_working_days(CAL, start, on) - 6
    assert elapsed_working_days(CAL, start, on, [b, a, c]) == elapsed_working_days(CAL, start, on) - 7
    assert due_date(CAL, start, 5, [a, b, c]) == brute_due(start, 5, [a, b, c]) == date(2026, 3, 18)
    # sharing one day (3-5) and identical suspensions
    d = Suspension(date(2026, 3, 5), date(2026, 3, 9), "公示")
    assert elapsed_working_days(CAL, start, on, [a, d, d]) == elapsed_working_days(CAL, start, on) - 5
    assert due_date(CAL, start, 5, [d, a, d]) == brute_due(start, 5, [a, d]) == date(2026, 3, 16)


def test_suspension_starting_before_the_clock():
    start = date(2026, 3, 4)
    s = Suspension(date(2026, 3, 1), date(2026, 3, 5))
    assert elapsed_working_days(CAL, start, date(2026, 3, 6), [s]) == 1
    assert due_date(CAL, start, 1, [s]) == date(2026, 3, 6)


def test_open_suspension_counts_until_on():
    start = date(2026, 3, 2)
    s = Suspension(date(2026, 3, 4), None, "补正材料")
    assert elapsed_working_days(CAL, start, date(2026, 3, 20), [s]) == 1
    # due computed as if the suspension ended `on`
    st_ = clock_status(CAL, start, 10, date(2026, 3, 13), [s])
    assert st_.suspended is True
    assert st_.elapsed == 1
    assert st_.due == due_date(CAL, start, 10, [Suspension(date(2026, 3, 4), date(2026, 3, 13))])
    assert st_.due == date(2026, 3, 26)
    # every further day of suspension pushes the due date
    later = clock_status(CAL, start, 10, date(2026, 3, 16), [s])
    assert later.due == date(2026, 3, 27)
    # without `on`, due_date takes the open suspension as ending the day it started
    assert due_date(CAL, start, 10, [s]) == due_date(CAL, start, 10, [Suspension(date(2026, 3, 4), date(2026, 3, 4))])


def test_status_after_a_suspension_closed():
    start = date(2026, 3, 2)
    s = Suspension(date(2026, 3, 4), date(2026, 3, 6))
    status = clock_status(CAL, start, 10, date(2026, 3, 10), [s])
    assert status == ClockStatus(
        limit_days=10, elapsed=3, remaining=7, due=date(2026, 3, 19), light="green", suspended=False
    )


# -- lights -----------------------------------------------------------------------------------------------------------


def test_lights_at_thresholds():
    start = date(2026, 3, 2)  # Monday; 10 working days later is Monday 3-16
    assert clock_status(CAL, start, 10, date(2026, 3, 11), ()).light == "green"  # 7 elapsed
    assert clock_status(CAL, start, 10, date(2026, 3, 12), ()).light == "yellow"  # 8 = ceil(0.8*10)
    due = clock_status(CAL, start, 10, date(2026, 3, 16), ())
    assert (due.elapsed, due.remaining, due.light) == (10, 0, "yellow")  # due today: not yet overdue
    weekend = clock_status(CAL, start, 10, date(2026, 3, 15), ())
    assert weekend.elapsed == 9 and weekend.light == "yellow"
    over = clock_status(CAL, start, 10, date(2026, 3, 17), ())
    assert (over.elapsed, over.remaining, over.light) == (11, -1, "red")
    assert clock_status(CAL, start, 10, date(2026, 3, 6), (), yellow_share=0.5).light == "green"  # 4 elapsed
    assert clock_status(CAL, start, 10, date(2026, 3, 9), (), yellow_share=0.5).light == "yellow"  # 5 elapsed


def test_light_thresholds_are_not_fooled_by_floating_point():
    # 0.7 * 10 == 7.000000000000001 in floating point: yellow must still start at 7
    assert light_for(7, 10, 0.7) == "yellow"
    assert light_for(6, 10, 0.7) == "green"
    assert light_for(12, 15, 0.8) == "yellow"
    assert light_for(11, 15, 0.8) == "green"
    assert light_for(2, 3, 0.8) == "green"  # ceil(2.4) = 3
    assert light_for(3, 3, 0.8) == "yellow"
    assert light_for(0, 0) == "yellow" and light_for(1, 0) == "red"


# -- properties -------------------------------------------------------------------------------------------------------

days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30))


@st.composite
def suspension_lists(draw):
    out = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        s = draw(days)
        length = draw(st.integers(min_value=0, max_value=30))
        end = None if draw(st.integers(0, 9)) == 0 else s + timedelta(days=length)
        out.append(Suspension(s, end))
    return out


@settings(max_examples=300, deadline=None)
@given(days, days, suspension_lists())
def test_elapsed_matches_the_literal_rule(start, on, suspensions):
    assert elapsed_working_days(CAL, start, on, suspensions) == brute_elapsed(start, on, suspensions)


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=0, max_value=120), suspension_lists())
def test_due_date_is_where_the_limit_is_reached(start, limit, suspensions):
    closed = [s for s in suspensions if s.end is not None]
    due = due_date(CAL, start, limit, closed)
    if limit == 0:  # 即办: the day of receipt, a working day
        assert due == receipt_day(CAL, start) and CAL.working_days_between(due - timedelta(days=1), due) == 1
        return
    assert due == brute_due(start, limit, closed)
    assert elapsed_working_days(CAL, start, due, closed) == limit
    if limit > 0:
        assert elapsed_working_days(CAL, start, due - timedelta(days=1), closed) == limit - 1
        assert not any(s.covers(due) for s in closed)


@settings(max_examples=200, deadline=None)
@given(days, st.integers(min_value=0, max_value=100))
def test_without_suspensions_the_clock_is_the_calendar(start, limit):
    due = due_date(CAL, start, limit)
    assert due == (CAL.add_working_days(start, limit) if limit else receipt_day(CAL, start))
    assert CAL.working_days_between(start, CAL.add_working_days(start, limit)) == limit


@settings(max_examples=200, deadline=None)
@given(days, days, suspension_lists())
def test_elapsed_never_counts_suspended_days_and_is_monotonic(start, on, suspensions):
    elapsed = elapsed_working_days(CAL, start, on, suspensions)
    assert elapsed <= elapsed_working_days(CAL, start, on)
    assert elapsed <= elapsed_working_days(CAL, start, on + timedelta(days=1), suspensions)
    nxt = on + timedelta(days=1)
    if any(s.covers(nxt) for s in suspensions) or on < start:
        assert elapsed_working_days(CAL, start, nxt, suspensions) == elapsed


@settings(max_examples=200, deadline=None)
@given(days, st.integers(min_value=0, max_value=60), days, suspension_lists())
def test_status_is_consistent(start, limit, on, suspensions):
    assume(on >= start)
    status = clock_status(CAL, start, limit, on, suspensions)
    assert status.remaining == limit - status.elapsed
    assert status.due >= start
    assert (status.light == "red") == (status.elapsed > limit)
    assert status.suspended == any(s.covers(on) for s in suspensions)
    if status.light == "red":
        assert status.due < on  # overdue: the due date has passed
