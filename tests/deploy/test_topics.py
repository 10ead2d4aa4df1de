"""A report topic made before the district ranges (fewer partitions than config/districts.toml
[report_partitions] needs), on the real broker: `ensure_topics` leaves it as it is and says what
that costs; the publisher keeps Kafka's default partitioning there and still delivers."""

from __future__ import annotations

import uuid

import pytest
from kafka.admin import NewTopic

from config.settings import Settings
from config.topics import load_topics
from deploy.topics import admin_client, ensure_topics
from producers.publisher import Publisher
from schemas.report import decode, report_id_for
from tests.producers.helpers import read_topic

pytestmark = pytest.mark.kafka
VALUE = (
    b'{"schema_version":1,"report_id":"%s","source":"hotline","source_ref":"OLD-1",'
    b'"reported_at":"2026-01-01T10:00:00+08:00","received_at":"2026-01-01T10:00:00+08:00",'
    b'"category":"exposed_garbage","priority":"P3","location":{"lon":106.511,"lat":29.506,"crs":"wgs84"},'
    b'"raw":{"format":"json","text":"{}"}}'
)


def test_a_report_topic_short_of_the_district_ranges_is_named_and_still_works(kafka: Settings) -> None:
    settings = kafka.model_copy(update={"topic_prefix": f"old-{uuid.uuid4().hex[:6]}."})
    topic = settings.topic("reports.hotline")
    admin = admin_client(settings)
    try:
        admin.create_topics([NewTopic(topic, 3, settings.replication_factor)])
        admin.wait_for_topics([topic])
        specs = tuple(s for s in load_topics() if s.name == "reports.hotline")
        (line,) = ensure_topics(admin, specs, settings).mismatched
        assert line.startswith(f"{topic}: 3 partitions on the broker, 6 declared")
        assert "[report_partitions]) need 6: until then its reports keep Kafka's default partitioning" in line
        report = decode(VALUE % str(report_id_for("hotline", "OLD-1")).encode())
        publisher = Publisher(settings, linger_ms=5)
        try:
            assert publisher.partition_count(topic) == 3
            assert publisher.send_report(report).get(timeout=10).partition in range(3)
        finally:
            publisher.close()
        assert [decode(v).source_ref for _, v, _ in read_topic(settings, topic)] == ["OLD-1"]
    finally:
        admin.delete_topics([topic], raise_errors=False)
        admin.close()
