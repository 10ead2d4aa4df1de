"""The case panel over HTTP: people instead of ids, a reporter revealed for a call back (and
the reveal on record for the district, not for another street), the reassignment picker in
the router's own order, and merge suggestions across a grid boundary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.routing.values import RoutingRule
from geo.reference import ReferenceDistrict
from schemas.report import Crs, Location, Report
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, STREET_B, Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]
ORDER = [r.value for r in RoutingRule]


def test_the_panel_names_people_and_reveals_a_reporter_on_record(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    a1 = world.a1
    detail = client.get(f"/incidents/{a1.incident_id}", headers=tokens.operator(STREET_A)).json()
    holder = detail["people"][a1.assignee]
    assert holder["name"] and holder["force_zh"] and holder["on_shift"] in (True, False)
    assert (
        "*" not in holder["phone"] and holder["phone"].replace("-", "").isdigit()
    )  # in clear: they are called
    (report,) = detail["reports"]
    assert report["reporter"]["phone"] == "138****5678"

    url = f"/incidents/{a1.incident_id}/reports/{a1.report.report_id}/reveal"
    shown = client.post(url, headers=tokens.operator(STREET_A))
    assert shown.status_code == 200
    assert (shown.json()["phone"], shown.json()["name"]) == ("13812345678", "张三丰")
    assert client.post(url, headers=tokens.operator(STREET_B)).status_code == 404
    # another case does not reveal a1's reporter
    other = f"/incidents/{world.a2.incident_id}/reports/{a1.report.report_id}/reveal"
    assert client.post(other, headers=tokens.operator(STREET_A)).status_code == 404

    logged = client.get(f"/reveals?incident={a1.incident_id}", headers=tokens.operator()).json()
    mine = [r for r in logged["items"] if r["revealed_by"] == f"op-{STREET_A}"]
    assert mine and mine[0]["report_id"] == str(a1.report.report_id) and mine[0]["street_code"] == STREET_A
    assert logged["total"] >= len(mine)
    elsewhere = client.get("/reveals", headers=tokens.operator(STREET_B)).json()["items"]
    assert all(r["street_code"] == STREET_B for r in elsewhere)
    again = client.get(f"/incidents/{a1.incident_id}", headers=tokens.operator(STREET_A)).json()
    assert again["reports"][0]["reporter"]["phone"] == "138****5678"  # revealing changes no view


def test_the_picker_lists_who_the_router_would_consider_in_its_order(
    client: TestClient, world: World, tokens: Tokens
) -> None:
    picks = client.get(f"/incidents/{world.a1.incident_id}/candidates", headers=tokens.operator()).json()
    assert picks, "the district center is on duty at every hour"
    ranks = [ORDER.index(p["rule"]) for p in picks]
    assert ranks == sorted(ranks)
    assert all(p["name"] and p["role_zh"] for p in picks)
    workers = [p for p in picks if p["rule"] == "eligible_worker"]
    assert all(p["distance_m"] is not None for p in workers)
    assert len({p["worker_id"] for p in picks}) == len(picks)


def _across_a_boundary(district: ReferenceDistrict, street: str) -> tuple[Point, Point]:
    """Two points 60 m apart on either side of a boundary between two grids of `street`."""
    grids = [g for g in district.grids if g.street_code == street]
    for g in grids:
        for n in grids:
            if n.code <= g.code or not g.geometry.touches(n.geometry):
                continue
            edge = g.geometry.boundary.intersection(n.geometry.boundary)
            if edge.length == 0:
                continue
            mid = edge.interpolate(0.5, normalized=True)
            step = 30 / 97_000
            sides = [
                Point(mid.x + dx, mid.y + dy) for dx, dy in ((step, 0), (-step, 0), (0, step), (0, -step))
            ]
            inside_g = [p for p in sides if g.geometry.contains(p)]
            inside_n = [p for p in sides if n.geometry.contains(p)]
            if inside_g and inside_n:
                return inside_g[0], inside_n[0]
    raise AssertionError(f"no two touching grids in {street}")


async def _pair(settings: Settings, engine: Engine, district: ReferenceDistrict) -> tuple[str, str, str]:
    here, there = _across_a_boundary(district, STREET_B)
    t0 = datetime.now(UTC) - timedelta(hours=2)

    def at(point: Point, when: datetime, category: str) -> Report:
        r = report_in(district, 0, category=category, at=when, description="井盖破损")
        return r.model_copy(update={"location": Location(lon=point.x, lat=point.y, crs=Crs.WGS84)})

    async with harness(settings, engine, now=t0) as h:
        (first,) = await h.report([at(here, t0, "manhole_cover_missing")])
        later = t0 + timedelta(hours=1)  # past the 30 min window: the intake opens a case of its own
        (second,) = await h.report([at(there, later, "manhole_cover_damaged")], at=later)
        (unrelated,) = await h.report([at(there, later, "fallen_tree")], at=later)
    return first, second, unrelated


def test_merge_suggestions_cross_the_grid_boundary(
    client: TestClient, tokens: Tokens, kafka: Settings, engine: Engine, district: ReferenceDistrict
) -> None:
    first, second, unrelated = asyncio.run(_pair(kafka, engine, district))
    grids = {
        iid: client.get(f"/incidents/{iid}", headers=tokens.operator()).json()["incident"]["grid_code"]
        for iid in (first, second)
    }
    assert grids[first] != grids[second]
    found = client.get(f"/incidents/{first}/merge-suggestions", headers=tokens.operator(STREET_B)).json()
    assert [s["incident_id"] for s in found] == [second]  # the same problem (井盖), not the tree
    assert 0 < found[0]["distance_m"] < 250 and unrelated not in str(found)
    assert (
        client.get(f"/incidents/{first}/merge-suggestions", headers=tokens.operator(STREET_A)).status_code
        == 404
    )
