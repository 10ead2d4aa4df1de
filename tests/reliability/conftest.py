"""A Kafka broker and a PostgreSQL cluster of the reliability tests' own, and a replicated
three-broker Kafka.

The fault tests kill and restart brokers and databases; doing that to the shared local
services would break every other test session (and the main job) on the machine. So they
get a second broker (same jars, its own ports and data under a temporary home) and a second
Debian cluster (`yiwang_fault`), both started by the project's own service code. The
three-broker tests get a cluster started by the same code as `yiwang up --brokers 3`, on
ports of its own; they never restart PostgreSQL, so their database is one more database on
the session's cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from config.settings import Settings
from config.topics import load_topics
from deploy import migrate
from deploy.services.kafka import LocalKafka
from deploy.services.postgres import LocalPostgres
from deploy.topics import admin_client, ensure_topics
from geo.reference import ReferenceDistrict
from geo.service import load_reference_set
from tests.conftest import create_migrated_database


@pytest.fixture(scope="session")
def fault_env(
    services: Settings, reference: ReferenceDistrict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    home: Path = tmp_path_factory.mktemp("fault-home")
    main_kafka = LocalKafka(services)
    settings = services.model_copy(
        update={
            "home": home,
            "kafka_bootstrap_servers": None,
            "kafka_port": services.kafka_port + 100,
            "kafka_controller_port": services.kafka_controller_port + 100,
            "kafka_jars": main_kafka.lib_dir,
            "kafka_heap": "512m",
            "database_url": None,
            "pg_port": services.pg_port + 10,
            "pg_cluster": "yiwang_fault",
            "pg_database": "yiwang_fault",
            "topic_prefix": "fault.",
        }
    )
    if not services.uses_local_kafka or not services.uses_local_db:
        pytest.skip("the fault tests start their own broker and cluster; they need the local services")
    kafka, pg = LocalKafka(settings), LocalPostgres(settings)
    kafka.start()
    pg.start()
    pg.drop_database(settings.pg_database)
    pg.ensure_database()
    migrate.upgrade(settings.db_url)
    admin = admin_client(settings)
    ensure_topics(admin, load_topics(), settings)
    admin.close()
    engine = create_engine(settings.db_url)
    with engine.begin() as conn:
        load_reference_set(conn, reference)
    engine.dispose()
    yield settings
    kafka.stop()
    pg.drop_database(settings.pg_database)
    pg.stop()


@pytest.fixture(scope="session")
def cluster_env(
    services: Settings, reference: ReferenceDistrict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    if not services.uses_local_kafka or not services.uses_local_db:
        pytest.skip("the cluster tests start their own brokers; they need the local services")
    settings = services.model_copy(
        update={
            "home": tmp_path_factory.mktemp("cluster-home"),
            "kafka_port": services.kafka_port + 200,
            "kafka_controller_port": services.kafka_controller_port + 200,
            "kafka_jars": LocalKafka(services).lib_dir,
            "kafka_brokers": 3,
            "kafka_node_heap": "320m",
            "replication_factor": 3,
            "pg_database": f"{services.pg_database}_cluster",
            "topic_prefix": "cluster.",
        }
    )
    kafka, pg = LocalKafka(settings), LocalPostgres(services)
    kafka.start()
    create_migrated_database(services, settings.pg_database)
    try:
        admin = admin_client(settings)
        ensure_topics(admin, load_topics(), settings)
        admin.close()
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, reference)
        engine.dispose()
        yield settings
    finally:
        kafka.stop()
        pg.drop_database(settings.pg_database)


# the case-test fixtures (own database and topics, the district loaded there)
from tests.casework import anyio_backend, cases, cases_engine, district  # noqa: E402

__all__ = ["anyio_backend", "cases", "cases_engine", "cluster_env", "district", "fault_env"]
