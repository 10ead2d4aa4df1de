"""The Kafka edge of the producers: canonical reports onto `reports.<source>`, dead letters
onto `reports.dlq`.

kafka-python 3.0 with an idempotent producer (`enable_idempotence=True`, `acks='all'`):
a retried batch is never written twice. Values are passed as bytes (serializer callables are
deprecated in 3.0); the key is the source_ref, so one agency record always lands on the
same partition; header `schema` says which contract the value follows. A report goes to its
district's range of its topic's partitions (producers/district_partitions.py), so that one
district's burst does not queue in front of another district's reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from config.console import say as note
from config.settings import Settings
from producers import dlq
from producers.district_partitions import DistrictPartitions, shipped_partitions
from producers.errors import PublishError
from schemas.dead_letter import DeadLetter
from schemas.report import SCHEMA_NAME, Report, Source, encode

REPORT_HEADERS: list[tuple[str, bytes]] = [("schema", SCHEMA_NAME.encode())]


def report_topic(settings: Settings, source: Source | str) -> str:
    return settings.topic(f"reports.{Source(source).value}")


class Publisher:
    """One KafkaProducer for reports and dead letters; `send_*` return kafka-python futures."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_id: str = "yiwang-producer",
        linger_ms: int = 50,
        batch_size: int = 256 * 1024,
        districts: DistrictPartitions | None = None,
    ) -> None:
        self.settings = settings
        self.districts = districts if districts is not None else shipped_partitions()
        self._partition_counts: dict[str, int] = {}
        self.dlq_topic = settings.topic(dlq.DLQ_TOPIC)
        self._producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=linger_ms,
            batch_size=batch_size,
            max_in_flight_requests_per_connection=5,
            request_timeout_ms=30_000,
            delivery_timeout_ms=120_000,
            max_block_ms=15_000,
        )

    def require_topics(self, sources: Iterable[Source | str]) -> None:
        """Refuse to start when a topic is missing: kafka-python would otherwise block on every
        send waiting for metadata (topics are never auto-created, see config/topics.toml)."""
        wanted = {self.topic_for(s) for s in sources} | {self.dlq_topic}
        admin = KafkaAdminClient(
            bootstrap_servers=self.settings.bootstrap_servers,
            client_id="yiwang-producer-check",
            request_timeout_ms=15_000,
        )
        try:
            missing = sorted(wanted - set(admin.list_topics()))
        finally:
            admin.close()
        if missing:
            raise PublishError(
                f"topics missing on {self.settings.bootstrap_servers}: {', '.join(missing)}; run `yiwang up`"
            )

    def topic_for(self, source: Source | str) -> str:
        return report_topic(self.settings, source)

    def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes,
        headers: list[tuple[str, bytes]],
        partition: int | None = None,
    ) -> Any:
        return self._producer.send(topic, value=value, key=key, headers=headers, partition=partition)

    def send_report(self, report: Report) -> Any:
        topic = self.topic_for(report.source)
        return self.send(
            topic,
            encode(report),
            key=report.source_ref.encode("utf-8"),
            headers=REPORT_HEADERS,
            partition=self.districts.partition_for(report, self.partition_count(topic)),
        )

    def partition_count(self, topic: str) -> int:
        """The topic's partitions on the broker (asked once: a topic's count never shrinks)."""
        count = self._partition_counts.get(topic)
        if count is None:
            count = self._partition_counts[topic] = len(self._producer.partitions_for(topic))
        return count

    def send_dead_letter(self, letter: DeadLetter) -> Any:
        return self.send(
            self.dlq_topic, dlq.encode(letter), key=letter.source.encode("utf-8"), headers=dlq.HEADERS
        )

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._producer.close(timeout=timeout)


def open_publisher(settings: Settings, sources: list[Source], *, linger_ms: int = 50) -> Publisher | None:
    """A connected publisher whose topics exist, or None after saying what is wrong (here, not
    in producers/cli.py: the API process opens one too and needs none of the CLI's imports).

    Batch producers linger 50 ms (fewer, fuller batches: twice the throughput of 5 ms here);
    the HTTP intake waits for each acknowledgement, so it lingers 5 ms."""
    try:
        publisher = Publisher(settings, linger_ms=linger_ms)
    except KafkaError as exc:
        note(
            f"cannot reach Kafka at {settings.bootstrap_servers} ({type(exc).__name__}): "
            "run `yiwang up` or set KAFKA_BOOTSTRAP_SERVERS"
        )
        return None
    try:
        publisher.require_topics(sources)
    except (PublishError, KafkaError) as exc:
        publisher.close()
        note(str(exc) or type(exc).__name__)
        return None
    return publisher
