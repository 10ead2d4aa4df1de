"""Return visits on the real PostGIS and Kafka, with cases made by the real intake: requests at
each closing, answers, the two-step rework policy, not reached, and 满意率 / 回访率."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import KpiGroup, kpis
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Action, Role
from dispatch.revisits import service as q
from dispatch.revisits.errors import Refused
from dispatch.revisits.flows import RevisitFlows
from dispatch.revisits.policy import load_revisit_policy
from dispatch.revisits.values import ReworkTarget, Satisfaction, VisitStatus
from geo.reference import ReferenceDistrict
from tests.casework import Harness, harness, later, report_in

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")


async def assignee(h: Harness, iid: str) -> str:
    cur = await h.conn.execute("SELECT assignee_id FROM incidents WHERE incident_id = %s", (iid,))
    row = await cur.fetchone()
    assert row is not None and row[0]
    return str(row[0])


async def close(h: Harness, iid: str, *, accept: bool = True) -> str:
    """The assignee accepts (unless it is a rework already accepted), resolves; the operator
    verifies and closes. Returns the worker."""
    worker = await assignee(h, iid)
    me = Actor(Role.GRID_WORKER, worker)
    later(h, minutes=10)
    if accept:
        await h.flows.transition(h.conn, iid, Command(Action.ACCEPT, me))
    later(h, minutes=30)
    await h.flows.transition(h.conn, iid, Command(Action.RESOLVE, me, note="已补装井盖"))
    later(h, minutes=20)
    await h.flows.transition(h.conn, iid, Command(Action.VERIFY, OPERATOR))
    await h.flows.transition(h.conn, iid, Command(Action.CLOSE, OPERATOR))
    return worker


async def test_closing_asks_every_report_and_dissatisfaction_reworks_twice_then_stops(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        flows = RevisitFlows(load_revisit_policy(), h.flows, clock=lambda: h.now[0])
        first = report_in(district, 410)
        (iid,) = await h.report([first])
        (same,) = await h.report([report_in(district, 410, source="citymgmt", offset_m=5)])
        assert same == iid  # the second report joined the case: two reporters to ask
        worker = await close(h, iid)

        visits = await q.visits_of(h.conn, iid)
        assert sorted(v.source for v in visits) == ["citymgmt", "hotline"]
        assert {v.worker_id for v in visits} == {worker}
        assert all(v.status_at(h.now[0]) is VisitStatus.PENDING for v in visits)
        hotline = next(v for v in visits if v.source == "hotline")
        assert hotline.due_at - hotline.requested_at == timedelta(days=3)

        later(h, hours=2)
        out = await flows.answer(
            h.conn, hotline.visit_id, Satisfaction.DISSATISFIED, reason_code="not_fixed", channel="hotline"
        )
        assert out.verdict.rework is ReworkTarget.SAME_UNIT
        assert out.state == "dispatched" and await assignee(h, iid) == worker  # back to the same unit
        assert out.visit.answer is Satisfaction.DISSATISFIED and out.visit.rework is ReworkTarget.SAME_UNIT
        cur = await h.conn.execute(
            "SELECT action, actor_role, reason FROM events WHERE incident_id = %s "
            "ORDER BY sequence DESC LIMIT 2",
            (iid,),
        )
        (dispatch, _, _), (reopen, role, reason) = await cur.fetchall()
        assert (dispatch, reopen, role) == ("dispatch", "reopen", "citizen") and "问题未解决" in reason

        # the other reporter answers too late to rework: the case is being handled again
        other = next(v for v in visits if v.source == "citymgmt")
        late = await flows.answer(
            h.conn, other.visit_id, Satisfaction.DISSATISFIED, reason_code="incomplete", channel="citymgmt"
        )
        assert late.verdict.rework is None and "already being handled" in late.verdict.why
        with pytest.raises(Refused, match="answered already"):
            await flows.answer(h.conn, other.visit_id, Satisfaction.SATISFIED, channel="citymgmt")

        await close(h, iid)  # second closing: asked again
        second = [v for v in await q.visits_of(h.conn, iid) if not v.answered]
        assert len(second) == 2 and len({v.closing for v in second}) == 1
        out = await flows.answer(
            h.conn, second[0].visit_id, Satisfaction.DISSATISFIED, reason_code="attitude", channel="hotline"
        )
        assert out.verdict.rework is ReworkTarget.STREET_CENTER
        cur = await h.conn.execute(
            "SELECT data #>> '{escalation,target}' FROM events "
            "WHERE incident_id = %s AND action = 'escalate'",
            (iid,),
        )
        assert [r[0] for r in await cur.fetchall()] == ["street_center"]

        await close(h, iid)  # third closing: the policy's two reworks are used
        third = [v for v in await q.visits_of(h.conn, iid) if not v.answered]
        out = await flows.answer(
            h.conn, third[0].visit_id, Satisfaction.DISSATISFIED, reason_code="not_fixed", channel="hotline"
        )
        assert out.verdict.rework is None and out.state == "closed"

        later(h, days=3, minutes=1)  # the last unanswered visit is not reached
        with pytest.raises(Refused, match="time to answer ended"):
            await flows.answer(h.conn, third[1].visit_id, Satisfaction.SATISFIED, channel="citymgmt")


async def test_satisfaction_and_revisit_rate_on_a_constructed_data_set(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    """Four cases in one street: answered 满意, 基本满意, 不满意 (not about the handling) and one
    never answered. 满意率 = 2 / 3, 回访率 = 3 / 4 once the fourth's time is over."""
    street = district.streets[3].code
    grids = [i for i, g in enumerate(district.grids) if g.code.startswith(street)][:4]
    async with harness(kafka, engine) as h:
        t0 = h.now[0]
        flows = RevisitFlows(load_revisit_policy(), h.flows, clock=lambda: h.now[0])
        ids = await h.report([report_in(district, g, category="exposed_garbage") for g in grids])
        workers = [await close(h, iid) for iid in ids]
        answers = [
            (Satisfaction.SATISFIED, None),
            (Satisfaction.BASICALLY_SATISFIED, "too_slow"),
            (Satisfaction.DISSATISFIED, "policy"),
        ]
        for iid, (answer, code) in zip(ids, answers, strict=False):
            (v,) = await q.visits_of(h.conn, iid)
            await flows.answer(h.conn, v.visit_id, answer, reason_code=code, channel="hotline")

        before = await kpis(h.conn, since=t0, until=h.now[0] + timedelta(minutes=1), group=KpiGroup.STREET)
        row = next(r for r in before if r["key"] == street)
        assert (row["visits"], row["answered"], row["not_reached"]) == (4, 3, 0)
        assert row["satisfaction"] == round(2 / 3, 4) and row["revisit_rate"] == 1.0
        assert row["dissatisfied"] == 1 and row["reworked"] == 0

        until = h.now[0] + timedelta(days=4)
        row = next(
            r for r in await kpis(h.conn, since=t0, until=until, group=KpiGroup.STREET) if r["key"] == street
        )
        assert (row["answered"], row["not_reached"], row["revisit_rate"]) == (3, 1, 0.75)
        by_source = await kpis(h.conn, since=t0, until=until, group=KpiGroup.SOURCE)
        hotline = next(r for r in by_source if r["key"] == "hotline")
        assert hotline["visits"] >= 4
        by_worker = {r["key"]: r for r in await kpis(h.conn, since=t0, until=until, group=KpiGroup.WORKER)}
        pleased = [a is not Satisfaction.DISSATISFIED for a, _ in answers]
        for worker in set(workers):
            mine = [ok for w, ok in zip(workers, pleased, strict=False) if w == worker]
            expected = round(sum(mine) / len(mine), 4) if mine else None
            assert by_worker[worker]["satisfaction"] == expected
        assert by_worker[workers[0]]["accepted"] >= 1  # the event KPIs by the task's holder too

        metrics = DispatchMetrics.create(CollectorRegistry())
        await metrics.refresh(h.conn, until)
        assert metrics.satisfaction.labels("satisfaction", street)._value.get() == round(2 / 3, 4)
        assert metrics.satisfaction.labels("revisit_rate", street)._value.get() == 0.75
