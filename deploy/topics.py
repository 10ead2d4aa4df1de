"""Create the declared topics on a broker, and compare what is there with the declaration."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from config.report_partitions import REPORT_TOPIC_PREFIX, load_report_partitions
from config.settings import Settings
from config.topics import TopicSpec


@dataclass
class TopicReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    """Human-readable lines for topics whose partition count differs from the declaration."""


def admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="yiwang-admin",
        request_timeout_ms=15000,
    )


def partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    present = set(admin.list_topics())
    wanted = [n for n in names if n in present]
    if not wanted:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted)}


def ensure_topics(admin: KafkaAdminClient, specs: tuple[TopicSpec, ...], settings: Settings) -> TopicReport:
    """Create missing topics with their declared partitions; never alter existing ones.

    Changing the partition count of a keyed topic moves keys between partitions and breaks
    co-partitioning, so a mismatch is reported for a person to decide, not fixed silently.
    """
    report = TopicReport()
    by_name = {settings.topic(s.name): s for s in specs}
    counts = partition_counts(admin, list(by_name))
    missing = [
        NewTopic(
            name,
            spec.partitions,
            settings.replication_factor,
            topic_configs=spec.broker_configs() | {"min.insync.replicas": str(settings.min_insync_replicas)},
        )
        for name, spec in by_name.items()
        if name not in counts
    ]
    if missing:
        result = admin.create_topics(missing, raise_errors=False)
        for topic in result["topics"]:
            if topic["error_code"] == 0:
                report.created.append(topic["name"])
            elif topic["error_code"] == TopicAlreadyExistsError.errno:
                report.existing.append(topic["name"])
            else:
                raise RuntimeError(f"creating topic {topic['name']} failed: {topic['error_message']}")
        if report.created:
            admin.wait_for_topics(report.created)
    for name, count in counts.items():
        report.existing.append(name)
        declared = by_name[name].partitions
        if count != declared:
            report.mismatched.append(
                f"{name}: {count} partitions on the broker, {declared} declared in config/topics.toml"
                + _district_note(by_name[name], count)
            )
    return report


def _district_note(spec: TopicSpec, count: int) -> str:
    """What a report topic short of the district ranges costs, and the way out."""
    if not spec.name.startswith(REPORT_TOPIC_PREFIX) or spec.name == "reports.dlq":
        return ""
    needed = load_report_partitions().needed
    if count >= needed:
        return ""
    return (
        f"; the district ranges (config/districts.toml [report_partitions]) need {needed}: until then"
        " its reports keep Kafka's default partitioning and one district's burst delays the others'"
        f" (grow it with `kafka-topics.sh --alter --partitions {spec.partitions}` once no agency feed"
        " is sending)"
    )
