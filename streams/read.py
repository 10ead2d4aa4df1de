"""Reading a whole topic: from the beginning to the end offsets seen when reading starts.

For `yiwang rebuild`, the benchmarks and the tests. Stopping at the end offsets, not after a
quiet spell, means a slow broker can never make a reader stop early and miss records.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord


class TopicMissing(LookupError):
    pass


def records_to_end(bootstrap: str, topic: str, *, timeout_s: float = 120.0) -> Iterator[ConsumerRecord]:
    """Every record of `topic` up to its current end; TimeoutError if that takes longer."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="yiwang-read")
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            raise TopicMissing(f"topic {topic} does not exist")
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(p) < ends[p] for p in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end in {timeout_s:.0f}s")
            for batch in consumer.poll(timeout_ms=300).values():
                for record in batch:
                    if record.offset < ends[TopicPartition(record.topic, record.partition)]:
                        yield record
    finally:
        consumer.close()
