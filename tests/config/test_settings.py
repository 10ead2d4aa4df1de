from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("YIWANG_") or name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_point_at_the_local_services(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.uses_local_kafka and s.uses_local_db
    assert s.bootstrap_servers == "127.0.0.1:29092"
    assert s.db_url == "postgresql+psycopg://yiwang:yiwang@127.0.0.1:25432/yiwang"
    assert s.home == Path.home() / ".cache" / "yiwang"
    assert s.topic("incidents") == "incidents"


def test_environment_points_at_existing_servers(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092")
    clean_env.setenv("DATABASE_URL", "postgresql://u:p@db.example:5432/dispatch")
    s = Settings()
    assert not s.uses_local_kafka and not s.uses_local_db
    assert s.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert s.db_url == "postgresql+psycopg://u:p@db.example:5432/dispatch"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_database_url_uses_psycopg3(clean_env: pytest.MonkeyPatch, given: str, expected: str) -> None:
    clean_env.setenv("DATABASE_URL", given)
    assert Settings().db_url == expected


def test_prefixed_settings_and_ports(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("YIWANG_TOPIC_PREFIX", "staging.")
    clean_env.setenv("YIWANG_KAFKA_PORT", "19092")
    clean_env.setenv("YIWANG_HOME", str(tmp_path))
    s = Settings()
    assert s.topic("dispatch.tasks") == "staging.dispatch.tasks"
    assert s.bootstrap_servers == "127.0.0.1:19092"
    assert s.log_dir == tmp_path / "logs"


def test_settings_are_frozen_and_validated(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.kafka_port = 1  # type: ignore[misc]
    clean_env.setenv("YIWANG_PG_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="pg_port"):
        Settings()


def test_settings_travel_to_a_child_process_through_the_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    s = Settings(
        home=tmp_path,
        kafka_port=19092,
        pg_cluster="other",
        topic_prefix="x.",
        database_url="postgresql://u@h/d",
    )
    env = s.to_env()
    assert env["YIWANG_KAFKA_PORT"] == "19092" and env["DATABASE_URL"] == "postgresql://u@h/d"
    assert "KAFKA_BOOTSTRAP_SERVERS" not in env
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert Settings() == s


def test_a_local_cluster_replicates_its_topics(clean_env: pytest.MonkeyPatch) -> None:
    single = Settings()
    assert (single.kafka_brokers, single.replication_factor, single.min_insync_replicas) == (1, 1, 1)
    cluster = Settings(kafka_brokers=3)
    assert cluster.bootstrap_servers == "127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112"
    assert cluster.local_kafka_ports[2] == (29112, 29113)
    assert (cluster.replication_factor, cluster.min_insync_replicas) == (3, 2)
    clean_env.setenv("YIWANG_KAFKA_BROKERS", "3")
    clean_env.setenv("YIWANG_REPLICATION_FACTOR", "2")
    assert (Settings().replication_factor, Settings().min_insync_replicas) == (2, 1)  # said explicitly
    with pytest.raises(ValidationError, match="kafka_brokers"):
        Settings(kafka_brokers=0)


def test_local_ports_lie_below_the_kernels_ephemeral_range(clean_env: pytest.MonkeyPatch) -> None:
    """A port in the ephemeral range can be held for a moment by any outgoing connection, and a
    broker or PostgreSQL restarted on it then fails to bind (seen in CI). The defaults, the
    nodes of a local cluster and the fault tests' second services (+100, +200 for Kafka, +10 for
    PostgreSQL) must all sit below the range this machine's kernel hands out."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    s = Settings(kafka_brokers=3)
    ports = [p for pair in s.local_kafka_ports for p in pair]
    ports += [p + offset for p in ports for offset in (100, 200)]
    ports += [s.pg_port, s.pg_port + 10]
    assert max(ports) < low, f"ports {sorted(p for p in ports if p >= low)} lie in the ephemeral range {low}–"
