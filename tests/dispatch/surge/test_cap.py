"""CAP alerts of the emergency feed as surge notices: area, geocodes, period, Update, Cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from dispatch.surge.cap import MsgType, NoticeError, notice_of
from dispatch.surge.declarations import cap_effect, cap_surge_id
from dispatch.surge.policy import load_surge_policy
from producers.outcome import Companion, Rejection
from schemas.cap_record import decode as decode_record
from schemas.report import Report
from tests.producers.helpers import adapt

SAMPLE = Path(__file__).resolve().parents[3] / "producers" / "samples" / "emergency" / "rainstorm-polygon.xml"
SH = timedelta(hours=8)


def cap_doc(xml: bytes) -> dict[str, Any]:
    """The report document the surge agent reads: an Alert's report, or the one an Update's or
    a Cancel's life-cycle record carries (they open no case)."""
    outcomes = adapt("emergency", xml, received_at=datetime(2025, 6, 1, 4, 0, tzinfo=UTC))
    reports = [o for o in outcomes if isinstance(o, Report)]
    if reports:
        (outcome,) = reports
        doc: dict[str, Any] = orjson.loads(outcome.model_dump_json())
        return doc
    (record,) = [decode_record(o.value) for o in outcomes if isinstance(o, Companion)]
    assert record.report is not None, record
    return record.report


def variant(**tags: str) -> bytes:
    """The sample alert with some elements' text replaced (or added after <msgType>)."""
    text = SAMPLE.read_text(encoding="utf-8")
    for tag, value in tags.items():
        start, end = f"<{tag}>", f"</{tag}>"
        if start in text:
            head, rest = text.split(start, 1)
            text = head + start + value + end + rest.split(end, 1)[1]
        else:
            text = text.replace("</msgType>", f"</msgType>\n  {start}{value}{end}")
    return text.encode()


def test_the_sample_rainstorm_alert_puts_an_orange_surge_over_its_polygon() -> None:
    notice = notice_of(cap_doc(SAMPLE.read_bytes()))
    assert notice is not None and notice.msg_type is MsgType.ALERT
    assert notice.area.geocodes == ("500106",) and len(notice.area.polygons) == 1
    assert notice.area.polygons[0][0] == (106.41, 29.635)  # CAP's lat,lon as lon, lat
    effect = cap_effect(notice, load_surge_policy())
    d = effect.declare
    assert d is not None and effect.ends == ()
    assert (d.rule.warning, d.rule.level) == ("暴雨", "橙色")  # 暴雨橙色预警信号 in the headline
    assert d.surge_id == cap_surge_id("50010641600000_20250601074500")
    assert d.starts_at.astimezone(UTC) == datetime(2025, 6, 1, 7, 45, tzinfo=UTC) - SH
    assert d.ends_at - d.starts_at == timedelta(hours=12)  # its <expires>


def test_an_update_replaces_the_alert_it_references_and_a_cancel_ends_it() -> None:
    ref = "500106@12379.cn,50010641600000_20250601074500,2025-06-01T07:45:00+08:00"
    update = notice_of(
        cap_doc(variant(identifier="U-1", msgType="Update", references=ref, headline="暴雨红色预警信号"))
    )
    assert update is not None
    effect = cap_effect(update, load_surge_policy())
    assert effect.ends == (cap_surge_id("50010641600000_20250601074500"),)
    assert effect.declare is not None and effect.declare.rule.level == "红色"
    cancel = notice_of(cap_doc(variant(identifier="C-1", msgType="Cancel", references=ref)))
    assert cancel is not None
    effect = cap_effect(cancel, load_surge_policy())
    assert effect.declare is None and effect.ends == (cap_surge_id("50010641600000_20250601074500"),)


def test_an_alert_without_expires_lasts_the_policy_default() -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("<expires>2025-06-01T19:45:00+08:00</expires>", "")
    notice = notice_of(cap_doc(text.encode()))
    assert notice is not None and notice.expires is None
    d = cap_effect(notice, load_surge_policy()).declare
    assert d is not None and d.ends_at - d.starts_at == load_surge_policy().default_duration


def test_a_warning_without_a_policy_declares_nothing() -> None:
    notice = notice_of(cap_doc(variant(event="高温预警", headline="高温橙色预警")))
    assert notice is not None
    effect = cap_effect(notice, load_surge_policy())
    assert effect.declare is None and "no surge policy" in effect.why


def test_a_bad_reference_names_the_field() -> None:
    doc = cap_doc(SAMPLE.read_bytes())
    doc["cap"]["references"] = "just-an-identifier"
    with pytest.raises(NoticeError) as caught:
        notice_of(doc)
    assert caught.value.field == "cap.references"


@pytest.mark.parametrize("doc", [{"source": "hotline", "cap": {}}, {"source": "emergency"}])
def test_other_reports_are_not_notices(doc: dict[str, Any]) -> None:
    assert notice_of(doc) is None


def test_rejections_stay_with_the_adapter() -> None:
    (outcome,) = adapt("emergency", variant(status="Exercise"))
    assert isinstance(outcome, Rejection)
