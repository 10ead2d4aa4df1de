"""The local Kafka's node configurations and the cluster view, as pure data (no broker)."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from deploy.cluster_health import ClusterView, partition_rows, quorum_leader
from deploy.services.kafka import local_nodes, node_properties


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_three_nodes_form_a_static_quorum_and_replicate(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, kafka_port=29092, kafka_controller_port=29093, kafka_brokers=3)
    nodes = local_nodes(settings, "4.1.1")
    assert [n.node_id for n in nodes] == [1, 2, 3]
    assert len({n.data_dir for n in nodes}) == len({n.pid_file for n in nodes}) == 3
    props = [_props(node_properties(settings, n, nodes)) for n in nodes]
    voters = "1@127.0.0.1:29093,2@127.0.0.1:29103,3@127.0.0.1:29113"
    assert {p["controller.quorum.voters"] for p in props} == {voters}
    assert [p["listeners"] for p in props][1] == "PLAINTEXT://127.0.0.1:29102,CONTROLLER://127.0.0.1:29103"
    for p in props:
        assert p["default.replication.factor"] == p["offsets.topic.replication.factor"] == "3"
        assert p["min.insync.replicas"] == p["transaction.state.log.min.isr"] == "2"
        assert "controller.quorum.bootstrap.servers" not in p


def test_one_node_keeps_the_single_broker_layout(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, kafka_port=29092, kafka_controller_port=29093, kafka_brokers=1)
    (node,) = local_nodes(settings, "4.1.1")
    assert node.config_path == tmp_path / "kafka" / "server.properties"
    assert node.data_dir == tmp_path / "kafka" / "data-4.1.1"
    p = _props(node_properties(settings, node, (node,)))
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:29093"
    assert p["default.replication.factor"] == p["min.insync.replicas"] == "1"


def test_the_view_names_under_replicated_and_leaderless_partitions() -> None:
    rows = partition_rows(
        [
            {
                "name": "t",
                "partitions": [
                    {"partition_index": 1, "leader_id": -1, "replica_nodes": [1, 2, 3], "isr_nodes": [1]},
                    {"partition_index": 0, "leader_id": 2, "replica_nodes": [2, 3], "isr_nodes": [3, 2]},
                ],
            }
        ]
    )
    view = ClusterView((), None, rows)
    assert [p.partition for p in view.under_replicated] == [1]
    assert [p.partition for p in view.leaderless] == [1]
    assert view.leader_of("t", 0) == 2
    assert quorum_leader({"topics": [{"partitions": [{"leader_id": 3}]}]}) == 3
    assert quorum_leader({"topics": [{"partitions": [{"leader_id": -1}]}]}) is None
