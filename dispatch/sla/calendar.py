"""Natural time and working time: the two scales a time limit can be read in.

Working time (README, SLA clocks) is Mon–Fri 9:00–12:00 and 14:00–18:00 in Asia/Shanghai, statutory
holidays off and make-up working days (调休) on. Which days are working days comes from the
`chinese-calendar` package (it follows the State Council's yearly notices) and the years an
operator imported from the notice before the package knew them, never from a hand-written list.
That is the *authoritative* range.

Beyond it, the calendar goes on *provisionally* for `PROVISIONAL_YEARS` more years: Monday to
Friday minus the statutory holidays that follow from fixed rules (元旦, 春节 by the lunar
calendar, 清明, 劳动节, 端午, 中秋, 国庆), as the `holidays` package computes them for any
year. Make-up working days (调休) only the notice can give, so a provisional year has none. A
clock never stops because the notice is late: a deadline in provisional time is computed,
marked provisional (`is_provisional`), and recomputed when the year is imported
(`dispatch.calendar.revisions`). Only an instant past the provisional years too raises
`CalendarRangeError`.

Why prefix sums: the calendar precomputes, for every day of its range, the working time that
elapsed before that day. The working time up to an instant is then one subtraction, a list
lookup and at most two period comparisons, and "add N working hours" is a binary search over the
same list: deadlines cost the same for 4 working hours or 20 working days, which matters on the
routing hot path and when 100,000 open deadlines are recovered after a restart.

All arithmetic is in integer microseconds, so `elapsed(start, add(start, d)) == d` exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as rule_holidays
from chinese_calendar import constants as chinese_calendar_data

from config.policy import Duration, PolicyError
from dispatch.sla.errors import CalendarRangeError

_US = timedelta(microseconds=1)
_US_PER_DAY = 86_400_000_000
_NATURAL_DAY = timedelta(days=1)
PROVISIONAL_YEARS = 3
"""How many years past the authoritative range the calendar goes on by rule (the longest
limit plus an extension is a few weeks; three years leave room for a notice that is late)."""


class ClockKind(StrEnum):
    """Which time a limit is read in (the `clock` column of README: Case workflow, SLA clocks)."""

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


def rule_based_year(year: int) -> YearSchedule:
    """A provisional year: the statutory holidays that follow from fixed rules, no make-up days."""
    days = rule_holidays.country_holidays("CN", years=year, categories=("public",))
    return YearSchedule(
        year, frozenset(d for d in days if d.year == year), frozenset(), "rule-based (holidays package)"
    )


def parse_holidays(doc: dict[str, object], origin: str = "holidays", text: str = "") -> list[YearSchedule]:
    """The shape config/holidays.toml documents (TOML or the same as JSON), checked whole.

    Refused, naming the line (found in `text`, the file as written) and the value: a date that is
    not one, a date outside its year, a date listed twice, a make-up working day that is a
    weekday anyway, a day both holiday and make-up day, a year listed twice.
    """
    entries = doc.get("year", [])
    if not isinstance(entries, list):
        raise PolicyError(f"{origin}: expected [[year]] tables")
    lines = _Lines(text)
    out: list[YearSchedule] = []
    seen_years: set[int] = set()
    for entry in entries:
        year = entry.get("year") if isinstance(entry, dict) else None
        if not isinstance(year, int) or isinstance(year, bool):
            where = lines.at(repr(year)) if year is not None else ""
            raise PolicyError(f"{origin}{where}: every [[year]] needs an integer 'year' (got {year!r})")
        assert isinstance(entry, dict)
        if year in seen_years:
            raise PolicyError(f"{origin}{lines.year(year, 2)}: year {year} is listed twice")
        seen_years.add(year)

        def dates(key: str, year: int = year, entry: dict[str, object] = entry) -> frozenset[date]:
            values = entry.get(key, [])
            if not isinstance(values, list):
                raise PolicyError(f"{origin}{lines.at(key)}: year {year}: '{key}' must be a list of dates")
            days: set[date] = set()
            for value in values:
                where = lines.at(str(value))
                try:
                    day = date.fromisoformat(str(value))
                except ValueError:
                    raise PolicyError(
                        f"{origin}{where}: year {year}: {key}: {value!r} is not a date"
                    ) from None
                if day.year != year:
                    raise PolicyError(f"{origin}{where}: year {year}: {key}: {value!r} is in another year")
                if day in days:
                    raise PolicyError(
                        f"{origin}{lines.at(str(value), 2)}: year {year}: {key}: {value!r} is listed twice"
                    )
                days.add(day)
            return frozenset(days)

        holidays, workdays = dates("holidays"), dates("workdays")
        wrong = sorted(d for d in workdays if d.weekday() < 5)
        if wrong:
            raise PolicyError(
                f"{origin}{lines.at(wrong[0].isoformat(), 0)}: year {year}: workdays: "
                f"'{wrong[0]}' is a weekday, already a working day (a make-up day falls on a weekend)"
            )
        both = sorted(holidays & workdays)
        if both:
            raise PolicyError(
                f"{origin}{lines.at(both[0].isoformat(), 0)}: year {year}: '{both[0]}' is both "
                "a holiday and a make-up working day"
            )
        out.append(YearSchedule(year, holidays, workdays, str(entry.get("source", ""))))
    return out


def following_years(last: int, extra: Sequence[YearSchedule]) -> dict[int, YearSchedule]:
    """The published years that extend a calendar known up to `last`, each following the one
    before; a year already known is ignored (the package wins)."""
    added: dict[int, YearSchedule] = {}
    for schedule in sorted(extra, key=lambda y: y.year):
        if schedule.year <= last:
            continue
        if schedule.year != last + 1:
            raise PolicyError(f"holidays: year {schedule.year} does not follow {last}, the last year known")
        added[schedule.year] = schedule
        last = schedule.year
    return added


def check_follows(
    schedules: Sequence[YearSchedule], *, package_last: int, known_last: int, origin: str, text: str = ""
) -> None:
    """An import's years: none the package knows, consecutive, the first at most one year after
    the last year known (re-importing an imported year replaces it)."""
    lines = _Lines(text)
    expected: int | None = None
    for schedule in sorted(schedules, key=lambda y: y.year):
        year = schedule.year
        where = f"{origin}{lines.year(year)}"
        if year <= package_last:
            raise PolicyError(f"{where}: year {year}: the chinese-calendar package already knows it")
        if expected is None and year > known_last + 1:
            raise PolicyError(
                f"{where}: year {year} does not follow {known_last}, the last year known "
                f"(import {known_last + 1} first)"
            )
        if expected is not None and year != expected:
            raise PolicyError(f"{where}: year {year} does not follow {expected - 1}, the year before it")
        expected = year + 1


def package_last_year() -> int:
    """The last year the installed chinese-calendar has the notice for."""
    return int(max(d.year for d in chinese_calendar_data.holidays))


class _Lines:
    """Where a value stands in the file as written, for error messages (":N")."""

    def __init__(self, text: str) -> None:
        self._lines = [line.split("#", 1)[0] for line in text.splitlines()]

    def at(self, value: str, occurrence: int = 1) -> str:
        """ ":N" of the `occurrence`-th line holding `value` (0: the last one); "" when unknown."""
        return self._nth([n for n, line in enumerate(self._lines, 1) if value in line], occurrence)

    def year(self, year: int, occurrence: int = 1) -> str:
        """ ":N" of the `occurrence`-th `year = Y` (TOML) or `"year": Y` (JSON)."""
        key = re.compile(rf"""\byear\b["']?\s*[=:]\s*{year}\b""")
        return self._nth([n for n, line in enumerate(self._lines, 1) if key.search(line)], occurrence)

    @staticmethod
    def _nth(found: list[int], occurrence: int) -> str:
        if not found:
            return ""
        n = found[-1] if occurrence == 0 or occurrence > len(found) else found[occurrence - 1]
        return f":{n}"


