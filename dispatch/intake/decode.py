"""Kafka record -> canonical report, or a dead letter that names the field.

Adapters validate before publishing, but the topics are open to any agency that speaks the
canonical contract, so the intake trusts nothing: bytes that are not JSON, a report that
breaks the schema, a category that is not in the taxonomy, or a report published on another
source's topic all become dead letters with the raw bytes kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from config.policy import Taxonomy
from schemas.dead_letter import DeadLetter, Origin, Stage, dead_letter
from schemas.report_struct import ReportError, ReportStruct, decode_report


@dataclass(frozen=True, slots=True)
class Inbound:
    """One record as consumed, before anything is trusted."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int | None

    @property
    def origin(self) -> Origin:
        return Origin(topic=self.topic, partition=self.partition, offset=self.offset)

    @property
    def produced_at(self) -> datetime | None:
        if self.timestamp_ms is None or self.timestamp_ms <= 0:
            return None
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)


def source_of(topic: str, prefix: str) -> str:
    """`reports.police` (after the deployment's topic prefix) -> `police`."""
    name = topic.removeprefix(prefix)
    return name.removeprefix("reports.")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A valid report: the typed struct the intake reads, the record's own JSON object it stores."""

    report: ReportStruct
    doc: dict[str, Any]


def _source_ref(value: bytes) -> str | None:
    """The record's source_ref if it has a usable one (for the dead letter), else None."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    ref = doc.get("source_ref") if isinstance(doc, dict) else None
    return ref[:128] if isinstance(ref, str) and ref else None


def decode(record: Inbound, *, source: str, taxonomy: Taxonomy, now: datetime) -> Decoded | DeadLetter:
    def reject(field: str, reason: str, source_ref: str | None = None) -> DeadLetter:
        return dead_letter(
            source,
            Stage.INTAKE,
            record.value,
            field,
            reason,
            origin=record.origin,
            received_at=now,
            source_ref=source_ref,
        )

    try:
        report, doc = decode_report(record.value)  # one pass: parse and validate
    except ReportError as exc:
        return reject(exc.field, exc.reason, _source_ref(record.value))
    if report.source.value != source:
        return reject(
            "source", f"source: {report.source.value!r} published on the {source!r} feed", report.source_ref
        )
    if report.category not in taxonomy.categories:
        return reject("category", f"category: {report.category!r} is not a taxonomy code", report.source_ref)
    return Decoded(report, doc)
