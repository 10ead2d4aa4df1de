"""Weekly shift patterns (`config/rosters.toml`) and "is this worker on shift now".

A shift belongs to the day it starts on: the night shift 23:00–07:00 "on Monday" covers Monday
23:00 to Tuesday 07:00, so on Tuesday 03:00 it is Monday's shift that matters. `end <= start`
means the shift runs past midnight, and `start == end` is a full 24 hours (the duty desk).
"workdays" are statutory working days on the working calendar: holidays off, 调休 Saturdays on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, PolicyError, read_toml
from dispatch.sla.calendar import WorkingCalendar, parse_clock_time

_ONE_DAY = timedelta(days=1)


class DayRule(StrEnum):
    WORKDAYS = "workdays"
    ALL = "all"
    WEEKDAYS = "weekdays"  # an explicit list of ISO weekdays, 1 = Monday ... 7 = Sunday


@dataclass(frozen=True, slots=True)
class Shift:
    rule: DayRule
    start: time
    end: time
    weekdays: frozenset[int] = frozenset()  # WEEKDAYS only

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Roster:
    code: str
    zh: str
    en: str
    shifts: tuple[Shift, ...]


def _starts_on(shift: Shift, day: datetime, calendar: WorkingCalendar) -> bool:
    if shift.rule is DayRule.ALL:
        return True
    if shift.rule is DayRule.WEEKDAYS:
        return day.isoweekday() in shift.weekdays
    return calendar.is_workday(day.date())


def on_shift(roster: Roster, at: datetime, calendar: WorkingCalendar) -> bool:
    """Whether a worker on `roster` is on shift at the instant `at` (local time of the calendar)."""
    if at.tzinfo is None:
        raise ValueError(f"at: naive datetime {at.isoformat()}; pass a timezone-aware datetime")
    local = at.astimezone(calendar.tz)
    now = local.time()
    for shift in roster.shifts:
        if shift.overnight:
            if now >= shift.start and _starts_on(shift, local, calendar):
                return True
            if now < shift.end and _starts_on(shift, local - _ONE_DAY, calendar):
                return True
        elif shift.start <= now < shift.end and _starts_on(shift, local, calendar):
            return True
    return False


def _shift(entry: dict[str, Any], where: str) -> Shift:
    days = entry.get("days")
    start = parse_clock_time(entry.get("start"), where)
    end = parse_clock_time(entry.get("end"), where)
    if days in (DayRule.WORKDAYS.value, DayRule.ALL.value):
        return Shift(DayRule(days), start, end)
    if (
        isinstance(days, list)
        and days
        and all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in days)
    ):
        return Shift(DayRule.WEEKDAYS, start, end, frozenset(days))
    raise PolicyError(f'{where}: days must be "workdays", "all" or a list of ISO weekdays 1..7')


def parse_rosters(doc: dict[str, Any], origin: str = "rosters") -> dict[str, Roster]:
    rosters: dict[str, Roster] = {}
    for i, entry in enumerate(doc.get("roster", [])):
        where = f"{origin}: roster[{i}]"
        code = entry.get("code")
        if not isinstance(code, str) or not code:
            raise PolicyError(f"{where}: 'code' must be a non-empty string")
        if code in rosters:
            raise PolicyError(f"{where}: roster {code!r} declared twice")
        shifts = tuple(
            _shift(s, f"{origin}: roster {code!r} shift[{j}]") for j, s in enumerate(entry.get("shift", []))
        )
        if not shifts:
            raise PolicyError(f"{origin}: roster {code!r} has no shifts")
        rosters[code] = Roster(code, str(entry.get("zh", code)), str(entry.get("en", code)), shifts)
    if not rosters:
        raise PolicyError(f"{origin}: no [[roster]] entries")
    return rosters


def load_rosters(path: Path = CONFIG_DIR / "rosters.toml") -> dict[str, Roster]:
    return parse_rosters(read_toml(path), origin=str(path))
