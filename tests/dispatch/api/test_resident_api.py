"""The resident endpoints over the real app, PostGIS and Kafka: a report becomes a canonical
`resident` report on its topic, is followed by its code only, limited per device, and bad
input is refused naming the field, never with a 5xx."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.settings import Settings
from geo.reference import ReferenceDistrict
from producers.ledger import Ledger
from producers.open311.api import create_router
from producers.open311.serve import PREFIX as OPEN311_PREFIX
from producers.publisher import Publisher
from schemas.report import decode
from tests.producers.helpers import read_topic

pytestmark = [pytest.mark.db, pytest.mark.kafka]
BODY = {
    "category": "exposed_garbage",
    "description": "楼下垃圾两天没人收",
    "address": "沙坪坝区小龙坎正街 10 号",
}


def device() -> dict[str, str]:
    return {"X-Device": f"dev-{uuid.uuid4().hex[:16]}"}


def test_a_report_is_published_as_a_resident_report_and_followed_by_its_code_only(
    client: TestClient, kafka: Settings
) -> None:
    picker = client.get("/r/categories").json()["items"]
    assert {"code": "exposed_garbage", "zh": "暴露垃圾"}.items() <= next(
        c for c in picker if c["code"] == "exposed_garbage"
    ).items()
    answer = client.post("/r/reports", json={**BODY, "phone": "13800001234"}, headers=device())
    assert answer.status_code == 201, answer.text
    code, ref = answer.json()["code"], answer.json()["reference"]
    assert code.startswith(ref + "-")
    published = [decode(v) for _, v, _ in read_topic(kafka, kafka.topic("reports.resident"))]
    mine = next(r for r in published if r.source_ref == ref)
    assert mine.source == "resident" and mine.category == "exposed_garbage" and mine.location.address
    assert mine.reporter is not None and mine.reporter.phone == "13800001234"

    # listed by Open311 like any request (GET requests by its id)
    publisher = Publisher(kafka)
    open311 = FastAPI()
    open311.include_router(create_router(kafka, publisher, ledger=Ledger(None)), prefix=OPEN311_PREFIX)
    with TestClient(open311) as geo:
        (listed,) = geo.get(
            f"{OPEN311_PREFIX}/requests.json", params={"service_request_id": str(mine.report_id)}
        ).json()
    assert listed["service_code"] == "exposed_garbage" and listed["status"] == "open"
    assert listed["service_name"] == "暴露垃圾" and "13800001234" not in str(listed)
    publisher.close()

    follow = client.get(f"/r/reports/{code}").json()
    assert follow["reference"] == ref and follow["timeline"][0]["stage"] == "received"
    assert "13800001234" not in str(follow) and not follow["can_rate"]
    assert client.get(f"/r/reports/{ref}-222222").status_code == 404  # the reference alone is not the key
    assert client.post(f"/r/reports/{code}/rating", json={"answer": "satisfied"}).status_code == 404


def test_a_typed_address_goes_out_as_the_point_of_the_building_the_form_showed(
    client: TestClient, kafka: Settings, district: ReferenceDistrict
) -> None:
    """The intake then places it by that point, not by a gazetteer of its own: the resident's
    district's building, as `GET /r/place` showed it."""
    building = district.buildings[7]
    bare = building.address.removeprefix("重庆市沙坪坝区")
    sent = client.post("/r/reports", json={**BODY, "address": bare, "district": "500106"}, headers=device())
    assert sent.status_code == 201, sent.text
    unknown = client.post("/r/reports", json={**BODY, "address": "火星路 9999 号"}, headers=device())
    assert unknown.status_code == 201, unknown.text  # found nowhere: sent as typed, a desk places it
    elsewhere = client.post(
        "/r/reports", json={**BODY, "address": bare, "district": "500199"}, headers=device()
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["field"] == "district", elsewhere.text
    published = {
        r.source_ref: r for _, v, _ in read_topic(kafka, kafka.topic("reports.resident")) if (r := decode(v))
    }
    mine = published[sent.json()["reference"]].location
    assert (mine.lon, mine.lat, mine.address) == (
        pytest.approx(building.lon),
        pytest.approx(building.lat),
        bare,
    )
    typed = published[unknown.json()["reference"]].location
    assert typed.lon is None and typed.address == "火星路 9999 号"


def test_limits_per_device_and_refusals_name_the_field(client: TestClient) -> None:
    mine = device()
    for _ in range(5):
        assert client.post("/r/reports", json=BODY, headers=mine).status_code == 201
    assert client.post("/r/reports", json=BODY, headers=mine).status_code == 429
    assert client.post("/r/reports", json=BODY).status_code == 422  # no device id
    cases = [
        ({**BODY, "category": "fire"}, "category"),
        ({"category": "road_dirt", "description": "x"}, "location"),
        ({**BODY, "lon": 106.4}, "lat"),
        ({**BODY, "photos": ["a", "b", "c", "d"]}, "photos"),
    ]
    for body, field in cases:
        got = client.post("/r/reports", json=body, headers=device())
        assert got.status_code == 422 and field in got.text, (body, got.text)


JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


def test_photos_are_checked_like_a_workers_limited_per_device_and_named_by_key(client: TestClient) -> None:
    mine = device()
    assert client.post("/r/photos", files={"photo": ("a.jpg", JPEG)}).status_code == 422  # no device id
    gif = client.post("/r/photos", headers=mine, files={"photo": ("a.jpg", b"GIF89a" + bytes(50))})
    assert gif.status_code == 415 and gif.json()["field"] == "photo"
    huge = client.post("/r/photos", headers=mine, files={"photo": ("a.jpg", JPEG + bytes(5 * 1024 * 1024))})
    assert huge.status_code == 413
    stored = client.post("/r/photos", headers=mine, files={"photo": ("../x.png", JPEG, "image/png")})
    assert stored.status_code == 201, stored.text
    key = stored.json()["key"]
    assert key.startswith("photos/") and key.endswith(".jpg")
    made = client.post("/r/reports", json={**BODY, "photos": [key]}, headers=mine)
    assert made.status_code == 201, made.text
    bad = client.post("/r/reports", json={**BODY, "photos": [key, "../../etc/passwd"]}, headers=device())
    assert bad.status_code == 422 and bad.json()["field"] == "photos[1]"
    for _ in range(14):  # 15 an hour per device (config/residents.toml), refused ones not counted
        assert client.post("/r/photos", headers=mine, files={"photo": ("a.jpg", JPEG)}).status_code == 201
    assert client.post("/r/photos", headers=mine, files={"photo": ("a.jpg", JPEG)}).status_code == 429
    assert client.post("/r/photos", headers=device(), files={"photo": ("a.jpg", JPEG)}).status_code == 201


def test_the_form_shows_the_place_before_sending_and_nothing_else(
    client: TestClient, district: ReferenceDistrict
) -> None:
    grid = district.grids[120]
    point = grid.geometry.representative_point()
    mine = device()
    at = client.get("/r/place", params={"lon": point.x, "lat": point.y}, headers=mine)
    assert at.status_code == 200, at.text
    shown = at.json()
    assert set(shown) == {
        "lon", "lat", "grid_code", "grid", "community", "street", "grids", "address", "district_code", "found"
    }  # fmt: skip
    assert shown["grid_code"] == grid.code and shown["grid"] and shown["community"] and shown["street"]
    outlines = shown["grids"]["features"]
    assert grid.code in {f["id"] for f in outlines}
    assert all(set(f["properties"]) == {"name"} for f in outlines)  # outlines and names only

    building = next(b for b in district.buildings if b.grid_code.startswith(grid.code[:12]))
    typed = client.get("/r/place", params={"address": building.address}, headers=mine)
    assert typed.status_code == 200, typed.text
    assert (typed.json()["grid_code"], typed.json()["address"]) == (building.grid_code, building.address)
    assert (
        typed.json()["district_code"] == "500106"
        and "which the address names (沙坪坝区)" in typed.json()["found"]
    )
    bare = building.address.removeprefix("重庆市沙坪坝区")  # on 沙坪坝's page, a bare address is its own
    on_page = client.get("/r/place", params={"address": bare, "district": "500106"}, headers=mine).json()
    assert on_page["grid_code"] == building.grid_code and on_page["found"].endswith("the lookup is for")
    other = client.get("/r/place", params={"address": bare, "district": "500199"}, headers=mine)
    assert other.status_code == 422 and other.json()["field"] == "district", other.text
    assert "'500199' is not one of 500106" in other.json()["detail"]

    refusals = [
        ({"address": "火星路 9999 号"}, mine, "address"),
        ({"lon": 0.0, "lat": 0.0}, mine, "lat"),
        ({"lon": point.x}, mine, "lat"),
        ({}, mine, "location"),
    ]
    for params, headers, field in refusals:
        got = client.get("/r/place", params=params, headers=headers)
        assert got.status_code == 422 and field in got.text, (params, got.text)
    assert client.get("/r/place", params={"lon": point.x, "lat": point.y}).status_code == 422  # no device

    limited = device()
    answers = [
        client.get("/r/place", params={"lon": point.x, "lat": point.y}, headers=limited).status_code
        for _ in range(61)
    ]
    assert answers[:60] == [200] * 60 and answers[60] == 429


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["category", "description", "lon", "lat", "address", "photos", "phone", "x"]),
        st.one_of(
            st.none(),
            st.text(max_size=30),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(),
            st.lists(st.text()),
        ),
    ),
    code=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_.~abc汉字", max_size=30),
)
def test_fuzzed_resident_input_never_gives_a_5xx(
    client: TestClient, body: dict[str, object], code: str
) -> None:
    assert client.post("/r/reports", json=body, headers=device()).status_code < 500
    assert client.get(f"/r/reports/{code or 'x'}").status_code < 500
    assert client.post(f"/r/reports/R-{code}/rating", json=body).status_code < 500
    params = {
        k: v for k, v in body.items() if k in {"lon", "lat", "address"} and isinstance(v, str | float | int)
    }
    assert client.get("/r/place", params=params, headers=device()).status_code < 500
