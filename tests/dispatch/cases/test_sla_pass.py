"""SLA scenarios over real rows with a controllable clock: the tracker is run at chosen
instants and every step must come exactly once, in order, with its effects."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.policy import Duration
from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.cases.commands import Command
from dispatch.cases.sla_pass import SlaTracker
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from geo.reference import ReferenceDistrict
from streams.sla.runtime import SlaRuntime
from tests.casework import SH, WEDNESDAY_10, Harness, harness, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")
T0 = WEDNESDAY_10


async def incident(h: Harness, iid: str) -> dict[str, Any]:
    cur = await h.conn.execute("SELECT to_jsonb(i) - 'geom' FROM incidents i WHERE incident_id = %s", (iid,))
    row = await cur.fetchone()
    assert row is not None
    return dict(row[0])


async def steps(h: Harness, iid: str) -> list[tuple[str, str, bool]]:
    """(clock, step, overtaken) of every escalation event of the incident, in order."""
    cur = await h.conn.execute(
        "SELECT data->'escalation' FROM events WHERE incident_id = %s AND action = 'escalate' "
        "ORDER BY sequence",
        (iid,),
    )
    return [(d["clock"], d["step"], d["overtaken"]) for (d,) in await cur.fetchall()]


async def run_at(h: Harness, at: datetime) -> None:
    h.now[0] = at
    tracker = SlaTracker(h.flows)
    while (await tracker.run_once(h.conn, at)).claimed:
        pass


async def act(h: Harness, iid: str, at: datetime, command: Command) -> None:
    h.now[0] = at
    await h.flows.transition(h.conn, iid, command)


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_unaccepted_task_goes_yellow_then_red_and_is_reassigned(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 150)])
        first = await incident(h, iid)
        assert first["next_sla_at"] is not None
        await run_at(h, m(11.9))
        assert await steps(h, iid) == []
        await run_at(h, m(12))  # 80 % of the 15 min accept limit
        assert await steps(h, iid) == [("accept", "yellow", False)]
        now = await incident(h, iid)
        assert now["light"] == "yellow" and now["escalation_level"] == "assignee"
        await run_at(h, m(13))
        assert len(await steps(h, iid)) == 1  # never repeated
        await run_at(h, m(15))  # the deadline: 催办 to the community lead, and reassignment
        assert await steps(h, iid) == [("accept", "yellow", False), ("accept", "red", False)]
        after = await incident(h, iid)
        assert after["assignee_id"] not in (None, first["assignee_id"])
        assert after["current_task_id"] != first["current_task_id"]
        assert after["escalation_level"] == "community_lead"
        cur = await h.conn.execute(
            "SELECT action, actor_id FROM events WHERE incident_id = %s ORDER BY sequence", (iid,)
        )
        assert [tuple(r) for r in await cur.fetchall()][-3:] == [
            ("escalate", "sla"),
            ("escalate", "sla"),
            ("reassign", "sla"),
        ]
        cur = await h.conn.execute("SELECT status FROM tasks WHERE task_id = %s", (first["current_task_id"],))
        assert (await cur.fetchone()) == ("reassigned",)
        red = (
            await (
                await h.conn.execute(
                    "SELECT data->'escalation' FROM events "
                    "WHERE incident_id = %s AND data->'escalation'->>'step' = 'red'",
                    (iid,),
                )
            ).fetchone()
        )[0]
        assert red["target"] == "community_lead" and red["target_ids"] and red["action"] == "urge"
        # the new holder's limit starts afresh, the ladder goes on: no second yellow, red or
        # reassignment; the street center hears one more (15 min) limit past their deadline
        await run_at(h, m(44.9))
        assert len(await steps(h, iid)) == 2
        await run_at(h, m(45))
        assert (await steps(h, iid))[-1] == ("accept", "street", False)
        again = await incident(h, iid)
        assert again["assignee_id"] == after["assignee_id"]  # reassigned once, not at every limit
        assert again["current_task_id"] == after["current_task_id"]


async def test_resolve_clock_climbs_the_whole_ladder_in_order(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 250)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        await act(h, iid, m(5), Command(Action.ACCEPT, me))
        await act(h, iid, m(20), Command(Action.ARRIVE, me))
        # P1 resolve limit 2 h: yellow 96 min, red 120, street 240, district 360
        for at, expected in ((95.9, 0), (96, 1), (120, 2), (239, 2), (240, 3), (360, 4), (900, 4)):
            await run_at(h, m(at))
            assert len([s for s in await steps(h, iid) if s[0] == "resolve"]) == expected, at
        assert [s[1] for s in await steps(h, iid)] == ["yellow", "red", "street", "district"]
        last = await incident(h, iid)
        assert last["light"] == "red" and last["escalation_level"] == "district_center"
        assert last["next_sla_at"] is None  # the ladder is exhausted
        cur = await h.conn.execute(
            "SELECT data->'escalation' FROM events "
            "WHERE incident_id = %s AND data->'escalation'->>'step' = 'district'",
            (iid,),
        )
        (district_step,) = (await cur.fetchone()) or (None,)
        assert district_step["action"] == "supervise" and district_step["copy_to"] == ["unit_leader"]
        assert district_step["copy_to_ids"] and district_step["copy_to_ids"][0].startswith("unit:")


async def test_catching_up_after_an_outage_records_every_step_once(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 350)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        await act(h, iid, m(5), Command(Action.ACCEPT, me))
        await act(h, iid, m(6), Command(Action.ARRIVE, me))
        await run_at(h, m(500))
        assert await steps(h, iid) == [
            ("resolve", "yellow", True),
            ("resolve", "red", True),
            ("resolve", "street", True),
            ("resolve", "district", False),
        ]
        await run_at(h, m(501))
        assert len(await steps(h, iid)) == 4


async def test_extension_and_parking_pause_the_clock(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        (iid,) = await h.report([report_in(district, 450)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        await act(h, iid, m(5), Command(Action.ACCEPT, me))
        await act(h, iid, m(10), Command(Action.ARRIVE, me))
        # resolve started at 0 (dispatch); 60 min used when the extension is asked for
        await act(
            h,
            iid,
            m(60),
            Command(Action.REQUEST_EXTENSION, me, reason="需协调供水公司", extension=Duration(2, "h")),
        )
        assert (await incident(h, iid))["next_sla_at"] is None  # nothing runs while it is decided
        await run_at(h, m(130))
        assert await steps(h, iid) == []
        await act(h, iid, m(150), Command(Action.APPROVE_EXTENSION, OPERATOR))
        # budget 4 h; 60 min used; yellow at 192 min used = 132 min after the approval
        await run_at(h, m(281.9))
        assert await steps(h, iid) == []
        await run_at(h, m(282))
        assert await steps(h, iid) == [("resolve", "yellow", False)]
        await act(h, iid, m(290), Command(Action.PARK, OPERATOR, reason="等待施工许可"))
        await run_at(h, m(2000))
        assert len(await steps(h, iid)) == 1  # parked: nothing climbs
        await act(h, iid, m(3000), Command(Action.UNPARK, OPERATOR))
        # 200 min used at parking; red at 240 min used = 40 min after unparking
        await run_at(h, m(3039.9))
        assert len(await steps(h, iid)) == 1
        await run_at(h, m(3040))
        assert (await steps(h, iid))[-1] == ("resolve", "red", False)


async def test_two_trackers_share_the_work_without_taking_a_step_twice(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        ids = await h.report([report_in(district, i, category="water_outage") for i in range(600, 900, 50)])
        assert len(set(ids)) == 6
        other = await connect(kafka, application_name="yiwang-test-2")
        try:
            at = m(24)  # P2: accept 30 min -> yellow at 24 min
            one, two = SlaTracker(h.flows, batch=2), SlaTracker(h.flows, batch=2)
            for _ in range(6):
                await asyncio.gather(one.run_once(h.conn, at), two.run_once(other, at))
        finally:
            await other.close()
        for iid in ids:
            assert await steps(h, iid) == [("accept", "yellow", False)], iid


async def test_the_workers_relay_leaves_a_catch_up_batch_in_flight_to_the_tracker(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """A full batch's documents are still being delivered when the worker's relay gets its
    turn (it waits on the tracker's connection between two catch-up passes): the relay must not
    publish that batch's events a second time."""
    async with harness(kafka, engine) as h:
        ids = await h.report([report_in(district, i, category="water_outage") for i in range(610, 910, 50)])
        assert len(set(ids)) == 6

        async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
            return await h.producer.send(topic, value, key=key, headers=headers)

        runtime = SlaRuntime(kafka, DispatchMetrics.create(CollectorRegistry()), send, clock=lambda: m(24))
        try:
            assert await runtime.prepare()
            await runtime.relay()  # whatever earlier tests left unpublished: out of the way
            assert runtime.tracker is not None
            runtime.tracker.batch = 2
            passed = await runtime.tick()  # P2: accept 30 min -> yellow at 24 min; a full batch
            assert passed is not None and passed.claimed == 2 and passed.steps == 2
            assert await runtime.relay() == 0  # the two escalations were the tracker's to mark
            cur = await h.conn.execute(
                "SELECT count(*) FROM events WHERE incident_id = ANY(%s::uuid[]) AND action = 'escalate' "
                "AND published_at IS NOT NULL",
                (ids,),
            )
            assert (await cur.fetchone()) == (2,)
        finally:
            await runtime.close()


async def test_a_clock_running_past_the_published_years_climbs_on_provisionally(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        calendar = h.flows.rules.tk.working
        until = calendar.authoritative_until
        opened = datetime(until.year - 1, 12, 21, 10, 0, tzinfo=SH)  # 20 working days: into the new year
        h.now[0] = opened
        (iid,) = await h.report([report_in(district, 700, category="illegal_construction", at=opened)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        await act(h, iid, opened + timedelta(minutes=30), Command(Action.ACCEPT, me))
        await run_at(h, datetime(until.year, 6, 30, 20, 0, tzinfo=SH))
        cur = await h.conn.execute(
            "SELECT data->'escalation' FROM events WHERE incident_id = %s AND action = 'escalate' "
            "AND data->'escalation'->>'clock' = 'resolve' ORDER BY sequence",
            (iid,),
        )
        docs = [d for (d,) in await cur.fetchall()]
        assert [d["step"] for d in docs] == ["yellow", "red", "street", "district"]
        assert all(d["provisional"] for d in docs)  # every one lies past the published notices
        assert all(datetime.fromisoformat(d["due_at"]) >= until for d in docs)
        row = await incident(h, iid)
        assert row["sla_note"] is None
        assert h.flows.metrics.calendar_alarms._value.get() == 0


async def test_a_clock_past_the_provisional_years_raises_an_alarm_without_crashing(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        last = h.flows.rules.tk.working.last  # the end of the provisional years too
        opened = datetime(last.year, 12, 3, 10, 0, tzinfo=SH)
        h.now[0] = opened
        (iid,) = await h.report([report_in(district, 700, category="illegal_construction", at=opened)])
        me = Actor(Role.GRID_WORKER, (await incident(h, iid))["assignee_id"])
        await act(h, iid, opened + timedelta(minutes=30), Command(Action.ACCEPT, me))
        await run_at(h, datetime(last.year, 12, 31, 20, 0, tzinfo=SH))
        row = await incident(h, iid)
        assert [s[1] for s in await steps(h, iid)][:1] == ["yellow"]
        assert row["sla_note"] and "calendar" in row["sla_note"]
        beyond = datetime(last.year + 1, 1, 3, 10, 0, tzinfo=SH)
        await run_at(h, beyond)
        row = await incident(h, iid)
        assert row["sla_note"] and "calendar" in row["sla_note"]
        assert row["next_sla_at"] is not None  # looked at again later, never dropped
        assert h.flows.metrics.calendar_alarms._value.get() >= 1
