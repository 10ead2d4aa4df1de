"""Clocks a surge case starts later carry the surge's scaled limits while it holds, against the
real intake, case flows and PostgreSQL: the verify clock started at resolve, for a case opened
under the surge and for one it raised; after the surge has ended, clocks start unscaled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from config.policy import Priority
from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.sla.clocks import ClockName
from dispatch.sla.policy import Area
from dispatch.surge.areas import WarningArea
from dispatch.surge.declarations import Declaration
from dispatch.surge.flows import SurgeFlows
from dispatch.surge.models import EndReason, SurgeOrigin
from dispatch.surge.policy import SurgeRule, load_surge_policy
from geo.reference import ReferenceDistrict
from tests.casework import Harness, harness, later, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
STREET = "500106008"  # a street no other case, surge or KPI test uses


def _declaration(surge_id: str, rule: SurgeRule, grids: tuple[str, ...], h: Harness) -> Declaration:
    now = h.now[0]
    return Declaration(
        surge_id=surge_id,
        origin=SurgeOrigin.OPERATOR,
        reference=None,
        rule=rule,
        title=f"测试{rule.name}",
        area=WarningArea(geocodes=grids),
        starts_at=now,
        ends_at=now + timedelta(hours=6),
        declared_by="op-test",
    )


async def _case(h: Harness, incident_id: str) -> dict[str, Any]:
    cur = await h.conn.execute(
        "SELECT surge_id, priority, assignee_id, clocks FROM incidents WHERE incident_id = %s", (incident_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return {"surge_id": row[0], "priority": row[1], "assignee": row[2], "clocks": row[3]}


async def _accept_and_resolve(h: Harness, incident_id: str) -> dict[str, Any]:
    worker = (await _case(h, incident_id))["assignee"]
    assert worker, "the case was dispatched to someone"
    actor = Actor(Role.GRID_WORKER, worker)
    await h.flows.transition(h.conn, incident_id, Command(Action.ACCEPT, actor))
    later(h, minutes=10)
    await h.flows.transition(h.conn, incident_id, Command(Action.RESOLVE, actor, note="已处置"))
    return await _case(h, incident_id)


def _verify_s(h: Harness, priority: str) -> float:
    budget = h.flows.rules.deadlines.limits("waterlogging", Priority(priority), Area.CITY).budget(
        ClockName.VERIFY
    )
    assert budget is not None, "the priority has a verify limit"
    return budget.total_seconds()


async def test_a_case_opened_under_a_surge_starts_later_clocks_scaled_until_it_ends(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    grids = [g for g in district.grids if g.street_code == STREET]
    idx = [district.grids.index(g) for g in grids[:3]]
    yellow = load_surge_policy().rule("暴雨", "黄色")  # no raise, limits x 0.75
    assert yellow is not None and yellow.raise_by == 0 and "waterlogging" in yellow.categories
    async with harness(kafka, engine) as h:
        flows = SurgeFlows(h.flows, load_surge_policy())
        surge = _declaration(
            "7f0d6a2e-0000-4000-8000-0000000000c1", yellow, (grids[0].code, grids[2].code), h
        )
        await flows.declare(h.conn, surge)
        later(h, minutes=1)
        under, outside, ends_first = await h.report(
            [
                report_in(district, idx[0], category="waterlogging", at=h.now[0]),
                report_in(district, idx[1], category="waterlogging", at=h.now[0]),
                report_in(district, idx[2], category="waterlogging", at=h.now[0]),
            ]
        )
        opened = await _case(h, under)
        assert opened["surge_id"] == surge.surge_id and (await _case(h, outside))["surge_id"] is None
        plain_accept = h.flows.rules.deadlines.limits("waterlogging", Priority.P1, Area.CITY).budget(
            ClockName.ACCEPT
        )
        assert plain_accept is not None
        assert opened["clocks"]["accept"]["budget_s"] == plain_accept.total_seconds() * 0.75

        # the verify clock starts at resolve, while the surge holds: scaled like the opening ones
        resolved = await _accept_and_resolve(h, under)
        assert resolved["clocks"]["verify"]["budget_s"] == _verify_s(h, "P1") * 0.75
        # the same steps outside the surge's grid: plain limits
        assert (await _accept_and_resolve(h, outside))["clocks"]["verify"]["budget_s"] == _verify_s(h, "P1")

        # once the surge has ended, a clock the case starts is plain again
        await flows.end(h.conn, surge.surge_id, EndReason.OPERATOR, "op-test")
        later(h, minutes=1)
        after = await _accept_and_resolve(h, ends_first)
        assert after["surge_id"] == surge.surge_id
        assert after["clocks"]["verify"]["budget_s"] == _verify_s(h, "P1")


async def test_a_case_a_surge_raised_is_under_it_for_its_later_clocks(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    grids = [g for g in district.grids if g.street_code == STREET]
    idx = district.grids.index(grids[4])
    orange = load_surge_policy().rule("暴雨", "橙色")  # one priority up, limits x 0.75
    assert orange is not None and orange.raise_by == 1
    async with harness(kafka, engine) as h:
        [flooded] = await h.report([report_in(district, idx, category="waterlogging", at=h.now[0])])
        assert (await _case(h, flooded))["surge_id"] is None
        later(h, minutes=5)
        surge = _declaration("7f0d6a2e-0000-4000-8000-0000000000c2", orange, (grids[4].code,), h)
        declared = await SurgeFlows(h.flows, load_surge_policy()).declare(h.conn, surge)
        assert [c.incident["incident_id"] for c in declared.raised] == [flooded]
        raised = await _case(h, flooded)
        assert raised["surge_id"] == surge.surge_id and raised["priority"] == "P0"
        resolved = await _accept_and_resolve(h, flooded)
        assert resolved["clocks"]["verify"]["budget_s"] == _verify_s(h, "P0") * 0.75
