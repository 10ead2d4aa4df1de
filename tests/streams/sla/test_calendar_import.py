"""Importing the official schedule while cases are open: deadlines move as `deadline_revised`
events, the tracker sees the new days, no step is taken twice, a step made overdue fires.

The scenario is the New Year boundary of the last year the installed calendar knows (`L`, 2026
with chinese-calendar 1.11): a P3 case opened on 31 December of L at 16:00 whose deadline falls
in L+1, provisional until L+1 is imported. The clock is injected (the harness's, or
`YIWANG_CLOCK_FROM` for the worker process), so the test reads the same in any year.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text

from config.policy import PolicyError
from config.settings import Settings
from dispatch.api.views import deadlines
from dispatch.calendar.revisions import import_years
from dispatch.cases.commands import Command
from dispatch.cases.flows import CaseFlows
from dispatch.cases.sla_pass import SlaTracker
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.sla.calendar import WorkingCalendar
from dispatch.sla.deadlines import calendar_for, read_schedules
from dispatch.sla.policy import load_sla
from geo.reference import ReferenceDistrict
from tests.casework import NEW_YEARS_EVE_16, SH, Harness, harness, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]


def _known() -> WorkingCalendar:
    return calendar_for(load_sla())


START = NEW_YEARS_EVE_16
LAST = START.year
NEXT = LAST + 1


def first_workday(cal: WorkingCalendar) -> date:
    """The first working day of the new year on a calendar."""
    day = date(NEXT, 1, 1)
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return day


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def notice(path: Path, holidays: list[date], source: str = "test notice") -> Path:
    days = ", ".join(f'"{d.isoformat()}"' for d in holidays)
    path.write_text(f'[[year]]\nyear = {NEXT}\nsource = "{source}"\nholidays = [{days}]\nworkdays = []\n')
    return path


@pytest.fixture
def clean_calendar(engine: Engine) -> Iterator[None]:
    """Imported years are shared by the session's database: leave none behind."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM calendar_years"))


async def incident(h: Harness, iid: str) -> dict[str, Any]:
    cur = await h.conn.execute("SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", (iid,))
    row = await cur.fetchone()
    assert row is not None
    return dict(row[0])


async def events(h: Harness, iid: str, action: str) -> list[dict[str, Any]]:
    cur = await h.conn.execute(
        "SELECT data FROM events WHERE incident_id = %s AND action = %s ORDER BY sequence", (iid, action)
    )
    return [dict(r[0]) for r in await cur.fetchall()]


async def steps(h: Harness, iid: str) -> list[tuple[str, str]]:
    return [(e["escalation"]["clock"], e["escalation"]["step"]) for e in await events(h, iid, "escalate")]


async def run_at(h: Harness, at: datetime) -> None:
    h.now[0] = at
    tracker = SlaTracker(h.flows)
    while (await tracker.run_once(h.conn, at)).claimed:
        pass


def importer(h: Harness) -> CaseFlows:
    """Flows of another process (the CLI's): its own rules and calendar, the same clock."""
    return CaseFlows(
        h.settings,
        IntakeRules.load(),
        h.flows.people,
        h.flows.send,
        metrics=DispatchMetrics.create(CollectorRegistry()),
        clock=lambda: h.now[0],
    )


async def do_import(h: Harness, path: Path) -> int:
    schedules = read_schedules(path)
    flows = importer(h)
    result = await import_years(
        h.conn, flows, schedules, now=h.now[0], origin=str(path), text=path.read_text()
    )
    assert result.published
    return len(result.changes)


async def test_an_import_moves_open_deadlines_and_no_step_is_taken_twice(
    kafka: Settings, engine: Engine, district: ReferenceDistrict, tmp_path: Path, clean_calendar: None
) -> None:
    old = _known()
    w = first_workday(old)
    async with harness(kafka, engine, now=START) as h:
        (iid,) = await h.report([report_in(district, 130, category="exposed_garbage", at=START)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        h.now[0] = START + timedelta(minutes=10)
        await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, me))
        row = await incident(h, iid)
        shown = deadlines(row["clocks"], h.flows.rules.tk)
        # exposed garbage: 4 working hours, 2 of them on 31 December, the rest in the new year
        assert instant(shown["resolve"]["deadline"]) == local(w, 11)
        assert shown["resolve"]["provisional"] is True
        await run_at(h, local(w, 10, 30))
        assert await steps(h, iid) == [("resolve", "yellow")]  # 80 %: 3 h 12 min of 4 h
        yellow_at = local(w, 10, 30)

        # the notice makes that first working day a holiday: the deadline moves a working day on
        h.now[0] = yellow_at
        assert await do_import(h, notice(tmp_path / "a.toml", [date(NEXT, 1, 1), w])) >= 1
        new = calendar_for(load_sla(), imported=read_schedules(tmp_path / "a.toml"))
        w2 = first_workday(new)
        assert w2 > w
        (revised,) = await events(h, iid, "deadline_revised")
        moved = {m["clock"]: m for m in revised["revised"]}
        assert moved["resolve"]["old_due"] == shown["resolve"]["deadline"]
        expected_new = local(w2, 11)
        assert instant(moved["resolve"]["new_due"]) == expected_new
        assert moved["resolve"]["provisional"] is False  # NEXT is now published
        row = await incident(h, iid)
        assert datetime.fromisoformat(row["next_sla_at"]) == expected_new  # the red step
        # the tracker (another process's calendar) picks the import up from the database
        red_before = local(w, 11, 30)
        await run_at(h, red_before)
        assert h.flows.rules.tk.working.authoritative_last == date(NEXT, 12, 31)
        assert await steps(h, iid) == [("resolve", "yellow")]  # not red: the deadline moved

        # a corrected notice gives the day back: the deadline is now past, red fires once, next pass
        assert await do_import(h, notice(tmp_path / "b.toml", [date(NEXT, 1, 1)], "corrected")) >= 1
        assert len(await events(h, iid, "deadline_revised")) == 2
        row = await incident(h, iid)
        assert datetime.fromisoformat(row["next_sla_at"]) <= red_before
        for _ in range(3):
            await run_at(h, red_before)
        assert await steps(h, iid) == [("resolve", "yellow"), ("resolve", "red")]
        cur = await h.conn.execute(
            "SELECT count(*) FROM events WHERE incident_id = %s AND published_at IS NULL", (iid,)
        )
        assert (await cur.fetchone()) == (0,)


async def test_a_bad_file_changes_nothing(
    kafka: Settings, engine: Engine, tmp_path: Path, clean_calendar: None
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[[year]]\nyear = {NEXT + 1}\nholidays = ["{NEXT + 1}-01-01"]\n')
    async with harness(kafka, engine, now=START) as h:
        with pytest.raises(PolicyError, match=rf"bad.toml:2: year {NEXT + 1} does not follow {LAST}"):
            await import_years(
                h.conn, importer(h), read_schedules(bad), now=START, origin=str(bad), text=bad.read_text()
            )
        cur = await h.conn.execute("SELECT count(*) FROM calendar_years")
        assert (await cur.fetchone()) == (0,)
