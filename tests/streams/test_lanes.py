"""The intake's lanes (streams/lanes.py): a partition's lane from config/districts.toml's ranges."""

from __future__ import annotations

from config.report_partitions import load_report_partitions
from streams.lanes import DEFAULT_LANE, ReportLanes, lane_of


def test_each_range_is_a_lane_and_what_no_range_names_the_default_lane() -> None:
    shares = load_report_partitions()
    lanes = {p: lane_of(shares, shares.needed + 2, p) for p in range(shares.needed + 2)}
    for code, share in shares.ranges.items():
        assert {lanes[p] for p in share} == {code}
    assert lanes[shares.needed] == lanes[shares.needed + 1] == DEFAULT_LANE
    assert len(set(lanes.values())) == len(shares.ranges) + 1


def test_a_topic_with_fewer_partitions_than_the_ranges_is_one_lane() -> None:
    shares = load_report_partitions()
    assert {lane_of(shares, shares.needed - 1, p) for p in range(shares.needed - 1)} == {DEFAULT_LANE}
    assert lane_of(shares, None, 0) == DEFAULT_LANE  # not known: one lane, as before lanes


def test_a_partitions_lane_is_kept_once_decided() -> None:
    shares = load_report_partitions()
    code, share = next(iter(shares.ranges.items()))
    counts: dict[str, int | None] = {"t": None}
    lanes = ReportLanes(counts.get, shares)
    assert lanes("t", share[0]) == DEFAULT_LANE  # the count not known yet
    counts["t"] = shares.needed
    assert lanes("t", share[0]) == DEFAULT_LANE  # kept: never two lanes for one partition
    assert lanes("t", share[-1]) == code  # known now for the partitions seen from here on
