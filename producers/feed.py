"""Adapter → publisher glue: every record either becomes a published report, a skipped
duplicate, or a dead letter with a reason; the counts add up to what came in.

`Feeder` is what `yiwang produce`, the simulator and the Open311 intake share. Publishing is
asynchronous (kafka-python batches); `drain()` collects acknowledgements as they arrive and
`finish()` waits for all of them, so a summary's "published" means "acknowledged by the
broker", and a record whose send failed is counted as failed, not published.
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config.policy import Taxonomy, load_taxonomy
from producers import dlq
from producers.adapters.registry import ADAPTERS
from producers.errors import PublishError
from producers.ledger import Ledger
from producers.outcome import Companion, Context, Rejection
from producers.publisher import Publisher
from producers.sources import SourceConfig, load_sources
from schemas.dead_letter import DeadLetter, Origin, Stage
from schemas.report import Report, Source

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_LISTED = 20


def _utc_now() -> datetime:
    return datetime.now(UTC)


def describe(origin: Origin) -> str:
    where = origin.file or (f"{origin.topic}[{origin.partition}]@{origin.offset}" if origin.topic else "-")
    if origin.line is not None:
        where += f":{origin.line}"
    if origin.record:
        where += f" {origin.record}"
    return where


@dataclass
class Summary:
    published: int = 0
    duplicates: int = 0
    failed: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(where, reason) per dead-lettered record."""

    @property
    def clean(self) -> bool:
        return not self.rejected and not self.failed

    def lines(self, limit: int = MAX_LISTED) -> list[str]:
        out = [
            f"published {self.published}, rejected {len(self.rejected)}, duplicates skipped {self.duplicates}"
            + (f", failed to publish {self.failed}" if self.failed else "")
        ]
        for where, reason in self.rejected[:limit]:
            out.append(f"  rejected {where}: {reason}")
        if len(self.rejected) > limit:
            out.append(f"  … and {len(self.rejected) - limit} more rejections (all on reports.dlq)")
        return out


@dataclass(frozen=True, slots=True)
class _Pending:
    future: Any
    key: tuple[str, uuid.UUID] | None  # None for dead letters


class Feeder:
    """Adapts, publishes, dead-letters and counts; one per run (not thread-safe except `publish_one`)."""

    def __init__(
        self,
        publisher: Publisher,
        ledger: Ledger,
        *,
        sources: Mapping[Source, SourceConfig] | None = None,
        taxonomy: Taxonomy | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.publisher = publisher
        self.ledger = ledger
        self.sources = sources or load_sources()
        self.taxonomy = taxonomy or load_taxonomy()
        self.clock = clock
        self.summary = Summary()
        self._pending: deque[_Pending] = deque()

    def context(self, source: Source, origin: Origin) -> Context:
        return Context(self.sources[source], self.taxonomy, self.clock(), origin)

    def feed(self, source: Source, data: bytes, origin: Origin) -> Summary:
        """Adapt one input (a file, a line, a message) and send what it holds. Returns its own counts."""
        before = Summary(self.summary.published, self.summary.duplicates, self.summary.failed, [])
        rejected_before = len(self.summary.rejected)
        ctx = self.context(source, origin)
        for outcome in ADAPTERS[source](data, ctx):
            if isinstance(outcome, Rejection):
                self.reject(source, outcome, received_at=ctx.received_at)
            elif isinstance(outcome, Companion):
                self.accompany(outcome)
            else:
                self.publish(outcome)
        self.drain()
        return Summary(
            published=self.summary.published - before.published,
            duplicates=self.summary.duplicates - before.duplicates,
            failed=self.summary.failed - before.failed,
            rejected=self.summary.rejected[rejected_before:],
        )

    def publish(self, report: Report) -> bool:
        """Send a report unless its id was already published; False = a duplicate, skipped."""
        key = (self.publisher.topic_for(report.source), report.report_id)
        if not self.ledger.claim(*key):
            self.summary.duplicates += 1
            return False
        self._pending.append(_Pending(self.publisher.send_report(report), key))
        return True

    def accompany(self, record: Companion) -> None:
        """Send a companion record (acknowledged, and a failure counted, like a dead letter)."""
        future = self.publisher.send(
            self.publisher.settings.topic(record.topic),
            record.value,
            key=record.key,
            headers=list(record.headers),
        )
        self._pending.append(_Pending(future, None))

    def reject(
        self,
        source: Source | str,
        rejection: Rejection,
        *,
        received_at: datetime,
        stage: Stage = Stage.ADAPTER,
    ) -> DeadLetter:
        letter = dlq.from_rejection(str(source), rejection, stage=stage, received_at=received_at)
        self.summary.rejected.append((describe(rejection.origin), rejection.reason))
        self._pending.append(_Pending(self.publisher.send_dead_letter(letter), None))
        return letter

    def reject_now(
        self,
        source: Source | str,
        rejection: Rejection,
        *,
        received_at: datetime,
        stage: Stage,
        timeout: float = 30.0,
    ) -> DeadLetter:
        """Dead-letter one record and wait for the broker (the HTTP intake answers only when durable)."""
        letter = dlq.from_rejection(str(source), rejection, stage=stage, received_at=received_at)
        try:
            self.publisher.send_dead_letter(letter).get(timeout=timeout)
        except Exception as exc:
            raise PublishError(f"dead letter {letter.dlq_id} not acknowledged: {type(exc).__name__}") from exc
        return letter

    def drain(self, *, block: bool = False, timeout: float = 130.0) -> None:
        """Account for acknowledged sends (all of them when `block`)."""
        if block:
            self.publisher.flush(timeout=timeout)
        confirmed: list[tuple[str, uuid.UUID]] = []
        while self._pending and (block or self._pending[0].future.is_done):
            item = self._pending.popleft()
            try:
                item.future.get(timeout=timeout)
            except Exception as exc:  # kafka-python raises KafkaError subclasses and timeouts
                self.summary.failed += 1
                log.error(
                    "publish failed (%s): %s", "report" if item.key else "dead letter", type(exc).__name__
                )
                if item.key is not None:
                    self.ledger.release(item.key)
                continue
            if item.key is not None:
                self.summary.published += 1
                confirmed.append(item.key)
        self.ledger.confirm(confirmed)

    def finish(self, timeout: float = 130.0) -> Summary:
        self.drain(block=True, timeout=timeout)
        return self.summary

    def publish_one(self, report: Report, timeout: float = 30.0) -> bool:
        """Publish one report and wait for the broker (the HTTP intake answers only when durable)."""
        key = (self.publisher.topic_for(report.source), report.report_id)
        if not self.ledger.claim(*key):
            return False
        try:
            self.publisher.send_report(report).get(timeout=timeout)
        except Exception as exc:
            self.ledger.release(key)
            raise PublishError(
                f"the broker did not acknowledge report {report.report_id}: {type(exc).__name__}"
            ) from exc
        self.ledger.confirm([key])
        return True
