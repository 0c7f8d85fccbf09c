"""Working days: the unit every statutory and local clock counts in (TIMINGS.md).

A working day is a Monday to Friday that is neither a bank holiday in England & Wales (with
substitute days, from the ``holidays`` package, computed offline) nor a closure day the partnership
has recorded. Closure days are passed in by the caller as a set of dates, so these functions stay
pure and never touch the database.

Conventions:

- "Within N working days of X" means by the Nth working day *after* X; X itself is not counted,
  whether or not it is a working day. So ``add_working_days(x, n)`` for ``n >= 1`` is that day.
- ``add_working_days(x, 0)`` is ``x`` when ``x`` is a working day, otherwise the next working day:
  "zero working days from now" on a Saturday is Monday (or later, after a bank holiday).
- ``working_days_between(start, end)`` counts the working days after ``start`` up to and including
  ``end``, and is negative when ``end`` is before ``start`` (``-working_days_between(end, start)``).
  So ``working_days_between(x, add_working_days(x, n)) == n`` for every ``n >= 1``.

Counting uses arithmetic on weekdays plus a sorted list of the weekday holidays and closures in
range, so long spans cost no more than short ones.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

NO_CLOSURES: frozenset[date] = frozenset()

# A generous bound: far beyond any clock the portal keeps, and it stops a mistaken huge N from
# walking for ever.
MAX_WORKING_DAYS = 100_000


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> frozenset[date]:
    """England & Wales bank holidays in ``year``, substitute days included (cached per year)."""
    return frozenset(holidays.UK(subdiv="ENG", years=year).keys())


@lru_cache(maxsize=256)
def _weekday_bank_holidays(year: int) -> tuple[date, ...]:
    return tuple(sorted(day for day in bank_holidays(year) if day.weekday() < 5))


def bank_holiday_name(day: date) -> str | None:
    """The bank holiday's name ("Christmas Day"), or None when ``day`` is not one."""
    if day not in bank_holidays(day.year):
        return None
    return holidays.UK(subdiv="ENG", years=day.year).get(day)


def is_working_day(day: date, closures: Iterable[date] = NO_CLOSURES) -> bool:
    """Not a weekend, not a bank holiday in England & Wales and not a partnership closure day."""
    return day.weekday() < 5 and day not in bank_holidays(day.year) and day not in closures


def _weekdays_up_to(day: date) -> int:
    """How many Mondays to Fridays there are from 1 January of year 1 (a Monday) to ``day`` inclusive."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _nth_weekday(count: int) -> date:
    """The day on which ``_weekdays_up_to`` first reaches ``count``: always a Monday to Friday."""
    weeks, rest = divmod(count, 5)
    if rest == 0:
        return date.fromordinal((weeks - 1) * 7 + 5)
    return date.fromordinal(weeks * 7 + rest)


def _days_off_between(start: date, end: date, closures: Iterable[date]) -> int:
    """Weekdays in (start, end] that are bank holidays or closure days, each counted once."""
    count = 0
    for year in range(start.year, end.year + 1):
        weekday_holidays = _weekday_bank_holidays(year)
        count += bisect.bisect_right(weekday_holidays, end) - bisect.bisect_right(weekday_holidays, start)
    count += sum(
        1 for day in closures if start < day <= end and day.weekday() < 5 and day not in bank_holidays(day.year)
    )
    return count


def working_days_between(start: date, end: date, closures: Iterable[date] = NO_CLOSURES) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier."""
    if end < start:
        return -working_days_between(end, start, closures)
    return _weekdays_up_to(end) - _weekdays_up_to(start) - _days_off_between(start, end, closures)


def add_working_days(start: date, n: int, closures: Iterable[date] = NO_CLOSURES) -> date:
    """The Nth working day after ``start`` (``start`` not counted); for 0, ``start`` or the next working day."""
    if n < 0:
        raise ValueError("add_working_days counts forwards: n must be 0 or more")
    if n > MAX_WORKING_DAYS:
        raise ValueError(f"n must be at most {MAX_WORKING_DAYS}")
    closures = frozenset(closures)
    if n == 0:
        day = start
        while not is_working_day(day, closures):
            day += timedelta(days=1)
        return day
    day, remaining = start, n
    while remaining:
        # Jump to the day that would be right if no weekday were a holiday, then count how many of
        # those weekdays really were working days and jump again for the rest.
        candidate = _nth_weekday(_weekdays_up_to(day) + remaining)
        remaining -= working_days_between(day, candidate, closures)
        day = candidate
    return day


def working_days_before(day: date, n: int, closures: Iterable[date] = NO_CLOSURES) -> date:
    """The latest working day with ``n`` working days after it up to and including ``day``."""
    if n < 1:
        raise ValueError("working_days_before needs n of 1 or more")
    closures = frozenset(closures)
    earlier = day - timedelta(days=1)
    while not is_working_day(earlier, closures) or working_days_between(earlier, day, closures) < n:
        earlier -= timedelta(days=1)
    return earlier
