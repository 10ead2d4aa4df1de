"""The published JSON Schema files and the pydantic models are one contract."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema
import orjson
import pytest
from pydantic import ValidationError

from config.policy import load_taxonomy
from dispatch.cases.documents import FEEDBACK_ACTIONS
from schemas import dead_letter, export, report
from schemas.report import Report, report_id_for

VALIDATOR = jsonschema.Draft202012Validator(export.report_schema(), format_checker=jsonschema.FormatChecker())


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema_version": 1,
        "report_id": str(report_id_for("police", "A-1")),
        "source": "police",
        "source_ref": "A-1",
        "reported_at": "2025-06-01T07:42:13+08:00",
        "received_at": "2025-06-01T00:00:00Z",
        "category": "theft",
        "priority": "P2",
        "location": {"lon": 106.45, "lat": 29.55, "crs": "cgcs2000", "accuracy_m": 5},
        "description": "bike stolen",
        "reporter": {"name": "王某", "phone": "13800000001"},
        "attachments": [{"uri": "oss://b/k.jpg"}],
        "raw": {"format": "json", "text": "{}"},
    }
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        if value is _DROP:
            target.pop(last)
        else:
            target[last] = value
    return doc


_DROP = object()


def test_published_files_are_generated_from_the_models() -> None:
    stale = [p.name for p, text in export.rendered().items() if p.read_text("utf-8") != text]
    assert not stale, f"run `python -m schemas.export`: {stale} out of date"


@pytest.mark.parametrize("name", ["report.v1.json", "dead_letter.v1.json"])
def test_published_files_are_valid_2020_12_schemas(name: str) -> None:
    schema = json.loads((export.SCHEMAS_DIR / name).read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_category_enum_is_the_taxonomy() -> None:
    assert set(export.report_schema()["properties"]["category"]["enum"]) == set(load_taxonomy().categories)


GOOD = [
    _doc(),
    _doc(location={"address": "沙坪坝区小龙坎正街 168 号"}),
    _doc(location={"address": "x", "lon": 1.0, "lat": 2.0, "crs": "gcj02"}),
    _doc(reporter=None, attachments=[]),
    _doc(future_field={"kept": True}),
    _doc(
        location__area={
            "polygons": [[[1, 2], [2, 2], [2, 3], [1, 2]]],
            "circles": [{"lon": 1, "lat": 2, "radius_m": 300}],
        }
    ),
]
BAD = [
    ("location.lat out of range", _doc(location__lat=95.2)),
    ("lon without lat", _doc(location={"lon": 1.0, "crs": "wgs84"})),
    ("neither point nor address", _doc(location={"accuracy_m": 3})),
    ("unknown crs", _doc(location__crs="epsg:3857")),
    ("naive timestamp", _doc(reported_at="2025-06-01T07:42:13")),
    ("bad priority", _doc(priority="P9")),
    ("bad source", _doc(source="iot2")),
    ("description too long", _doc(description="x" * 4001)),
    ("missing raw", _doc(raw=_DROP)),
    ("schema version 2", _doc(schema_version=2)),
    ("empty source_ref", _doc(source_ref="")),
]


@pytest.mark.parametrize("doc", GOOD)
def test_model_and_schema_accept_the_same_good_documents(doc: dict[str, Any]) -> None:
    VALIDATOR.validate(doc)
    model = Report.model_validate(doc)
    VALIDATOR.validate(json.loads(report.encode(model)))


@pytest.mark.parametrize(("why", "doc"), BAD, ids=[b[0] for b in BAD])
def test_model_and_schema_refuse_the_same_bad_documents(why: str, doc: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(doc)), f"schema accepted: {why}"
    with pytest.raises(ValidationError):
        Report.model_validate(doc)


def test_the_model_refuses_an_unknown_category_code_only_through_the_schema_enum() -> None:
    doc = _doc(category="not_a_code")
    assert list(VALIDATOR.iter_errors(doc))


def test_unknown_fields_survive_a_round_trip_at_every_level() -> None:
    doc = _doc(extra_top=1, location__floor="3F", raw__encoding_hint="utf-8")
    back = orjson.loads(report.encode(Report.model_validate(doc)))
    assert back["extra_top"] == 1
    assert back["location"]["floor"] == "3F"
    assert back["raw"]["encoding_hint"] == "utf-8"


def test_report_id_is_uuid5_of_source_and_ref() -> None:
    assert report_id_for("police", "A-1") == report_id_for("police", "A-1")
    assert report_id_for("police", "A-1") != report_id_for("fire", "A-1")
    assert report_id_for("police", "A-1").version == 5
    with pytest.raises(ValidationError, match="report_id"):
        Report.model_validate(_doc(report_id=str(uuid.uuid4())))


def test_reporter_never_shows_in_repr_or_str() -> None:
    model = Report.model_validate(_doc())
    assert "13800000001" not in repr(model)
    assert "王某" not in str(model)
    assert orjson.loads(report.encode(model))["reporter"]["phone"] == "13800000001"


def test_wire_times_keep_an_offset() -> None:
    back = orjson.loads(report.encode(Report.model_validate(_doc())))
    assert back["reported_at"].endswith(("Z", "+08:00"))
    assert datetime.fromisoformat(back["received_at"]).tzinfo is not None


def test_dead_letter_model_matches_its_schema() -> None:
    letter = dead_letter.DeadLetter(
        dlq_id=uuid.uuid4(),
        source="police",
        stage="intake",
        field="location.lat",
        reason="location.lat: 95.2 is out of range [-90, 90]",
        raw="{}",
        raw_encoding="utf-8",
        received_at=datetime(2025, 6, 1, tzinfo=UTC),
        origin=dead_letter.Origin(topic="reports.police", partition=0, offset=7),
    )
    doc = json.loads(dead_letter.encode(letter))
    jsonschema.Draft202012Validator(export.dead_letter_schema()).validate(doc)
    assert dead_letter.decode(dead_letter.encode(letter)) == letter
    bad = {**doc, "stage": "router"}
    assert list(jsonschema.Draft202012Validator(export.dead_letter_schema()).iter_errors(bad))


def test_the_feedback_schema_names_every_outcome_the_case_flows_publish() -> None:
    """The feedback document's outcome enum is every outcome a case can end with for an agency:
    v1 once listed only closed/rejected while withdrawn, expired and voided cases published too."""
    schema = json.loads((export.SCHEMAS_DIR / "feedback.v1.json").read_text("utf-8"))
    assert set(schema["properties"]["outcome"]["enum"]) == set(FEEDBACK_ACTIONS.values())
