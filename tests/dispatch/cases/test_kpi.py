"""KPIs on a constructed data set: three cases in one street in March 2025 with known outcomes,
made through the real intake, the real flows and the real tracker; numbers from SQL and as
Prometheus gauges."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.api import board
from dispatch.api.queues import Queue
from dispatch.cases.commands import Command
from dispatch.cases.sla_pass import SlaTracker
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import KpiGroup, Period, kpis
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.scope import Scope
from dispatch.sla.ladder import LadderTarget
from geo.reference import ReferenceDistrict
from schemas.report import Crs, Location
from tests.casework import Harness, harness, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 5, 10, 0, tzinfo=SH)  # a Wednesday
OP = Actor(Role.OPERATOR, "op-kpi")


async def steps(h: Harness, iid: str, plan: list[tuple[float, Command]]) -> None:
    for minutes, command in plan:
        h.now[0] = T0 + timedelta(minutes=minutes)
        await h.flows.transition(h.conn, iid, command)


async def test_kpis_of_a_known_month(kafka: Settings, engine: Engine, district: ReferenceDistrict) -> None:
    street = district.streets[3].code
    grids = [i for i, g in enumerate(district.grids) if g.street_code == street]
    async with harness(kafka, engine, now=T0) as h:
        one, two, three = await h.report(
            [
                report_in(district, grids[0], category="manhole_cover_missing", source="hotline", at=T0),
                report_in(district, grids[3], category="road_blocked", source="police", at=T0),
                report_in(district, grids[6], category="fallen_tree", source="patrol", at=T0),
            ]
        )
        cur = await h.conn.execute(
            "SELECT incident_id::text, assignee_id FROM incidents WHERE incident_id = ANY(%s::uuid[])",
            ([one, two, three],),
        )
        who = {iid: Actor(Role.GRID_WORKER, w) for iid, w in await cur.fetchall()}
        # 1: everything on time (accept 5 min, arrive 10, resolve 60, verify 70, close 71)
        await steps(
            h,
            one,
            [
                (5, Command(Action.ACCEPT, who[one])),
                (10, Command(Action.ARRIVE, who[one])),
                (60, Command(Action.RESOLVE, who[one], note="补装")),
                (70, Command(Action.VERIFY, OP)),
                (71, Command(Action.CLOSE, OP)),
            ],
        )
        # 2: late acceptance (20 > 15 min) and resolution (180 > 120), rework, then in time,
        #    but verified late (verify limit 1 h): closed, not on time
        await steps(
            h,
            two,
            [
                (20, Command(Action.ACCEPT, who[two])),
                (30, Command(Action.ARRIVE, who[two])),
                (180, Command(Action.RESOLVE, who[two], note="清障")),
                (190, Command(Action.FAIL_VERIFICATION, OP, reason="仍有障碍")),
                (195, Command(Action.ACCEPT, who[two])),
                (240, Command(Action.RESOLVE, who[two], note="彻底清障")),
                (400, Command(Action.VERIFY, OP)),
                (401, Command(Action.CLOSE, OP)),
            ],
        )
        # 3: accepted in time, never resolved: the tracker finds it overdue
        await steps(
            h, three, [(5, Command(Action.ACCEPT, who[three])), (10, Command(Action.ARRIVE, who[three]))]
        )
        tracker = SlaTracker(h.flows)
        at = T0 + timedelta(minutes=180)
        while (await tracker.run_once(h.conn, at)).claimed:
            pass

        month = dict(since=datetime(2025, 3, 1, tzinfo=SH), until=datetime(2025, 4, 1, tzinfo=SH))
        (row,) = [r for r in await kpis(h.conn, group=KpiGroup.STREET, **month) if r["key"] == street]
        assert (row["accepted"], row["on_time_acceptance"]) == (4, 0.75)
        assert (row["resolved"], row["on_time_resolution"]) == (3, 0.6667)
        assert (row["closed"], row["on_time_closing"]) == (2, 0.5)
        assert (row["verified"], row["rework_rate"]) == (3, 0.3333)
        assert row["overdue"] == 2

        by_source = {
            r["key"]: r
            for r in await kpis(h.conn, group=KpiGroup.SOURCE, scope=Scope(street=street), **month)
        }
        assert (
            by_source["hotline"]["on_time_closing"] == 1.0 and by_source["police"]["on_time_closing"] == 0.0
        )
        assert by_source["patrol"]["overdue"] == 1 and by_source["hotline"]["overdue"] == 0
        days = await kpis(
            h.conn, group=KpiGroup.STREET, period=Period.DAY, scope=Scope(street=street), **month
        )
        assert [(r["period"], r["accepted"]) for r in days] == [("2025-03-05", 4)]
        grids_rows = await kpis(h.conn, group=KpiGroup.GRID, scope=Scope(street=street), **month)
        # rows of this month's work: other modules' open cases in the shared database add rows of
        # open_overdue only (that count is of now, not of the month)
        worked = [r for r in grids_rows if r["accepted"]]
        assert sum(r["accepted"] for r in worked) == 4 and len(worked) == 3

        metrics = DispatchMetrics.create(CollectorRegistry())
        await metrics.refresh(h.conn, datetime(2025, 3, 20, tzinfo=SH))
        assert metrics.kpi.labels("on_time_acceptance", street)._value.get() == 0.75
        assert metrics.overdue.labels(street)._value.get() == 2


T1 = datetime(2025, 4, 9, 10, 0, tzinfo=SH)  # a Wednesday, a month of its own


async def test_the_board_and_the_kpis_count_the_same_overdue_cases(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """An unaccepted task reassigned at its red step stays red (its ladder goes on) and overdue
    on both; a clock stopped late counts too; an 80 % reminder is neither overdue nor escalated."""
    street = district.streets[5].code
    grids = [i for i, g in enumerate(district.grids) if g.street_code == street]
    async with harness(kafka, engine, now=T1) as h:
        # the session's database is shared: other modules' cases in this street count on the board
        # too, so the board is compared before and after (the KPIs' month is this test's own)
        before = await board.queue_counts(h.conn, Scope(street=street), board.IncidentQuery())
        unaccepted, late, on_time = await h.report(
            [
                report_in(district, grids[0], category="manhole_cover_missing", at=T1),
                report_in(district, grids[2], category="road_blocked", source="police", at=T1),
                report_in(district, grids[4], category="fallen_tree", source="patrol", at=T1),
            ]
        )
        (reminded,) = await h.report(
            [report_in(district, grids[6], category="manhole_cover_missing", at=T1 + timedelta(minutes=3))],
            at=T1 + timedelta(minutes=3),
        )
        cur = await h.conn.execute(
            "SELECT incident_id::text, assignee_id FROM incidents WHERE incident_id = ANY(%s::uuid[])",
            ([late, on_time],),
        )
        who = {iid: Actor(Role.GRID_WORKER, w) for iid, w in await cur.fetchall()}
        for iid in (late, on_time):
            h.now[0] = T1 + timedelta(minutes=5)
            await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, who[iid]))
        # the accept clock's yellow and red steps (15 min, P1): reassigned; the other one's yellow only
        tracker = SlaTracker(h.flows)
        while (await tracker.run_once(h.conn, T1 + timedelta(minutes=16))).claimed:
            pass
        h.now[0] = T1 + timedelta(minutes=20)
        await h.flows.transition(
            h.conn,
            on_time,
            Command(Action.ESCALATE, OP, reason="需街道协调", level=LadderTarget.STREET_CENTER),
        )
        h.now[0] = T1 + timedelta(minutes=150)  # past the 2 h resolve limit: the clock stops late
        await h.flows.transition(h.conn, late, Command(Action.RESOLVE, who[late], note="清障"))

        cur = await h.conn.execute(
            "SELECT incident_id::text, light, escalation_level FROM incidents "
            "WHERE incident_id = ANY(%s::uuid[])",
            ([unaccepted, reminded],),
        )
        now = {iid: (light, level) for iid, light, level in await cur.fetchall()}
        assert now[unaccepted] == ("red", "community_lead")  # reassigned: the climb goes on
        assert now[reminded] == ("yellow", "assignee")

        counts = await board.queue_counts(h.conn, Scope(street=street), board.IncidentQuery())
        assert {q: counts[q] - before[q] for q in counts} == {
            "triage": 0,
            "new": 2,
            "verify": 1,
            "extension": 0,
            "returned": 0,
            "overdue": 2,
            "escalated": 1,
        }
        mine = {unaccepted, late, on_time, reminded}
        total, rows = await board.list_incidents(
            h.conn, Scope(street=street), board.IncidentQuery(queue=Queue.OVERDUE, limit=500)
        )
        assert total == before["overdue"] + 2 and {r["incident_id"] for r in rows} & mine == {
            unaccepted,
            late,
        }
        _, rows = await board.list_incidents(
            h.conn, Scope(street=street), board.IncidentQuery(queue=Queue.ESCALATED, limit=500)
        )
        assert [r["incident_id"] for r in rows if r["incident_id"] in mine] == [on_time]
        points = {
            p["id"]: p["properties"]["overdue"]
            for p in await board.map_points(h.conn, Scope(street=street), open_only=True)
            if p["id"] in mine
        }
        assert points == {unaccepted: True, late: True, on_time: False, reminded: False}

        month = dict(since=datetime(2025, 4, 1, tzinfo=SH), until=datetime(2025, 5, 1, tzinfo=SH))
        (row,) = [r for r in await kpis(h.conn, group=KpiGroup.STREET, **month) if r["key"] == street]
        assert (row["overdue"], row["open_overdue"]) == (2, counts["overdue"])  # the board's count, all of it
        by_grid = await kpis(h.conn, group=KpiGroup.GRID, scope=Scope(street=street), **month)
        assert sum(r["open_overdue"] for r in by_grid) == counts["overdue"]
        days = await kpis(
            h.conn, group=KpiGroup.STREET, period=Period.DAY, scope=Scope(street=street), **month
        )
        assert [(r["period"], r["overdue"], r["open_overdue"]) for r in days] == [("2025-04-09", 2, None)]


T2 = datetime(2025, 5, 7, 10, 0, tzinfo=SH)  # a Wednesday, a month of its own


async def test_a_case_no_grid_covers_is_left_out_of_the_grid_and_community_groups(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """A point outside the district's outline goes to the district centre (属地兜底) with no
    street, community or grid: it is no grid's or community's row (never a row under a null key),
    and stays counted where it has a key (the district) and in the street group's keyless row."""
    async with harness(kafka, engine, now=T2) as h:
        outside = report_in(district, 0, category="road_blocked", source="police", at=T2)
        outside = outside.model_copy(update={"location": Location(lon=106.60, lat=29.56, crs=Crs.WGS84)})
        (iid,) = await h.report([outside])
        cur = await h.conn.execute(
            "SELECT district_code, street_code, grid_code FROM incidents WHERE incident_id = %s::uuid", (iid,)
        )
        assert await cur.fetchone() == (district.code, None, None)
        month = dict(since=datetime(2025, 5, 1, tzinfo=SH), until=datetime(2025, 6, 1, tzinfo=SH))
        for group in (KpiGroup.GRID, KpiGroup.COMMUNITY):
            for period in (Period.ALL, Period.DAY):
                rows = await kpis(h.conn, group=group, period=period, **month)
                assert None not in {r["key"] for r in rows}, (group, period)
        assert None in {r["key"] for r in await kpis(h.conn, group=KpiGroup.STREET, **month)}
        assert district.code in {r["key"] for r in await kpis(h.conn, group=KpiGroup.DISTRICT, **month)}
