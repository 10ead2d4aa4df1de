"""`yiwang produce` against the real broker: samples round-trip to the canonical form, bad
records land on reports.dlq with their raw bytes and a field-naming reason, and sending the
same record twice never makes a second report."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from config.settings import Settings
from deploy.cli import build_parser
from producers.dlq import raw_bytes
from producers.inputs import watch
from schemas import dead_letter
from schemas.cap_record import CAP_TOPIC
from schemas.cap_record import decode as decode_record
from schemas.report import Report, as_dict, decode, report_id_for
from tests.producers.helpers import adapt, read_topic, sample_files

pytestmark = pytest.mark.kafka


@pytest.fixture
def settings(kafka: Settings, tmp_path: Path) -> Settings:
    """The session's broker and topics, with a private home (so a private ledger)."""
    return kafka.model_copy(update={"home": tmp_path / "home"})


def run(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The `yiwang produce` handler as the CLI runs it; returns (exit code, stdout + stderr)."""
    args = build_parser().parse_args(["produce", *argv])
    code = args.func(settings, args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _comparable(report: Report) -> dict[str, Any]:
    doc = as_dict(report)
    doc.pop("received_at")
    return doc


@pytest.mark.parametrize(
    "source", ["police", "citymgmt", "emergency", "fire", "cyberspace", "hotline", "patrol"]
)
def test_samples_round_trip_through_the_real_topic(
    settings: Settings, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    files = sample_files(source)
    expected = {r.report_id: r for f in files for r in adapt(source, f.read_bytes()) if isinstance(r, Report)}
    target = str(files[0].parent) if len(files) > 1 else str(files[0])
    code, out = run(settings, capsys, source, target, "--once")
    assert code == 0, out
    assert f"published {len(expected)}, rejected 0, duplicates skipped 0" in out

    records = read_topic(settings, settings.topic(f"reports.{source}"))
    got = {}
    for key, value, headers in records:
        report = decode(value)
        if report.report_id in expected:
            assert report.report_id not in got, "a sample was published twice"
            got[report.report_id] = report
            assert key == report.source_ref.encode()
            assert headers["schema"] == b"report.v1"
    assert set(got) == set(expected)
    for report_id, report in got.items():
        assert _comparable(report) == _comparable(expected[report_id])
        assert report.received_at.utcoffset() is not None


def test_cap_life_cycle_records_go_to_their_own_topic(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every emergency sample's message (the geohazard Alert, its Update and its Cancel too) is
    one record on alerts.cap, keyed by its sender, headed cap-record.v1."""
    files = sample_files("emergency")
    code, out = run(settings, capsys, "emergency", str(files[0].parent), "--once")
    assert code == 0 and "rejected 0" in out, out
    mine = {
        decode_record(v).identifier: (k, h) for k, v, h in read_topic(settings, settings.topic(CAP_TOPIC))
    }
    chain = {"SPB-YJ-2025-0531-0031", "SPB-YJ-2025-0601-0009", "SPB-YJ-2025-0601-0015"}
    assert chain <= set(mine)
    assert all(mine[i] == (b"yjj@spb.cq.gov.cn", {"schema": b"cap-record.v1"}) for i in chain)


def _dead_letters(settings: Settings, marker: str) -> list[dead_letter.DeadLetter]:
    letters = [dead_letter.decode(v) for _, v, _ in read_topic(settings, settings.topic("reports.dlq"))]
    return [
        d
        for d in letters
        if marker in raw_bytes(d).decode("utf-8", "replace") or marker in (d.origin.file or "")
    ]


def test_bad_records_go_to_the_dlq_with_raw_bytes_and_a_reason(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:10]
    good = {
        "workOrderNo": f"G-{marker}",
        "acceptTime": "2025-06-01 09:00:00",
        "appealType": "投诉",
        "address": "沙坪坝区渝碚路 58 号",
    }
    bad_lat = {
        **good,
        "workOrderNo": f"B1-{marker}",
        "longitude": 106.4,
        "latitude": 95.2,
        "citizen": {"phone": "13911112222"},
    }
    bad_time = {**good, "workOrderNo": f"B2-{marker}", "acceptTime": "2025-13-45 99:00"}
    path = tmp_path / f"orders-{marker}.json"
    path.write_text(json.dumps({"orders": [good, bad_lat, bad_time]}, ensure_ascii=False), "utf-8")

    code, out = run(settings, capsys, "hotline", str(path))
    assert code == 1
    assert "published 1, rejected 2, duplicates skipped 0" in out
    assert "location.lat (latitude): 95.2 is out of range [-90, 90]" in out
    assert "reported_at (acceptTime): '2025-13-45 99:00' is not a timestamp" in out
    assert "13911112222" not in out

    letters = _dead_letters(settings, marker)
    by_field = {d.field: d for d in letters}
    assert set(by_field) == {"location.lat", "reported_at"}
    lat = by_field["location.lat"]
    assert lat.source == "hotline" and lat.stage == "adapter"
    assert orjson.loads(raw_bytes(lat)) == bad_lat
    assert lat.origin.file == str(path) and lat.origin.record == "orders[1]"
    assert "13911112222" not in lat.reason
    assert lat.raw_encoding == "utf-8"


def test_invalid_utf8_line_is_dead_lettered_as_base64(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:10]
    line = {
        "reportNo": f"P-{marker}",
        "reportedAt": 1748736912000,
        "eventType": "PATROL_GARBAGE",
        "lng": 106.46,
        "lat": 29.55,
    }
    bad = b'{"reportNo": "Q-' + marker.encode() + b'", "desc": "\xe7\x81"}'
    path = tmp_path / f"patrol-{marker}.jsonl"
    path.write_bytes(json.dumps(line).encode() + b"\n" + bad + b"\n")
    code, out = run(settings, capsys, "patrol", str(path))
    assert code == 1 and "published 1, rejected 1" in out
    (letter,) = _dead_letters(settings, marker)
    assert letter.raw_encoding == "base64" and raw_bytes(letter) == bad
    assert letter.field == "$" and "invalid UTF-8" in letter.reason and letter.origin.line == 2


def test_the_same_record_twice_is_one_report(
    settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:10]
    lines = [
        {
            "jjdbh": f"{marker}-{i}",
            "bjsj": "2025-06-01 07:42:13",
            "ajlb": "0103",
            "afdz": "沙坪坝区小龙坎正街 1 号",
        }
        for i in (1, 2)
    ]
    path = tmp_path / "cad.jsonl"
    path.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in [lines[0], lines[1], lines[0]]) + "\n", "utf-8"
    )

    code, out = run(settings, capsys, "police", str(path))
    assert code == 0 and "published 2, rejected 0, duplicates skipped 1" in out
    code, out = run(settings, capsys, "police", str(path))  # the persistent ledger remembers
    assert code == 0 and "published 0, rejected 0, duplicates skipped 3" in out

    fresh = settings.model_copy(update={"home": tmp_path / "other-home"})  # no memory: sent again, same ids
    code, out = run(fresh, capsys, "police", str(path), "--no-ledger")
    assert code == 0 and "published 2, rejected 0, duplicates skipped 1" in out

    mine = [
        decode(v)
        for k, v, _ in read_topic(settings, settings.topic("reports.police"))
        if k and k.startswith(marker.encode())
    ]
    assert len(mine) == 4
    assert {r.report_id for r in mine} == {
        report_id_for("police", f"{marker}-1"),
        report_id_for("police", f"{marker}-2"),
    }


