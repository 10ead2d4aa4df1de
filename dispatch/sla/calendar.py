"""Natural time and working time: the two scales a time limit can be read in.

Working time (DESIGN §5) is Mon–Fri 9:00–12:00 and 14:00–18:00 in Asia/Shanghai, statutory
holidays off and make-up working days (调休) on. Which days are working days comes from the
`chinese-calendar` package (it follows the State Council's yearly notices), never from a
hand-written list. Its data covers a fixed range of years; an instant outside that range raises
`CalendarRangeError` rather than guessing.

Why prefix sums: the calendar precomputes, for every day of its range, the working time that
elapsed before that day. The working time up to an instant is then one subtraction, a list
lookup and at most two period comparisons, and "add N working hours" is a binary search over the
same list: deadlines cost the same for 4 working hours or 20 working days, which matters on the
routing hot path and when 100,000 open deadlines are recovered after a restart.

All arithmetic is in integer microseconds, so `elapsed(start, add(start, d)) == d` exactly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as chinese_calendar_data

from config.policy import Duration, PolicyError
from dispatch.sla.errors import CalendarRangeError

_US = timedelta(microseconds=1)
_US_PER_DAY = 86_400_000_000
_NATURAL_DAY = timedelta(days=1)


class ClockKind(StrEnum):
    """Which time a limit is read in (the `clock` column of DESIGN §5)."""

    NATURAL = "natural"
    WORKING = "working"


class TimeScale(Protocol):
    """A way of measuring time: natural time, or working time on a calendar."""

    @property
    def kind(self) -> ClockKind: ...

    @property
    def day(self) -> timedelta:
        """How much of this scale's time one "d" of a policy `Duration` is."""
        ...

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of this scale's time has passed since `start`."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """This scale's time between two instants (negative when `end` is before `start`)."""
        ...


def span(duration: Duration, scale: TimeScale) -> timedelta:
    """A policy duration as an amount of the scale's time ("1d" working = one working day)."""
    if duration.unit == "min":
        return timedelta(minutes=duration.value)
    if duration.unit == "h":
        return timedelta(hours=duration.value)
    return scale.day * duration.value


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime {at.isoformat()}; pass a timezone-aware datetime")
    return at


class NaturalTime:
    """Natural time: every minute counts, around the clock."""

    @property
    def kind(self) -> ClockKind:
        return ClockKind.NATURAL

    @property
    def day(self) -> timedelta:
        return _NATURAL_DAY

    def add(self, start: datetime, amount: timedelta) -> datetime:
        if amount < timedelta(0):
            raise ValueError(f"amount: {amount} is negative")
        return _aware(start, "start") + amount

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return _aware(end, "end") - _aware(start, "start")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The daily working periods, local time, in order ("09:00"–"12:00", "14:00"–"18:00")."""

    periods: tuple[tuple[time, time], ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise PolicyError("working hours: at least one period is needed")
        previous_end: time | None = None
        for start, end in self.periods:
            if not start < end:
                raise PolicyError(f"working hours: period {start}–{end} must end after it starts")
            if previous_end is not None and start < previous_end:
                raise PolicyError(f"working hours: period {start}–{end} overlaps the one before")
            previous_end = end

    @property
    def day(self) -> timedelta:
        """One working day's worth of working time (7 h for the default hours)."""
        return sum((_on(end) - _on(start) for start, end in self.periods), timedelta(0))


