"""12345's reply document: the schema, its samples, the mirror of the intake, and the return-visit
results it sends back (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, ValidationError

from dispatch.cases.documents import feedback_doc, messages
from dispatch.revisits.errors import FieldError
from dispatch.revisits.hotline_reply import Reply, outcome_reply, read_visits, reply_of, visit_reply
from dispatch.revisits.policy import load_revisit_policy
from dispatch.revisits.values import ReworkTarget, Satisfaction, Visit
from producers.adapters import fields
from producers.sources import load_sources
from schemas.report import Report, Source
from tests.producers.helpers import SAMPLES, adapt, sample_files

REPLY = SAMPLES / "hotline-reply"
SCHEMA = Draft202012Validator(
    json.loads((REPLY / "replies.schema.json").read_text("utf-8")),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
POLICY = load_revisit_policy()
CLOSED = "2025-06-02T09:40:00+00:00"


def intake_order() -> tuple[dict[str, Any], Report]:
    """The first work order of the intake's sample, and the report the intake made of it."""
    (path,) = sample_files(Source.HOTLINE)
    order = json.loads(path.read_text("utf-8"))["orders"][0]
    report = adapt(Source.HOTLINE, path.read_bytes())[0]
    assert isinstance(report, Report)
    return order, report


def closing_event(**data: Any) -> dict[str, Any]:
    return {
        "incident_id": "i-1",
        "sequence": 9,
        "action": "close",
        "at": CLOSED,
        "reason": "核查通过",
        "data": {"on_time": True, **data},
        "grid_code": "500106001001001",
    }


def test_the_samples_follow_the_schema() -> None:
    SCHEMA.validate(json.loads((REPLY / "replies.json").read_text("utf-8")))


@pytest.mark.parametrize(
    "change",
    [
        {"handleUnit": None},
        {"finishTime": "2025-06-02T17:40:00+08:00"},
        {"visitResult": "很好"},
        {"replyType": "closed"},
        {"extra": 1},
    ],
)
def test_the_schema_refuses_a_document_off_the_shape(change: dict[str, Any]) -> None:
    doc = json.loads((REPLY / "replies.json").read_text("utf-8"))
    doc["replies"][0].update(change)
    with pytest.raises(ValidationError):
        SCHEMA.validate(doc)


