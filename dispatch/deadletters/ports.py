"""What the dead-letter desk needs from outside dispatch, as ports the process's root fills.

The desk reads `reports.dlq` to its end and sends a letter's raw bytes the way they first
came: through its feed's adapter again, straight back onto `reports.<source>`, or back onto
the agents' own topic it was read from (`alerts.cap`, `replies.hotline`). Reading a
topic and the producers' adapters and publisher belong to other layers (`streams.read`,
`producers/`), so the desk declares the calls it makes and the composition roots in
`deploy/processes/` (the API process, the `yiwang dlq` command) pass them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from schemas.dead_letter import Origin
from schemas.report import Source


class TopicRecord(Protocol):
    """One record read back from a topic: its value and its broker timestamp."""

    @property
    def value(self) -> bytes: ...

    @property
    def timestamp(self) -> int: ...  # milliseconds since the epoch


class ReadToEnd(Protocol):
    """Every record of a topic (the deployment's full name) up to its end when reading starts."""

    def __call__(self, topic: str) -> Iterable[TopicRecord]: ...


@dataclass(frozen=True, slots=True)
class Refed:
    """What feeding one raw record through its adapter again came to, once the broker answered."""

    published: int
    duplicates: int  # reports already published before (skipped)
    rejected: tuple[str, ...]  # the adapter's reasons, each naming the field
    unacknowledged: int  # sends the broker did not acknowledge in time


class Refeed(Protocol):
    """Feed raw bytes through the source's adapter again (its configuration as it is now) and
    wait for the broker; a record refused again is dead-lettered again by the producers' side."""

    def __call__(self, source: Source, raw: bytes, origin: Origin, *, timeout_s: float) -> Refed: ...


class SendReportRecord(Protocol):
    """Send one raw record onto `reports.<source>` as a canonical report's record (key and
    headers as a producer sends it), wait for the broker, and return the topic it went to."""

    def __call__(self, source: Source, raw: bytes, *, key: bytes, timeout_s: float) -> str: ...


class SendRecord(Protocol):
    """Send one raw record back onto the topic it was read from (`alerts.cap`, `replies.hotline`:
    the name without the deployment's prefix), wait for the broker, return the full topic."""

    def __call__(
        self, topic: str, raw: bytes, *, key: bytes, headers: tuple[tuple[str, bytes], ...], timeout_s: float
    ) -> str: ...


class PointOfRecord(Protocol):
    """The point an agency's JSON record (parsed once by the desk) names by its adapter's own
    fields (lon, lat, crs), read without the adapter's other checks; None when it names none
    that can be read."""

    def __call__(self, source: Source, record: Mapping[str, object]) -> tuple[float, float, str] | None: ...


class AddressOfRecord(Protocol):
    """The address an agency's JSON record (parsed once by the desk) gives by its adapter's own
    field (`location.address`), read without the adapter's other checks; None when it gives none."""

    def __call__(self, source: Source, record: Mapping[str, object]) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ReplayPorts:
    """The producers' side one run of replays sends through (one publisher, closed after)."""

    refeed: Refeed
    send_report_record: SendReportRecord
    send_record: SendRecord


@dataclass(frozen=True, slots=True)
class DeskPorts:
    """Everything the desk reaches outside dispatch: reading topics, and opening a run of
    replays (raises `dispatch.deadletters.flows.DeskError` when it cannot be opened)."""

    read_to_end: ReadToEnd
    open_replay: Callable[[], AbstractContextManager[ReplayPorts]]
    point_of_record: PointOfRecord | None = None
    """Places an `adapter` letter in its district (dispatch/deadletters/places.py); None: the
    city's only."""
    address_of_record: AddressOfRecord | None = None
    """Places an `adapter` letter with no readable point by the district its address names."""
