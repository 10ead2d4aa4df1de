"""The intake's msgspec struct and the pydantic contract give the same answer (the drift test).

Both read the same bytes: valid reports of every feed (made by the real simulator and
adapters) decode to the same values, and a report broken in any one field is refused by both,
the struct's error naming that field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from config.policy import load_taxonomy
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context
from producers.simulator import generate
from producers.sources import load_sources
from schemas import export
from schemas.dead_letter import Origin
from schemas.report import Report
from schemas.report_struct import ReportError, ReportStruct, decode_report

PUBLISHED = Draft202012Validator(export.report_schema())
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _valid() -> list[bytes]:
    sources, taxonomy = load_sources(), load_taxonomy()
    out: list[bytes] = []
    for item in generate(5, 200, start=NOW, malformed_share=0.0):
        # received after the simulated span, so no report is refused as being in the future
        ctx = Context(sources[item.source], taxonomy, NOW + timedelta(days=1), Origin())
        out += [
            r.model_dump_json().encode()
            for r in ADAPTERS[item.source](item.payload, ctx)
            if isinstance(r, Report)
        ]
    return out


VALID = _valid()


def test_every_field_of_the_contract_is_in_the_struct() -> None:
    assert set(ReportStruct.__struct_fields__) == set(Report.model_fields)


def test_valid_reports_decode_to_the_same_values() -> None:
    assert len({orjson.loads(v)["source"] for v in VALID}) >= 4  # several feeds, each its own shape
    for value in VALID:
        struct, doc = decode_report(value)
        model = Report.model_validate_json(value)
        declared = model.model_dump(mode="json", exclude=set(model.model_extra or ()))
        assert msgspec.to_builtins(struct) == declared
        assert doc == orjson.loads(value)  # unknown fields (an adapter's extras: CAP's) kept here


def _both(value: bytes) -> tuple[ReportError | None, bool]:
    try:
        decode_report(value)
        struct_error = None
    except ReportError as exc:
        struct_error = exc
    try:
        Report.model_validate_json(value)
        model_ok = True
    except ValidationError:
        model_ok = False
    return struct_error, model_ok


BROKEN: list[tuple[str, Any]] = [
    ("report_id", "not-a-uuid"),
    ("source", "radio"),
    ("source_ref", ""),
    ("source_ref", "a\nb"),
    ("reported_at", "2026-11-25T10:00:00"),
    ("reported_at", "1999-12-31T23:00:00Z"),
    ("received_at", None),
    ("category", "Not_A_Code"),
    ("priority", "P9"),
    ("description", "x" * 4001),
    ("attachments", [{"uri": ""}]),
    ("attachments", [{"uri": "a"}] * 21),
    ("raw", {"format": "pdf", "text": ""}),
    ("schema_version", 2),
    ("location.lon", 181.0),
    ("location.lat", -90.5),
    ("location.accuracy_m", -1.0),
    ("location.crs", "utm"),
    ("location.address", ""),
    ("reporter.phone", "1" * 41),
]


@pytest.mark.parametrize(("field", "value"), BROKEN)
def test_a_broken_field_is_refused_by_both_and_named(field: str, value: Any) -> None:
    doc = orjson.loads(VALID[0])
    *parents, key = field.split(".")
    target = doc
    for parent in parents:
        if not isinstance(target.get(parent), dict):
            target[parent] = {}
        target = target[parent]
    target[key] = value
    error, model_ok = _both(orjson.dumps(doc))
    assert not model_ok
    assert error is not None
    top = field.split(".", maxsplit=1)[0]
    assert error.field == "$" or error.field.split("[")[0].split(".")[0] == top, (field, error.field)
    assert error.reason.startswith(error.field)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, len(VALID) - 1),
    field=st.sampled_from(sorted(Report.model_fields)),
    value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
)
def test_struct_and_model_accept_the_same_documents(index: int, field: str, value: Any) -> None:
    doc = orjson.loads(VALID[index])
    doc[field] = value
    try:
        raw = orjson.dumps(doc)
    except orjson.JSONEncodeError:
        return
    error, model_ok = _both(raw)
    if (error is None) != model_ok:
        # pydantic's lax mode takes a few values its own published schema refuses (true for
        # the const 1, "1.5" for a number); the struct may refuse those, and only those
        assert error is not None and not PUBLISHED.is_valid(doc), (field, value, error)
