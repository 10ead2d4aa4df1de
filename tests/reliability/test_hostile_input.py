"""Hostile input: whatever arrives, nothing crashes, every record is kept with a reason, and
personal data never shows up in clear in logs, metrics or dead-letter reasons.

The adapters have their own fuzz tests (tests/producers/test_fuzz.py); here: the stream
intake's decoder (what any agency can put on a `reports.<source>` topic), the Open311 POST
(what any agency can send over HTTP), and the personal-data rule across the real intake.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from config.logs import MaskMobileNumbers, configure_logging
from config.policy import load_taxonomy
from config.settings import Settings
from dispatch.intake.decode import Inbound, decode
from producers.dlq import raw_bytes
from schemas.dead_letter import DeadLetter
from schemas.report import Report, encode, report_id_for
from tests.casework import WEDNESDAY_10, harness, report_in
from tests.producers.helpers import read_topic
from tests.producers.test_open311 import _form, server

__all__ = ["server"]  # the Open311 server fixture, shared with tests/producers
TAXONOMY = load_taxonomy()
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PHONE, NAME = "13912345678", "欧阳娜娜"
NASTY = st.sampled_from(
    [
        "'; DROP TABLE reports; --",
        "<script>alert(1)</script>",
        "${jndi:ldap://x/a}",
        "\u0000",
        "\ud800",
        "A" * 100_000,
        "\u202e\u202d",
        "../../etc/passwd",
        "%s%s%n",
        "NaN",
        "1e999",
        "-0",
        "null",
        "[]",
    ]
)


def valid_doc() -> dict[str, Any]:
    ref = f"H-{uuid.uuid4().hex[:10]}"
    return {
        "schema_version": 1,
        "report_id": str(report_id_for("hotline", ref)),
        "source": "hotline",
        "source_ref": ref,
        "reported_at": "2026-11-25T10:00:00+08:00",
        "received_at": "2026-11-25T10:00:05+08:00",
        "category": "streetlight_out",
        "priority": "P3",
        "location": {"lon": 106.45, "lat": 29.55, "crs": "gcj02", "address": "渝碚路58号"},
        "description": "路灯不亮",
        "reporter": {"name": NAME, "phone": PHONE},
        "raw": {"format": "json", "text": "{}"},
    }


FIELDS = [
    "report_id",
    "source",
    "source_ref",
    "reported_at",
    "received_at",
    "category",
    "priority",
    "location",
    "description",
    "reporter",
    "raw",
    "attachments",
    "schema_version",
]
LOCATION_FIELDS = ["lon", "lat", "crs", "accuracy_m", "address", "area"]
VALUES = st.one_of(
    NASTY,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers()),
)


def _check(out: Report | DeadLetter, raw: bytes) -> None:
    if isinstance(out, DeadLetter):
        named = out.field.split("[")[0].split(".")[0]
        assert out.field == "$" or out.reason.startswith(named), (out.field, out.reason)
        assert PHONE not in out.reason and NAME not in out.reason
        assert raw_bytes(out) == raw  # the raw record is kept, byte for byte


def _record(value: bytes) -> Inbound:
    return Inbound("reports.hotline", 0, 7, b"k", value, None)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=4096))
def test_intake_decoder_survives_arbitrary_bytes(data: bytes) -> None:
    _check(decode(_record(data), source="hotline", taxonomy=TAXONOMY, now=NOW), data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    where=st.sampled_from(LOCATION_FIELDS),
    value=VALUES,
    nested=st.booleans(),
    drop=st.booleans(),
)
def test_intake_decoder_refuses_wrong_fields_with_the_field_named(
    field: str, where: str, value: object, nested: bool, drop: bool
) -> None:
    doc = valid_doc()
    target, key = (doc["location"], where) if nested else (doc, field)
    if drop:
        target.pop(key, None)
    else:
        target[key] = value
    try:
        raw = orjson.dumps(doc)
    except (TypeError, orjson.JSONEncodeError):
        raw = repr(doc).encode("utf-8", "surrogatepass")  # not JSON at all: still must be refused cleanly
    _check(decode(_record(raw), source="hotline", taxonomy=TAXONOMY, now=NOW), raw)


@pytest.mark.kafka
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(
        [
            "lat",
            "long",
            "service_code",
            "description",
            "requested_datetime",
            "address_string",
            "email",
            "phone",
            "media_url",
            "attribute[source_ref]",
        ]
    ),
    value=st.one_of(NASTY, st.text(max_size=200), st.floats(allow_nan=True).map(str)),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_open311_post_never_fails_with_a_5xx(server: str, field: str, value: str, fmt: str) -> None:
    form = _form(**{field: value, "phone": PHONE, "first_name": NAME})
    # encoded by hand: a lone surrogate goes out as the invalid UTF-8 it is
    body = urlencode(form, encoding="utf-8", errors="surrogatepass").encode("ascii")
    answer = httpx.post(
        f"{server}/requests.{fmt}",
        content=body,
        timeout=30,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert PHONE not in answer.text and NAME not in answer.text
        assert answer.text.strip()  # a reason, in Open311's error format


def _exposition(metrics: object) -> str:
    """Everything a scrape of these metrics would show (names, labels, values)."""
    registry = CollectorRegistry()
    for metric in vars(metrics).values():
        registry.register(metric)
    return generate_latest(registry).decode()


@pytest.mark.anyio
@pytest.mark.kafka
@pytest.mark.db
async def test_personal_data_stays_out_of_logs_metrics_and_reasons(
    cases: Settings, cases_engine: Any, district: Any, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")  # what `yiwang --log-level DEBUG` sets up: the most a user can ask for
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(MaskMobileNumbers())
    good = report_in(district, 3, description="井盖缺失")
    good = Report.model_validate({**good.model_dump(mode="json"), "reporter": {"name": NAME, "phone": PHONE}})
    bad = {
        **good.model_dump(mode="json"),
        "source_ref": "BAD-1",
        "report_id": str(report_id_for("hotline", "BAD-1")),
        "location": {"lon": 406.0, "lat": 29.5, "crs": "wgs84"},
    }
    async with harness(cases, cases_engine, now=WEDNESDAY_10) as h:
        records = [
            Inbound(cases.topic("reports.hotline"), 0, 1, None, encode(good), None),
            Inbound(cases.topic("reports.hotline"), 0, 2, None, orjson.dumps(bad), None),
            Inbound(
                cases.topic("reports.hotline"),
                0,
                3,
                None,
                b'{"reporter": {"phone": "' + PHONE.encode() + b'"}',
                None,
            ),
        ]
        assert h.intake.service is not None
        result = await h.intake.handle(records)
        metrics_text = _exposition(h.intake.service.metrics)
    assert result.dead_letters == 2 and result.opened == 1
    letters = [orjson.loads(v) for _, v, _ in read_topic(cases, cases.topic("reports.dlq"))]
    reasons = " ".join(letter["reason"] for letter in letters)
    assert "location.lon" in reasons
    for secret in (PHONE, NAME):
        assert secret not in caplog.text, "personal data in the logs"
        assert secret not in metrics_text, "personal data in the metrics"
        assert secret not in reasons, "personal data in a dead letter's reason"
