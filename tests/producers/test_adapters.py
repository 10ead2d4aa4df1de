"""Each adapter reads its system's samples into the expected canonical reports, and turns bad
records into rejections that name the field (pure: no Kafka)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers.outcome import Companion, Rejection
from schemas.cap_record import CAP_TOPIC, CapRecord, MsgType
from schemas.cap_record import decode as decode_record
from schemas.report import Crs, Report, report_id_for
from tests.producers.helpers import RECEIVED, adapt, sample_files

SAMPLES = Path(__file__).parents[2] / "producers" / "samples"

EXPECTED_SAMPLES = {
    # source: [(source_ref, category, priority, crs or None), ...] in file order
    "police": [
        ("500106202506010001", "theft", "P2", "cgcs2000"),
        ("500106202506010002", "traffic_accident", "P1", "wgs84"),
        ("500106202506010003", "neighbour_dispute", "P3", None),
        ("500106202506010004", "violent_crime", "P0", "cgcs2000"),
    ],
    "citymgmt": [
        ("SZCG500106202506010012", "exposed_garbage", "P3", "cgcs2000"),
        ("SZCG500106202506010013", "manhole_cover_missing", "P1", "cgcs2000"),
        ("SZCG500106202506010014", "waterlogging", "P1", None),
    ],
    "emergency": [
        ("SPB-YJ-2025-0601-0007", "gas_leak", "P0", "wgs84"),
        ("SPB-YJ-2025-0531-0031", "geological_hazard", "P3", None),  # its Update and Cancel: records only
        ("50010641600000_20250601074500", "severe_weather_alert", "P1", "wgs84"),
    ],
    "fire": [
        ("119-500106-20250601-0017", "fire", "P1", "cgcs2000"),
        ("119-500106-20250601-0018", "rescue", "P2", "cgcs2000"),
        ("119-500106-20250601-0019", "gas_leak", "P0", None),
    ],
    "cyberspace": [
        ("WX-500106-20250601-0031", "online_rumor", "P3", None),
        ("WX-500106-20250601-0032", "fraud_tip", "P2", None),
        ("WX-500106-20250601-0033", "public_disturbance", "P1", None),
    ],
    "hotline": [
        ("CQ12345-20250601-000123", "streetlight_out", "P3", None),
        ("CQ12345-20250601-000124", "water_outage", "P2", "bd09"),
        ("CQ12345-20250601-000125", "illegal_construction", "P4", None),
        ("CQ12345-20250601-000126", "hotline_consultation", "P4", None),
    ],
    "patrol": [
        ("XC-500106-20250601-000201", "exposed_garbage", "P3", "gcj02"),
        ("XC-500106-20250601-000202", "manhole_cover_missing", "P1", "gcj02"),
        ("XC-500106-20250601-000203", "waterlogging", "P1", "bd09"),
    ],
    "resident": [
        ("R-7K2M9QXW", "exposed_garbage", "P3", "wgs84"),
        ("R-3HD8PQ2N", "streetlight_out", "P3", "wgs84"),
        ("R-9WQ4TZ6C", "manhole_cover_damaged", "P3", None),
    ],
}


def _reports(source: str) -> list[Report]:
    out: list[Report] = []
    for path in sample_files(source):
        outcomes = adapt(source, path.read_bytes())
        assert not [o for o in outcomes if isinstance(o, Rejection)], f"{path.name}: {outcomes}"
        out.extend(o for o in outcomes if isinstance(o, Report))
    return out


@pytest.mark.parametrize("source", sorted(EXPECTED_SAMPLES))
def test_samples_map_to_the_expected_reports(source: str) -> None:
    got = [
        (r.source_ref, r.category, r.priority.value, r.location.crs.value if r.location.crs else None)
        for r in _reports(source)
    ]
    assert sorted(got) == sorted(EXPECTED_SAMPLES[source])
    for r in _reports(source):
        assert r.source == source
        assert r.report_id == report_id_for(source, r.source_ref)
        assert r.received_at == RECEIVED
        assert r.reported_at.utcoffset() is not None and r.reported_at < RECEIVED
        assert r.raw.text


def test_local_times_are_read_in_shanghai_and_sent_in_utc() -> None:
    first = next(r for r in _reports("police") if r.source_ref == "500106202506010001")
    assert first.reported_at == datetime(2025, 5, 31, 23, 42, 13, tzinfo=UTC)


def test_patrol_keeps_gcj02_coordinates_unconverted_and_photos() -> None:
    r = next(r for r in _reports("patrol") if r.source_ref.endswith("000201"))
    assert (r.location.lon, r.location.lat, r.location.crs) == (106.46342, 29.54981, Crs.GCJ02)
    assert r.location.accuracy_m == 6.0
    assert [a.uri for a in r.attachments] == [
        "oss://yiwang-patrol/2025/06/01/000201-1.jpg",
        "oss://yiwang-patrol/2025/06/01/000201-2.jpg",
    ]
    assert r.reporter is not None and r.reporter.account == "W0012345"


def test_cap_polygon_becomes_its_centroid_and_the_area_is_kept() -> None:
    r = next(r for r in _reports("emergency") if r.source_ref.startswith("5001064"))
    assert r.location.area is not None and len(r.location.area.polygons[0]) == 6
    assert 106.39 < (r.location.lon or 0) < 106.48 and 29.57 < (r.location.lat or 0) < 29.66
    assert r.location.accuracy_m is not None and 2_000 < r.location.accuracy_m < 10_000
    assert r.model_extra is not None and r.model_extra["cap"]["severity"] == "Severe"


def test_cap_circle_becomes_its_centre_with_the_radius_as_accuracy() -> None:
    r = next(r for r in _reports("emergency") if r.source_ref.endswith("0007"))
    assert (r.location.lon, r.location.lat, r.location.accuracy_m) == (106.4688, 29.5461, 300.0)
    assert r.location.area is not None and r.location.area.circles[0].radius_m == 300.0


def test_csv_raw_is_the_exact_row_including_a_multiline_field() -> None:
    r = next(r for r in _reports("fire") if r.source_ref.endswith("0019"))
    assert r.raw.text.startswith("119-500106-20250601-0019,") and "\n现场有明显气味" in r.raw.text
    assert "现场有明显气味" in r.description


def test_hotline_falls_back_from_classification_to_appeal_type() -> None:
    r = next(r for r in _reports("hotline") if r.source_ref.endswith("000126"))
    assert r.category == "hotline_consultation" and r.location.lon is None and r.location.address


def _police(**fields: object) -> bytes:
    record: dict[str, object] = {
        "jjdbh": "T-1",
        "bjsj": "2025-06-01 07:42:13",
        "ajlb": "0103",
        "bjnr": "x",
        "afdz": "沙坪坝区小龙坎正街 1 号",
        "zbx": 106.45,
        "zby": 29.55,
        "bjrdh": "13800000009",
    }
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"zby": 95.2}, "location.lat", "location.lat (zby): 95.2 is out of range [-90, 90]"),
        ({"zbx": "NaN"}, "location.lon", "not a finite number"),
        ({"zbx": 106.4, "zby": ...}, "location.lat", "location.lat (zby): is missing"),
        ({"zbxt": "EPSG:3857"}, "location.crs", "unknown coordinate system"),
        ({"bjsj": "yesterday"}, "reported_at", "reported_at (bjsj): 'yesterday' is not a timestamp"),
        ({"bjsj": "2031-01-01 00:00:00"}, "reported_at", "is in the future"),
        ({"bjsj": "1999-12-31 23:00:00"}, "reported_at", "is before 2000"),
        ({"ajlb": "9999"}, "category", "category (ajlb): unknown 警情类别 code '9999'"),
        ({"ajlb": ["0103"]}, "category", "expected a code, got list"),
        ({"bjnr": "长" * 4001}, "description", "description (bjnr): 4001 characters, at most 4000"),
        ({"jjdbh": ...}, "source_ref", "source_ref (jjdbh): is missing"),
        ({"jjdbh": True}, "source_ref", "expected text, got bool"),
        ({"afdz": ..., "zbx": ..., "zby": ...}, "location", "neither coordinates nor an address"),
        ({"bjrdh": 13800000009.5}, "reporter.phone", "expected text, got float"),
    ],
)
def test_police_rejections_name_the_field(fields: dict[str, object], field: str, fragment: str) -> None:
    (outcome,) = adapt("police", _police(**fields))
    assert isinstance(outcome, Rejection), outcome
    assert outcome.field == field
    assert fragment in outcome.reason
    assert outcome.reason.startswith(field)
    assert "13800000009" not in outcome.reason


def test_one_bad_line_of_json_lines_rejects_only_itself() -> None:
    good = _police()
    data = good + b"\n" + b'{"jjdbh": "T-2", "bjsj": ' + b"\n" + _police(jjdbh="T-3") + b"\n"
    outcomes = adapt("police", data)
    assert [type(o).__name__ for o in outcomes] == ["Report", "Rejection", "Report"]
    bad = outcomes[1]
    assert isinstance(bad, Rejection) and bad.origin.line == 2 and bad.raw == b'{"jjdbh": "T-2", "bjsj": '


@pytest.mark.parametrize(
    ("source", "data", "field", "fragment"),
    [
        ("police", b'{"incidents": [', "$", "invalid JSON"),
        ("police", b"\xff\xfe{}", "$", "invalid UTF-8 at byte 0"),
        ("citymgmt", b"<CaseFeed><Case>", "$", "invalid XML"),
        (
            "citymgmt",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<CaseFeed>&b;</CaseFeed>",
            "$",
            "XML refused",
        ),
        ("citymgmt", b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><CaseFeed/>', "$", "XML refused"),
        (
            "emergency",
            b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>1</identifier></alert>",
            "$",
            "only Actual",
        ),
        ("fire", "出警单号,接警时间\n1,2\n".encode(), "$", "the header lacks columns ['灾情类型']"),
        (
            "fire",
            "出警单号,接警时间,灾情类型\n1,2025-06-01 07:00:00\n".encode(),
            "$",
            "the row has 2 fields, the header has 3",
        ),
        (
            "fire",
            "出警单号,接警时间,灾情类型\n1,2025-06-01 07:00:00,火山\n".encode(),
            "category",
            "unknown 灾情类型 '火山'",
        ),
        (
            "cyberspace",
            "线索编号：A\n发现时间：2025-06-01 07:00\n线索类型：网络谣言\n".encode(),
            "location.address",
            "is missing",
        ),
        ("hotline", b'{"orders": {"a": 1}}', "$", "'orders' must be an array"),
        (
            "patrol",
            b'{"reportNo": "P", "reportedAt": "2025-06-01", "eventType": "PATROL_GARBAGE", '
            b'"lng": 1, "lat": 2}',
            "reported_at",
            "epoch milliseconds",
        ),
    ],
)
def test_malformed_inputs_become_field_naming_rejections(
    source: str, data: bytes, field: str, fragment: str
) -> None:
    outcomes = adapt(source, data)
    assert len(outcomes) == 1 and isinstance(outcomes[0], Rejection), outcomes
    assert outcomes[0].field == field
    assert fragment in outcomes[0].reason
    assert outcomes[0].raw


def test_invalid_utf8_in_one_csv_line_rejects_that_line_only() -> None:
    header = "出警单号,接警时间,灾情类型,地址\n".encode()
    row = "{},2025-06-01 07:00:00,火灾,沙坪坝区 1 号\n"
    data = (
        header + row.format("A").encode() + b"B,2025-06-01 07:00:00,\xe7\x81,x\n" + row.format("C").encode()
    )
    outcomes = adapt("fire", data)
    rejected = [o for o in outcomes if isinstance(o, Rejection)]
    assert len(outcomes) == 3 and len(rejected) == 1
    assert rejected[0].origin.line == 3 and "invalid UTF-8" in rejected[0].reason


CAP_THUNDERSTORM = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KSTO1055887203</identifier>
  <sender>KSTO@NWS.NOAA.GOV</sender>
  <sent>2003-06-17T14:57:00-07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Met</category>
    <event>SEVERE THUNDERSTORM</event>
    <responseType>Shelter</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>SAME</valueName><value>SVR</value></eventCode>
    <expires>2003-06-17T16:00:00-07:00</expires>
    <senderName>NATIONAL WEATHER SERVICE SACRAMENTO CA</senderName>
    <headline>SEVERE THUNDERSTORM WARNING</headline>
    <description>AT 254 PM PDT A SEVERE THUNDERSTORM WAS LOCATED NEAR THE COUNTY LINE.</description>
    <area>
      <areaDesc>EXTREME NORTH CENTRAL TUOLUMNE COUNTY IN CALIFORNIA</areaDesc>
      <polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14</polygon>
      <geocode><valueName>SAME</valueName><value>006109</value></geocode>
    </area>
  </info>
</alert>"""

