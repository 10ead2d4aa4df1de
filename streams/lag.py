"""How far a consumer group is behind: the gap between its committed offsets and the ends.

Used by the worker's lag metric, the benchmarks and the tests that wait for the pipeline to
catch up. A partition the group has never committed counts from its beginning offset.
"""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import CoordinatorNotAvailableError, KafkaTimeoutError, RetriableError


def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="yiwang-lag")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, client_id="yiwang-lag")
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        committed = admin.list_group_offsets(group).get(group, {})
        out: dict[TopicPartition, int] = {}
        for tp in partitions:
            held = committed.get(tp)
            position = held.offset if held is not None and held.offset >= 0 else starts[tp]
            out[tp] = max(ends[tp] - position, 0)
        return out
    finally:
        consumer.close()
        admin.close()


def total_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int | None:
    """Records behind in all; None while the broker cannot tell yet (a coordinator moving or
    starting up after a broker restart): ask again."""
    try:
        return sum(group_lag(bootstrap, group, topics).values())
    except (RetriableError, CoordinatorNotAvailableError, KafkaTimeoutError):
        return None
