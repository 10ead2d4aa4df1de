"""Which lane of the intake works a report record: a district's partition range of every report
topic (config/districts.toml `[report_partitions]`, read by `config.report_partitions`, the same
table the producers' publisher writes by).

Why lanes: the worker's one intake agent (faust concurrency 1) took one batch at a time, so a
quiet district's report waited for the bursting district's batch in hand (~0.3 s) and then its
own. Each lane runs its own batches (streams/read_ahead.py `read_lanes`) on its own database
connection (streams/runtime.py), and the lanes overlap: while one lane's big batch waits for
PostgreSQL or the broker, another's small one is decided, written and published.

A lane never shares a partition with another (a partition's lane is decided once and kept), so
every partition's records are still acknowledged in order by one batch after another: faust's
committed offset of a partition never passes a record not yet done (what makes this unlike an
agent of `concurrency > 1`, whose copies share partitions). A partition outside every range, and
every partition of a topic with fewer partitions than the ranges need (the publisher partitions
such a topic by the default partitioner, so a district's reports are spread over all of it), go
to the default lane.

>>> from config.report_partitions import ReportPartitions
>>> shares = ReportPartitions({"500106": range(0, 2), "500107": range(2, 4), "city": range(4, 6)})
>>> [lane_of(shares, 6, p) for p in range(7)]
['500106', '500106', '500107', '500107', 'city', 'city', '']
>>> lane_of(shares, 3, 2), lane_of(shares, None, 0)
('', '')
"""

from __future__ import annotations

from collections.abc import Callable

from config.report_partitions import ReportPartitions, load_report_partitions

DEFAULT_LANE = ""
"""The lane of what no range names, and of every partition of a topic too small for the ranges."""


def lane_of(shares: ReportPartitions, partitions: int | None, partition: int) -> str:
    """The lane of `partition` of a topic with `partitions` partitions (None: not known)."""
    if partitions is None or partitions < shares.needed:
        return DEFAULT_LANE
    for code, share in shares.ranges.items():
        if partition in share:
            return code
    return DEFAULT_LANE


class ReportLanes:
    """`lane_of` over live topics: a topic's partition count is asked once it is known
    (`partitions_of`, the consumer's metadata) and a partition's lane is kept for the process's
    life, so a partition is never in two lanes whatever the metadata says later (a topic grown
    meanwhile keeps its lanes until the worker restarts; a partition first seen before the count
    was known stays in the default lane)."""

    def __init__(
        self, partitions_of: Callable[[str], int | None], shares: ReportPartitions | None = None
    ) -> None:
        self.shares = shares if shares is not None else load_report_partitions()
        self.partitions_of = partitions_of
        self._counts: dict[str, int | None] = {}
        self._lanes: dict[tuple[str, int], str] = {}

    def __call__(self, topic: str, partition: int) -> str:
        key = (topic, partition)
        lane = self._lanes.get(key)
        if lane is None:
            count = self._counts.get(topic)
            if count is None:  # not known yet (no metadata): asked again at the topic's next partition
                count = self._counts[topic] = self.partitions_of(topic)
            lane = self._lanes[key] = lane_of(self.shares, count, partition)
        return lane