CAP_EARTHQUAKE = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>TRI13970876.2</identifier>
  <sender>trinet@caltech.edu</sender>
  <sent>2003-06-11T20:56:00-07:00</sent>
  <status>Actual</status>
  <msgType>Update</msgType>
  <scope>Public</scope>
  <references>trinet@caltech.edu,TRI13970876.1,2003-06-11T20:30:00-07:00</references>
  <info>
    <language>en-US</language>
    <category>Geo</category>
    <event>Earthquake</event>
    <urgency>Past</urgency>
    <severity>Minor</severity>
    <certainty>Observed</certainty>
    <headline>EQ 3.4 Imperial County CA</headline>
    <area>
      <areaDesc>1 km WSW of Brawley, CA</areaDesc>
      <circle>32.9525,-115.5527 0</circle>
    </area>
  </info>
  <info>
    <language>zh-CN</language>
    <category>Geo</category>
    <event>地震</event>
    <urgency>Past</urgency>
    <severity>Minor</severity>
    <certainty>Observed</certainty>
    <headline>加州帝国县 3.4 级地震</headline>
    <area>
      <areaDesc>布劳利西南偏西 1 公里</areaDesc>
      <circle>32.9525,-115.5527 0</circle>
    </area>
  </info>
</alert>""".encode()


def _records(outcomes: list[object]) -> list[CapRecord]:
    companions = [o for o in outcomes if isinstance(o, Companion)]
    assert all(c.topic == CAP_TOPIC and c.key == decode_record(c.value).sender.encode() for c in companions)
    return [decode_record(c.value) for c in companions]


def test_real_world_cap_polygon_and_circle_alerts() -> None:
    storm, companion = adapt("emergency", CAP_THUNDERSTORM)
    assert isinstance(storm, Report), storm
    assert storm.category == "severe_weather_alert" and storm.priority == "P1"
    assert storm.reported_at == datetime(2003, 6, 17, 21, 57, tzinfo=UTC)
    assert storm.location.area is not None and storm.location.area.polygons[0][0] == (-120.14, 38.47)
    assert -120.14 < (storm.location.lon or 0) < -119.74 and 38.34 < (storm.location.lat or 0) < 38.62
    assert storm.location.address == "EXTREME NORTH CENTRAL TUOLUMNE COUNTY IN CALIFORNIA"
    (record,) = _records([companion])
    assert (record.msg_type, record.report_id, record.sender) == (
        MsgType.ALERT,
        storm.report_id,
        "KSTO@NWS.NOAA.GOV",
    )
    assert record.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC) and record.references == ()

    # an Update is no new case: only its life-cycle record, saying what the warning now is
    (quake,) = _records(adapt("emergency", CAP_EARTHQUAKE))
    assert quake.msg_type is MsgType.UPDATE and quake.report_id is None and quake.priority == "P3"
    assert [(r.sender, r.identifier, r.sent) for r in quake.references] == [
        ("trinet@caltech.edu", "TRI13970876.1", "2003-06-11T20:30:00-07:00")
    ]
    assert quake.location is not None and (quake.location["lon"], quake.location["lat"]) == (
        -115.5527,
        32.9525,
    )
    assert quake.location["accuracy_m"] == 1.0  # a zero radius is a point: kept as a 1 m circle
    assert quake.description is not None and quake.description.startswith("加州帝国县")  # zh-CN preferred


def test_several_alerts_in_one_wrapper_each_become_a_report() -> None:
    body = CAP_THUNDERSTORM.split(b"?>", 1)[1] + CAP_EARTHQUAKE.split(b"?>", 1)[1]
    outcomes = adapt("emergency", b"<alerts>" + body + b"</alerts>")
    assert [o.source_ref for o in outcomes if isinstance(o, Report)] == ["KSTO1055887203"]
    assert [r.identifier for r in _records(outcomes)] == ["KSTO1055887203", "TRI13970876.2"]


def test_cap_sample_chain_alert_update_cancel_is_one_report_and_three_records() -> None:
    outcomes = [
        o
        for p in sample_files("emergency")
        if p.name.startswith("geohazard")
        for o in adapt("emergency", p.read_bytes())
    ]
    (report,) = [o for o in outcomes if isinstance(o, Report)]
    alert, update, cancel = sorted(_records(outcomes), key=lambda r: r.identifier)
    assert alert.report_id == report.report_id and alert.expires is not None
    assert update.msg_type is MsgType.UPDATE and update.priority == "P2"  # Expected × Moderate × Possible
    assert [r.identifier for r in update.references] == [alert.identifier]
    assert cancel.msg_type is MsgType.CANCEL and cancel.note and "解除预警" in cancel.note
    assert [r.identifier for r in cancel.references] == [alert.identifier, update.identifier]


@pytest.mark.parametrize("kind", ["Ack", "Error"])
def test_cap_ack_and_error_are_recorded_never_a_report(kind: str) -> None:
    data = _alert().replace(b"<msgType>Alert</msgType>", f"<msgType>{kind}</msgType>".encode())
    data = data.replace(
        b"<scope>Public</scope>",
        b"<scope>Public</scope><note>ok</note><references>yjj@spb.cq.gov.cn,SPB-YJ-2025-0601-0007,"
        b"2025-06-01T08:10:27+08:00</references>",
    )
    (record,) = _records(outcomes := adapt("emergency", data))
    assert len(outcomes) == 1 and record.msg_type.value == kind and record.note == "ok"


def test_cap_life_cycle_messages_need_references_and_a_known_type() -> None:
    (missing,) = adapt("emergency", _alert().replace(b"<msgType>Alert", b"<msgType>Cancel"))
    assert isinstance(missing, Rejection) and missing.field == "references"
    bad = _alert().replace(b"<scope>Public</scope>", b"<scope>Public</scope><references>a,b</references>")
    (broken,) = adapt("emergency", bad.replace(b"<msgType>Alert", b"<msgType>Update"))
    assert isinstance(broken, Rejection) and "'a,b' is not a 'sender,identifier,sent' triple" in broken.reason
    (odd,) = adapt("emergency", _alert().replace(b"<msgType>Alert", b"<msgType>Notice"))
    assert isinstance(odd, Rejection) and "'Notice' is not a CAP message type" in odd.reason


def _alert(*, ns: str = "urn:oasis:names:tc:emergency:cap:1.2", drop: str = "", info: str = "") -> bytes:
    """The project's gas-leak sample, with one element dropped or <info> blocks added."""
    text = (SAMPLES / "emergency" / "gas-circle.xml").read_text("utf-8")
    text = text.replace('xmlns="urn:oasis:names:tc:emergency:cap:1.2"', f'xmlns="{ns}"')
    if drop:
        start, end = text.index(f"<{drop}>"), text.index(f"</{drop}>") + len(drop) + 3
        text = text[:start] + text[end:]
    return text.replace("</alert>", info + "</alert>").encode()


