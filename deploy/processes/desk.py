"""The dead-letter desk's ports (`dispatch.deadletters.ports`) filled from the other layers:
`streams.read` reads `reports.dlq` to its end; the producers' `Feeder` and `Publisher` send a
letter's raw bytes through its adapter again, back onto `reports.<source>`, or back onto the
agents' topic it was read from (`alerts.cap`, `replies.hotline`).

The API opens one publisher per replay request (lingering 5 ms: the operator waits for the
answer); `yiwang dlq replay` opens one for the whole run, after checking that the topics exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

from config.settings import Settings
from dispatch.deadletters.flows import DeskError
from dispatch.deadletters.ports import DeskPorts, Refed, ReplayPorts, TopicRecord
from producers.adapters.points import record_address, record_point
from producers.feed import Feeder
from producers.ledger import Ledger
from producers.publisher import REPORT_HEADERS, Publisher, open_publisher
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Source
from streams.read import records_to_end

API_CLIENT_ID = "yiwang-api-dlq"


class FeederReplay:
    """A feeder (its publisher, no ledger of its own run) as the desk's replay ports."""

    def __init__(self, feeder: Feeder) -> None:
        self.feeder = feeder

    def refeed(self, source: Source, raw: bytes, origin: Origin, *, timeout_s: float) -> Refed:
        failed_before = self.feeder.summary.failed
        published_before = self.feeder.summary.published
        summary = self.feeder.feed(source, raw, origin)
        self.feeder.drain(block=True, timeout=timeout_s)
        return Refed(
            published=self.feeder.summary.published - published_before,
            duplicates=summary.duplicates,
            rejected=tuple(reason for _, reason in summary.rejected),
            unacknowledged=self.feeder.summary.failed - failed_before,
        )

    def send_report_record(self, source: Source, raw: bytes, *, key: bytes, timeout_s: float) -> str:
        publisher = self.feeder.publisher
        topic = publisher.topic_for(source)
        publisher.send(topic, raw, key=key, headers=REPORT_HEADERS).get(timeout=timeout_s)
        return topic

    def send_record(
        self, topic: str, raw: bytes, *, key: bytes, headers: tuple[tuple[str, bytes], ...], timeout_s: float
    ) -> str:
        publisher = self.feeder.publisher
        full = publisher.settings.topic(topic)
        publisher.send(full, raw, key=key, headers=list(headers)).get(timeout=timeout_s)
        return full

    def ports(self) -> ReplayPorts:
        return ReplayPorts(
            refeed=self.refeed, send_report_record=self.send_report_record, send_record=self.send_record
        )


def _read_to_end(settings: Settings, topic: str) -> Iterable[TopicRecord]:
    return records_to_end(settings.bootstrap_servers, topic)


@contextmanager
def _api_replay(settings: Settings) -> Iterator[ReplayPorts]:
    publisher = Publisher(settings, client_id=API_CLIENT_ID, linger_ms=5)
    try:
        yield FeederReplay(Feeder(publisher, Ledger(None))).ports()
    finally:
        publisher.close()


@contextmanager
def _command_replay(settings: Settings) -> Iterator[ReplayPorts]:
    publisher = open_publisher(settings, list(Source))  # says what is wrong when it cannot
    if publisher is None:
        raise DeskError("kafka: no publisher, nothing was sent")
    feeder = Feeder(publisher, Ledger(None))
    try:
        yield FeederReplay(feeder).ports()
    finally:
        feeder.finish()
        publisher.close()


def api_ports(settings: Settings) -> DeskPorts:
    """The desk as the API process runs it: a publisher per replay request; an agency's letter
    placed in its district by its adapter's point or address fields (producers/adapters/points.py)."""
    return DeskPorts(
        partial(_read_to_end, settings),
        partial(_api_replay, settings),
        partial(record_point, load_sources()),
        record_address,
    )


def command_ports(settings: Settings) -> DeskPorts:
    """The desk as `yiwang dlq` runs it: one publisher for a run of replays, topics checked; the
    letters placed in their districts as the API places them (`--district`)."""
    return DeskPorts(
        partial(_read_to_end, settings),
        partial(_command_replay, settings),
        partial(record_point, load_sources()),
        record_address,
    )
