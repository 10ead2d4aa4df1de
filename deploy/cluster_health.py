"""What a replicated Kafka looks like right now: brokers, the active controller, and the
partitions that have fewer replicas in sync than they should.

`yiwang status` prints it and the three-broker fault tests wait on it. The pure part
(`under_replicated`) reads the admin client's topic descriptions; the edge (`cluster_view`)
asks the cluster. The controller comes from the KRaft quorum (DescribeQuorum): the
`controller_id` of DescribeCluster is any live broker under KRaft, not the quorum leader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient


@dataclass(frozen=True, slots=True)
class BrokerRow:
    node_id: int
    address: str
    fenced: bool


@dataclass(frozen=True, slots=True)
class PartitionRow:
    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass(frozen=True, slots=True)
class ClusterView:
    brokers: tuple[BrokerRow, ...]
    controller: int | None
    partitions: tuple[PartitionRow, ...]

    @property
    def under_replicated(self) -> tuple[PartitionRow, ...]:
        return tuple(p for p in self.partitions if p.under_replicated)

    @property
    def leaderless(self) -> tuple[PartitionRow, ...]:
        return tuple(p for p in self.partitions if p.leader < 0)

    def leader_of(self, topic: str, partition: int) -> int:
        return next(p.leader for p in self.partitions if (p.topic, p.partition) == (topic, partition))


def partition_rows(descriptions: Iterable[Mapping[str, Any]]) -> tuple[PartitionRow, ...]:
    """Rows from `KafkaAdminClient.describe_topics`, sorted by topic and partition.

    >>> rows = partition_rows([{"name": "t", "partitions": [
    ...     {"partition_index": 0, "leader_id": 2, "replica_nodes": [2, 3, 1], "isr_nodes": [2, 3]}]}])
    >>> rows[0].under_replicated, rows[0].leader
    (True, 2)
    """
    rows = [
        PartitionRow(
            topic=t["name"],
            partition=p["partition_index"],
            leader=p["leader_id"],
            replicas=tuple(p["replica_nodes"]),
            isr=tuple(p["isr_nodes"]),
        )
        for t in descriptions
        for p in t["partitions"]
    ]
    return tuple(sorted(rows, key=lambda r: (r.topic, r.partition)))


def quorum_leader(quorum: Mapping[str, Any]) -> int | None:
    """The active controller from a DescribeQuorum answer (None while an election runs)."""
    for topic in quorum.get("topics", []):
        for partition in topic.get("partitions", []):
            leader = partition.get("leader_id", -1)
            return leader if isinstance(leader, int) and leader >= 0 else None
    return None


def cluster_view(admin: KafkaAdminClient, topics: list[str]) -> ClusterView:
    """Ask the cluster; `topics` are the ones whose replication is reported (missing ones skipped)."""
    cluster = admin.describe_cluster()
    brokers = tuple(
        sorted(
            (
                BrokerRow(b["broker_id"], f"{b['host']}:{b['port']}", bool(b.get("is_fenced", False)))
                for b in cluster["brokers"]
            ),
            key=lambda b: b.node_id,
        )
    )
    present = set(admin.list_topics())
    wanted = [t for t in topics if t in present]
    partitions = partition_rows(admin.describe_topics(wanted)) if wanted else ()
    return ClusterView(brokers, quorum_leader(admin.describe_metadata_quorum()), partitions)
