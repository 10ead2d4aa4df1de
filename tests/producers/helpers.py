"""Shared test helpers: adapter contexts, sample files, reading a real topic back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.policy import load_taxonomy
from config.settings import Settings
from producers.adapters.registry import ADAPTERS
from producers.outcome import Context, Outcome
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Source
from streams.read import records_to_end

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
    records = records_to_end(settings.bootstrap_servers, topic, timeout_s=timeout_s)
    return [(r.key, r.value, dict(r.headers)) for r in records]