def test_stdin_is_read_line_by_line_for_line_oriented_feeds(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = uuid.uuid4().hex[:10]
    rows = [
        {
            "reportNo": f"S-{marker}-{i}",
            "reportedAt": 1748736912000,
            "eventType": "PATROL_BIKES",
            "lng": 106.46,
            "lat": 29.55,
        }
        for i in range(3)
    ]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows) + b"not json\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out = run(settings, capsys, "patrol", "-")
    assert code == 1
    assert "published 3, rejected 1, duplicates skipped 0" in out
    assert "<stdin>:4" in out


def test_missing_topics_are_reported_not_waited_on(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = kafka.model_copy(update={"topic_prefix": f"absent-{uuid.uuid4().hex[:6]}.", "home": tmp_path})
    code, out = run(other, capsys, "police", str(sample_files("police")[0]))
    assert code == 1
    assert (
        f"topics missing on {kafka.bootstrap_servers}: "
        f"{other.topic('reports.dlq')}, {other.topic('reports.police')}" in out
    )


def test_watch_yields_new_files_once_they_are_stable(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "ignored.part").write_text("{}")
    seen: list[str] = []
    gen = watch(tmp_path, once=False, poll_s=0.05, stop=lambda: len(seen) >= 2)
    seen.append(next(gen).name)
    (tmp_path / "b.json").write_text("{}")
    seen.append(next(gen).name)
    assert seen == ["a.json", "b.json"]
    assert list(gen) == []