def test_cap_samples_take_their_priority_from_urgency_severity_and_certainty() -> None:
    got = {
        p.name: adapt("emergency", p.read_bytes())[0] for p in sorted((SAMPLES / "emergency").glob("*.xml"))
    }
    assert {name: r.priority for name, r in got.items() if isinstance(r, Report)} == {
        "gas-circle.xml": "P0",  # Immediate × Extreme × Observed
        "geohazard-alert.xml": "P3",  # Future × Minor × Possible
        "rainstorm-polygon.xml": "P1",  # Expected × Severe × Likely
    }


def test_cap_outside_its_namespaces_or_missing_elements_is_a_dead_letter_naming_it() -> None:
    (foreign,) = adapt("emergency", _alert(ns="urn:example:not-cap"))
    assert isinstance(foreign, Rejection) and foreign.reason.startswith("$ (alert): <alert> is in")
    assert "not CAP" in foreign.reason and "urn:example:not-cap" in foreign.reason
    (bare,) = adapt("emergency", _alert(ns=""))
    assert isinstance(bare, Rejection) and "no namespace" in bare.reason
    for element, native in (("sender", "sender"), ("scope", "scope"), ("certainty", "info.certainty")):
        (missing,) = adapt("emergency", _alert(drop=element))
        assert isinstance(missing, Rejection), (element, missing)
        assert missing.reason.startswith(f"$ ({native}): a CAP ") and f"<{element}>" in missing.reason


