"""The declared Kafka topics (config/topics.toml), loaded and checked.

A declaration is data; creating the topics on a broker is `deploy.topics`' job.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TOPICS_FILE = Path(__file__).with_name("topics.toml")


class TopicConfigError(ValueError):
    """The topic declaration file is inconsistent."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int
    copartition: str | None = None

    def broker_configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms)}


def load_topics(path: Path = TOPICS_FILE) -> tuple[TopicSpec, ...]:
    """Read and check the declarations.

    >>> specs = load_topics()
    >>> next(s for s in specs if s.name == "incidents").copartition
    'grid'
    """
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    return parse_topics(doc, origin=str(path))


def parse_topics(doc: dict[str, object], *, origin: str = "<topics>") -> tuple[TopicSpec, ...]:
    defaults = doc.get("defaults", {})
    entries = doc.get("topic", [])
    if not isinstance(defaults, dict) or not isinstance(entries, list):
        raise TopicConfigError(f"{origin}: expected a [defaults] table and [[topic]] entries")
    specs: list[TopicSpec] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise TopicConfigError(f"{origin}: topic[{i}] is not a table")
        merged = {**defaults, **entry}
        name = merged.get("name")
        if not isinstance(name, str) or not name:
            raise TopicConfigError(f"{origin}: topic[{i}].name is missing")
        partitions = merged.get("partitions")
        if not isinstance(partitions, int) or partitions < 1:
            raise TopicConfigError(f"{origin}: topic {name!r}: partitions must be an integer >= 1")
        retention = merged.get("retention_ms", -1)
        if not isinstance(retention, int) or (retention < 1 and retention != -1):
            raise TopicConfigError(f"{origin}: topic {name!r}: retention_ms must be -1 (forever) or > 0")
        group = merged.get("copartition")
        if group is not None and not isinstance(group, str):
            raise TopicConfigError(f"{origin}: topic {name!r}: copartition must be a string")
        specs.append(TopicSpec(name, partitions, retention, group))
    _check(specs, origin)
    return tuple(specs)


def _check(specs: list[TopicSpec], origin: str) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise TopicConfigError(f"{origin}: topic {spec.name!r} is declared twice")
        seen.add(spec.name)
    groups: dict[str, set[int]] = defaultdict(set)
    for spec in specs:
        if spec.copartition:
            groups[spec.copartition].add(spec.partitions)
    for group, counts in groups.items():
        if len(counts) > 1:
            raise TopicConfigError(
                f"{origin}: co-partitioned group {group!r} mixes partition counts "
                f"{sorted(counts)}; keyed joins need one count"
            )
