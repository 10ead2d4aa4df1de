"""Surges over HTTP: a district operator declares one by picking a grid, every operator lists
it with its KPI split, the district operator ends it; hostile and malformed bodies are refused
naming the field, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.reference import ReferenceDistrict
from tests.dispatch.api.conftest import Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]
STREET = "500106004"  # a street the API world has no case in


def _grid(district: ReferenceDistrict) -> str:
    return next(g.code for g in district.grids if g.street_code == STREET)


def test_declare_list_and_end(
    client: TestClient, world: World, tokens: Tokens, district: ReferenceDistrict
) -> None:
    grid = _grid(district)
    body = {
        "warning": "暴雨",
        "level": "红色",
        "title": "区防汛指挥部：暴雨红色预警",
        "area": {"geocodes": [grid]},
    }
    made = client.post("/surges", json=body, headers=tokens.operator(None))
    assert made.status_code == 201, made.text
    surge = made.json()
    assert surge["grids"] == [grid] and surge["status"] == "active" and surge["origin"] == "operator"
    assert (
        surge["name"] == "暴雨红色预警"
        and surge["limits_factor"] == 0.5
        and "waterlogging" in surge["categories"]
    )
    listed = client.get("/surges", headers=tokens.operator(None)).json()["items"]
    assert surge["surge_id"] in [s["surge_id"] for s in listed]
    split = client.get(
        "/kpi", params={"group": "district", "surge": surge["surge_id"]}, headers=tokens.operator()
    )
    assert split.status_code == 200 and all(r["points_issued"] is None for r in split.json()["items"])
    theirs = client.get("/surges", headers=tokens.operator("500106001")).json()["items"]
    assert surge["surge_id"] not in [s["surge_id"] for s in theirs]  # a street operator sees its street's
    ended = client.post(f"/surges/{surge['surge_id']}/end", headers=tokens.operator(None))
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert ended.json()["end_reason"] == "operator"
    again = client.post(f"/surges/{surge['surge_id']}/end", headers=tokens.operator(None))
    assert again.json()["ended_at"] == ended.json()["ended_at"]  # ending twice changes nothing


SQUARE = [[106.40, 29.55], [106.41, 29.55], [106.41, 29.56], [106.40, 29.56], [106.40, 29.55]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"warning": "高温"}, "warning"),  # no policy for it
        ({"level": "紫色"}, "level"),
        ({"area": {}}, "area"),
        ({"area": {"polygons": [SQUARE[:3]]}}, "area.polygons"),
        ({"area": {"polygons": [[*SQUARE[:4], [106.5, 29.5]]]}}, "area.polygons[0]"),  # not closed
        ({"area": {"polygons": [[[200, 29.5], *SQUARE[1:]]]}}, "area.polygons"),
        ({"area": {"polygons": [[["NaN", 29.5], *SQUARE[1:]]]}}, "area.polygons"),
        ({"area": {"circles": [{"lon": 106.4, "lat": 29.5, "radius_m": -1}]}}, "area.circles"),
        ({"area": {"geocodes": ["5001"]}}, "area.geocodes"),
        ({"area": {"geocodes": ["'; DROP TABLE surges; --"]}}, "area.geocodes"),
        ({"area": {"geocodes": ["500106999999999"]}}, "area"),  # no such grid
        ({"until": "2020-01-01T00:00:00+08:00"}, "until"),
        ({"until": "2030-01-01T00:00:00"}, "until"),  # no offset
        ({"title": "a\x00b"}, "title"),
        ({"title": "A" * 10_000}, "title"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(  # noqa: PLR0917 - fixtures and parameters
    client: TestClient,
    world: World,
    tokens: Tokens,
    district: ReferenceDistrict,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {"warning": "暴雨", "level": "红色", "area": {"geocodes": [_grid(district)]}} | change
    answer = client.post("/surges", json=body, headers=tokens.operator(None))
    assert answer.status_code == 422, answer.text
    found = answer.json()
    names = found.get("field") or ".".join(str(p) for p in found["detail"][0]["loc"][1:])
    assert names.startswith(field), found


@pytest.mark.parametrize("surge_id", ["not-a-uuid", "00000000-0000-4000-8000-00000000000x", "a" * 100])
def test_a_malformed_surge_id_is_refused(
    client: TestClient, world: World, tokens: Tokens, surge_id: str
) -> None:
    assert client.post(f"/surges/{surge_id}/end", headers=tokens.operator(None)).status_code == 422


@pytest.mark.parametrize("surge_id", ["7f0d6a2e-0000-4000-8000-0000000000ff", "x" * 100])
def test_the_kpi_split_names_an_unknown_or_malformed_surge(
    client: TestClient, world: World, tokens: Tokens, surge_id: str
) -> None:
    answer = client.get("/kpi", params={"surge": surge_id}, headers=tokens.operator())
    assert answer.status_code == 422 and "surge" in answer.text, answer.text


def test_the_forecast_marks_tasks_past_their_limit_and_keeps_to_the_scope(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    # the world's cases were opened on 2026-11-25 and are still open: their limits are behind them
    answer = client.get("/forecast", headers=tokens.operator(None))
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    mine = {i["task_id"]: i for i in doc["items"]}
    a1 = mine[world.a1.task_id]
    assert a1["breach"] and a1["at_risk"] and a1["p_breach"] == 1.0 and a1["minutes_left"] < 0
    assert a1["assignee_id"] == world.a1.assignee and doc["at_risk"] >= 1
    theirs = client.get("/forecast?at_risk_only=true", headers=tokens.operator("500106002")).json()["items"]
    assert world.a1.task_id not in {i["task_id"] for i in theirs}
    assert world.b1.task_id in {i["task_id"] for i in theirs}


def test_the_forecast_names_the_holder_and_the_suggested_worker(
    client: TestClient, world: World, tokens: Tokens, engine: Engine
) -> None:
    items = client.get("/forecast", headers=tokens.operator(None)).json()["items"]
    people = {i["assignee_id"] for i in items} | {
        i["suggestion"]["worker_id"] for i in items if i["suggestion"]
    }
    with engine.connect() as conn:
        names = dict(
            conn.execute(
                text("SELECT worker_id, name FROM workers WHERE worker_id = ANY(:ids)"), {"ids": list(people)}
            ).all()
        )
    assert world.a1.assignee in names
    for item in items:
        assert item["assignee_name"] == names.get(item["assignee_id"])
        if item["suggestion"]:
            assert item["suggestion"]["name"] == names.get(item["suggestion"]["worker_id"])
    assert any(i["assignee_name"] for i in items)


def test_the_policies_the_board_offers_are_the_ones_config_has(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    answer = client.get("/surges/policies", headers=tokens.operator(STREET))
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    pairs = {(r["warning"], r["level"]): r for r in doc["items"]}
    red = pairs[("暴雨", "红色")]
    assert red["name"] == "暴雨红色预警" and "waterlogging" in red["categories"], red
    assert red["raise_by"] == 1 and red["limits_factor"] == 0.5, red
    assert ("暴雨", "蓝色") not in pairs  # a blue warning changes nothing: not offered
    assert doc["default_hours"] == 12
