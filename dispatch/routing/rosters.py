"""Weekly shift patterns (`config/rosters.toml`) and "is this worker on shift now".

A shift belongs to the day it starts on: the night shift 23:00–07:00 "on Monday" covers Monday
23:00 to Tuesday 07:00, so on Tuesday 03:00 it is Monday's shift that matters. `end <= start`
means the shift runs past midnight, and `start == end` is a full 24 hours (the duty desk).
"workdays" are statutory working days on the working calendar: holidays off, 调休 Saturdays on.

Dated exceptions (`RosterException`, kept in PostgreSQL and edited on the people page or with
`yiwang shifts`) change whose shift it is on given days: a swap gives two people each other's
shifts of that day, a take gives one person another's shift (the other is off), leave takes a
person off every shift starting in a date range. `on_duty` applies them; the directory
resolves each person with an exception to a fixed `ON_DUTY`/`OFF_DUTY` roster for the instant
it routes at, so the router keeps evaluating plain rosters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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


def _covers(shift: Shift, local: datetime, start_day: date) -> bool:
    """Whether `shift`, started on `start_day`, covers the local instant `local`."""
    now = local.time()
    if start_day == local.date():
        return now >= shift.start if shift.overnight else shift.start <= now < shift.end
    return shift.overnight and start_day == local.date() - _ONE_DAY and now < shift.end


def on_shift(roster: Roster, at: datetime, calendar: WorkingCalendar) -> bool:
    """Whether a worker on `roster` is on shift at the instant `at` (local time of the calendar).

    Asked for every candidate of every routing (the SLA tracker's reassignments, the intake, a
    replay): a roster's windows of a local day are worked out once and kept in the calendar's
    memo, so the answer is a comparison; outside the calendar's range (and on its first day,
    whose previous day it does not know) the shifts are evaluated directly.
    """
    found = calendar.local_day(at)
    if found is None or found[0] == 0:
        local = _local(at, calendar)
        return any(
            _roster_covers(roster, local, day, calendar) for day in (local.date(), local.date() - _ONE_DAY)
        )
    index, now = found
    key = (_WINDOWS, id(roster), index)
    memo = calendar.memo
    held = memo.get(key)
    if held is None or held[0] is not roster:
        if len(memo) >= _MEMO_MAX:  # rosters loaded per request (the forecast) come and go
            memo.clear()
        held = memo[key] = (
            roster,
            _day_windows(roster, calendar.first + timedelta(days=index), calendar),
        )
    return any(start <= now < end for start, end in held[1])


_WINDOWS = "roster-windows"
_MEMO_MAX = 4096
"""Windows kept at most (a roster's day each): a process reloading its rosters does not grow."""
_DAY_US = 86_400_000_000


def _us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _day_windows(roster: Roster, day: date, calendar: WorkingCalendar) -> tuple[tuple[int, int], ...]:
    """The [start, end) microseconds of local `day` that `roster`'s shifts cover: those starting
    that day (an overnight one to midnight) and the overnight ones of the day before (from
    midnight), exactly as `_covers` reads them."""
    before = day - _ONE_DAY
    out: list[tuple[int, int]] = []
    for shift in roster.shifts:
        start, end = _us(shift.start), _us(shift.end)
        if _starts_on(shift, datetime.combine(day, time()), calendar):
            out.append((start, _DAY_US) if shift.overnight else (start, end))
        if shift.overnight and _starts_on(shift, datetime.combine(before, time()), calendar):
            out.append((0, end))
    return tuple(out)


def _local(at: datetime, calendar: WorkingCalendar) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"at: naive datetime {at.isoformat()}; pass a timezone-aware datetime")
    return at.astimezone(calendar.tz)


def _roster_covers(roster: Roster, local: datetime, day: date, calendar: WorkingCalendar) -> bool:
    start = datetime.combine(day, time(), tzinfo=local.tzinfo)
    return any(_starts_on(s, start, calendar) and _covers(s, local, day) for s in roster.shifts)


class ExceptionKind(StrEnum):
    SWAP = "swap"  # worker and other exchange their shifts starting on the dates
    TAKE = "take"  # worker takes other's shifts starting on the dates; other is off
    LEAVE = "leave"  # worker is off every shift starting on the dates


@dataclass(frozen=True, slots=True)
class RosterException:
    kind: ExceptionKind
    worker_id: str
    first_day: date
    last_day: date  # inclusive
    other_id: str | None = None  # SWAP and TAKE: the second person

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise PolicyError(f"last_day: {self.last_day} is before first_day {self.first_day}")
        if (self.kind is ExceptionKind.LEAVE) != (self.other_id is None):
            raise PolicyError(
                f"other_id: a {self.kind} names "
                + ("no second person" if self.kind is ExceptionKind.LEAVE else "a second person")
            )
        if self.other_id == self.worker_id:
            raise PolicyError(f"other_id: {self.worker_id} cannot {self.kind} with themselves")

    def on(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    @property
    def people(self) -> tuple[str, ...]:
        return (self.worker_id,) if self.other_id is None else (self.worker_id, self.other_id)


ON_DUTY = Roster(
    "_on_duty", "值班（调班）", "On duty (a dated exception)", (Shift(DayRule.ALL, time(), time()),)
)
OFF_DUTY = Roster("_off_duty", "休息（调班）", "Off duty (a dated exception)", ())
RESOLVED_ROSTERS = {ON_DUTY.code: ON_DUTY, OFF_DUTY.code: OFF_DUTY}
"""The two rosters the directory resolves a person with an exception to; never in a sheet."""


def rosters_for_day(
    worker_id: str,
    day: date,
    regular: Mapping[str, str],
    exceptions: Iterable[RosterException],
) -> tuple[str, ...]:
    """The roster codes whose shifts starting on `day` are `worker_id`'s (`regular`: id -> roster).

    Leave wins over everything; then swaps and takes of that day, in the order given.
    """
    todays = [e for e in exceptions if e.on(day) and worker_id in e.people]
    if any(e.kind is ExceptionKind.LEAVE and e.worker_id == worker_id for e in todays):
        return ()
    own = regular.get(worker_id)
    codes: list[str] = [own] if own else []
    for e in todays:
        if e.kind is ExceptionKind.SWAP:
            other = e.other_id if e.worker_id == worker_id else e.worker_id
            codes = [c for c in codes if c != own]
            if other is not None and other in regular:
                codes.append(regular[other])
        elif e.kind is ExceptionKind.TAKE:
            if e.worker_id == worker_id and e.other_id is not None and e.other_id in regular:
                codes.append(regular[e.other_id])
            elif e.other_id == worker_id:
                codes = [c for c in codes if c != own]
    return tuple(dict.fromkeys(codes))


def on_duty(
    worker_id: str,
    at: datetime,
    *,
    rosters: Mapping[str, Roster],
    regular: Mapping[str, str],
    exceptions: Iterable[RosterException],
    calendar: WorkingCalendar,
) -> bool:
    """Whether `worker_id` is on shift at `at`, their dated exceptions applied."""
    local = _local(at, calendar)
    held = list(exceptions)
    for day in (local.date(), local.date() - _ONE_DAY):
        for code in rosters_for_day(worker_id, day, regular, held):
            roster = rosters.get(code)
            if roster is not None and _roster_covers(roster, local, day, calendar):
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


def routing_rosters(path: Path = CONFIG_DIR / "rosters.toml") -> dict[str, Roster]:
    """The rosters the router evaluates: the configured ones and the two resolved ones."""
    return {**load_rosters(path), **RESOLVED_ROSTERS}
