"""Surges in PostgreSQL through the real intake and case flows: declaring raises the open cases
of its categories in its grids (once), new cases there open under it, ending stops that; a CAP
alert of the emergency feed is declared, and cancelled, by the surge agent's runtime."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from psycopg.rows import dict_row
from sqlalchemy import Engine, text

from config.policy import load_taxonomy
from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import KpiGroup, kpis, surge_cases
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.scope import Scope
from dispatch.sla.clocks import ClockName
from dispatch.surge.areas import WarningArea
from dispatch.surge.declarations import Declaration, cap_surge_id
from dispatch.surge.flows import SurgeFlows, surge_kpis, surge_rows, surge_scope
from dispatch.surge.models import EndReason, SurgeOrigin
from dispatch.surge.policy import load_surge_policy
from geo.reference import ReferenceDistrict
from producers.outcome import Companion, Rejection
from schemas.cap_record import CAP_TOPIC
from schemas.dead_letter import DLQ_TOPIC
from streams.agents.surge import SurgeRuntime
from streams.outputs import Outputs
from tests.casework import harness, later, report_in
from tests.dispatch.surge.test_cap import SAMPLE, variant
from tests.producers.helpers import adapt, read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
STREET = "500106003"  # a street the other case tests leave alone


def _grids(district: ReferenceDistrict) -> list[int]:
    return [i for i, g in enumerate(district.grids) if g.street_code == STREET]


async def _incident(conn: Any, incident_id: str) -> dict[str, Any]:
    cur = await conn.execute(
        "SELECT priority, (SELECT routing_reason FROM tasks t WHERE t.task_id = i.current_task_id)"
        " FROM incidents i WHERE incident_id = %s",
        (incident_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return {"priority": row[0], "reason": row[1] or ""}


async def test_a_surge_raises_open_cases_and_new_cases_open_under_it(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    idx = _grids(district)
    here, there = district.grids[idx[1]], district.grids[idx[20]]
    policy = load_surge_policy()
    red = policy.rule("暴雨", "红色")
    assert red is not None
    async with harness(kafka, engine) as h:
        flooded, noisy, elsewhere = await h.report(
            [
                report_in(district, idx[1], category="waterlogging"),
                report_in(district, idx[1], category="noise_nuisance", offset_m=300),
                report_in(district, idx[20], category="waterlogging"),
            ]
        )
        now = later(h, minutes=5)
        flows = SurgeFlows(h.flows, policy)
        declaration = Declaration(
            surge_id="7f0d6a2e-0000-4000-8000-000000000001",
            origin=SurgeOrigin.OPERATOR,
            reference=None,
            rule=red,
            title="测试暴雨红色",
            area=WarningArea(geocodes=(here.code,)),
            starts_at=now,
            ends_at=now + timedelta(hours=6),
            declared_by="op-test",
        )
        declared = await flows.declare(h.conn, declaration)
        assert declared.fresh and declared.row["grids"] == [here.code]
        assert [c.incident["incident_id"] for c in declared.raised] == [flooded]
        assert (await _incident(h.conn, flooded))["priority"] == "P0"
        noise = load_taxonomy().category("noise_nuisance").priority.value
        assert (await _incident(h.conn, noisy))["priority"] == noise  # a category the rule does not list
        assert (await _incident(h.conn, elsewhere))["priority"] == "P1"  # another grid
        cur = await h.conn.execute(
            "SELECT reason, data FROM events WHERE incident_id = %s AND action = 'raise_priority'", (flooded,)
        )
        (reason, data), *more = await cur.fetchall()
        assert not more and "暴雨红色预警" in reason and data["raised"]["surge_id"] == declaration.surge_id
        assert (data["raised"]["from"], data["raised"]["to"]) == ("P1", "P0")

        again = await flows.declare(h.conn, declaration)  # a repeat changes nothing
        assert not again.fresh and again.raised == []

        [opened] = await h.report([report_in(district, idx[1], category="manhole_cover_missing", at=now)])
        case = await _incident(h.conn, opened)
        assert case["priority"] == "P0" and f"surge 暴雨红色预警 ({declaration.surge_id})" in case["reason"]
        [outside] = await h.report([report_in(district, idx[20], category="manhole_cover_missing", at=now)])
        assert (await _incident(h.conn, outside))["priority"] == "P1"

        kpis = await surge_kpis(h.conn, [declared.row], policy)
        assert kpis[declaration.surge_id]["raised"] == 1 and kpis[declaration.surge_id]["opened"] >= 1

        ended = await flows.end(h.conn, declaration.surge_id, EndReason.OPERATOR, "op-test")
        assert ended is not None and ended["end_reason"] == "operator"
        after = later(h, minutes=1)
        [calm] = await h.report([report_in(district, idx[1], category="geological_hazard", at=after)])
        damaged = load_taxonomy().category("geological_hazard").priority.value
        assert (await _incident(h.conn, calm))["priority"] == damaged
        assert there.code not in declared.row["grids"]


async def test_the_agent_declares_a_cap_polygon_and_a_cancel_ends_it(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    outputs = Outputs(kafka)
    runtime = SurgeRuntime(kafka, outputs, DispatchMetrics.create(CollectorRegistry()))
    alert = adapt("emergency", SAMPLE.read_bytes())[0]
    ref = "500106@12379.cn,50010641600000_20250601074500,2025-06-01T07:45:00+08:00"
    # a Cancel opens no case: it comes as its life-cycle record on alerts.cap, carrying its report
    (cancel,) = adapt("emergency", variant(identifier="C-9", msgType="Cancel", references=ref))
    assert isinstance(cancel, Companion)
    # a malformed reference is the adapter's dead letter now; a report that carries one anyway
    # (another producer's) is still the surge agent's
    assert isinstance(
        adapt("emergency", variant(identifier="B-9", msgType="Update", references="x"))[0], Rejection
    )
    broken = orjson.loads(cancel.value)["report"]
    broken["cap"] = {**broken["cap"], "msgType": "Update", "references": "no-triple"}
    topic = kafka.topic("reports.emergency")
    try:
        done = await runtime.handle([(topic, 0, 1, alert.model_dump_json().encode())])  # type: ignore[union-attr]
        surge_id = cap_surge_id("50010641600000_20250601074500")
        assert done and done[0].startswith(f"declared {surge_id}")
        assert runtime.conn is not None
        (row,) = await surge_rows(runtime.conn, surge_id=surge_id)
        # the pure cover against PostGIS's own: the grids of the layer the polygon overlaps
        with engine.connect() as conn:
            postgis = conn.execute(
                text(
                    "SELECT array_agg(code ORDER BY code) FROM geo_grid g WHERE ST_Intersects(g.geom,"
                    " ST_GeomFromGeoJSON(:poly)) AND NOT ST_Touches(g.geom, ST_GeomFromGeoJSON(:poly))"
                    " AND version_id = (SELECT max(id) FROM geo_layer_version)"
                ),
                {
                    "poly": '{"type":"Polygon","coordinates":'
                    + str(row["area"]["polygons"]).replace("'", '"')
                    + "}"
                },
            ).scalar_one()
        assert row["grids"] == postgis and len(postgis) > 10
        await runtime.handle([(topic, 0, 2, orjson.dumps(broken))])
        done = await runtime.handle([(kafka.topic(CAP_TOPIC), 0, 3, cancel.value)])
        assert done == [f"ended {surge_id} (cancelled)"]
        (row,) = await surge_rows(runtime.conn, surge_id=surge_id)
        assert row["end_reason"] == "cancelled"
        letters = [v for _, v, _ in read_topic(kafka, kafka.topic(DLQ_TOPIC))]
        assert any(b"surge.cap.references" in v for v in letters)
        # the timer's pass on the worker's own clock: the 2025 alert is long over, nothing begins
        assert await runtime.raise_begun() == 0 and runtime.looked is not None
    finally:
        await runtime.reset()
        await outputs.stop()


async def test_a_surge_declared_for_later_raises_when_it_begins_once_with_scaled_limits(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    idx = _grids(district)
    here = district.grids[idx[2]]
    policy = load_surge_policy()
    orange = policy.rule("暴雨", "橙色")
    assert orange is not None and orange.limits_factor == 0.75
    async with harness(kafka, engine) as h:
        [flooded, elsewhere] = await h.report(
            [
                report_in(district, idx[2], category="waterlogging"),
                report_in(district, idx[21], category="waterlogging"),
            ]
        )
        now = later(h, minutes=5)
        flows = SurgeFlows(h.flows, policy)
        declaration = Declaration(
            surge_id="7f0d6a2e-0000-4000-8000-000000000002",
            origin=SurgeOrigin.OPERATOR,
            reference=None,
            rule=orange,
            title="测试暴雨橙色（稍后生效）",
            area=WarningArea(geocodes=(here.code,)),
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=7),
            declared_by="op-test",
        )
        declared = await flows.declare(h.conn, declaration)
        assert declared.fresh and declared.raised == []  # scheduled: nothing raised yet
        assert await flows.raise_begun(h.conn, None) == []  # not begun
        assert (await _incident(h.conn, flooded))["priority"] == "P1"

        began = later(h, hours=1, minutes=1)
        [opened] = await h.report([report_in(district, idx[2], category="manhole_cover_missing", at=began)])
        assert (await _incident(h.conn, opened))["priority"] == "P0"  # opened under it
        assert await flows.raise_begun(h.conn, began) == []  # it began before `since`: not looked at
        raised = await flows.raise_begun(h.conn, began - timedelta(minutes=5))
        assert [c.incident["incident_id"] for c in raised] == [flooded]  # not the case opened under it
        assert await flows.raise_begun(h.conn, None) == []  # never twice

        cur = await h.conn.execute(
            "SELECT i.priority, i.clocks, e.reason, e.data FROM incidents i JOIN events e USING (incident_id)"
            " WHERE incident_id = %s AND e.action = 'raise_priority'",
            (flooded,),
        )
        (priority, clocks, reason, data), *more = await cur.fetchall()
        assert not more and priority == "P0" and "limits × 0.75" in reason
        assert data["raised"]["surge_id"] == declaration.surge_id and data["raised"]["limits_factor"] == 0.75
        async with h.conn.cursor(row_factory=dict_row) as rows:
            await rows.execute("SELECT * FROM incidents WHERE incident_id = %s", (flooded,))
            row = await rows.fetchone()
        assert row is not None
        assert row["surge_id"] == declaration.surge_id  # under the surge: its rules are scaled now
        limits = (await h.flows.rules_for(h.conn, {**row, "surge_id": None})).limits  # P0's, unscaled
        running = {name: c for name, c in clocks.items() if c["status"] != "stopped"}
        assert running
        for name, clock in running.items():
            budget = limits.budget(ClockName(name))
            assert budget is not None
            assert clock["budget_s"] == pytest.approx(budget.total_seconds() * 0.75)

        # the KPI split by surge: the surge's cases (raised by it, opened under it), nothing else
        cur = await h.conn.execute(
            "SELECT incident_id::text, assignee_id FROM incidents WHERE incident_id = ANY(%s::uuid[])",
            ([flooded, opened, elsewhere],),
        )
        for incident_id, worker in await cur.fetchall():
            later(h, minutes=2)
            await h.flows.transition(
                h.conn, incident_id, Command(Action.ACCEPT, Actor(Role.GRID_WORKER, worker))
            )
        (surge_row,) = await surge_rows(h.conn, surge_id=declaration.surge_id)
        scope = surge_scope(surge_row, policy)
        assert sorted(await surge_cases(h.conn, scope)) == sorted([flooded, opened])
        span = {"since": now - timedelta(days=1), "until": later(h, minutes=1)}
        [split] = await kpis(h.conn, group=KpiGroup.DISTRICT, surge=scope, **span)
        # the district's own row: other tests of the session may leave cases of other districts
        [whole] = await kpis(h.conn, group=KpiGroup.DISTRICT, scope=Scope(district=district.code), **span)
        assert split["accepted"] == 2 and whole["accepted"] >= 3
        assert split["points_issued"] is None  # points have no case
        counts = (await surge_kpis(h.conn, [surge_row], policy))[declaration.surge_id]
        assert counts == {"opened": 1, "open": 2, "overdue": 0, "raised": 1}
