"""The simulator: exact counts, outcomes that reconcile with the adapters, and the realism
the stream stages are tested against (mix, rhythm, rain, several agencies, CRS, addresses)."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from deploy.cli import build_parser
from geo.coords import to_wgs84
from geo.gazetteer import Gazetteer
from geo.reference import load_reference
from producers.outcome import Companion, Rejection
from producers.simulator import Simulated, generate, scenario
from producers.simulator.district import load_district
from schemas.report import Report, Source
from tests.producers.helpers import adapt, read_topic

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 6, 1, tzinfo=UTC)  # 08:00 in Shanghai
AFTER = START + timedelta(days=1, hours=1)


@cache
def _run(seed: int = 11, count: int = 4000) -> list[tuple[Simulated, Report | Rejection]]:
    out = []
    for item in generate(seed, count, start=START):
        found = adapt(item.source, item.payload, received_at=AFTER)
        outcomes = [o for o in found if not isinstance(o, Companion)]  # a CAP alert's life-cycle record
        assert len(outcomes) == 1, "one record per payload"
        assert len(found) - 1 == (item.source is Source.EMERGENCY and isinstance(outcomes[0], Report))
        out.append((item, outcomes[0]))
    return out


def test_exact_count_and_same_seed_same_payloads() -> None:
    first = list(generate(3, 500, start=START))
    assert len(first) == 500
    assert first == list(generate(3, 500, start=START))
    assert first != list(generate(4, 500, start=START))


def test_every_outcome_is_the_expected_one() -> None:
    run = _run()
    for item, outcome in run:
        if item.expected.ok:
            assert isinstance(outcome, Report), (item.expected, outcome)
            assert outcome.source_ref == item.expected.source_ref
            assert (outcome.location.crs.value if outcome.location.crs else None) == item.expected.crs
        else:
            assert isinstance(outcome, Rejection), item.expected
            assert outcome.field == item.expected.field, (item.expected.malformation, outcome.reason)
    broken = Counter(item.expected.malformation for item, _ in run if not item.expected.ok)
    assert 0.01 < sum(broken.values()) / len(run) < 0.03
    assert len(broken) >= 6, broken


def test_mix_of_sources_crs_and_address_only() -> None:
    reports = [o for _, o in _run() if isinstance(o, Report)]
    by_source = Counter(r.source for r in reports)
    assert set(by_source) == set(Source)
    assert by_source[Source.HOTLINE] > by_source[Source.POLICE] > by_source[Source.EMERGENCY]
    crs = Counter((r.source, r.location.crs) for r in reports)
    assert crs[(Source.PATROL, "gcj02")] > crs[(Source.PATROL, "bd09")] > 0
    assert crs[(Source.HOTLINE, "bd09")] > 0
    address_only = [r for r in reports if r.location.lon is None]
    assert all(r.location.address for r in address_only)
    assert {r.source for r in address_only} >= {Source.HOTLINE, Source.CYBERSPACE}
    assert all(r.location.lon is None for r in reports if r.source is Source.CYBERSPACE)


def test_addresses_are_gazetteer_addresses_in_realistic_variants() -> None:
    gazetteer = Gazetteer.from_reference(load_reference())
    addresses = [
        o.location.address
        for _, o in _run()
        if isinstance(o, Report) and o.location.address and o.source != "emergency"
    ]
    assert len(set(addresses)) > 1000
    assert all(gazetteer.lookup(a) is not None for a in addresses)
    assert any(not a.startswith("重庆市") for a in addresses) and any(
        "１" in a or "２" in a for a in addresses
    )


def test_the_day_has_a_rhythm() -> None:
    hours = Counter(
        (o.source, o.reported_at.astimezone(SHANGHAI).hour) for _, o in _run() if isinstance(o, Report)
    )
    assert hours[(Source.HOTLINE, 10)] > 3 * hours[(Source.HOTLINE, 3)]
    assert hours[(Source.PATROL, 10)] > 5 * max(hours[(Source.PATROL, 2)], 1)


def test_the_rainstorm_floods_low_lying_streets() -> None:
    storm = scenario.default_rainstorm(START, timedelta(days=1))
    low = {p.building_id for p in load_district().low_lying}
    assert low, "the reference district marks low-lying streets"
    gazetteer = Gazetteer.from_reference(load_reference())

    def in_window(rain: bool) -> int:
        return sum(
            1 for o in _outcomes(11, 4000, rain) if isinstance(o, Report) and storm.covers(o.reported_at)
        )

    assert in_window(True) > 2 * in_window(False)
    in_rain = [(i, o) for i, o in _run() if isinstance(o, Report) and storm.covers(o.reported_at)]
    outside = [o for _, o in _run() if isinstance(o, Report) and not storm.covers(o.reported_at)]
    share_in = sum(o.category == "waterlogging" for _, o in in_rain) / len(in_rain)
    share_out = sum(o.category == "waterlogging" for o in outside) / len(outside)
    assert share_in > 10 * max(share_out, 0.001)
    flooded = [
        o for i, o in in_rain if i.expected.burst and o.category == "waterlogging" and o.location.address
    ]
    assert flooded
    for report in flooded:
        match = gazetteer.lookup(report.location.address or "")
        assert match is not None and match.building_id in low


@cache
def _outcomes(seed: int, count: int, rain: bool) -> list[Report | Rejection]:
    return [
        adapt(i.source, i.payload, received_at=AFTER)[0]
        for i in generate(seed, count, start=START, rain=rain)
    ]


def test_the_same_event_reported_by_several_agencies_is_close_in_place_and_time() -> None:
    events: dict[str, list[Report]] = defaultdict(list)
    for item, outcome in _run():
        if isinstance(outcome, Report):
            events[item.expected.event_id].append(outcome)
    shared = {e: rs for e, rs in events.items() if len({r.source for r in rs}) > 1}
    assert len(shared) > 30
    for reports in shared.values():
        times = [r.reported_at for r in reports]
        assert max(times) - min(times) <= timedelta(minutes=30)
        points = [
            to_wgs84(r.location.lon, r.location.lat, r.location.crs)
            for r in reports
            if r.location.lon is not None
        ]
        for (a_lon, a_lat), (b_lon, b_lat) in pairwise(points):
            metres = math.hypot((a_lon - b_lon) * 96_800, (a_lat - b_lat) * 111_320)
            assert metres < 250, metres


@pytest.mark.kafka
def test_yiwang_simulate_publishes_through_the_adapters(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = kafka.model_copy(update={"home": tmp_path})
    before = {s: len(read_topic(settings, settings.topic(f"reports.{s.value}"))) for s in Source}
    args = build_parser().parse_args(["simulate", "--rate", "400", "--duration", "1.5", "--seed", "5"])
    code = args.func(settings, args)
    out = capsys.readouterr().out
    assert code == 0, out
    planned = int(re.search(r"planned malformed (\d+) of 600 \(seed 5\)", out).group(1))  # type: ignore[union-attr]
    assert 0 < planned < 40
    assert f"published {600 - planned}, rejected {planned}, duplicates skipped 0" in out
    after = {s: len(read_topic(settings, settings.topic(f"reports.{s.value}"))) for s in Source}
    assert sum(after.values()) - sum(before.values()) == 600 - planned
    assert all(after[s] > before[s] for s in (Source.HOTLINE, Source.PATROL, Source.POLICE, Source.CITYMGMT))
