"""12345's return-visit reply over HTTP (`POST /agency/replies`) against the real database and
broker: 不满意 about the handling reopens the case to the same unit, the same reply again changes
nothing, another agency's reference is 404, bad values are refused naming the field; the
answer's 回访结果 goes back to 12345 on feedback.hotline, and Open311's GET requests/{id} shows
the return visit (status_notes; extended_attributes with extensions=true)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.api.status import DispatchStatus
from geo.reference import ReferenceDistrict
from producers.ledger import Ledger
from producers.open311.api import create_router
from producers.open311.serve import PREFIX as OPEN311_PREFIX
from producers.open311.store import SharedRequestLog
from producers.publisher import Publisher
from schemas.report import Report
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, Tokens
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.db, pytest.mark.kafka]


async def _case(settings: Settings, engine: Engine, report: Report) -> str:
    async with harness(settings, engine) as h:
        (iid,) = await h.report([report])
    return iid


def closed_hotline_case(
    client: TestClient, tokens: Tokens, kafka: Settings, engine: Engine, report: Report
) -> tuple[str, str, str]:
    """A hotline case taken to closing through the API: (incident, work order, assignee)."""
    iid, ref = asyncio.run(_case(kafka, engine, report)), report.source_ref
    with engine.connect() as conn:
        task, assignee = conn.execute(
            text("SELECT current_task_id::text, assignee_id FROM incidents WHERE incident_id = :i"),
            {"i": iid},
        ).one()
    me, op = tokens.worker(assignee), tokens.operator()
    for action, body in (("accept", None), ("arrive", None), ("resolve", {"note": "已更换灯泡"})):
        assert client.post(f"/worker/tasks/{task}/{action}", headers=me, json=body).status_code == 200
    for action in ("verify", "close"):
        done = client.post(f"/incidents/{iid}/{action}", headers=op, json={})
        assert done.status_code == 200, done.text
    return iid, ref, assignee


def replies_for(kafka: Settings, ref: str, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 20
    while True:
        docs = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.hotline"))]
        mine = [r for d in docs for r in d["replies"] if r["workOrderNo"] == ref]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def test_a_hotline_reply_reopens_the_case_once_and_is_told_back(
    client: TestClient, tokens: Tokens, kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    grid = [i for i, g in enumerate(district.grids) if g.street_code == STREET_A][12]
    report = report_in(district, grid, category="streetlight_out", source="hotline")
    iid, ref, assignee = closed_hotline_case(client, tokens, kafka, engine, report)
    hotline = tokens.agency("hotline")
    # Open311 clients see the return visit through the request's status
    SharedRequestLog(engine).record(report, service_name="路灯不亮", agency="区城市管理局")
    publisher = Publisher(kafka)
    open311 = FastAPI()
    open311.include_router(
        create_router(kafka, publisher, ledger=Ledger(None), status=DispatchStatus(engine)),
        prefix=OPEN311_PREFIX,
    )
    status = f"{OPEN311_PREFIX}/requests/{report.report_id}.json"
    with TestClient(open311) as geo:
        (asked,) = geo.get(status, params={"extensions": "true"}).json()
        plain = geo.get(status).json()[0]
        assert geo.get(status, params={"extensions": "yes"}).status_code == 400
    assert client.get("/r/reasons").json()["items"][0] == {
        "code": "not_fixed",
        "zh": "问题未解决",
        "en": "The problem is not fixed",
        "handling": True,
    }

    refusals = [
        ({"source_ref": ref, "answer": "还行"}, "answer"),
        ({"source_ref": ref, "answer": "不满意"}, "reason"),
        ({"source_ref": ref, "answer": "不满意", "reason": "天气不好"}, "reason"),
        (
            {
                "source_ref": ref,
                "answer": "满意",
                "answered_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            "answered_at",
        ),
        ({"source_ref": ref, "answer": "满意", "answered_at": "2020-01-01T00:00:00+08:00"}, "answered_at"),
        ({"source_ref": ref, "answer": "满意", "note": "a\x00b"}, "note"),
    ]
    for body, field in refusals:
        got = client.post("/agency/replies", headers=hotline, json=body)
        assert got.status_code == 422 and field in got.text, (body, got.text)
    elsewhere = client.post(
        "/agency/replies", headers=tokens.agency("police"), json={"source_ref": ref, "answer": "满意"}
    )
    assert elsewhere.status_code == 404  # not the police's report

    body = {"source_ref": ref, "answer": "不满意", "reason": "问题未解决", "note": "修好一晚又不亮"}
    first = client.post("/agency/replies", headers=hotline, json=body)
    assert first.status_code == 200, first.text
    assert first.json()["reopened"] is True and first.json()["state"] == "dispatched"
    again = client.post("/agency/replies", headers=hotline, json=body)
    assert again.status_code == 200 and again.json()["reopened"] is False  # the same reply: nothing new
    otherwise = client.post("/agency/replies", headers=hotline, json={"source_ref": ref, "answer": "满意"})
    assert otherwise.status_code == 409  # answered already, differently
    with engine.connect() as conn:
        state, holder, reopens = conn.execute(
            text("SELECT state, assignee_id, reopens FROM incidents WHERE incident_id = :i"), {"i": iid}
        ).one()
        channel, rework = conn.execute(
            text("SELECT channel, rework FROM return_visits WHERE incident_id = :i"), {"i": iid}
        ).one()
    assert (state, holder, reopens) == ("dispatched", assignee, 1)  # 返工 to the same unit, once
    assert (channel, rework) == ("hotline", "same_unit")

    with TestClient(open311) as geo:
        (told,) = geo.get(status, params={"extensions": "true"}).json()
    assert asked["status"] == "closed" and "回访: awaiting" in asked["status_notes"]
    assert asked["extended_attributes"]["return_visit"]["status"] == "pending"
    assert "extended_attributes" not in plain and "回访" in plain["status_notes"]
    assert told["status"] == "open" and "回访: 不满意; reopened (返工)" in told["status_notes"]
    visit = told["extended_attributes"]["return_visit"]
    assert (visit["status"], visit["answer"], visit["reworked"]) == ("answered", "dissatisfied", True)

    publisher.close()
    closing, answered = replies_for(kafka, ref, 2)
    assert (closing["visitResult"], closing["handleResult"]) == ("待回访", "已更换灯泡")
    assert answered["visitResult"] == "不满意" and answered["reworked"] is True
    assert (
        answered["handleResult"] == closing["handleResult"]
        and answered["finishTime"] == closing["finishTime"]
    )
    assert answered["visitReason"] == "问题未解决：修好一晚又不亮"
