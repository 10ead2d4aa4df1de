"""The Open311 GeoReport v2 intake, served by uvicorn on 127.0.0.1 and exercised the way an
agency would: the `georeport` client library (GET services, definitions, requests; JSON and
XML) and httpx for what that library does not do (discovery, POST)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
import uvicorn
import xmltodict
from fastapi import FastAPI
from georeport import GeoReport

from config.settings import Settings
from producers.dlq import raw_bytes
from producers.ledger import Ledger
from producers.open311.api import create_router
from producers.open311.serve import PREFIX, create_app
from producers.open311.store import RequestLog
from producers.publisher import Publisher
from schemas import dead_letter
from schemas.report import decode, report_id_for
from tests.net import free_port as _free_port
from tests.producers.helpers import read_topic

pytestmark = pytest.mark.kafka
SAMPLES = Path(__file__).parents[2] / "producers" / "samples"
KEY = "dev-hotline-key"  # config/agencies.toml: the hotline's development key


@pytest.fixture(scope="module")
def server(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("open311")
    settings = kafka.model_copy(update={"home": home})
    publisher = Publisher(settings)
    ledger, log = Ledger(home / "ledger.sqlite3"), RequestLog(None)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings, publisher, ledger=ledger, log=log),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}{PREFIX}"
    srv.should_exit = True
    thread.join(10)
    publisher.close()
    ledger.close()
    log.close()


def _form(**extra: str) -> dict[str, str]:
    form = {
        "api_key": KEY,
        "service_code": "streetlight_out",
        "lat": "29.5561",
        "long": "106.4560",
        "address_string": "沙坪坝区渝碚路 58 号",
        "description": "两盏路灯不亮",
        "first_name": "某",
        "last_name": "周",
        "phone": "13600000099",
        "attribute[source_ref]": f"T-{uuid.uuid4().hex[:12]}",
    }
    form.update(extra)
    return form


def test_services_through_the_georeport_client(server: str) -> None:
    for fmt in ("json", "xml"):
        client = GeoReport(server, output_format=fmt)
        services = client.get_service_list()
        codes = {s["service_code"] for s in services}
        assert len(services) == 52 and {"waterlogging", "fire", "hotline_complaint"} <= codes
        waterlogging = next(s for s in services if s["service_code"] == "waterlogging")
        assert waterlogging["service_name"] == "道路积水内涝"
        assert str(waterlogging["metadata"]).lower() == "true"
        definition = client.get_service_definition("waterlogging")
        attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
        assert [a["code"] for a in attributes] == ["source_ref", "priority", "crs"]


def test_discovery_in_json_and_xml(server: str) -> None:
    doc = httpx.get(f"{server}/discovery.json").json()
    assert doc["endpoints"][0]["url"] == server
    assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    xml = xmltodict.parse(httpx.get(f"{server}/discovery.xml").content)
    assert xml["discovery"]["endpoints"]["endpoint"]["formats"]["format"] == ["application/json", "text/xml"]


def test_post_publishes_on_the_agencys_topic_and_get_finds_it(server: str, kafka: Settings) -> None:
    form = _form()
    answer = httpx.post(f"{server}/requests.json", data=form)
    assert answer.status_code == 200, answer.text
    (receipt,) = answer.json()
    request_id = receipt["service_request_id"]
    assert request_id == str(report_id_for("hotline", form["attribute[source_ref]"]))
    assert receipt["service_notice"] == "received"

    for fmt in ("json", "xml"):
        client = GeoReport(server, output_format=fmt)
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id and one["status"] == "open"
        assert one["service_code"] == "streetlight_out"
        assert "13600000099" not in str(one)
    listed = GeoReport(server).get_service_requests(service_code="streetlight_out")
    assert request_id in {r["service_request_id"] for r in listed}

    mine = [
        decode(v)
        for k, v, _ in read_topic(kafka, kafka.topic("reports.hotline"))
        if k == form["attribute[source_ref]"].encode()
    ]
    assert len(mine) == 1
    report = mine[0]
    assert str(report.report_id) == request_id
    assert report.source == "hotline" and report.category == "streetlight_out" and report.priority == "P3"
    assert (report.location.lon, report.location.lat, report.location.crs) == (106.456, 29.5561, "wgs84")
    assert report.reporter is not None and report.reporter.name == "周某"
    assert report.raw.format == "form" and KEY not in report.raw.text


def test_a_repeated_post_is_the_same_request(server: str, kafka: Settings) -> None:
    form = _form()
    del form["attribute[source_ref]"]  # no id of its own: the content decides
    first = httpx.post(f"{server}/requests.xml", data=form)
    again = httpx.post(f"{server}/requests.xml", data=form)
    assert first.status_code == again.status_code == 200
    a = xmltodict.parse(first.content)["service_requests"]["request"]
    b = xmltodict.parse(again.content)["service_requests"]["request"]
    assert a["service_request_id"] == b["service_request_id"]
    assert b["service_notice"].startswith("already received")
    ids = [decode(v).report_id for _, v, _ in read_topic(kafka, kafka.topic("reports.hotline"))]
    assert ids.count(uuid.UUID(a["service_request_id"])) == 1


def test_gcj02_coordinates_are_declared_not_converted(server: str, kafka: Settings) -> None:
    form = _form(**{"attribute[crs]": "gcj02", "attribute[priority]": "P1"})
    assert httpx.post(f"{server}/requests.json", data=form).status_code == 200
    (report,) = [
        decode(v)
        for k, v, _ in read_topic(kafka, kafka.topic("reports.hotline"))
        if k == form["attribute[source_ref]"].encode()
    ]
    assert (report.location.lon, report.location.crs, report.priority) == (106.456, "gcj02", "P1")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_auth_failures_are_403_in_open311_format(server: str, fmt: str) -> None:
    for form, text in (
        (_form(api_key=""), "api_key is missing"),
        (_form(api_key="guess"), "api_key is not valid"),
    ):
        answer = httpx.post(f"{server}/requests.{fmt}", data=form)
        assert answer.status_code == 403
        if fmt == "json":
            assert answer.json() == [{"code": 403, "description": text}]
        else:
            assert xmltodict.parse(answer.content)["errors"]["error"] == {"code": "403", "description": text}


def test_bad_requests_are_400_with_the_field_and_dead_lettered(server: str, kafka: Settings) -> None:
    form = _form(lat="95.2")
    answer = httpx.post(f"{server}/requests.json", data=form)
    assert answer.status_code == 400
    (err,) = answer.json()
    assert err["description"] == "location.lat (lat): 95.2 is out of range [-90, 90]"
    letters = [dead_letter.decode(v) for _, v, _ in read_topic(kafka, kafka.topic("reports.dlq"))]
    (letter,) = [d for d in letters if form["attribute[source_ref]"] in raw_bytes(d).decode()]
    assert letter.stage == "open311" and letter.source == "hotline" and letter.field == "location.lat"
    assert KEY not in letter.raw and "13600000099" not in letter.reason

    unknown = httpx.post(f"{server}/requests.json", data=_form(service_code="ufo_sighting"))
    assert unknown.status_code == 400 and "service_code 'ufo_sighting' is not a service" in unknown.text
    nowhere = httpx.post(f"{server}/requests.json", data=_form(lat="", long="", address_string=""))
    assert (
        nowhere.status_code == 400 and "lat & long, address_string or address_id is required" in nowhere.text
    )


def test_not_found_and_bad_queries(server: str) -> None:
    assert httpx.get(f"{server}/requests/{uuid.uuid4()}.json").status_code == 404
    assert httpx.get(f"{server}/services/ufo.xml").status_code == 404
    bad_format = httpx.get(f"{server}/services.csv")
    assert bad_format.status_code == 404 and bad_format.json()[0]["code"] == 404
    assert httpx.get(f"{server}/services.json", params={"jurisdiction_id": "110101"}).status_code == 404
    assert httpx.get(f"{server}/services.json", params={"jurisdiction_id": "500106"}).status_code == 200
    span = httpx.get(
        f"{server}/requests.json",
        params={"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"},
    )
    assert span.status_code == 400 and "90 days" in span.text
    naive = httpx.get(f"{server}/requests.json", params={"start_date": "2025-01-01T00:00:00"})
    assert naive.status_code == 400 and "time zone" in naive.text
    with pytest.raises(requests.HTTPError):
        GeoReport(server).get_service_request(str(uuid.uuid4()))


def test_router_mounts_in_another_app(kafka: Settings, tmp_path: Path) -> None:
    publisher = Publisher(kafka)
    app = FastAPI()
    app.include_router(
        create_router(kafka.model_copy(update={"home": tmp_path}), publisher), prefix="/open311/v2"
    )

    async def calls() -> tuple[int, int]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mounted"
        ) as client:
            listed = await client.get("/open311/v2/services.json")
            refused = await client.post("/open311/v2/requests.json", data={"api_key": "nope"})
            return listed.status_code, refused.status_code

    try:
        assert asyncio.run(calls()) == (200, 403)
    finally:
        publisher.close()


def _sample_texts() -> list[str]:
    """The hotline sample's own texts (the real-world Chinese an agency sends), plus the hard
    cases: CJK Extension B, full-width punctuation, an emoji, a line break and symbols that are
    special in a form (& = + %)."""
    orders = json.loads((SAMPLES / "hotline" / "orders.json").read_text("utf-8"))["orders"]
    texts = [o["content"] for o in orders] + [o["address"] for o in orders]
    return [*texts, "𠀀𪚥 嘅啲 —— “引号”（括号）！😀\n第二行 a&b=c+d 100%"]


def _unescaped(value: str) -> str:
    """A form value as raw UTF-8: only the characters the form syntax needs are escaped."""
    return value.replace("%", "%25").replace("&", "%26").replace("=", "%3D").replace("+", "%2B")


def _reports_by_ref(kafka: Settings, refs: set[str]) -> dict[str, Any]:
    return {
        k.decode(): decode(v)
        for k, v, _ in read_topic(kafka, kafka.topic("reports.hotline"))
        if k is not None and k.decode() in refs
    }


def test_chinese_texts_round_trip_byte_for_byte_in_every_body(server: str, kafka: Settings) -> None:
    sent: dict[str, str] = {}
    for i, text in enumerate(_sample_texts()):
        form = _form(description=text)
        ref = form["attribute[source_ref]"]
        kind = i % 3
        if kind == 0:  # urlencoded with raw UTF-8 bytes, as some agency clients send it
            body = "&".join(f"{quote(k)}={_unescaped(v)}" for k, v in form.items())
            answer = httpx.post(
                f"{server}/requests.json",
                content=body.encode("utf-8"),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
        elif kind == 1:  # multipart
            answer = httpx.post(f"{server}/requests.json", files={k: (None, v) for k, v in form.items()})
        else:  # a JSON object, attributes nested
            attrs = {k[len("attribute[") : -1]: form.pop(k) for k in list(form) if k.startswith("attribute[")}
            answer = httpx.post(f"{server}/requests.json", json={**form, "attribute": attrs})
        assert answer.status_code == 200, (kind, answer.text)
        sent[ref] = text
    got = _reports_by_ref(kafka, set(sent))
    assert {ref: got[ref].description.encode("utf-8") for ref in sent} == {
        ref: text.strip().encode("utf-8") for ref, text in sent.items()
    }


def test_bodies_that_cannot_be_read_say_why_before_any_key_check(server: str) -> None:
    url = f"{server}/requests.json"
    gbk = b"api_key=x&description=" + "路灯不亮".encode("gbk")
    not_utf8 = httpx.post(url, content=gbk, headers={"content-type": "application/x-www-form-urlencoded"})
    assert not_utf8.status_code == 400
    assert not_utf8.json() == [{"code": 400, "description": "description is not UTF-8 text"}]

    broken = httpx.post(url, content=b'{"api_key": "x", ', headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.text and "api_key" not in broken.text

    huge = httpx.post(url, data=_form(description="灯" * 400_000))
    assert huge.status_code == 413 and "at most" in huge.text

    plain = httpx.post(url, content=b"api_key=x", headers={"content-type": "text/plain"})
    assert plain.status_code == 415 and "text/plain is not accepted" in plain.text
    gb2312 = httpx.post(
        url,
        content=b"api_key=x",
        headers={"content-type": "application/x-www-form-urlencoded; charset=gb2312"},
    )
    assert gb2312.status_code == 415 and "UTF-8" in gb2312.text

    xml = httpx.post(f"{server}/requests.xml", content=b"[1]", headers={"content-type": "application/json"})
    assert xml.status_code == 400
    assert "must be an object" in xmltodict.parse(xml.content)["errors"]["error"]["description"]
