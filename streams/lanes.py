"""The intake's lanes: a district's partition range of every report topic (config/districts.toml
`[report_partitions]`, read by `config.report_partitions`, the same table the producers'
publisher writes by), each read by a Kafka consumer of its own (streams/intake.py).

Why a consumer per lane (issue 22): with one consumer for every district, the quiet district's
records waited *before the fetch*: the Kafka client keeps one fetch in flight per broker for
every assigned partition it holds no records of, so with one district's partitions lagging every
fetch cycle carried megabytes of them and a quiet partition was fetched again only with the next
cycle (docs/architecture.md, "Several districts"). A lane's consumer fetches only its own
partitions: a backlog in one lane never stands in front of another lane's fetch.

Every lane's consumer is a member of the intake's one group (`yiwang-intake`, prefixed), so the
committed offsets, `group_lag`, `yiwang status` and `yiwang rebuild` see the intake as before.
Kafka's assignors know nothing of lanes; `LaneAssignor` gives each partition only to members of
its lane (each member says its lane in its subscription's user data), spread over the workers.

A partition outside every range, and every partition of a topic with fewer partitions than the
ranges need (the publisher partitions such a topic by the default partitioner, so a district's
reports are spread over all of it), belong to the default lane.

>>> from config.report_partitions import ReportPartitions
>>> shares = ReportPartitions({"500106": range(0, 2), "500107": range(2, 4), "city": range(4, 6)})
>>> [lane_of(shares, 6, p) for p in range(7)]
['500106', '500106', '500107', '500107', 'city', 'city', '']
>>> lane_of(shares, 3, 2)
''
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

from config.report_partitions import ReportPartitions

log = logging.getLogger(__name__)
DEFAULT_LANE = ""
"""The lane of what no range names, and of every partition of a topic too small for the ranges."""
ASSIGNOR_NAME = "yiwang-lanes"


def lanes_of(shares: ReportPartitions) -> list[str]:
    """Every lane a worker runs: each range's, then the default lane."""
    return [*shares.ranges, DEFAULT_LANE]


def lane_of(shares: ReportPartitions, partitions: int, partition: int) -> str:
    """The lane of `partition` of a topic with `partitions` partitions."""
    if partitions < shares.needed:
        return DEFAULT_LANE
    for code, share in shares.ranges.items():
        if partition in share:
            return code
    return DEFAULT_LANE


Assignment = dict[str, dict[str, list[int]]]
"""member id → topic → partitions."""


def assign_lanes(
    shares: ReportPartitions, partitions: Mapping[str, int], members: Mapping[str, tuple[str, frozenset[str]]]
) -> Assignment:
    """Each topic partition to a member of its lane (`members`: member id → (lane, subscribed
    topics)), round robin over the lane's members in member-id order, counted over every topic,
    so a lane's partitions spread over every worker's member of it.

    A partition whose lane has no member subscribed to its topic (a worker of another release,
    another `[report_partitions]`) goes to the default lane's members, else to any member
    subscribed: never left unread.

    >>> shares = ReportPartitions({"a": range(0, 1), "city": range(1, 2)})
    >>> t = frozenset({"t"})
    >>> assign_lanes(shares, {"t": 3}, {"w1-a": ("a", t), "w2-a": ("a", t), "w1-c": ("city", t)})
    {'w1-a': {'t': [0, 2]}, 'w2-a': {}, 'w1-c': {'t': [1]}}
    >>> assign_lanes(shares, {"t": 2, "u": 2}, {"m1": ("a", t), "m2": ("a", t)})["m2"]
    {'t': [1]}
    >>> assign_lanes(shares, {"t": 1}, {"m1": ("city", t)})
    {'m1': {'t': [0]}}
    """
    out: Assignment = {member: {} for member in members}
    turn: dict[tuple[str, ...], int] = defaultdict(int)
    for topic in sorted(partitions):
        count = partitions[topic]
        subscribed = sorted(m for m, (_, topics) in members.items() if topic in topics)
        if not subscribed:
            continue
        by_lane: dict[str, list[str]] = defaultdict(list)
        for member in subscribed:
            by_lane[members[member][0]].append(member)
        for partition in range(count):
            lane = lane_of(shares, count, partition)
            candidates = by_lane.get(lane) or by_lane.get(DEFAULT_LANE) or subscribed
            key = tuple(candidates)
            member = candidates[turn[key] % len(candidates)]
            turn[key] += 1
            out[member].setdefault(topic, []).append(partition)
    return out


class LaneAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """aiokafka's assignor protocol for one lane's consumer: its lane in the subscription's user
    data (`metadata`); as the group's leader, `assign_lanes` over every member's (a member
    without lane data counts as the default lane's)."""

    version = 0

    def __init__(self, lane: str, shares: ReportPartitions) -> None:
        self.lane = lane
        self.shares = shares

    @property
    def name(self) -> str:
        return ASSIGNOR_NAME

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        return ConsumerProtocolMemberMetadata(self.version, sorted(topics), self.lane.encode())

    def assign(
        self, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        subscribed = {
            member: ((meta.user_data or b"").decode(errors="replace"), frozenset(meta.subscription))
            for member, meta in members.items()
        }
        partitions: dict[str, int] = {}
        for topic in set().union(*(topics for _, topics in subscribed.values())):
            found = cluster.partitions_for_topic(topic)
            if found is None:
                log.warning("intake lanes: no partition metadata for topic %s", topic)
                continue
            partitions[topic] = len(found)
        assigned = assign_lanes(self.shares, partitions, subscribed)
        return {
            member: ConsumerProtocolMemberAssignment(self.version, sorted(topics.items()), b"")
            for member, topics in assigned.items()
        }

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:
        pass