class WorkingCalendar:
    """Working time over a contiguous range of days for which the workday schedule is known.

    Days up to `authoritative_last` follow the published notices; later days (up to `last`) are
    provisional. `revision` names the operator-imported years the calendar was built with, so a
    process can tell that its copy is stale (`adopt` then takes a fresh build in place: every
    holder of this object sees the new days at once).
    """

    __slots__ = (
        "_authoritative_days",
        "_cum",
        "_day",
        "_first",
        "_hours",
        "_memo",
        "_ndays",
        "_origin",
        "_periods",
        "_tz",
        "_workday",
        "revision",
    )

    def __init__(
        self,
        *,
        hours: WorkingHours,
        tz: tzinfo,
        first: date,
        last: date,
        is_workday: Callable[[date], bool],
        authoritative_last: date | None = None,
        revision: int = 0,
    ) -> None:
        if last < first:
            raise ValueError(f"last: {last} is before first {first}")
        authoritative = last if authoritative_last is None else authoritative_last
        if not first - timedelta(days=1) <= authoritative <= last:
            raise ValueError(f"authoritative_last: {authoritative} is outside {first}..{last}")
        offset = _fixed_offset(tz, first, last)
        self._tz = tz
        self._hours = hours
        self._first = first
        self._ndays = (last - first).days + 1
        self._authoritative_days = (authoritative - first).days + 1
        self.revision = revision
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
        self._memo: dict[Any, Any] = {}

    @classmethod
    def chinese(
        cls,
        hours: WorkingHours,
        tz_name: str = "Asia/Shanghai",
        extra: Sequence[YearSchedule] = (),
        *,
        revision: int = 0,
        provisional_years: int = PROVISIONAL_YEARS,
        package_last: int | None = None,
    ) -> WorkingCalendar:
        """The statutory calendar over every year the installed chinese-calendar has data for,
        then the following years published by notice (`extra`: config/holidays.toml and the
        operator's imports), then `provisional_years` years by rule. `package_last` cuts the
        package's data short (tests: the same calendar whatever year the installed package knows)."""
        first, last = min(d.year for d in chinese_calendar_data.holidays), package_last_year()
        if package_last is not None:
            last = min(last, package_last)
        added = following_years(last, extra)
        authoritative = max([last, *added])
        for year in range(authoritative + 1, authoritative + 1 + provisional_years):
            added[year] = rule_based_year(year)

        def is_workday(day: date) -> bool:
            schedule = added.get(day.year)
            return chinese_calendar.is_workday(day) if schedule is None else schedule.is_workday(day)

        return cls(
            hours=hours,
            tz=ZoneInfo(tz_name),
            first=date(first, 1, 1),
            last=date(authoritative + provisional_years, 12, 31),
            is_workday=is_workday,
            authoritative_last=date(authoritative, 12, 31),
            revision=revision,
        )

    def adopt(self, fresh: WorkingCalendar) -> None:
        """Take the days of a fresh build of the same calendar (same hours, zone and start)."""
        if (fresh._first, fresh._periods, fresh._origin) != (self._first, self._periods, self._origin):
            raise ValueError("adopt: the fresh calendar has other working hours, zone or first day")
        self._ndays, self._authoritative_days = fresh._ndays, fresh._authoritative_days
        self._workday, self._cum, self.revision = fresh._workday, fresh._cum, fresh.revision
        self._memo = {}

    @property
    def authoritative_last(self) -> date:
        """The last day whose schedule comes from a published notice."""
        return self._first + timedelta(days=self._authoritative_days - 1)

    @property
    def authoritative_until(self) -> datetime:
        """The first instant of provisional time (midnight after the last authoritative day)."""
        return datetime.combine(self.authoritative_last + timedelta(days=1), time(0), tzinfo=self._tz)

    def is_provisional(self, at: datetime) -> bool:
        """Whether an instant (a deadline, an escalation step) lies in provisional time."""
        return _aware(at, "at") >= self.authoritative_until

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

    @property
    def memo(self) -> dict[Any, Any]:
        """Facts derived from the workday schedule (e.g. a roster's shift windows of a day),
        kept by whoever derives them: emptied when `adopt` changes the schedule."""
        return self._memo

    def local_day(self, at: datetime) -> tuple[int, int] | None:
        """(day index from `first`, microseconds since local midnight) of an aware instant, by
        the range's fixed offset (no zone lookup); None outside the range."""
        delta = _aware(at, "at") - self._origin
        i = delta.days
        if not 0 <= i < self._ndays:
            return None
        return i, delta.seconds * 1_000_000 + delta.microseconds

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
                "(import the State Council's notice: yiwang calendar import FILE)"
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
            "(import the State Council's notice: yiwang calendar import FILE)"
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

    def provisional(self, kind: ClockKind, at: datetime | None) -> bool:
        """Whether an instant read on a clock of `kind` lies in provisional working time
        (natural time never is)."""
        return at is not None and kind is ClockKind.WORKING and self.working.is_provisional(at)


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
