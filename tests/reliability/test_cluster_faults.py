"""Faults on a replicated three-broker Kafka (KRaft quorum of three, replication factor 3,
min.insync.replicas 2, acks=all), under load of ≥ 500 reports/s, each followed by the exact
reconciliation of tests/reliability/reconciliation.py.

One cluster (the `cluster_env` fixture, started by the code behind `yiwang up --brokers 3`)
serves every scenario: a killed node is restarted inside its scenario, and each scenario
starts only once all three nodes are back and every partition is fully in sync again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Engine, create_engine

from config.settings import Settings
from deploy.cluster_health import ClusterView, cluster_view
from deploy.services.common import wait_until
from deploy.services.kafka import SESSION_TIMEOUT_MS, LocalKafka
from deploy.topics import admin_client
from streams.worker import report_topics
from tests.reliability.reconciliation import run_scenario
from tests.streams.harness import Worker

pytestmark = [pytest.mark.kafka, pytest.mark.db]
DOWN_FOR_S = 5.0
"""How long a killed node stays down before it is restarted (still inside the traffic)."""


def view(settings: Settings) -> ClusterView:
    admin = admin_client(settings)
    try:
        return cluster_view(admin, report_topics(settings))
    finally:
        admin.close()


def unfenced_brokers(settings: Settings, *, avoid: int) -> set[int]:
    """The brokers the controller has not fenced, asked of the nodes other than `avoid` with a
    short timeout: a request that lands on a frozen node would otherwise wait 15 s."""
    others = ",".join(n.address for n in LocalKafka(settings).nodes if n.node_id != avoid)
    admin = KafkaAdminClient(bootstrap_servers=others, client_id="yiwang-fencing", request_timeout_ms=4000)
    try:
        return {b["broker_id"] for b in admin.describe_cluster()["brokers"] if not b.get("is_fenced")}
    finally:
        admin.close()


def busiest_report_partition(settings: Settings) -> tuple[str, int]:
    """The report partition with the most records so far: where a leader's loss hurts most."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in report_topics(settings)
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    busiest = max(partitions, key=lambda tp: ends[tp])
    return busiest.topic, busiest.partition


def answered(check: Callable[[], bool]) -> bool:
    """A check on a cluster in the middle of an election: an error means "not yet"."""
    try:
        return check()
    except KafkaError:
        return False


def fully_in_sync(settings: Settings) -> bool:
    try:
        current = view(settings)
    except KafkaError:
        return False
    return (
        len(current.brokers) == 3
        and not any(b.fenced for b in current.brokers)
        and current.controller is not None
        and not current.under_replicated
        and not current.leaderless
    )


@pytest.fixture
def cluster(cluster_env: Settings) -> Iterator[LocalKafka]:
    """The shared cluster, all three nodes up and every partition in sync before and after."""
    kafka = LocalKafka(cluster_env)
    for node_id, pid in kafka.pids().items():
        if pid is None:
            kafka.start_node(node_id)
    assert wait_until(lambda: fully_in_sync(cluster_env), timeout_s=90), view(cluster_env)
    yield kafka
    for node in kafka.nodes:
        if kafka.node_pid(node) is None:
            kafka.start_node(node.node_id)
        else:
            kafka.freeze_node(node.node_id, frozen=False)
    assert wait_until(lambda: fully_in_sync(cluster_env), timeout_s=90), (
        f"the cluster did not heal after the scenario: {view(cluster_env)}"
    )


@pytest.fixture(scope="module")
def cluster_engine(cluster_env: Settings) -> Iterator[Engine]:
    engine = create_engine(cluster_env.db_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


def test_kill_9_the_leader_of_the_busiest_report_partition(
    cluster_env: Settings, cluster: LocalKafka, cluster_engine: Engine, tmp_path: Path
) -> None:
    victims: list[int] = []

    def fault(workers: list[Worker]) -> None:
        topic, partition = busiest_report_partition(cluster_env)
        leader = view(cluster_env).leader_of(topic, partition)
        cluster.kill_node(leader)
        victims.append(leader)
        assert wait_until(
            lambda: answered(lambda: view(cluster_env).leader_of(topic, partition) not in (leader, -1)),
            timeout_s=30,
        )
        time.sleep(DOWN_FOR_S)
        cluster.start_node(leader)

    run_scenario("cluster-leader-kill9", cluster_env, cluster_engine, tmp_path, seed=311, fault=fault)
    assert victims


def test_kill_9_the_active_controller(
    cluster_env: Settings, cluster: LocalKafka, cluster_engine: Engine, tmp_path: Path
) -> None:
    elected: list[int | None] = []

    def fault(workers: list[Worker]) -> None:
        controller = view(cluster_env).controller
        assert controller is not None
        cluster.kill_node(controller)

        def elected_another() -> bool:
            now = view(cluster_env).controller  # a client may still try the dead node first
            if now in (controller, None):
                return False
            elected.append(now)
            return True

        assert wait_until(lambda: answered(elected_another), timeout_s=30)
        time.sleep(DOWN_FOR_S)
        cluster.start_node(controller)

    run_scenario("cluster-controller-kill9", cluster_env, cluster_engine, tmp_path, seed=312, fault=fault)
    assert elected, "no new controller was elected"


def test_freeze_a_broker_beyond_its_session_timeout(
    cluster_env: Settings, cluster: LocalKafka, cluster_engine: Engine, tmp_path: Path
) -> None:
    """SIGSTOP: the node neither dies nor answers, so only timeouts notice it. The controller
    fences it after the session timeout (it leaves every ISR), and it catches up after SIGCONT."""
    fenced: list[bool] = []

    def fault(workers: list[Worker]) -> None:
        topic, partition = busiest_report_partition(cluster_env)
        victim = view(cluster_env).leader_of(topic, partition)
        cluster.freeze_node(victim, frozen=True)
        began = time.monotonic()
        try:
            fenced.append(
                wait_until(
                    lambda: answered(lambda: victim not in unfenced_brokers(cluster_env, avoid=victim)),
                    timeout_s=SESSION_TIMEOUT_MS / 1000 + 30,
                )
            )
            time.sleep(max(0.0, SESSION_TIMEOUT_MS / 1000 + 3 - (time.monotonic() - began)))
        finally:
            cluster.freeze_node(victim, frozen=False)

    run_scenario("cluster-sigstop", cluster_env, cluster_engine, tmp_path, seed=313, fault=fault)
    assert fenced == [True], "the frozen broker was never fenced"


def test_two_workers_one_killed_during_a_leader_change(
    cluster_env: Settings, cluster: LocalKafka, cluster_engine: Engine, tmp_path: Path
) -> None:
    def fault(workers: list[Worker]) -> None:
        topic, partition = busiest_report_partition(cluster_env)
        leader = view(cluster_env).leader_of(topic, partition)
        cluster.kill_node(leader)
        workers[1].kill()  # the survivor takes over its partitions while leaders move
        time.sleep(DOWN_FOR_S)
        cluster.start_node(leader)

    run_scenario("cluster-rebalance", cluster_env, cluster_engine, tmp_path, seed=314, fault=fault, workers=2)