def test_cap_bom_comments_and_a_signature_parse_and_the_signature_is_kept() -> None:
    signature = (
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/>'
        "<SignatureValue>c2lnbmVk</SignatureValue></Signature><!-- signed by the platform -->"
    )
    data = b"\xef\xbb\xbf" + _alert(info=signature).replace(b"<status>", "<!-- 状态 --><status>".encode())
    report, _ = adapt("emergency", data)
    assert isinstance(report, Report), report
    assert report.priority == "P0" and "SignatureValue" in report.raw.text


def test_cap_national_dialect_colours_and_zh_cn_first() -> None:
    dialect = (
        (SAMPLES / "emergency" / "rainstorm-polygon.xml")
        .read_text("utf-8")
        .replace("<severity>Severe</severity>", "<severity>Orange</severity>")
    )
    sent = dialect.split("<sent>", 1)[1].split("</sent>", 1)[0]
    dialect = dialect.replace(sent, sent.replace("T", " "))  # GB/T 35965.1 writes a space
    english = dialect.split("<info>", 1)[1].split("</info>", 1)[0]
    english = english.replace("<language>zh-CN</language>", "<language>en-US</language>")
    english = english.replace("<headline>", "<headline>EN ")
    hant = english.replace("<language>en-US</language>", "<language>zh-TW</language>")
    hant = hant.replace("<headline>EN ", "<headline>繁體 ")
    dialect = dialect.replace("<info>", f"<info>{english}</info><info>{hant}</info><info>", 1)
    report, _ = adapt("emergency", dialect.encode())
    assert isinstance(report, Report), report
    assert report.priority == "P1"  # Orange read as Severe, Expected × Likely
    assert report.reported_at == datetime.fromisoformat(sent).astimezone(UTC)
    assert report.model_extra is not None and report.model_extra["cap"]["severity"] == "Orange"
    assert not report.description.startswith(("EN ", "繁體 "))  # zh-CN, though third