def _on(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's statutory schedule as published: holidays off, make-up working days on."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def parse_holidays(doc: dict[str, object], origin: str = "holidays") -> list[YearSchedule]:
    """`config/holidays.toml`: every date checked to lie in its year and to make sense."""
    entries = doc.get("year", [])
    if not isinstance(entries, list):
        raise PolicyError(f"{origin}: expected [[year]] tables")
    out: list[YearSchedule] = []
    for entry in entries:
        year = entry.get("year") if isinstance(entry, dict) else None
        if not isinstance(year, int):
            raise PolicyError(f"{origin}: every [[year]] needs an integer 'year'")
        assert isinstance(entry, dict)

        def dates(key: str, year: int = year, entry: dict[str, object] = entry) -> frozenset[date]:
            values = entry.get(key, [])
            if not isinstance(values, list):
                raise PolicyError(f"{origin}: year {year}: '{key}' must be a list of dates")
            days: set[date] = set()
            for value in values:
                try:
                    day = date.fromisoformat(str(value))
                except ValueError:
                    raise PolicyError(f"{origin}: year {year}: {key}: {value!r} is not a date") from None
                if day.year != year:
                    raise PolicyError(f"{origin}: year {year}: {key}: {day} is in another year")
                days.add(day)
            return frozenset(days)

        holidays, workdays = dates("holidays"), dates("workdays")
        wrong = sorted(d for d in workdays if d.weekday() < 5)
        if wrong:
            raise PolicyError(f"{origin}: year {year}: workdays {wrong[0]} is already a weekday")
        out.append(YearSchedule(year, holidays, workdays, str(entry.get("source", ""))))
    return out


class WorkingCalendar:
    """Working time over a contiguous range of days for which the workday schedule is known."""

    __slots__ = ("_cum", "_day", "_first", "_hours", "_ndays", "_origin", "_periods", "_tz", "_workday")

    def __init__(
        self,
        *,
        hours: WorkingHours,
        tz: tzinfo,
        first: date,
        last: date,
        is_workday: Callable[[date], bool],
    ) -> None:
        if last < first:
            raise ValueError(f"last: {last} is before first {first}")
        offset = _fixed_offset(tz, first, last)
        self._tz = tz
        self._hours = hours
        self._first = first
        self._ndays = (last - first).days + 1
        # A fixed-offset origin makes `instant - origin` give the local day index and the local
        # time of day directly (Asia/Shanghai has had no daylight saving since 1991).
        self._origin = datetime.combine(first, time(0), tzinfo=timezone(offset))
        self._periods = tuple((_on(s) // _US, _on(e) // _US) for s, e in hours.periods)
        self._day = hours.day
        day_us = self._day // _US
        workday = bytearray(self._ndays)
        cum = [0] * (self._ndays + 1)
        for i in range(self._ndays):
            workday[i] = 1 if is_workday(first + timedelta(days=i)) else 0
            cum[i + 1] = cum[i] + (day_us if workday[i] else 0)
        self._workday = bytes(workday)
        self._cum = cum

    @classmethod
    def chinese(
        cls, hours: WorkingHours, tz_name: str = "Asia/Shanghai", extra: Sequence[YearSchedule] = ()
    ) -> WorkingCalendar:
        """The statutory calendar over every year the installed chinese-calendar has data for,
        then the following years published in config/holidays.toml (`extra`)."""
        years = [d.year for d in chinese_calendar_data.holidays]
        first, last = min(years), max(years)
        added: dict[int, YearSchedule] = {}
        for schedule in sorted(extra, key=lambda y: y.year):
            if schedule.year <= last:
                continue  # the package knows this year: it wins
            if schedule.year != last + 1:
                raise PolicyError(
                    f"holidays: year {schedule.year} does not follow {last}, the last year known"
                )
            added[schedule.year] = schedule
            last = schedule.year

        def is_workday(day: date) -> bool:
            schedule = added.get(day.year)
            return chinese_calendar.is_workday(day) if schedule is None else schedule.is_workday(day)

        return cls(
            hours=hours,
            tz=ZoneInfo(tz_name),
            first=date(first, 1, 1),
            last=date(last, 12, 31),
            is_workday=is_workday,
        )

    @property
    def kind(self) -> ClockKind:
        return ClockKind.WORKING

    @property
    def day(self) -> timedelta:
        return self._day

    @property
    def tz(self) -> tzinfo:
        return self._tz

    @property
    def first(self) -> date:
        return self._first

    @property
    def last(self) -> date:
        return self._first + timedelta(days=self._ndays - 1)

    @property
    def horizon(self) -> datetime:
        """The first instant the calendar knows nothing about (midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self._tz)

    def is_workday(self, day: date) -> bool:
        """Whether `day` is a statutory working day (调休 Saturdays are, holiday Mondays are not)."""
        i = (day - self._first).days
        if not 0 <= i < self._ndays:
            raise self._out_of_range(day)
        return bool(self._workday[i])

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of working time has passed since `start`.

        Starting outside working hours counts from the next working period; a result that lands
        exactly on the end of a period is that end (18:00), not the next morning.
        """
        if amount < timedelta(0):
            raise ValueError(f"amount: {amount} is negative")
        if not amount:
            _aware(start, "start")
            return start
        result = self._instant(self._worked(start) + amount // _US)
        tz = start.tzinfo
        return result.astimezone(tz) if tz is not None else result

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return (self._worked(end) - self._worked(start)) * _US

    def _worked(self, at: datetime) -> int:
        """Working microseconds from the start of the range up to `at`."""
        delta = _aware(at, "at") - self._origin
        i = delta.days
        if not 0 <= i < self._ndays:
            raise self._out_of_range(at.astimezone(self._tz).date())
        worked = self._cum[i]
        if self._workday[i]:
            now = delta.seconds * 1_000_000 + delta.microseconds
            for start, end in self._periods:
                if now <= start:
                    break
                worked += (now if now < end else end) - start
        return worked

    def _instant(self, worked: int) -> datetime:
        """The earliest instant at which `worked` microseconds of working time have passed."""
        j = bisect_left(self._cum, worked)
        if j == 0:
            return self._origin
        if j > self._ndays:
            raise CalendarRangeError(
                f"working calendar has data up to {self.last} only: the result lies beyond it "
                "(update the chinese-calendar package once the State Council publishes the next year)"
            )
        i = j - 1
        rest = worked - self._cum[i]
        local = 0
        for start, end in self._periods:
            if rest <= end - start:
                local = start + rest
                break
            rest -= end - start
        return self._origin + timedelta(days=i, microseconds=local)

    def _out_of_range(self, day: date) -> CalendarRangeError:
        return CalendarRangeError(
            f"working calendar has data for {self.first}..{self.last} only; {day} is outside it "
            "(update the chinese-calendar package once the State Council publishes the next year)"
        )


def _fixed_offset(tz: tzinfo, first: date, last: date) -> timedelta:
    """The zone's one UTC offset over the range; zones with daylight saving are refused."""
    offsets = {
        datetime(year, month, 1, 12, tzinfo=tz).utcoffset()
        for year in range(first.year, last.year + 1)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1 or None in offsets:
        raise PolicyError(f"working time zone {tz}: its UTC offset changes within {first}..{last}")
    (offset,) = offsets
    assert offset is not None
    return offset


NATURAL_TIME = NaturalTime()


@dataclass(frozen=True, slots=True)
class Timekeeper:
    """Both time scales, so a clock can be read in whichever its case's priority names."""

    working: WorkingCalendar
    natural: NaturalTime = NATURAL_TIME

    def scale(self, kind: ClockKind) -> TimeScale:
        return self.working if kind is ClockKind.WORKING else self.natural


def parse_hours(periods: Sequence[Sequence[str]], where: str) -> WorkingHours:
    """Working periods from policy text: [["09:00", "12:00"], ["14:00", "18:00"]]."""
    parsed: list[tuple[time, time]] = []
    for pair in periods:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise PolicyError(f'{where}: each period is a pair ["HH:MM", "HH:MM"]')
        parsed.append((parse_clock_time(pair[0], where), parse_clock_time(pair[1], where)))
    return WorkingHours(tuple(parsed))


def parse_clock_time(text: object, where: str) -> time:
    """A local wall-clock time "HH:MM" (24-hour)."""
    if not isinstance(text, str):
        raise PolicyError(f'{where}: time {text!r} must be a string "HH:MM"')
    try:
        hour, minute = (int(part) for part in text.split(":"))
        return time(hour, minute)
    except ValueError:
        raise PolicyError(f'{where}: bad time {text!r}, expected "HH:MM"') from None
