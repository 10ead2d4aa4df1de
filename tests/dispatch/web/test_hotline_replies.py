"""12345's return-visit reply round trip over the real broker, against the running stack: a
hotline case is closed through the API, its native reply (待回访) goes out on feedback.hotline,
12345's 不满意 document is produced on `replies.hotline`, the running worker's agent
(streams/agents/hotline_replies.py) answers the return visit and the case reopens to the same
unit by config/revisits.toml; the document's bad entry is a dead letter naming its field, and
the 回访结果 goes back to 12345."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from kafka import KafkaProducer

from dispatch.api.auth import ApiRole, Principal, issue_token
from dispatch.revisits.hotline_reply import local_time
from schemas.dead_letter import DLQ_TOPIC
from tests.casework import report_in
from tests.dispatch.web.conftest import OPERATOR, STREET, Stack, grid_in
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _bearer(stack: Stack, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(stack.settings, principal)}"}


def _until(what: str, check: Callable[[], Any], stack: Stack, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}:\n{stack.worker.tail()}")


def _replies(stack: Stack, ref: str) -> list[dict[str, object]]:
    docs = [
        orjson.loads(v) for _, v, _ in read_topic(stack.settings, stack.settings.topic("feedback.hotline"))
    ]
    return [r for d in docs for r in d["replies"] if r["workOrderNo"] == ref]


def test_a_hotline_reply_over_the_broker_reopens_the_case(stack: Stack) -> None:
    report = report_in(
        stack.district, grid_in(stack.district, STREET, 3), category="streetlight_out", at=datetime.now(UTC)
    )
    case = stack.publish(report)
    worker = _bearer(stack, Principal(ApiRole.GRID_WORKER, case.assignee))
    for action, body in (("accept", None), ("arrive", None), ("resolve", {"note": "已更换灯泡"})):
        done = httpx.post(f"{stack.url}/worker/tasks/{case.task_id}/{action}", headers=worker, json=body)
        assert done.status_code == 200, done.text
    operator = _bearer(stack, Principal(ApiRole.OPERATOR, OPERATOR, district=stack.district.code))
    for action in ("verify", "close"):
        done = httpx.post(f"{stack.url}/incidents/{case.incident_id}/{action}", headers=operator, json={})
        assert done.status_code == 200, done.text
    (closing,) = _until("the closing's reply", lambda: _replies(stack, report.source_ref), stack)
    assert closing["replyType"] == "办结" and closing["visitResult"] == "待回访"

    document = {
        "platform": "重庆市 12345 政务服务便民热线",
        "exportedAt": datetime.now(UTC).isoformat(),
        "visits": [
            {
                "workOrderNo": report.source_ref,
                "visitTime": local_time(datetime.now(UTC)),
                "visitResult": "不满意",
                "dissatisfiedReason": "问题未解决",
                "visitNote": "路灯还是不亮",
            },
            {"workOrderNo": report.source_ref, "visitResult": "还行"},
        ],
    }
    producer = KafkaProducer(bootstrap_servers=stack.settings.bootstrap_servers)
    producer.send(
        stack.settings.topic("replies.hotline"), orjson.dumps(document), key=report.source_ref.encode()
    ).get(timeout=20)
    producer.close()

    def reopened() -> tuple[object, ...] | None:
        assert stack.worker.alive(), stack.worker.tail()
        state = stack.one("SELECT state FROM incidents WHERE incident_id = :i", i=case.incident_id)
        return (state,) if state == "dispatched" else None

    _until("the case reopened", reopened, stack)
    assert (
        stack.one("SELECT assignee_id FROM incidents WHERE incident_id = :i", i=case.incident_id)
        == case.assignee
    )
    assert (
        stack.one("SELECT rework FROM return_visits WHERE incident_id = :i", i=case.incident_id)
        == "same_unit"
    )
    assert (
        stack.one("SELECT channel FROM return_visits WHERE incident_id = :i", i=case.incident_id) == "hotline"
    )

    def letter() -> list[dict[str, object]]:
        letters = [orjson.loads(v) for _, v, _ in read_topic(stack.settings, stack.settings.topic(DLQ_TOPIC))]
        return [
            x
            for x in letters
            if x["stage"] == "replies" and x.get("source_ref") is None and report.source_ref in x["raw"]
        ]

    (bad,) = _until("the bad entry's dead letter", letter, stack)
    assert bad["field"] == "visits[1].visitResult" and bad["source"] == "hotline"
    answered = _until("the 回访结果 sent back", lambda: _replies(stack, report.source_ref)[1:], stack)
    assert answered[0]["visitResult"] == "不满意" and answered[0]["reworked"] is True
