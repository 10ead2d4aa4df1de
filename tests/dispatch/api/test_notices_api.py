"""The notices over HTTP: a desk receives and answers; the operator's case panel shows it; the
KPIs count it; hostile input is refused naming the field, never with a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.dispatch.api.conftest import STREET_A, Notices, Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]
LATER = (datetime.now(UTC) + timedelta(hours=6)).isoformat()


def test_a_desk_receives_and_answers_and_the_operator_sees_it(
    client: TestClient, world: World, tokens: Tokens, world_notices: Notices
) -> None:
    desk = tokens.desk(world_notices.desk_a)
    url = f"/notices/{quote(world_notices.a1_received)}"
    answered = client.post(f"{url}/answer", headers=desk, json={"what": "今天下午派人更换井盖", "by": LATER})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["state"] == "answered" and body["answer"] == "今天下午派人更换井盖"
    assert [e["action"] for e in body["events"]] == ["receive", "answer"]
    assert body["history"] and body["description"]
    again = client.post(f"{url}/answer", headers=desk, json={"what": "再答一次", "by": LATER})
    assert again.status_code == 409 and again.json()["state"] == "answered"
    panel = client.get(f"/incidents/{world.a1.incident_id}/notices", headers=tokens.operator(STREET_A)).json()
    states = {n["notice_id"]: n["state"] for n in panel["items"]}
    assert states[world_notices.a1_received] == "answered"
    kpi = {r["desk"]: r for r in client.get("/notices/kpi", headers=tokens.operator()).json()["items"]}
    assert kpi[world_notices.desk_a]["notices"] >= 2 and kpi[world_notices.desk_a]["answer_min"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"by": LATER}, "what"),
        ({"what": "", "by": LATER}, "what"),
        ({"what": "x" * 2001, "by": LATER}, "what"),
        ({"what": "好"}, "by"),
        ({"what": "好", "by": "明天"}, "by"),
        ({"what": "好", "by": "2026-12-02T10:00:00"}, "by"),  # no offset
        ({"what": "好", "by": LATER, "extra": 1}, "extra"),
    ],
)
def test_a_bad_answer_names_its_field(
    client: TestClient, tokens: Tokens, world_notices: Notices, body: dict[str, Any], field: str
) -> None:
    r = client.post(
        f"/notices/{quote(world_notices.a1_sent)}/answer",
        headers=tokens.desk(world_notices.desk_a),
        json=body,
    )
    assert r.status_code == 422 and field in r.text, r.text


@pytest.mark.parametrize(
    "notice_id",
    ["x", "../../etc/passwd", "a" * 400, "00000000-0000-0000-0000-000000000000:1>mayor:1", "'; --"],
)
def test_a_bad_notice_id_is_refused_not_crashed(
    client: TestClient, tokens: Tokens, world_notices: Notices, notice_id: str
) -> None:
    r = client.post(
        f"/notices/{quote(notice_id, safe='')}/receive", headers=tokens.desk(world_notices.desk_a)
    )
    assert r.status_code in (404, 422), r.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lon": 106.4, "lat": 95}, "lat"),
        ({"lon": "x", "lat": 29.5}, "lon"),
        ({"lon": 106.4, "lat": 29.5, "who": 1}, "who"),
    ],
)
def test_a_bad_position_names_its_field(
    client: TestClient, world: World, tokens: Tokens, body: dict[str, Any], field: str
) -> None:
    r = client.put("/worker/position", headers=tokens.worker(world.a1.assignee), json=body)
    assert r.status_code == 422 and field in r.text, r.text


def test_the_task_detail_has_the_reports_the_place_and_the_desk(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    d = client.get(
        f"/worker/tasks/{world.a1.task_id}/detail", headers=tokens.worker(world.a1.assignee)
    ).json()
    assert d["reports"] and d["reports"][0]["description"] and "reporter" not in d["reports"][0]
    assert d["place"]["amap"].startswith("https://uri.amap.com/marker?position=")
    assert d["place"]["grid_outline"]["type"] in ("Polygon", "MultiPolygon")
    assert {c["role"] for c in d["contacts"]} <= {"community_lead", "street_center"} and d["contacts"]


def test_a_past_promise_is_refused(client: TestClient, tokens: Tokens, world_notices: Notices) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    desk = tokens.desk(world_notices.desk_b)
    r = client.post(
        f"/notices/{quote(world_notices.b1_received)}/answer", headers=desk, json={"what": "好", "by": past}
    )
    assert r.status_code == 422 and r.json()["field"] == "by"
