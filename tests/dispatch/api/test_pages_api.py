"""What the API added for the pages, against the real database and broker: the layers and
categories the map draws with (scoped, cached with ETags), the actions a case offers, the
`escalated` filter, photos (checked, stored, read back only in scope), and who may open the
live feed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from config.settings import Settings
from dispatch.api.app import create_app
from dispatch.kpi.overdue import OPEN_STATES
from geo.reference import ReferenceDistrict
from tests.casework import harness, report_in
from tests.dispatch.api.conftest import STREET_A, STREET_B, Tokens, World

pytestmark = [pytest.mark.db, pytest.mark.kafka]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)


def test_layers_are_scoped_to_the_operators_street(client: TestClient, tokens: Tokens) -> None:
    district = client.get("/reference/layers", headers=tokens.operator())
    assert district.status_code == 200
    body = district.json()
    assert len(body["streets"]["features"]) == 22 and len(body["grids"]["features"]) == 940
    grid = body["grids"]["features"][0]
    assert grid["geometry"]["type"] == "MultiPolygon" and grid["properties"]["parent"] == grid["id"][:12]
    street = client.get("/reference/layers", headers=tokens.operator(STREET_A)).json()
    codes = {f["id"] for layer in ("streets", "communities", "grids") for f in street[layer]["features"]}
    assert codes and all(code.startswith(STREET_A) for code in codes)
    names = client.get("/reference/layers?geometry=false", headers=tokens.operator(STREET_A)).json()
    assert all(f["geometry"] is None for f in names["grids"]["features"])
    again = client.get(
        "/reference/layers", headers={**tokens.operator(STREET_A), "If-None-Match": district.headers["etag"]}
    )
    assert again.status_code == 200  # another scope, another body
    cached = client.get(
        "/reference/layers", headers={**tokens.operator(), "If-None-Match": district.headers["etag"]}
    )
    assert cached.status_code == 304
    assert client.get("/reference/layers", headers=tokens.worker("x")).status_code == 403


def test_categories_for_every_logged_in_caller(client: TestClient, tokens: Tokens, world: World) -> None:
    answer = client.get("/reference/categories", headers=tokens.worker(world.a1.assignee))
    assert answer.json()["manhole_cover_missing"] == {
        "zh": "井盖缺失",
        "en": answer.json()["manhole_cover_missing"]["en"],
        "family": "public_facilities",
        "priority": "P1",
    }
    assert client.get("/reference/categories").status_code == 401


def test_detail_offers_the_actions_of_its_state_and_the_escalated_filter(
    client: TestClient, tokens: Tokens, world: World
) -> None:
    op = tokens.operator(STREET_A)
    detail = client.get(f"/incidents/{world.a1.incident_id}", headers=op).json()
    if detail["incident"]["state"] == "dispatched":
        assert {"action": "reassign", "reason": True} in detail["actions"]
        assert {"action": "verify", "reason": False} not in detail["actions"]
    # escalated means past the community, as the board's 已升级 queue (dispatch/kpi/overdue.py)
    escalated = client.get("/incidents?escalated=true", headers=op).json()
    assert all(i["escalation_level"] in ("street_center", "district_center") for i in escalated["items"])
    plain = client.get("/incidents?escalated=false", headers=op).json()
    assert all(i["escalation_level"] not in ("street_center", "district_center") for i in plain["items"])
    queue = client.get("/incidents?queue=escalated", headers=op).json()
    open_escalated = client.get(
        "/incidents", params={"escalated": "true", "state": OPEN_STATES}, headers=op
    ).json()
    assert queue["total"] == open_escalated["total"]
    assert escalated["total"] + plain["total"] == client.get("/incidents", headers=op).json()["total"]


def test_live_feed_is_for_operators(client: TestClient, tokens: Tokens, world: World) -> None:
    assert client.get("/live", headers=tokens.worker(world.a1.assignee)).status_code == 403
    assert client.get("/live").status_code == 401
    assert client.get("/worker/live", headers=tokens.operator()).status_code == 403
    assert client.get("/worker/live").status_code == 401


@pytest.fixture(scope="module")
def photo_client(
    kafka: Settings, world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Path]]:
    home = tmp_path_factory.mktemp("photos-home")
    with TestClient(create_app(kafka.model_copy(update={"home": home}), live=False)) as c:
        yield c, home


def test_photos_are_checked_stored_and_read_back_in_scope_only(
    photo_client: tuple[TestClient, Path],
    tokens: Tokens,
    kafka: Settings,
    engine: Engine,
    district: ReferenceDistrict,
) -> None:
    grid = next(i for i, g in enumerate(district.grids) if g.street_code == STREET_A)

    async def make() -> tuple[str, str, str]:
        async with harness(kafka, engine) as h:
            (iid,) = await h.report([report_in(district, grid, category="fallen_tree", source="patrol")])
            cur = await h.conn.execute(
                "SELECT current_task_id::text, assignee_id FROM incidents WHERE incident_id = %s", (iid,)
            )
            row = await cur.fetchone()
            assert row is not None
            return iid, row[0], row[1]

    incident_id, task_id, assignee = asyncio.run(make())
    me = tokens.worker(assignee)
    c, home = photo_client
    not_image = c.post(
        "/worker/photos", headers=me, files={"photo": ("a.jpg", b"GIF89a" + bytes(50), "image/jpeg")}
    )
    assert not_image.status_code == 415 and not_image.json()["field"] == "photo"
    huge = c.post(
        "/worker/photos", headers=me, files={"photo": ("a.jpg", JPEG + bytes(5 * 1024 * 1024), "image/jpeg")}
    )
    assert huge.status_code == 413
    assert (
        c.post("/worker/photos", headers=tokens.operator(), files={"photo": ("a.jpg", JPEG)}).status_code
        == 403
    )
    stored = c.post("/worker/photos", headers=me, files={"photo": ("../../x.jpg", JPEG, "image/png")})
    assert stored.status_code == 201
    key = stored.json()["key"]
    assert key.startswith("photos/") and key.endswith(".jpg") and ".." not in key
    assert not (home / key).exists()  # not on this host's disk: in the database every API host reads
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT data FROM photos WHERE photo_key = :k"), {"k": key}).scalar_one()
    assert bytes(kept) == JPEG
    assert c.get(f"/photos/{key}", headers=tokens.operator(STREET_A)).status_code == 404  # not attached yet
    base = f"/worker/tasks/{task_id}"
    assert c.post(f"{base}/accept", headers=me).status_code == 200
    assert (
        c.post(f"{base}/resolve", headers=me, json={"note": "已清理倒伏树木", "photos": [key]}).status_code
        == 200
    )
    for who in (tokens.operator(STREET_A), tokens.operator(), me):
        got = c.get(f"/photos/{key}", headers=who)
        assert got.status_code == 200 and got.content == JPEG and got.headers["content-type"] == "image/jpeg"
    assert c.get(f"/photos/{key}", headers=tokens.operator(STREET_B)).status_code == 404
    other_home = home.parent / "another-api-host"
    with TestClient(create_app(kafka.model_copy(update={"home": other_home}), live=False)) as other:
        assert other.get(f"/photos/{key}", headers=me).content == JPEG  # another API host serves it
    assert c.get(f"/photos/{key}", headers=tokens.worker("500106002002001-grid_worker-1")).status_code == 404
    assert c.get(f"/photos/{key}", headers=tokens.agency("patrol")).status_code == 403
    assert c.get("/photos/photos/2026/11/../../../etc/passwd", headers=tokens.operator()).status_code in (
        404,
        422,
    )

    # an escalation by hand is counted beside the tracker's steps
    escalated = c.post(
        f"/incidents/{incident_id}/escalate",
        headers=tokens.operator(STREET_A),
        json={"level": "street_center", "reason": "群众反映强烈"},
    )
    assert escalated.status_code == 200, escalated.text
    assert 'yiwang_sla_escalations_total{clock="manual",step="manual"} 1.0' in c.get("/metrics").text
