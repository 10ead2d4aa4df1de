"""Rosters: day rules on the statutory calendar, overnight shifts, 24-hour duty."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.policy import PolicyError
from dispatch.directory import Directory
from dispatch.routing.rosters import (
    OFF_DUTY,
    ON_DUTY,
    DayRule,
    ExceptionKind,
    Roster,
    RosterException,
    Shift,
    on_duty,
    on_shift,
    parse_rosters,
    routing_rosters,
)
from dispatch.routing.values import Candidate
from dispatch.sla.calendar import WorkingCalendar, WorkingHours
from dispatch.sla.errors import CalendarRangeError
from tests.dispatch.helpers import sh

_HOURS = WorkingHours(((time(9), time(12)), (time(14), time(18))))
_TZ = ZoneInfo("Asia/Shanghai")


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


# --- dated exceptions: swap, take, leave --------------------------------------------------
REGULAR = {"day": "office", "night": "night", "early": "early"}
MON = date(2025, 3, 3)  # a working Monday


def _duty(
    who: str,
    at: datetime,
    exceptions: list[RosterException],
    rosters: dict[str, Roster],
    calendar: WorkingCalendar,
) -> bool:
    return on_duty(who, at, rosters=rosters, regular=REGULAR, exceptions=exceptions, calendar=calendar)


@pytest.mark.parametrize(
    ("exceptions", "who", "at", "expected"),
    [
        ([], "day", sh(2025, 3, 3, 10), True),
        ([RosterException(ExceptionKind.LEAVE, "day", MON, MON)], "day", sh(2025, 3, 3, 10), False),
        (
            [RosterException(ExceptionKind.LEAVE, "day", MON, MON)],
            "day",
            sh(2025, 3, 4, 10),
            True,
        ),  # leave over
        # a swap: each works the other's shift that day, and not their own
        ([RosterException(ExceptionKind.SWAP, "day", MON, MON, "night")], "day", sh(2025, 3, 3, 10), False),
        (
            [RosterException(ExceptionKind.SWAP, "day", MON, MON, "night")],
            "day",
            sh(2025, 3, 3, 23, 30),
            True,
        ),
        (
            [RosterException(ExceptionKind.SWAP, "day", MON, MON, "night")],
            "day",
            sh(2025, 3, 4, 3),
            True,
        ),  # overnight
        ([RosterException(ExceptionKind.SWAP, "day", MON, MON, "night")], "night", sh(2025, 3, 3, 10), True),
        (
            [RosterException(ExceptionKind.SWAP, "day", MON, MON, "night")],
            "night",
            sh(2025, 3, 3, 23, 30),
            False,
        ),
        # a take: the taker works both shifts, the other is off
        ([RosterException(ExceptionKind.TAKE, "early", MON, MON, "day")], "early", sh(2025, 3, 3, 7), True),
        ([RosterException(ExceptionKind.TAKE, "early", MON, MON, "day")], "early", sh(2025, 3, 3, 17), True),
        ([RosterException(ExceptionKind.TAKE, "early", MON, MON, "day")], "day", sh(2025, 3, 3, 10), False),
        # leave wins over a swap the same day
        (
            [
                RosterException(ExceptionKind.SWAP, "day", MON, MON, "night"),
                RosterException(ExceptionKind.LEAVE, "night", MON, MON),
            ],
            "night",
            sh(2025, 3, 3, 10),
            False,
        ),
    ],
)
def test_dated_exceptions(
    *,
    rosters: dict[str, Roster],
    calendar: WorkingCalendar,
    exceptions: list[RosterException],
    who: str,
    at: datetime,
    expected: bool,
) -> None:
    assert _duty(who, at, exceptions, rosters, calendar) is expected


def test_an_exception_names_its_people_and_days() -> None:
    with pytest.raises(PolicyError, match="last_day"):
        RosterException(ExceptionKind.LEAVE, "a", MON, date(2025, 3, 1))
    with pytest.raises(PolicyError, match="other_id"):
        RosterException(ExceptionKind.SWAP, "a", MON, MON)
    with pytest.raises(PolicyError, match="other_id"):
        RosterException(ExceptionKind.LEAVE, "a", MON, MON, "b")
    with pytest.raises(PolicyError, match="themselves"):
        RosterException(ExceptionKind.TAKE, "a", MON, MON, "a")


def test_the_directory_resolves_exceptions_for_the_router(calendar: WorkingCalendar) -> None:
    people = [Candidate(w, "grid_worker", "g1", "c1", "s1", r) for w, r in REGULAR.items()]
    leave = RosterException(ExceptionKind.LEAVE, "day", MON, MON)
    directory = Directory(people, dict.fromkeys(REGULAR, "grid"), [leave])
    resolved = {c.worker_id: c.roster for c in directory.on_duty_at(people, sh(2025, 3, 3, 10), calendar)}
    assert resolved == {
        "day": OFF_DUTY.code,
        "night": "night",
        "early": "early",
    }  # untouched: their own roster
    later = {c.worker_id: c.roster for c in directory.on_duty_at(people, sh(2025, 3, 4, 10), calendar)}
    assert later["day"] == ON_DUTY.code
    assert set(routing_rosters()) >= {ON_DUTY.code, OFF_DUTY.code, "office"}


def _direct(roster: Roster, at: datetime, calendar: WorkingCalendar) -> bool:
    """The shift rules read one by one (a spec of `on_shift` beside its day windows)."""
    local = at.astimezone(calendar.tz)
    for start_day in (local.date(), date.fromordinal(local.date().toordinal() - 1)):
        for s in roster.shifts:
            if s.rule is DayRule.ALL:
                starts = True
            elif s.rule is DayRule.WEEKDAYS:
                starts = start_day.isoweekday() in s.weekdays
            else:
                starts = calendar.is_workday(start_day)
            if not starts:
                continue
            now = local.time()
            if start_day == local.date():
                covers = now >= s.start if s.end <= s.start else s.start <= now < s.end
            else:
                covers = s.end <= s.start and now < s.end
            if covers:
                return True
    return False


def test_on_shift_agrees_with_the_shift_rules_over_holidays_and_make_up_days(
    rosters: dict[str, Roster], calendar: WorkingCalendar
) -> None:
    """Every 7 minutes over the 2025 Spring Festival (holidays and the 调休 Saturday/Sunday
    after it), every roster, once to fill the memo and once read from it."""
    extra = _roster(Shift(DayRule.WORKDAYS, time(22), time(6)), Shift(DayRule.ALL, time(12), time(12)))
    everyone = [*rosters.values(), ON_DUTY, OFF_DUTY, extra]
    start = sh(2025, 1, 25, 0)
    instants = [start + timedelta(minutes=7 * i) for i in range(4 * 24 * 60 // 7 * 4)]
    for _ in range(2):
        for roster in everyone:
            got = [on_shift(roster, at, calendar) for at in instants]
            assert got == [_direct(roster, at, calendar) for at in instants], roster.code


def test_the_shift_memo_follows_the_calendar_and_stays_bounded() -> None:
    """A calendar adopting a fresh schedule forgets the windows it held (a day off becomes a
    working day), and rosters loaded again and again do not grow the memo without end."""
    first = date(2026, 11, 1)
    off = WorkingCalendar(
        hours=_HOURS, tz=_TZ, first=first, last=date(2026, 12, 31), is_workday=lambda d: d.weekday() < 5
    )
    office = _roster(Shift(DayRule.WORKDAYS, time(9), time(18)))
    saturday_10 = sh(2026, 11, 28, 10)
    assert not on_shift(office, saturday_10, off)
    off.adopt(
        WorkingCalendar(hours=_HOURS, tz=_TZ, first=first, last=date(2026, 12, 31), is_workday=lambda d: True)
    )
    assert on_shift(office, saturday_10, off)  # the 调休 Saturday, read from the fresh schedule
    for i in range(5000):
        on_shift(_roster(Shift(DayRule.ALL, time(9), time(10))), saturday_10 + timedelta(days=i % 30), off)
    assert len(off.memo) <= 4096
