"""What an adapter yields for each source record: a canonical report or a rejection (and,
for feeds whose messages have a life of their own, a companion record).

Adapters are pure: bytes in, outcomes out, no Kafka. A `Rejection` carries the record's raw
bytes, where it was read, and a reason that names the field, so the caller can dead-letter it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from config.policy import Taxonomy
from producers.sources import SourceConfig
from schemas.dead_letter import Origin
from schemas.report import Report


@dataclass(frozen=True, slots=True)
class Rejection:
    field: str
    reason: str
    """Starts with the field path; never contains personal data."""
    raw: bytes
    origin: Origin
    source_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Companion:
    """A record an adapter publishes beside its reports, on a topic of its own (declared name,
    without the deployment's prefix): the CAP life-cycle records on `alerts.cap`."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


Outcome = Report | Rejection | Companion


@dataclass(frozen=True, slots=True)
class Context:
    """Everything an adapter needs besides the bytes; `received_at` is injected, never read from a clock."""

    config: SourceConfig
    taxonomy: Taxonomy
    received_at: datetime
    origin: Origin

    def at(self, *, line: int | None = None, record: str | None = None) -> Origin:
        """The input's origin narrowed to a line or record (a line given by the caller is kept)."""
        if line is None and record is None:
            return self.origin
        update: dict[str, object] = {"record": record} if record is not None else {}
        if line is not None:
            update["line"] = line if self.origin.line is None else self.origin.line + line - 1
        return self.origin.model_copy(update=update)


Adapter = Callable[[bytes, Context], Iterator[Outcome]]
