"""未回访成功 and the 回访结果 outbox on the real PostGIS and Kafka: the sweep marks the visits
whose time is over in batches, tells 12345 in its own document, and changes nothing the second
time; an answer given while the broker is away sits in the outbox until `tell` sends it."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.api.status import DispatchStatus
from dispatch.cases.flows import CaseFlows
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.kpi.queries import KpiGroup, kpis
from dispatch.revisits import service as q
from dispatch.revisits.errors import Refused
from dispatch.revisits.flows import RevisitFlows
from dispatch.revisits.policy import load_revisit_policy
from dispatch.revisits.values import Satisfaction, VisitStatus
from geo.reference import ReferenceDistrict
from tests.casework import Harness, harness, later, report_in
from tests.dispatch.revisits.test_flows import close
from tests.net import free_port
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.anyio, pytest.mark.db, pytest.mark.kafka]


def replies_to(h: Harness, ref: str) -> list[dict[str, Any]]:
    """Every 12345 reply document on feedback.hotline for one work order, in order."""
    records = read_topic(h.settings, h.settings.topic("feedback.hotline"))
    docs = [orjson.loads(v) for k, v, _ in records if k == ref.encode()]
    return [r for d in docs for r in d["replies"]]


async def told_at(h: Harness, visit_id: str) -> Any:
    cur = await h.conn.execute("SELECT told_at FROM return_visits WHERE visit_id = %s", (visit_id,))
    row = await cur.fetchone()
    assert row is not None
    return row[0]


async def test_the_sweep_marks_not_reached_once_and_tells_12345(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    street = district.streets[2].code
    grids = [i for i, g in enumerate(district.grids) if g.code.startswith(street)][:3]
    async with harness(kafka, engine) as h:
        t0 = h.now[0]
        flows = RevisitFlows(load_revisit_policy(), h.flows, clock=lambda: h.now[0])
        reports = [
            report_in(district, grids[0], category="exposed_garbage"),
            report_in(district, grids[1], category="exposed_garbage", source="citymgmt"),
            report_in(district, grids[2], category="exposed_garbage"),
        ]
        ids = await h.report(reports)
        for iid in ids:
            await close(h, iid)
        visits = [(await q.visits_of(h.conn, iid))[0] for iid in ids]
        await flows.answer(h.conn, visits[2].visit_id, Satisfaction.SATISFIED, channel="hotline")

        await flows.sweep(h.conn)  # nothing of ours is due yet
        assert [(await q.visits_of(h.conn, iid))[0].not_reached for iid in ids] == [False] * 3

        later(h, days=3, minutes=1)
        marked = await flows.sweep(h.conn, limit=1)  # one visit per statement: the batches loop
        assert marked >= 2
        lapsed = [(await q.visits_of(h.conn, iid))[0] for iid in ids]
        assert [v.not_reached for v in lapsed] == [True, True, False]
        assert [v.status_at(h.now[0]) for v in lapsed] == [
            VisitStatus.NOT_REACHED,
            VisitStatus.NOT_REACHED,
            VisitStatus.ANSWERED,
        ]
        assert await told_at(h, visits[0].visit_id) is not None  # sent to 12345 and marked
        assert await told_at(h, visits[1].visit_id) is not None  # citymgmt: nothing to send

        (pending, result) = replies_to(h, reports[0].source_ref)
        assert (pending["visitResult"], result["visitResult"]) == ("待回访", "未回访成功")
        assert result["visitTime"] is None and result["finishTime"] == pending["finishTime"]
        assert [r["visitResult"] for r in replies_to(h, reports[2].source_ref)] == ["待回访", "满意"]

        assert await flows.sweep(h.conn) == 0  # a second sweep changes nothing, sends nothing
        assert len(replies_to(h, reports[0].source_ref)) == 2
        with pytest.raises(Refused, match="time to answer ended"):
            await flows.answer(h.conn, visits[0].visit_id, Satisfaction.SATISFIED, channel="hotline")

        # Open311 shows it in the request's status (extensions: return_visit)
        shown = DispatchStatus(engine).statuses([str(reports[0].report_id)])[str(reports[0].report_id)]
        assert shown.return_visit is not None and shown.return_visit.status == "not_reached"

        row = next(
            r
            for r in await kpis(h.conn, since=t0, until=h.now[0], group=KpiGroup.STREET)
            if r["key"] == street
        )
        assert (row["visits"], row["answered"], row["not_reached"]) == (3, 1, 2)


async def test_a_result_given_while_the_broker_is_away_waits_in_the_outbox(
    kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    async with harness(kafka, engine) as h:
        flows = RevisitFlows(load_revisit_policy(), h.flows, clock=lambda: h.now[0])
        report = report_in(district, 420, category="exposed_garbage")
        (iid,) = await h.report([report])
        await close(h, iid)
        (visit,) = await q.visits_of(h.conn, iid)

        # the same flows over a real producer whose broker is away (a port nothing listens on)
        port = free_port()
        gone = KafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", api_version=(3, 9), max_block_ms=300)

        async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
            return asyncio.to_thread(gone.send(topic, value, key=key, headers=headers).get, 1)

        away = CaseFlows(
            h.settings,
            h.flows.rules,
            h.flows.people,
            send,
            metrics=DispatchMetrics.create(CollectorRegistry()),
            clock=h.flows.clock,
        )
        offline = RevisitFlows(load_revisit_policy(), away, clock=lambda: h.now[0])
        later(h, hours=5)
        out = await offline.answer(
            h.conn,
            visit.visit_id,
            Satisfaction.BASICALLY_SATISFIED,
            reason_code="too_slow",
            channel="hotline",
        )
        assert out.visit.answer is Satisfaction.BASICALLY_SATISFIED  # the answer stands
        assert await told_at(h, visit.visit_id) is None  # in the outbox
        assert [r["visitResult"] for r in replies_to(h, report.source_ref)] == ["待回访"]

        assert await flows.tell(h.conn) >= 1  # the worker's timer, with the broker back
        assert await told_at(h, visit.visit_id) is not None
        replies = replies_to(h, report.source_ref)
        assert [r["visitResult"] for r in replies] == ["待回访", "基本满意"]
        assert replies[1]["visitReason"] == "处理太慢"
        await flows.tell(h.conn)  # told already: not sent again
        assert len(replies_to(h, report.source_ref)) == 2
        gone.close(timeout=0)
