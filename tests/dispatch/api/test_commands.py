"""Commands over HTTP against the real database and broker: a grid worker's task to closing,
idempotent retries, refusals with clear errors, masked reporters, the map, Open311 status."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.api.status import DispatchStatus
from producers.ledger import Ledger
from producers.open311.api import create_router
from producers.open311.serve import PREFIX as OPEN311_PREFIX
from producers.open311.store import SharedRequestLog
from producers.publisher import Publisher
from schemas.report import decode
from tests.casework import harness
from tests.dispatch.api.conftest import Tokens, World
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def test_a_worker_takes_a_task_to_closing(
    client: TestClient, world: World, tokens: Tokens, kafka: Settings
) -> None:
    case = world.a2
    me, op = tokens.worker(case.assignee), tokens.operator("500106001")
    mine = client.get("/worker/tasks", headers=me).json()["items"]
    task = next(t for t in mine if t["task_id"] == case.task_id)
    assert task["deadlines"]["accept"]["status"] == "running" and task["due"]
    assert [t["due"] for t in mine] == sorted(t["due"] for t in mine)  # by deadline
    base = f"/worker/tasks/{case.task_id}"
    assert client.post(f"{base}/accept", headers=me).json()["incident"]["state"] == "accepted"
    assert client.post(f"{base}/arrive", headers=me).json()["incident"]["state"] == "on_site"
    refused = client.post(f"{base}/resolve", headers=me, json={"note": " "})
    assert refused.status_code == 422 and refused.json()["field"] == "note"
    bad = client.post(f"{base}/resolve", headers=me, json={"note": "ok", "colour": "red"})
    assert bad.status_code == 422  # unknown fields are refused
    done = client.post(f"{base}/resolve", headers=me, json={"note": "已恢复供水", "photos": ["obj://a.jpg"]})
    assert done.status_code == 200 and done.json()["incident"]["state"] == "resolved"
    iid = case.incident_id
    rework = client.post(f"/incidents/{iid}/rework", headers=op, json={"reason": "现场仍有积水"})
    assert rework.json()["incident"]["state"] == "rework" and rework.json()["incident"]["reworks"] == 1
    assert client.post(f"{base}/accept", headers=me).status_code == 200
    assert client.post(f"{base}/resolve", headers=me, json={"note": "已彻底修复"}).status_code == 200
    assert client.post(f"/incidents/{iid}/verify", headers=op).status_code == 200
    closed = client.post(f"/incidents/{iid}/close", headers=op, json={"reason": "群众满意"})
    assert closed.json()["incident"]["state"] == "closed"
    assert client.post(f"{base}/accept", headers=me).status_code == 409  # the task is done
    detail = client.get(f"/incidents/{iid}", headers=op).json()
    actions = [e["action"] for e in detail["events"]]
    assert actions[-8:] == [
        "accept",
        "arrive",
        "resolve",
        "fail_verification",
        "accept",
        "resolve",
        "verify",
        "close",
    ]
    assert detail["tasks"][-1]["status"] == "done" and detail["tasks"][-1]["notes"] == "已彻底修复"
    reporter = detail["reports"][0]["reporter"]
    assert reporter == {"name": "张**", "phone": "138****5678", "email": None, "anonymous": False}
    assert "13812345678" not in str(detail) and "张三丰" not in str(detail)
    deadline = time.monotonic() + 20
    while True:  # the API publishes after commit: read the feedback back from the broker
        docs = [orjson.loads(v) for _, v, _ in read_topic(kafka, kafka.topic("feedback.hotline"))]
        mine_fb = [r for d in docs for r in d["replies"] if r["workOrderNo"] == case.report.source_ref]
        if mine_fb or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(mine_fb) == 1  # 12345's own reply document (dispatch/revisits/hotline_reply.py)
    assert mine_fb[0]["replyType"] == "办结" and mine_fb[0]["handleResult"].startswith("已彻底修复")
    status = client.get(f"/agency/reports/{case.report.report_id}", headers=tokens.agency("hotline")).json()
    assert status["state"] == "closed" and status["closed_at"]


def test_retries_with_an_idempotency_key_apply_once(client: TestClient, world: World, tokens: Tokens) -> None:
    op, iid = tokens.operator(), world.a3.incident_id
    key = {"Idempotency-Key": f"park-{uuid.uuid4()}"}
    first = client.post(f"/incidents/{iid}/park", headers={**op, **key}, json={"reason": "等待林业部门"})
    again = client.post(f"/incidents/{iid}/park", headers={**op, **key}, json={"reason": "等待林业部门"})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert first.json() == again.json()
    events = client.get(f"/incidents/{iid}", headers=op).json()["events"]
    assert [e["action"] for e in events].count("park") == 1
    reused = client.post(f"/incidents/{iid}/unpark", headers={**op, **key})
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"
    illegal = client.post(f"/incidents/{iid}/park", headers=op, json={"reason": "again"})
    assert illegal.status_code == 409
    assert illegal.json() | {"detail": ""} == {
        "detail": "",
        "code": "illegal_transition",
        "state": "parked",
        "action": "park",
        "role": "operator",
    }
    missing = client.post(f"/incidents/{iid}/unpark", headers=op)
    assert missing.status_code == 200 and missing.json()["incident"]["state"] == "dispatched"
    no_reason = client.post(f"/incidents/{iid}/escalate", headers=op, json={"level": "district_center"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    up = client.post(
        f"/incidents/{iid}/escalate", headers=op, json={"level": "district_center", "reason": "久拖未决"}
    )
    assert up.json()["incident"]["escalation_level"] == "district_center"
    stranger = client.post(
        f"/incidents/{iid}/reassign", headers=op, json={"assignee": "nobody-1", "reason": "x"}
    )
    assert stranger.status_code == 422 and stranger.json()["field"] == "assignee"
    ghost = client.post(f"/incidents/{uuid.uuid4()}/verify", headers=op)
    assert ghost.status_code == 404


def test_the_map_is_geojson(client: TestClient, world: World, tokens: Tokens) -> None:
    fc = client.get("/map", headers=tokens.operator()).json()
    assert fc["type"] == "FeatureCollection"
    points = {f["id"]: f for f in fc["features"] if f["properties"]["kind"] == "incident"}
    grids = {f["id"]: f for f in fc["features"] if f["properties"]["kind"] == "grid"}
    b1 = points[world.b1.incident_id]
    assert b1["geometry"]["type"] == "Point" and {"priority", "light", "state"} <= set(b1["properties"])
    cell = grids[b1["properties"]["grid_code"]]
    assert cell["geometry"]["type"] in ("Polygon", "MultiPolygon") and cell["properties"]["open"] >= 1


async def _intake(settings: Settings, engine: Engine, report_id: str) -> str:
    async with harness(settings, engine) as h:
        records = [
            r for _, v, _ in read_topic(settings, settings.topic("reports.hotline")) if (r := decode(v))
        ]
        report = next(r for r in records if str(r.report_id) == report_id)
        (iid,) = await h.report([report])
        return iid


def test_open311_answers_with_the_dispatch_state(
    client: TestClient, kafka: Settings, engine: Engine, tokens: Tokens, tmp_path: Path
) -> None:
    publisher = Publisher(kafka)
    ledger, log = Ledger(None), SharedRequestLog(engine)
    try:
        router = create_router(kafka, publisher, ledger=ledger, log=log, status=DispatchStatus(engine))
        client.app.include_router(router, prefix=OPEN311_PREFIX)  # type: ignore[attr-defined]
        form = {
            "api_key": "dev-hotline-key",
            "service_code": "streetlight_out",
            "lat": "29.5561",
            "long": "106.4560",
            "description": "两盏路灯不亮",
            "attribute[source_ref]": f"T-{uuid.uuid4().hex[:12]}",
        }
        posted = client.post(f"{OPEN311_PREFIX}/requests.json", data=form).json()[0]
        rid = posted["service_request_id"]
        before = client.get(f"{OPEN311_PREFIX}/requests/{rid}.json").json()[0]
        assert before["status"] == "open" and before["status_notes"] == "received; awaiting dispatch"
        publisher.flush()
        iid = asyncio.run(_intake(kafka, engine, rid))
        now = client.get(f"{OPEN311_PREFIX}/requests/{rid}.json").json()[0]
        assert now["status"] == "open" and now["status_notes"].startswith(("dispatched", "registered"))
        op = tokens.operator()
        # expected_datetime is the case's next deadline, the one the command center's board shows
        board = client.get(f"/incidents/{iid}", headers=op).json()["incident"]
        running = [d["deadline"] for d in board["deadlines"].values() if d["deadline"]]
        assert running and now["expected_datetime"] is not None
        assert datetime.fromisoformat(now["expected_datetime"]) == min(map(datetime.fromisoformat, running))
        reject = client.post(f"/incidents/{iid}/reject", headers=op, json={"reason": "x"})
        assert reject.status_code == 409  # only a reported case can be rejected
        park = client.post(f"/incidents/{iid}/park", headers=op, json={"reason": "路灯改造工程"})
        assert park.status_code in (200, 409)
        after = client.get(f"{OPEN311_PREFIX}/requests/{rid}.json").json()[0]
        assert after["status"] == "open" and after["status_notes"].split(":")[0] in ("parked", "registered")

        # another API host (its own router, log object and home) answers the same from the database
        other = FastAPI()
        other.include_router(
            create_router(
                kafka.model_copy(update={"home": tmp_path}),
                publisher,
                ledger=Ledger(None),
                log=SharedRequestLog(engine),
                status=DispatchStatus(engine),
            ),
            prefix=OPEN311_PREFIX,
        )
        with TestClient(other) as elsewhere:
            assert elsewhere.get(f"{OPEN311_PREFIX}/requests/{rid}.json").json() == [after]
            # a source configured as not public (110) is never listed, nor found by its id
            hidden = str(uuid.uuid4())
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO open311_requests (service_request_id, source, service_code, "
                        "service_name, description, requested_at) "
                        "VALUES (:id, 'police', 'streetlight_out', '路灯', 'x', now())"
                    ),
                    {"id": hidden},
                )
            listed = elsewhere.get(f"{OPEN311_PREFIX}/requests.json").json()
            assert rid in {r["service_request_id"] for r in listed}
            assert hidden not in {r["service_request_id"] for r in listed}
            assert elsewhere.get(f"{OPEN311_PREFIX}/requests/{hidden}.json").status_code == 404
    finally:
        publisher.close()
        ledger.close()
        log.close()