def test_resident_reports_keep_wgs84_points_photos_and_only_an_optional_phone() -> None:
    by_ref = {r.source_ref: r for r in _reports("resident")}
    first = by_ref["R-7K2M9QXW"]
    assert (first.location.lon, first.location.crs, first.location.accuracy_m) == (106.46342, Crs.WGS84, 25.0)
    assert [a.uri for a in first.attachments] == ["photo:2f6c0e1a9b7d4c3e8a1f5b6d7e8f9a0b"]
    assert first.reporter is None
    assert by_ref["R-3HD8PQ2N"].reporter is not None and by_ref["R-3HD8PQ2N"].reporter.phone == "13800001234"
    assert by_ref["R-9WQ4TZ6C"].location.lon is None and by_ref["R-9WQ4TZ6C"].location.address


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"trackingCode": "R-1", "submittedAt": "2025-06-01T09:00:00+08:00", "category": "fire",
          "description": "x", "address": "a"}, "category"),
        ({"trackingCode": "R-1", "submittedAt": "2025-06-01T09:00:00+08:00", "category": "road_dirt",
          "description": "x"}, "location"),
        ({"trackingCode": "R-1", "submittedAt": "2025-06-01T09:00:00+08:00", "category": "road_dirt",
          "description": "x", "address": "a", "photos": ["p1", "p2", "p3", "p4"]}, "attachments"),
    ],
)  # fmt: skip
def test_resident_refusals_name_the_field(doc: dict[str, object], field: str) -> None:
    (out,) = adapt("resident", json.dumps(doc).encode())
    assert isinstance(out, Rejection) and out.field == field, out
