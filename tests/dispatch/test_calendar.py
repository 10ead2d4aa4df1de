"""Working time on the statutory calendar: lunch, evenings, weekends, holidays and 调休 days.

Dates are real ones from chinese-calendar's data:
- National Day 2024: Oct 1–7 off; Sun Sep 29 and Sat Oct 12 are make-up working days.
- Spring Festival 2025: Jan 28–Feb 4 off; Sun Jan 26 and Sat Feb 8 are make-up working days.
- Spring Festival 2026: Feb 15–23 off; Sat Feb 14 is a make-up working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.policy import Duration, PolicyError
from dispatch.sla.calendar import (
    NATURAL_TIME,
    PROVISIONAL_YEARS,
    ClockKind,
    Timekeeper,
    WorkingCalendar,
    WorkingHours,
    parse_hours,
    span,
)
from dispatch.sla.errors import CalendarRangeError
from tests.dispatch.helpers import SH, sh

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        # inside one period, and exactly to its end (12:00, not 14:00)
        (sh(2025, 3, 3, 9), 2 * H, sh(2025, 3, 3, 11)),
        (sh(2025, 3, 3, 11), 1 * H, sh(2025, 3, 3, 12)),
        # across lunch
        (sh(2025, 3, 3, 11), 2 * H, sh(2025, 3, 3, 15)),
        (sh(2025, 3, 3, 11, 30), timedelta(minutes=45), sh(2025, 3, 3, 14, 15)),
        # starting during lunch, before work, after work
        (sh(2025, 3, 3, 12, 30), 1 * H, sh(2025, 3, 3, 15)),
        (sh(2025, 3, 3, 7), 1 * H, sh(2025, 3, 3, 10)),
        (sh(2025, 3, 3, 17), 2 * H, sh(2025, 3, 4, 10)),
        (sh(2025, 3, 3, 20), 1 * H, sh(2025, 3, 4, 10)),
        # exactly one working day (7 h) later is the same time next working day
        (sh(2025, 3, 3, 10), 7 * H, sh(2025, 3, 4, 10)),
        # over an ordinary weekend
        (sh(2025, 3, 7, 17), 2 * H, sh(2025, 3, 10, 10)),
        (sh(2025, 3, 8, 10), 1 * H, sh(2025, 3, 10, 10)),
        # National Day 2024, with the make-up Sunday before and Saturday after
        (sh(2024, 9, 27, 17), 2 * H, sh(2024, 9, 29, 10)),
        (sh(2024, 9, 28, 10), 1 * H, sh(2024, 9, 29, 10)),
        (sh(2024, 9, 30, 16), 4 * H, sh(2024, 10, 8, 11)),
        (sh(2024, 10, 11, 17), 2 * H, sh(2024, 10, 12, 10)),
        (sh(2024, 10, 12, 17), 2 * H, sh(2024, 10, 14, 10)),
        # Spring Festival 2025
        (sh(2025, 1, 25, 10), 1 * H, sh(2025, 1, 26, 10)),
        (sh(2025, 1, 27, 17), 2 * H, sh(2025, 2, 5, 10)),
        (sh(2025, 2, 7, 17), 2 * H, sh(2025, 2, 8, 10)),
        # Spring Festival 2026: make-up Saturday, then nine days off
        (sh(2026, 2, 13, 17), 2 * H, sh(2026, 2, 14, 10)),
        (sh(2026, 2, 14, 17), 2 * H, sh(2026, 2, 24, 10)),
        # 20 working days (illegal construction) across National Day 2024
        (sh(2024, 9, 30, 16), 140 * H, sh(2024, 11, 1, 16)),
    ],
)
def test_add_working_time(
    calendar: WorkingCalendar, start: datetime, amount: timedelta, expected: datetime
) -> None:
    assert calendar.add(start, amount) == expected
    assert calendar.elapsed(start, expected) == amount


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (sh(2025, 3, 3, 8), sh(2025, 3, 3, 19), 7 * H),
        (sh(2025, 3, 3, 12), sh(2025, 3, 3, 14), timedelta(0)),
        (sh(2025, 3, 7, 17), sh(2025, 3, 10, 10), 2 * H),
        (sh(2024, 9, 30, 9), sh(2024, 10, 8, 9), 7 * H),
        (sh(2024, 10, 1, 0), sh(2024, 10, 8, 0), timedelta(0)),
    ],
)
def test_elapsed_working_time(
    calendar: WorkingCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert calendar.elapsed(start, end) == expected
    assert calendar.elapsed(end, start) == -expected


def test_spring_festival_2025_working_days_are_the_statutory_ones(calendar: WorkingCalendar) -> None:
    days = [date(2025, 1, 24) + timedelta(days=i) for i in range(17)]
    working = [d for d in days if calendar.is_workday(d)]
    assert working == [
        date(2025, 1, 24),
        date(2025, 1, 26),  # make-up Sunday
        date(2025, 1, 27),
        date(2025, 2, 5),
        date(2025, 2, 6),
        date(2025, 2, 7),
        date(2025, 2, 8),  # make-up Saturday
    ]
    # so from Friday Jan 24 09:00 to Monday Feb 10 09:00 there are exactly those 7 days of 7 h
    assert calendar.elapsed(sh(2025, 1, 24, 9), sh(2025, 2, 10, 9)) == 7 * 7 * H


def test_inputs_in_utc_give_results_in_utc(calendar: WorkingCalendar) -> None:
    start = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = calendar.add(start, 3 * H)
    assert result == datetime(2025, 3, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert result.tzinfo is UTC
    # 18:00 in Shanghai on Sept 30, 2024 is 10:00 UTC; a working day later is after National Day
    assert calendar.add(datetime(2024, 9, 30, 10, tzinfo=UTC), 7 * H) == datetime(2024, 10, 8, 10, tzinfo=UTC)


def test_zero_amount_returns_the_start_even_outside_working_time(calendar: WorkingCalendar) -> None:
    assert calendar.add(sh(2025, 3, 8, 3), timedelta(0)) == sh(2025, 3, 8, 3)


def test_microseconds_survive_the_arithmetic(calendar: WorkingCalendar) -> None:
    start = sh(2025, 3, 3, 11, 59) + timedelta(seconds=59, microseconds=999_999)
    assert calendar.add(start, timedelta(microseconds=2)) == sh(2025, 3, 3, 14) + timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2025, 12, 1),  # noqa: DTZ001
        timezones=st.just(SH),
    ),
    amount=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300)),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=50)),
)
def test_add_and_elapsed_are_inverse_and_monotone(
    calendar: WorkingCalendar, start: datetime, amount: timedelta, later: timedelta
) -> None:
    end = calendar.add(start, amount)
    assert end >= start
    assert calendar.elapsed(start, end) == amount
    assert calendar.add(start, amount + later) >= end
    if amount:  # a positive amount always ends inside working hours, never at a period start
        local = end.astimezone(SH)
        assert calendar.is_workday(local.date())
        assert time(9) < local.time() <= time(12) or time(14) < local.time() <= time(18)


def test_natural_time_counts_every_minute() -> None:
    start = sh(2024, 10, 1, 23, 30)
    assert NATURAL_TIME.add(start, 2 * H) == sh(2024, 10, 2, 1, 30)
    assert NATURAL_TIME.elapsed(datetime(2024, 10, 1, 15, 30, tzinfo=UTC), start) == timedelta(0)
    assert NATURAL_TIME.kind is ClockKind.NATURAL


def test_policy_durations_in_each_scale(tk: Timekeeper) -> None:
    assert span(Duration(1, "d"), tk.working) == 7 * H
    assert span(Duration(1, "d"), tk.natural) == 24 * H
    assert span(Duration(30, "min"), tk.working) == timedelta(minutes=30)
    assert span(Duration(4, "h"), tk.natural) == 4 * H
    assert tk.scale(ClockKind.WORKING) is tk.working


def test_dates_beyond_the_provisional_years_raise_instead_of_guessing(calendar: WorkingCalendar) -> None:
    last = calendar.last
    assert last.year == calendar.authoritative_last.year + PROVISIONAL_YEARS
    after = last + timedelta(days=60)
    with pytest.raises(CalendarRangeError, match=rf"{after} is outside it"):
        calendar.add(sh(after.year, after.month, after.day, 10), H)
    with pytest.raises(CalendarRangeError, match=r"2003-06-01"):
        calendar.elapsed(sh(2003, 6, 1), sh(2024, 1, 2))
    with pytest.raises(CalendarRangeError, match="beyond it"):
        calendar.add(sh(last.year, 12, 30, 10), 20 * 7 * H)
    with pytest.raises(CalendarRangeError):
        calendar.is_workday(last + timedelta(days=4))


def test_naive_datetimes_and_negative_amounts_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        calendar.add(datetime(2025, 3, 3, 10), H)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="negative"):
        calendar.add(sh(2025, 3, 3, 10), -H)
    with pytest.raises(ValueError, match="naive"):
        NATURAL_TIME.add(datetime(2025, 3, 3, 10), H)  # noqa: DTZ001


def test_working_hours_are_checked() -> None:
    assert parse_hours([["09:00", "12:00"], ["14:00", "18:00"]], "t").day == 7 * H
    with pytest.raises(PolicyError, match="overlaps"):
        parse_hours([["09:00", "12:00"], ["11:00", "18:00"]], "t")
    with pytest.raises(PolicyError, match="end after"):
        parse_hours([["12:00", "09:00"]], "t")
    with pytest.raises(PolicyError, match="bad time"):
        parse_hours([["9am", "12:00"]], "t")
    with pytest.raises(PolicyError, match="at least one"):
        parse_hours([], "t")


def test_zones_with_daylight_saving_are_refused() -> None:
    with pytest.raises(PolicyError, match="UTC offset changes"):
        WorkingCalendar(
            hours=WorkingHours(((time(9), time(17)),)),
            tz=ZoneInfo("Europe/Berlin"),
            first=date(2024, 1, 1),
            last=date(2024, 12, 31),
            is_workday=lambda d: d.isoweekday() < 6,
        )


def test_other_hours_and_workday_sources_are_honoured() -> None:
    cal = WorkingCalendar(
        hours=WorkingHours(((time(8), time(16)),)),
        tz=SH,
        first=date(2025, 3, 1),
        last=date(2025, 3, 31),
        is_workday=lambda d: d.isoweekday() != 7,  # a six-day week
    )
    assert cal.day == 8 * H
    assert cal.add(sh(2025, 3, 8, 15), 2 * H) == sh(2025, 3, 10, 9)  # Saturday works, Sunday not
