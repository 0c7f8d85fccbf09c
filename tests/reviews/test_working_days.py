"""Working days against a plain day-by-day walk, and dates worked out by hand over Christmas and Easter."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.working_days import add_working_days, bank_holiday_name, is_working_day, working_days_between

FIRST, LAST = date(2020, 1, 1), date(2035, 12, 31)
# The walk below looks bank holidays up in this table, built once and separately from the module's cache.
BANK_HOLIDAYS = set(holidays.UK(subdiv="ENG", years=range(2019, 2040)).keys())

days = st.dates(min_value=FIRST, max_value=LAST)
closure_sets = st.frozensets(days, max_size=25)


def walk_is_working(day: date, closures: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS and day not in closures


def walk_add(start: date, n: int, closures: frozenset[date]) -> date:
    day = start
    if n == 0:
        while not walk_is_working(day, closures):
            day += timedelta(days=1)
        return day
    while n:
        day += timedelta(days=1)
        if walk_is_working(day, closures):
            n -= 1
    return day


def walk_between(start: date, end: date, closures: frozenset[date]) -> int:
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += walk_is_working(day, closures)
    return sign * count


# Closure days are drawn near the start date as well as anywhere, so they often fall inside the span.
@st.composite
def start_and_closures(draw):
    start = draw(days)
    nearby = st.dates(min_value=start, max_value=start + timedelta(days=120))
    closures = draw(st.frozensets(nearby, max_size=10)) | draw(closure_sets)
    return start, closures


@settings(max_examples=400, deadline=None)
@given(start_and_closures(), st.integers(min_value=0, max_value=300))
def test_adding_working_days_matches_a_day_by_day_walk(start_closures, n):
    start, closures = start_closures
    assert add_working_days(start, n, closures) == walk_add(start, n, closures)


@settings(max_examples=400, deadline=None)
@given(days, days, closure_sets)
def test_counting_working_days_matches_a_day_by_day_walk(start, end, closures):
    assert working_days_between(start, end, closures) == walk_between(start, end, closures)


@settings(max_examples=400, deadline=None)
@given(days, closure_sets)
def test_is_working_day_matches_the_definition(day, closures):
    assert is_working_day(day, closures) == walk_is_working(day, closures)


@settings(max_examples=300, deadline=None)
@given(start_and_closures(), st.integers(min_value=1, max_value=300))
def test_the_nth_working_day_is_a_working_day_n_working_days_later(start_closures, n):
    start, closures = start_closures
    due = add_working_days(start, n, closures)
    assert is_working_day(due, closures)
    assert working_days_between(start, due, closures) == n
    # ... and it is the first such day: the day before is still short of n.
    assert working_days_between(start, due - timedelta(days=1), closures) == n - 1


def test_the_day_itself_is_never_counted():
    monday = date(2026, 11, 23)
    assert add_working_days(monday, 1) == date(2026, 11, 24)
    assert working_days_between(monday, monday) == 0


def test_zero_working_days_is_the_same_day_or_the_next_working_day():
    assert add_working_days(date(2026, 11, 25), 0) == date(2026, 11, 25)  # a Wednesday
    assert add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 30)  # Saturday → Monday
    # Christmas Day (Fri), Boxing Day (Sat), Sunday, substitute Boxing Day (Mon 28th) → Tuesday 29th.
    assert add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 29)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_a_notification_on_friday_18_december_2026():
    notified = date(2026, 12, 18)
    # By hand: 1 Mon 21 Dec, 2 Tue 22, 3 Wed 23, 4 Thu 24; Fri 25 Christmas Day, Sat 26 Boxing Day,
    # Sun 27, Mon 28 substitute for Boxing Day; 5 Tue 29, 6 Wed 30, 7 Thu 31; Fri 1 Jan 2027 New Year's
    # Day; 8 Mon 4 Jan, 9 Tue 5, 10 Wed 6, 11 Thu 7, 12 Fri 8, 13 Mon 11, 14 Tue 12, 15 Wed 13 Jan 2027.
    assert add_working_days(notified, 15) == date(2027, 1, 13)
    assert add_working_days(notified, 5) == date(2026, 12, 29)
    assert add_working_days(notified, 8) == date(2027, 1, 4)
    assert working_days_between(notified, date(2027, 1, 13)) == 15
    assert working_days_between(date(2027, 1, 13), notified) == -15
    for day in (date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2027, 1, 1)):
        assert not is_working_day(day)
    assert bank_holiday_name(date(2026, 12, 28)) is not None
    assert bank_holiday_name(date(2026, 12, 29)) is None


def test_a_notification_on_thursday_2_april_2026():
    notified = date(2026, 4, 2)
    # By hand: Fri 3 Apr Good Friday, Sat 4, Sun 5, Mon 6 Easter Monday; 1 Tue 7, 2 Wed 8, 3 Thu 9,
    # 4 Fri 10, 5 Mon 13, 6 Tue 14, 7 Wed 15, 8 Thu 16, 9 Fri 17, 10 Mon 20, 11 Tue 21, 12 Wed 22,
    # 13 Thu 23, 14 Fri 24, 15 Mon 27 April 2026.
    assert add_working_days(notified, 15) == date(2026, 4, 27)
    # Going on: 16 Tue 28, 17 Wed 29, 18 Thu 30, 19 Fri 1 May; Mon 4 May early May bank holiday;
    # 20 Tue 5 May 2026.
    assert add_working_days(notified, 20) == date(2026, 5, 5)
    assert working_days_between(notified, date(2026, 5, 5)) == 20


def test_closure_days_are_skipped():
    notified = date(2026, 4, 2)
    # Closing on Tue 7 and Wed 8 April pushes every day after Easter back by two working days:
    # 1 Thu 9 ... 13 Mon 27, 14 Tue 28, 15 Wed 29 April 2026.
    closures = frozenset({date(2026, 4, 7), date(2026, 4, 8)})
    assert add_working_days(notified, 15, closures) == date(2026, 4, 29)
    assert working_days_between(notified, date(2026, 4, 27), closures) == 13
    assert not is_working_day(date(2026, 4, 7), closures)
    # A closure day on a weekend or a bank holiday changes nothing: it is not counted twice.
    already_off = frozenset({date(2026, 4, 3), date(2026, 4, 11)})
    assert add_working_days(notified, 15, already_off) == date(2026, 4, 27)


def test_christmas_2027_has_two_substitute_days():
    # Christmas Day is a Saturday and Boxing Day a Sunday: Mon 27 and Tue 28 December are both off.
    assert add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 29)
