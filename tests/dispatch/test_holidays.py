"""Years the chinese-calendar package does not know yet, from config/holidays.toml."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.policy import PolicyError
from dispatch.sla.calendar import WorkingCalendar, parse_holidays
from dispatch.sla.deadlines import timekeeper_for
from dispatch.sla.errors import CalendarRangeError
from dispatch.sla.policy import load_sla

SH = ZoneInfo("Asia/Shanghai")
DOC = {
    "year": [
        {
            "year": 2027,
            "source": "test notice",
            "holidays": ["2027-01-01", "2027-02-08"],
            "workdays": ["2027-02-20"],
        }
    ]
}


def test_the_shipped_file_parses_and_the_package_year_is_the_horizon_without_it() -> None:
    tk = timekeeper_for(load_sla())
    assert tk.working.last >= date(2026, 12, 31)
    bare = timekeeper_for(load_sla(), holidays=Path("/nonexistent"))
    assert bare.working.last == tk.working.last or tk.working.last.year > bare.working.last.year


def test_a_published_year_extends_the_calendar(tmp_path: Path) -> None:
    f = tmp_path / "holidays.toml"
    f.write_text(
        '[[year]]\nyear = 2027\nholidays = ["2027-01-01", "2027-02-08"]\nworkdays = ["2027-02-20"]\n'
    )
    sla = load_sla()
    before = timekeeper_for(sla, holidays=tmp_path / "absent.toml").working
    if before.last.year >= 2027:
        pytest.skip("the installed chinese-calendar already knows 2027")
    cal = timekeeper_for(sla, holidays=f).working
    assert cal.last == date(2027, 12, 31)
    assert not cal.is_workday(date(2027, 1, 1))  # a holiday on a Friday
    assert not cal.is_workday(date(2027, 2, 8))  # a holiday on a Monday
    assert cal.is_workday(date(2027, 2, 20))  # a make-up Saturday
    assert cal.is_workday(date(2027, 1, 4)) and not cal.is_workday(date(2027, 1, 9))
    # a deadline across New Year is computed instead of refused
    start = datetime(2026, 12, 31, 17, 0, tzinfo=SH)
    with pytest.raises(CalendarRangeError):
        before.add(start, timedelta(hours=2))
    assert cal.add(start, timedelta(hours=2)) == datetime(2027, 1, 4, 10, 0, tzinfo=SH)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"year": [{"holidays": []}]}, "integer 'year'"),
        ({"year": [{"year": 2027, "holidays": ["2027-13-01"]}]}, "is not a date"),
        ({"year": [{"year": 2027, "holidays": ["2028-01-01"]}]}, "in another year"),
        ({"year": [{"year": 2027, "workdays": ["2027-02-22"]}]}, "already a weekday"),
    ],
)
def test_malformed_schedules_are_refused(doc: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_holidays(doc)


def test_a_gap_between_years_is_refused() -> None:
    schedules = parse_holidays({"year": [{"year": 2099}]})
    with pytest.raises(PolicyError, match="does not follow"):
        WorkingCalendar.chinese(load_sla().hours, extra=schedules)
