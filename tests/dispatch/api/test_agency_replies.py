"""12345's return-visit reply over HTTP (`POST /agency/replies`) against the real database and
broker: 不满意 about the handling reopens the case to the same unit, the same reply again changes
nothing, another agency's reference is 404, bad values are refused naming the field; the
answer's 回访结果 goes back to 12345 on feedback.hotline."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from geo.reference import ReferenceDistrict
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, Tokens
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.db, pytest.mark.kafka]


async def _case(settings: Settings, engine: Engine, district: ReferenceDistrict) -> tuple[str, str]:
    grid = [i for i, g in enumerate(district.grids) if g.street_code == STREET_A][12]
    report = report_in(district, grid, category="streetlight_out", source="hotline")
    async with harness(settings, engine) as h:
        (iid,) = await h.report([report])
    return iid, report.source_ref


def closed_hotline_case(
    client: TestClient, tokens: Tokens, kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> tuple[str, str, str]:
    """A hotline case taken to closing through the API: (incident, work order, assignee)."""
    iid, ref = asyncio.run(_case(kafka, engine, district))
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
    iid, ref, assignee = closed_hotline_case(client, tokens, kafka, engine, district)
    hotline = tokens.agency("hotline")
    assert client.get("/r/reasons").json()["items"][0] == {
        "code": "not_fixed",
        "zh": "问题未解决",
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

    closing, answered = replies_for(kafka, ref, 2)
    assert (closing["visitResult"], closing["handleResult"]) == ("待回访", "已更换灯泡")
    assert answered["visitResult"] == "不满意" and answered["reworked"] is True
    assert answered["visitReason"] == "问题未解决：修好一晚又不亮"
