"""Triage (立案 / 不予立案) and voiding (作废) end to end: the real intake leaves a triage
source's report waiting, an operator registers or rejects it, a dispatched case is voided; the
feedback is read back from the real broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.cases.commands import Command
from dispatch.intake.rules import triage_sources
from dispatch.kpi.queries import KpiGroup, kpis
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import DetailError, IllegalTransition
from dispatch.lifecycle.states import Action, Role
from geo.reference import ReferenceDistrict
from tests.casework import harness, later, report_in
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]
OPERATOR = Actor(Role.OPERATOR, "op-district")


async def rows(conn: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    cur = await conn.execute(sql, args)
    return list(await cur.fetchall())


def feedback(settings: Settings, source: str, incident_id: str) -> list[dict[str, Any]]:
    docs = [orjson.loads(v) for _, v, _ in read_topic(settings, settings.topic(f"feedback.{source}"))]
    return [d for d in docs if d["incident_id"] == incident_id]


def test_sources_toml_says_which_feeds_wait_for_triage() -> None:
    assert triage_sources() == frozenset({"cyberspace"})


async def test_a_triage_report_waits_then_is_registered_or_rejected_with_feedback(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        tips = [report_in(district, i, source="cyberspace", category="fraud_tip") for i in (310, 420)]
        kept, refused = await h.report(tips)
        waiting = await rows(
            h.conn,
            "SELECT state, current_task_id, clocks -> 'register' ->> 'status' FROM incidents "
            "WHERE incident_id = ANY(%s::uuid[])",
            [kept, refused],
        )
        assert waiting == [("reported", None, "running")] * 2
        assert await rows(
            h.conn, "SELECT count(*) FROM tasks WHERE incident_id = ANY(%s::uuid[])", [kept, refused]
        ) == [(0,)]

        later(h, minutes=3)
        out = await h.flows.transition(h.conn, kept, Command(Action.REGISTER, OPERATOR))
        assert [e["action"] for e in out.events] == ["register", "dispatch"]
        assert out.incident["state"] == "dispatched" and out.incident["assignee_id"]

        with pytest.raises(DetailError, match="reason"):
            await h.flows.transition(h.conn, refused, Command(Action.REJECT, OPERATOR, reason="  "))
        out = await h.flows.transition(
            h.conn, refused, Command(Action.REJECT, OPERATOR, reason="经核实为网络谣言，不予立案")
        )
        assert out.incident["state"] == "rejected"
        (told,) = feedback(kafka, "cyberspace", refused)
        assert (told["outcome"], told["note"]) == ("rejected", "经核实为网络谣言，不予立案")
        assert told["source_ref"] == tips[1].source_ref


async def test_a_dispatched_case_is_voided_with_its_tasks_withdrawn_and_the_source_told(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        report = report_in(district, 530, description="恶作剧：井盖缺失")
        (iid,) = await h.report([report])
        later(h, minutes=5)
        ((holder,),) = await rows(h.conn, "SELECT assignee_id FROM incidents WHERE incident_id = %s", iid)
        with pytest.raises(IllegalTransition, match="only operator may"):  # not the assignee's call
            await h.flows.transition(
                h.conn, iid, Command(Action.VOID, Actor(Role.GRID_WORKER, holder), reason="x")
            )
        out = await h.flows.transition(h.conn, iid, Command(Action.VOID, OPERATOR, reason="恶作剧报警，作废"))
        assert out.incident["state"] == "closed" and [e["action"] for e in out.events] == ["void"]
        assert [(t["status"], t["end_reason"]) for t in out.tasks] == [("cancelled", "恶作剧报警，作废")]
        # 12345 is told in its own reply document (dispatch/revisits/hotline_reply.py)
        docs = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.hotline"))]
        (reply,) = [r for d in docs for r in d.get("replies", []) if r["workOrderNo"] == report.source_ref]
        assert reply["replyType"] == "作废" and "恶作剧报警，作废" in reply["handleResult"]
        kinds = await rows(h.conn, "SELECT action FROM events WHERE incident_id = %s ORDER BY sequence", iid)
        assert [k for (k,) in kinds] == [
            "report",
            "register",
            "dispatch",
            "void",
        ]  # not a `close`: counted apart
        window = {"since": h.now[0] - timedelta(hours=1), "until": h.now[0] + timedelta(hours=1)}
        by_grid = await kpis(h.conn, **window, group=KpiGroup.GRID)
        (grid,) = [r for r in by_grid if r["key"] == out.incident["grid_code"]]
        assert (grid["voided"], grid["closed"], grid["withdrawn"]) == (1, 0, 0)
