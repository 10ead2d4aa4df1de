"""Years past the chinese-calendar package: published ones (config/holidays.toml, imports) and
provisional ones (weekdays minus rule-based holidays). The package's last year is injected
(`package_last=2026`), so these tests read the same whatever year the installed package knows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.policy import PolicyError, Priority
from dispatch.intake.rules import IntakeRules
from dispatch.sla.calendar import ClockKind, Timekeeper, WorkingCalendar, check_follows, parse_holidays
from dispatch.sla.clocks import ClockName
from dispatch.sla.deadlines import Deadlines, calendar_for, read_schedules
from dispatch.sla.errors import CalendarRangeError
from dispatch.sla.forecast import forecast
from dispatch.sla.policy import load_sla

SH = ZoneInfo("Asia/Shanghai")
NONE = Path("/nonexistent")
NOTICE_2027 = (
    '[[year]]\nyear = 2027\nsource = "test notice"\n'
    'holidays = ["2027-01-01", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12"]\n'
    'workdays = ["2027-02-20"]\n'
)


def calendar(holidays: Path = NONE) -> WorkingCalendar:
    return calendar_for(load_sla(), holidays, package_last=2026)


def test_the_shipped_file_parses() -> None:
    shipped = calendar_for(load_sla())
    assert shipped.authoritative_last >= date(2026, 12, 31)


def test_a_published_year_extends_the_authoritative_calendar(tmp_path: Path) -> None:
    f = tmp_path / "holidays.toml"
    f.write_text(NOTICE_2027)
    before, cal = calendar(), calendar(f)
    assert before.authoritative_last == date(2026, 12, 31)
    assert cal.authoritative_last == date(2027, 12, 31)
    assert not cal.is_workday(date(2027, 1, 1))  # a holiday on a Friday
    assert not cal.is_workday(date(2027, 2, 8))  # a holiday on a Monday
    assert cal.is_workday(date(2027, 2, 20))  # a make-up Saturday: only a notice gives those
    assert not before.is_workday(date(2027, 2, 20))
    start = datetime(2026, 12, 31, 17, 0, tzinfo=SH)
    due = cal.add(start, timedelta(hours=2))
    assert due == datetime(2027, 1, 4, 10, 0, tzinfo=SH) and not cal.is_provisional(due)


def test_2026_12_31_afternoon_gets_a_provisional_2027_deadline() -> None:
    cal = calendar()
    assert cal.authoritative_until == datetime(2027, 1, 1, tzinfo=SH)
    start = datetime(2026, 12, 31, 16, 0, tzinfo=SH)
    within = cal.add(start, timedelta(hours=2))
    assert within == datetime(2026, 12, 31, 18, 0, tzinfo=SH) and not cal.is_provisional(within)
    # P3 resolve, 5 working days: 2 h on the 31st, 1 Jan is 元旦 by rule, then Mon 4 .. Fri 8 Jan
    due = cal.add(start, 5 * cal.day)
    assert due == datetime(2027, 1, 8, 16, 0, tzinfo=SH)
    assert cal.is_provisional(due)


def test_the_2027_spring_festival_is_off_by_the_lunar_rule() -> None:
    cal = calendar()
    # 除夕 5 Feb (Fri) .. 10 Feb (Wed), as the holidays package computes from the lunar calendar
    assert [cal.is_workday(date(2027, 2, d)) for d in range(4, 12)] == [
        True, False, False, False, False, False, False, True,
    ]  # fmt: skip
    start = datetime(2027, 2, 4, 10, 0, tzinfo=SH)  # a case opened the day before the festival
    assert cal.add(start, cal.day) == datetime(2027, 2, 11, 10, 0, tzinfo=SH)
    # opened during the festival: the clock starts on the first working morning after it
    assert cal.add(datetime(2027, 2, 7, 11, 0, tzinfo=SH), timedelta(hours=1)) == datetime(
        2027, 2, 11, 10, 0, tzinfo=SH
    )


def test_a_case_opened_on_a_provisional_weekend_starts_on_monday() -> None:
    cal = calendar()
    saturday = datetime(2027, 1, 9, 11, 0, tzinfo=SH)
    assert cal.add(saturday, timedelta(hours=4)) == datetime(2027, 1, 11, 15, 0, tzinfo=SH)
    assert cal.elapsed(saturday, datetime(2027, 1, 10, 23, 0, tzinfo=SH)) == timedelta(0)


def test_only_past_the_provisional_years_is_the_calendar_refused() -> None:
    cal = calendar()
    assert cal.last == date(2029, 12, 31)
    with pytest.raises(CalendarRangeError, match="yiwang calendar import"):
        cal.add(datetime(2029, 12, 31, 9, 0, tzinfo=SH), 10 * cal.day)


def test_adopt_moves_every_holder_of_the_calendar_at_once(tmp_path: Path) -> None:
    f = tmp_path / "notice.toml"
    f.write_text(NOTICE_2027)
    cal = calendar()
    tk = Timekeeper(cal)
    start = datetime(2027, 2, 19, 17, 0, tzinfo=SH)  # Friday; Saturday the 20th is made a workday
    assert tk.working.add(start, timedelta(hours=2)) == datetime(2027, 2, 22, 10, 0, tzinfo=SH)
    assert tk.provisional(ClockKind.WORKING, start)
    cal.adopt(calendar(f))
    assert tk.working.add(start, timedelta(hours=2)) == datetime(2027, 2, 20, 10, 0, tzinfo=SH)
    assert not tk.provisional(ClockKind.WORKING, start)


def test_sla_deadline_forecast_marks_each_instant() -> None:
    rules = IntakeRules.load()
    tk = Timekeeper(calendar())
    deadlines = Deadlines(rules.sla, rules.taxonomy, tk)
    start = datetime.fromisoformat("2026-12-31T16:00:00+08:00")
    plan = forecast(
        deadlines, rules.escalation, category="exposed_garbage", priority=Priority.P3, start=start
    )
    assert set(plan) == {ClockName.REGISTER, ClockName.ACCEPT, ClockName.RESOLVE, ClockName.VERIFY}
    assert not plan[ClockName.VERIFY].provisional  # natural time: never provisional
    assert plan[ClockName.ACCEPT].deadline == datetime(2026, 12, 31, 17, 0, tzinfo=SH)
    assert not plan[ClockName.ACCEPT].provisional
    resolve = plan[ClockName.RESOLVE]
    # exposed garbage: 4 working hours, 2 of them on the 31st, 元旦 off, then Monday 4 January
    assert resolve.deadline == datetime(2027, 1, 4, 11, 0, tzinfo=SH) and resolve.provisional
    assert [s.provisional for s in resolve.steps] == [True] * len(resolve.steps)
    assert set(plan[ClockName.RESOLVE].doc()) >= {"deadline", "provisional", "steps"}


# --- bad import files: refused whole, naming line and value ------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[year]]\nyear = 2027\nholidays = ["2027-01-01",\n  "2027-01-01"]\n',
            r":4: .*'2027-01-01' is listed twice",
        ),
        ('[[year]]\nyear = 2027\nworkdays = ["2027-02-22"]\n', r":3: .*'2027-02-22' is a weekday"),
        (
            '[[year]]\nyear = 2027\nholidays = ["2027-02-06"]\nworkdays = ["2027-02-06"]\n',
            r":4: .*'2027-02-06' is both a holiday and a make-up working day",
        ),
        ('[[year]]\nyear = 2027\nholidays = ["2027-02-30"]\n', r":3: .*'2027-02-30' is not a date"),
        ('[[year]]\nyear = 2027\nholidays = ["2028-01-01"]\n', r":3: .*'2028-01-01' is in another year"),
        ("[[year]]\nholidays = []\n", "integer 'year'"),
        ("[[year]]\nyear = 2027\n[[year]]\nyear = 2027\n", r":4: year 2027 is listed twice"),
        ("[[year]\n", "not TOML"),
    ],
)
def test_bad_toml_files_are_refused_naming_line_and_value(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "notice.toml"
    f.write_text(text)
    with pytest.raises(PolicyError, match=message):
        read_schedules(f)


def test_json_files_are_read_and_refused_the_same_way(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"year": [{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-02-20"]}]}')
    (year,) = read_schedules(good)
    assert year.year == 2027 and date(2027, 2, 20) in year.workdays
    bad = tmp_path / "bad.json"
    bad.write_text('{"year": [\n {"year": 2027,\n  "holidays": ["2027-1-1"]}\n]}\n')
    with pytest.raises(PolicyError, match=r"bad.json:3: .*'2027-1-1' is not a date"):
        read_schedules(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"year": [\n}\n')
    with pytest.raises(PolicyError, match=r"broken.json:2: not JSON"):
        read_schedules(broken)


def test_a_year_not_directly_after_the_known_ones_is_refused() -> None:
    text = "[[year]]\nyear = 2029\n"
    schedules = parse_holidays({"year": [{"year": 2029}]}, "f.toml", text)
    with pytest.raises(PolicyError, match=r"f.toml:2: year 2029 does not follow 2026"):
        check_follows(schedules, package_last=2026, known_last=2026, origin="f.toml", text=text)
    gap = parse_holidays({"year": [{"year": 2027}, {"year": 2029}]}, "f.toml")
    with pytest.raises(PolicyError, match="year 2029 does not follow 2027, the year before it"):
        check_follows(gap, package_last=2026, known_last=2026, origin="f.toml")
    known = parse_holidays({"year": [{"year": 2026}]}, "f.toml")
    with pytest.raises(PolicyError, match="already knows it"):
        check_follows(known, package_last=2026, known_last=2026, origin="f.toml")
    # re-importing an imported year (a corrected notice) and the next one are fine
    both = parse_holidays({"year": [{"year": 2027}, {"year": 2028}]}, "f.toml")
    check_follows(both, package_last=2026, known_last=2027, origin="f.toml")


def test_a_gap_in_the_configured_years_is_refused() -> None:
    schedules = parse_holidays({"year": [{"year": 2099}]})
    with pytest.raises(PolicyError, match="does not follow"):
        WorkingCalendar.chinese(load_sla().hours, extra=schedules)
