from __future__ import annotations

import pytest

from config.topics import TopicConfigError, load_topics, parse_topics

SOURCES = ("police", "citymgmt", "emergency", "fire", "cyberspace", "hotline", "patrol")


def test_shipped_declaration_covers_every_feed_and_core_topic() -> None:
    names = {s.name for s in load_topics()}
    for source in SOURCES:
        assert f"reports.{source}" in names
        assert f"feedback.{source}" in names
    assert {"reports.dlq", "incidents", "dispatch.tasks", "dispatch.events", "sla.escalations"} <= names


def test_grid_keyed_topics_are_copartitioned_and_kept_forever() -> None:
    grid = [s for s in load_topics() if s.copartition == "grid"]
    assert {s.name for s in grid} >= {"incidents", "dispatch.tasks", "dispatch.events"}
    assert len({s.partitions for s in grid}) == 1
    assert all(s.retention_ms == -1 for s in grid)


def test_defaults_apply_and_entries_override() -> None:
    specs = parse_topics(
        {
            "defaults": {"partitions": 4, "retention_ms": 1000},
            "topic": [{"name": "a"}, {"name": "b", "partitions": 2, "retention_ms": -1}],
        }
    )
    assert [(s.name, s.partitions, s.retention_ms) for s in specs] == [("a", 4, 1000), ("b", 2, -1)]
    assert specs[1].broker_configs() == {"retention.ms": "-1"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"topic": [{"name": "a", "partitions": 0}]}, "partitions must be"),
        ({"topic": [{"partitions": 1}]}, "name is missing"),
        ({"topic": [{"name": "a", "partitions": 1}, {"name": "a", "partitions": 1}]}, "declared twice"),
        ({"topic": [{"name": "a", "partitions": 1, "retention_ms": 0}]}, "retention_ms"),
        (
            {
                "topic": [
                    {"name": "a", "partitions": 3, "copartition": "g"},
                    {"name": "b", "partitions": 6, "copartition": "g"},
                ]
            },
            "mixes partition counts",
        ),
    ],
)
def test_inconsistent_declarations_are_refused(doc: dict[str, object], message: str) -> None:
    with pytest.raises(TopicConfigError, match=message):
        parse_topics(doc)
