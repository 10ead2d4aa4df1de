"""What a district operator sees and acts on is their district's, also where no area code says so:
a 九龙坡 case at its district's centre (no street, community or grid) is on 九龙坡's forecast and
reveals, its events name the district on `dispatch.events` (what the live feed admits by); dead
letters, the people import/export, shift exceptions and surges stay inside the district; the city
operator (城市运行管理中心) sees all of it."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from dispatch.deadletters.flows import OUTSIDE
from streams.read import records_to_end
from tests.dispatch.api.conftest import JIULONGPO, Scoped, Tokens

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def test_a_case_at_its_districts_centre_is_on_that_districts_forecast_reveals_and_feed(
    client: TestClient, kafka: Settings, tokens: Tokens, scoped: Scoped
) -> None:
    case = scoped.unplaced
    jlp, street = tokens.operator(district=JIULONGPO), tokens.operator("500107001", district=JIULONGPO)
    for op, sees in ((jlp, True), (tokens.city(), True), (street, False), (tokens.operator(), False)):
        tasks = {i["task_id"] for i in client.get("/forecast", headers=op).json()["items"]}
        assert (case.task_id in tasks) is sees
    revealed = client.post(
        f"/incidents/{case.incident_id}/reports/{case.report.report_id}/reveal", headers=jlp
    )
    assert revealed.status_code == 200, revealed.text
    for op, sees in ((jlp, True), (tokens.city(), True), (street, False), (tokens.operator(), False)):
        listed = client.get("/reveals", params={"incident_id": case.incident_id}, headers=op).json()
        assert (case.incident_id in {r["incident_id"] for r in listed["items"]}) is sees, listed
    escalated = client.post(
        f"/incidents/{case.incident_id}/escalate",
        headers=jlp,
        json={"level": "district_center", "reason": "无网格：区中心督办"},
    )
    assert escalated.status_code == 200, escalated.text
    published = [
        orjson.loads(r.value)["event"]
        for r in records_to_end(kafka.bootstrap_servers, kafka.topic("dispatch.events"))
        if case.incident_id.encode() in r.value
    ]
    assert published and {e["district_code"] for e in published} == {JIULONGPO}
    assert {e["grid_code"] for e in published} == {None}


def test_dead_letters_are_their_districts_and_the_rest_the_citys(
    client: TestClient, tokens: Tokens, scoped: Scoped
) -> None:
    letters = {scoped.sb_letter, scoped.city_letter, scoped.sb_agency_letter}
    for op, mine in (
        (tokens.operator(), {scoped.sb_letter, scoped.sb_agency_letter}),
        (tokens.operator(district=JIULONGPO), set()),
        (tokens.city(), letters),
    ):
        listed = client.get("/dlq", params={"all": "true"}, headers=op).json()["letters"]
        assert {x["dlq_id"] for x in listed} & letters == mine
        placed = {x["dlq_id"]: (x["district"], x["placement"]) for x in listed if x["dlq_id"] in letters}
        sb = mine - {scoped.city_letter}
        assert all(placed[i] == ("500106", "its point lies in district 500106") for i in sb), placed
        if scoped.city_letter in placed:  # the city's only, and the desk says why
            assert placed[scoped.city_letter] == (None, OUTSIDE)
        counts = client.get("/dlq/counts", headers=op).json()
        assert sum(c["open"] for c in counts if c["field"] == scoped.mark) <= len(mine)


def test_people_and_surges_stay_inside_the_district(
    client: TestClient, tokens: Tokens, scoped: Scoped
) -> None:
    sb, jlp = tokens.operator(), tokens.operator(district=JIULONGPO)
    community = scoped.sb_worker[:12]
    sheet = client.get("/people/export", params={"format": "csv", "scope": community}, headers=sb)
    assert sheet.status_code == 200 and scoped.sb_worker in sheet.text
    files = {"file": ("roster.csv", sheet.content, "text/csv")}
    assert client.post("/people/import?check=true", files=files, headers=sb).status_code == 200
    refused = client.post("/people/import?check=true", files=files, headers=jlp)
    assert refused.status_code == 422 and refused.json()["code"] == "sheet_refused"
    problems = refused.json()["problems"]
    areas = [p for p in problems if p["column"] in ("grid_code", "community_code")]
    assert areas and all(p["row"] >= 2 and "outside yours (500107)" in p["message"] for p in areas)
    assert {p["column"] for p in problems} <= {"grid_code", "community_code", "worker_id"}
    assert not client.get("/people/export", params={"format": "csv"}, headers=jlp).text.count(
        scoped.sb_worker
    )

    leave = {"kind": "leave", "worker_id": scoped.sb_worker, "first_day": "2020-02-03", "note": scoped.mark}
    made = client.post("/people/exceptions", json=leave, headers=sb)
    assert made.status_code == 201, made.text
    ident = made.json()["id"]
    for op, sees in ((jlp, False), (sb, True), (tokens.city(), True)):
        listed = client.get("/people/exceptions", params={"since": "2020-01-01"}, headers=op).json()
        assert (ident in {x["id"] for x in listed}) is sees
    assert client.delete(f"/people/exceptions/{ident}", headers=jlp).status_code == 404
    assert client.delete(f"/people/exceptions/{ident}", headers=sb).status_code == 204

    square = [[106.40, 29.55], [106.41, 29.55], [106.41, 29.56], [106.40, 29.56], [106.40, 29.55]]
    drawn = {"warning": "暴雨", "level": "红色", "area": {"polygons": [square]}}
    outside = client.post("/surges", json=drawn, headers=jlp)  # 沙坪坝's ground: no grid of 九龙坡
    assert (outside.status_code, outside.json()["field"]) == (422, "area"), outside.text
    assert "500107" in outside.json()["detail"]