def test_a_closing_is_the_inverse_of_the_intake() -> None:
    order, report = intake_order()
    row = {"report_id": str(report.report_id), "source": "hotline", "source_ref": report.source_ref}
    feedback = feedback_doc(closing_event(), row, "已更换路灯灯泡，恢复夜间照明")
    doc = orjson.loads(outcome_reply(feedback, unit="童家桥街道"))
    SCHEMA.validate(doc)
    (reply,) = doc["replies"]
    assert reply["workOrderNo"] == order["workOrderNo"] == report.source_ref
    assert reply == {
        "workOrderNo": "CQ12345-20250601-000123",
        "replyType": "办结",
        "handleResult": "已更换路灯灯泡，恢复夜间照明；核查通过",
        "finishTime": "2025-06-02 17:40:00",
        "handleUnit": "童家桥街道",
        "onTime": True,
        "visitResult": "待回访",
        "visitReason": None,
        "visitTime": None,
        "reworked": False,
    }
    # the times are written as the intake reads them: local, in the hotline's zone
    tz = load_sources()[Source.HOTLINE].timezone
    back = fields.timestamp(
        reply["finishTime"],
        field="t",
        native="finishTime",
        tz=tz,
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert back == datetime.fromisoformat(CLOSED)
    assert len(reply["finishTime"]) == len(order["acceptTime"])
    assert doc["exportedAt"] == "2025-06-02T17:40:00+08:00"


def test_what_goes_out_on_feedback_hotline() -> None:
    reports = {
        "i-1": [
            {"report_id": "r-1", "source": "hotline", "source_ref": "H-1", "unit": "童家桥街道"},
            {"report_id": "r-2", "source": "police", "source_ref": "P-7", "unit": "童家桥街道"},
            {"report_id": "r-3", "source": "hotline", "source_ref": "H-2", "unit": None},
        ]
    }
    rejected = {**closing_event(), "action": "reject", "reason": "不属于受理范围"}
    for event, kind in ((closing_event(), "办结"), (rejected, "退回")):
        out = messages([{"incident_id": "i-1", "grid_code": "g"}], [], [event], reports)
        hotline = [m for m in out if m.topic == "feedback.hotline"]
        assert [m.key for m in hotline] == [b"H-1", b"H-2"]
        docs = [orjson.loads(m.value) for m in hotline]
        for doc in docs:
            SCHEMA.validate(doc)
        assert [d["replies"][0]["replyType"] for d in docs] == [kind, kind]
        assert [d["replies"][0]["handleUnit"] for d in docs] == ["童家桥街道", "区级指挥中心"]
        police = next(m for m in out if m.topic == "feedback.police")
        assert orjson.loads(police.value)["source_ref"] == "P-7"  # the others keep our outcome record


def visit(**changes: Any) -> Visit:
    at = datetime.fromisoformat(CLOSED)
    base = Visit("rv-1", "i-1", "r-1", "hotline", "CQ12345-20250601-000123", 9, "w-1", "500106001", at, at)
    return replace(base, **changes)


def test_an_answered_visit_carries_its_result() -> None:
    answered = visit(
        answered=True,
        answer=Satisfaction.DISSATISFIED,
        reason_code="not_fixed",
        reason="又不亮了",
        answered_at=datetime(2025, 6, 3, 2, 5, tzinfo=UTC),
        rework=ReworkTarget.SAME_UNIT,
    )
    closing = {**closing_event(), "resolution": "已更换路灯灯泡"}
    doc = orjson.loads(visit_reply(answered, POLICY, closing=closing, unit="童家桥街道"))
    SCHEMA.validate(doc)
    (reply,) = doc["replies"]
    assert (
        reply["handleResult"] == "已更换路灯灯泡；核查通过" and reply["finishTime"] == "2025-06-02 17:40:00"
    )
    assert (reply["visitResult"], reply["visitReason"], reply["visitTime"], reply["reworked"]) == (
        "不满意",
        "问题未解决：又不亮了",
        "2025-06-03 10:05:00",
        True,
    )
    with pytest.raises(ValueError, match="not answered"):
        visit_reply(visit(), POLICY, closing=closing_event(), unit=None)


NOW = datetime(2025, 6, 3, 3, 0, tzinfo=UTC)


def test_the_visits_sample_reads_into_replies() -> None:
    out = list(read_visits((REPLY / "visits.json").read_bytes(), POLICY, now=NOW))
    assert out == [
        Reply(
            "CQ12345-20250601-000123",
            Satisfaction.DISSATISFIED,
            "not_fixed",
            "市民称路灯修好一晚后又不亮",
            datetime(2025, 6, 3, 2, 5, tzinfo=UTC),
        ),
        Reply(
            "CQ12345-20250601-000124",
            Satisfaction.SATISFIED,
            None,
            None,
            datetime(2025, 6, 3, 2, 8, tzinfo=UTC),
        ),
    ]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"visitResult": "满意"}, "visits[0].workOrderNo"),
        ({"workOrderNo": "H-1", "visitResult": "还行"}, "visits[0].visitResult"),
        ({"workOrderNo": "H-1", "visitResult": 3}, "visits[0].visitResult"),
        ({"workOrderNo": "H-1", "visitResult": "不满意"}, "visits[0].dissatisfiedReason"),
        (
            {"workOrderNo": "H-1", "visitResult": "不满意", "dissatisfiedReason": "天气"},
            "visits[0].dissatisfiedReason",
        ),
        ({"workOrderNo": "H-1", "visitResult": "满意", "visitTime": "昨天"}, "visits[0].visitTime"),
        (
            {"workOrderNo": "H-1", "visitResult": "满意", "visitTime": "2025-06-04 10:00:00"},
            "visits[0].visitTime",
        ),
        ({"workOrderNo": "H-1", "visitResult": "满意", "visitNote": "x" * 501}, "visits[0].visitNote"),
        ("not an object", "visits[0]"),
    ],
)
def test_a_bad_visit_names_its_field(entry: Any, field: str) -> None:
    data = orjson.dumps({"visits": [entry, {"workOrderNo": "H-2", "visitResult": "基本满意"}]})
    first, second = read_visits(data, POLICY, now=NOW)
    assert isinstance(first, FieldError) and first.field == field, first
    assert isinstance(second, Reply) and second.answer is Satisfaction.BASICALLY_SATISFIED


@pytest.mark.parametrize(("data", "field"), [(b"{", "$"), (b"[]", "visits"), (b'{"visits": {}}', "visits")])
def test_a_document_that_is_not_one_is_refused_whole(data: bytes, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        list(read_visits(data, POLICY, now=NOW))
    assert caught.value.field == field


def test_reply_values_accept_codes_and_words() -> None:
    by_code = reply_of(POLICY, source_ref="H-1", answer="dissatisfied", reason="attitude")
    by_words = reply_of(POLICY, source_ref="H-1", answer="不满意", reason="工作人员态度不好")
    assert by_code == by_words and by_code.reason_code == "attitude"
    assert (
        reply_of(POLICY, source_ref=" H-1 ", answer="满意", at=NOW - timedelta(hours=1)).source_ref == "H-1"
    )
