"""Shared test helpers: adapter contexts, sample files, reading a real topic back."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from config.policy import load_taxonomy
from config.settings import Settings
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context, Outcome
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Source

SAMPLES = Path(__file__).resolve().parents[2] / "producers" / "samples"
RECEIVED = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
"""After every sample's report time (the samples are from the morning of 2025-06-01, +08:00)."""


def context(source: Source | str, *, received_at: datetime = RECEIVED, file: str = "test") -> Context:
    return Context(load_sources()[Source(source)], load_taxonomy(), received_at, Origin(file=file))


def adapt(source: Source | str, data: bytes, *, received_at: datetime = RECEIVED) -> list[Outcome]:
    return list(ADAPTERS[Source(source)](data, context(source, received_at=received_at)))


def sample_files(source: Source | str) -> list[Path]:
    return sorted((SAMPLES / str(source)).iterdir())


def read_topic(
    settings: Settings, topic: str, *, timeout_s: float = 20.0
) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    """Every record of a real topic, from the beginning up to the end offsets seen at the start:
    (key, value, headers). Call it after the producer has flushed."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert parts, f"topic {topic} does not exist"
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: list[tuple[bytes | None, bytes, dict[str, bytes]]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(p) < ends[p] for p in parts):
            assert time.monotonic() < deadline, f"could not read {topic} to its end in {timeout_s}s"
            for batch in consumer.poll(timeout_ms=300).values():
                out.extend((r.key, r.value, dict(r.headers)) for r in batch)
        return out
    finally:
        consumer.close()
