"""Rosters: day rules on the statutory calendar, overnight shifts, 24-hour duty."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest

from config.policy import PolicyError
from dispatch.routing.rosters import DayRule, Roster, Shift, on_shift, parse_rosters
from dispatch.sla.calendar import WorkingCalendar
from dispatch.sla.errors import CalendarRangeError
from tests.dispatch.helpers import sh


def _roster(*shifts: Shift) -> Roster:
    return Roster("t", "测试", "test", shifts)


def test_shipped_rosters(rosters: dict[str, Roster]) -> None:
    assert set(rosters) == {"office", "early", "late", "night", "weekday_plus_saturday", "duty_24h"}
    assert rosters["night"].shifts[0].overnight
    assert rosters["weekday_plus_saturday"].shifts[1] == Shift(
        DayRule.WEEKDAYS, time(9), time(12), frozenset({6})
    )


@pytest.mark.parametrize(
    ("code", "at", "expected"),
    [
        ("early", sh(2025, 3, 8, 6, 59), False),
        ("early", sh(2025, 3, 8, 7), True),
        ("early", sh(2025, 3, 8, 14, 59), True),
        ("early", sh(2025, 3, 8, 15), False),
        ("late", sh(2025, 3, 8, 15), True),
        ("late", sh(2025, 3, 8, 23), False),
        ("night", sh(2025, 3, 8, 22, 59), False),
        ("night", sh(2025, 3, 8, 23, 30), True),
        ("night", sh(2025, 3, 9, 3), True),
        ("night", sh(2025, 3, 9, 7), False),
        ("duty_24h", sh(2024, 10, 1, 0), True),
        ("duty_24h", sh(2025, 1, 29, 12), True),
        # office hours on statutory working days only
        ("office", sh(2025, 3, 3, 8, 30), True),
        ("office", sh(2025, 3, 3, 18), False),
        ("office", sh(2025, 3, 8, 10), False),  # an ordinary Saturday
        ("office", sh(2024, 10, 1, 10), False),  # National Day (a Tuesday)
        ("office", sh(2024, 10, 12, 10), True),  # 调休: Saturday worked
        ("office", sh(2024, 9, 29, 10), True),  # 调休: Sunday worked
        ("office", sh(2025, 2, 3, 10), False),  # Spring Festival (a Monday)
        ("weekday_plus_saturday", sh(2025, 3, 8, 11), True),  # Saturday morning duty
        ("weekday_plus_saturday", sh(2025, 3, 8, 14), False),
        ("weekday_plus_saturday", sh(2025, 3, 9, 11), False),
        # instants given in UTC are read in Shanghai time: 01:00Z is 09:00 there
        ("office", datetime(2025, 3, 3, 1, 0, tzinfo=UTC), True),
        ("office", datetime(2025, 3, 3, 10, 0, tzinfo=UTC), False),
    ],
)
def test_shipped_rosters_on_shift(
    rosters: dict[str, Roster], calendar: WorkingCalendar, code: str, at: datetime, expected: bool
) -> None:
    assert on_shift(rosters[code], at, calendar) is expected


def test_an_overnight_shift_belongs_to_the_day_it_starts(calendar: WorkingCalendar) -> None:
    monday_nights = _roster(Shift(DayRule.WEEKDAYS, time(22), time(6), frozenset({1})))
    assert on_shift(monday_nights, sh(2025, 3, 3, 23), calendar)  # Monday night
    assert on_shift(monday_nights, sh(2025, 3, 4, 5, 59), calendar)  # Tuesday early: Monday's shift
    assert not on_shift(monday_nights, sh(2025, 3, 4, 6), calendar)
    assert not on_shift(monday_nights, sh(2025, 3, 3, 3), calendar)  # Monday early: Sunday's, none


def test_overnight_shifts_on_working_days_follow_holidays_and_make_up_days(calendar: WorkingCalendar) -> None:
    nights = _roster(Shift(DayRule.WORKDAYS, time(22), time(6)))
    assert on_shift(nights, sh(2025, 3, 8, 3), calendar)  # Saturday 03:00: Friday's night
    assert not on_shift(nights, sh(2025, 3, 8, 23), calendar)  # Saturday night: not a working day
    assert on_shift(nights, sh(2024, 9, 29, 23), calendar)  # 调休 Sunday night
    assert on_shift(nights, sh(2024, 10, 1, 3), calendar)  # Sept 30 was a working day
    assert not on_shift(nights, sh(2024, 10, 1, 23), calendar)  # National Day night


def test_a_shift_from_a_time_to_the_same_time_lasts_a_day(calendar: WorkingCalendar) -> None:
    duty = _roster(Shift(DayRule.WEEKDAYS, time(8), time(8), frozenset({1})))  # Monday 08:00 to Tuesday 08:00
    assert on_shift(duty, sh(2025, 3, 3, 8), calendar)
    assert on_shift(duty, sh(2025, 3, 4, 7, 59), calendar)
    assert not on_shift(duty, sh(2025, 3, 4, 8), calendar)
    assert not on_shift(duty, sh(2025, 3, 3, 7, 59), calendar)


def test_working_day_rosters_beyond_the_calendar_data_raise(
    rosters: dict[str, Roster], calendar: WorkingCalendar
) -> None:
    beyond = calendar.last.year + 1  # past the provisional years too
    with pytest.raises(CalendarRangeError):
        on_shift(rosters["office"], sh(beyond, 3, 1, 10), calendar)
    assert on_shift(rosters["duty_24h"], sh(beyond, 3, 1, 10), calendar)  # "all" needs no calendar
    with pytest.raises(ValueError, match="naive"):
        on_shift(rosters["office"], datetime(2025, 3, 3, 10), calendar)  # noqa: DTZ001


def _doc(**shift: Any) -> dict[str, Any]:
    return {
        "roster": [
            {
                "code": "r",
                "zh": "班",
                "en": "R",
                "shift": [{"days": "all", "start": "08:00", "end": "16:00", **shift}],
            }
        ]
    }


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_doc(days="weekends"), "days must be"),
        (_doc(days=[0]), "days must be"),
        (_doc(days=[]), "days must be"),
        (_doc(start="8am"), "bad time"),
        (_doc(end=8), "must be a string"),
        ({"roster": [{"code": "r", "shift": []}]}, "has no shifts"),
        ({"roster": [{"zh": "班"}]}, "'code' must be"),
        ({"roster": []}, "no \\[\\[roster\\]\\]"),
        ({"roster": [_doc()["roster"][0], _doc()["roster"][0]]}, "declared twice"),
    ],
)
def test_bad_rosters_are_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_rosters(doc)
