"""Faults under load (≥ 500 reports/s from the simulator) on one broker, then the exact
reconciliation of tests/reliability/reconciliation.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from config.settings import Settings
from deploy.services.kafka import LocalKafka
from deploy.services.postgres import LocalPostgres
from tests.reliability.reconciliation import FAULT_AT, run_scenario
from tests.streams.harness import Worker

pytestmark = [pytest.mark.kafka, pytest.mark.db]


@pytest.fixture(scope="module")
def fault_engine(fault_env: Settings) -> Engine:
    return create_engine(fault_env.db_url, pool_pre_ping=True)  # PostgreSQL restarts under it


def test_kill_9_a_worker_and_restart_it(fault_env: Settings, fault_engine: Engine, tmp_path: Path) -> None:
    def fault(workers: list[Worker]) -> None:
        workers[0].kill()
        time.sleep(2)
        workers[0] = Worker(fault_env, tmp_path / "kill9-restarted", "w0b")

    run_scenario("kill9", fault_env, fault_engine, tmp_path, seed=301, fault=fault)


def test_restart_the_kafka_broker(fault_env: Settings, fault_engine: Engine, tmp_path: Path) -> None:
    def fault(workers: list[Worker]) -> None:
        broker = LocalKafka(fault_env)
        broker.stop()
        time.sleep(2)
        broker.start()

    run_scenario("broker-restart", fault_env, fault_engine, tmp_path, seed=302, fault=fault)


def test_restart_postgresql(fault_env: Settings, fault_engine: Engine, tmp_path: Path) -> None:
    def fault(workers: list[Worker]) -> None:
        pg = LocalPostgres(fault_env)
        pg.stop()
        time.sleep(3)
        pg.start()

    run_scenario("postgres-restart", fault_env, fault_engine, tmp_path, seed=303, fault=fault)
    fault_engine.dispose()


def test_two_workers_one_killed(fault_env: Settings, fault_engine: Engine, tmp_path: Path) -> None:
    def fault(workers: list[Worker]) -> None:
        workers[1].kill()  # the survivor takes over its partitions after the rebalance

    run_scenario("rebalance", fault_env, fault_engine, tmp_path, seed=304, fault=fault, workers=2)


@pytest.mark.slow
def test_soak_repeated_kills_and_a_broker_restart(
    fault_env: Settings, fault_engine: Engine, tmp_path: Path
) -> None:
    """`pytest --soak`: three minutes at 500/s, two workers, one of them killed with -9 and
    restarted every 30 s, the broker restarted once half way."""
    soak_s = 180.0

    def faults(workers: list[Worker]) -> None:
        began = time.monotonic()
        restarted_broker = False
        n = 0
        while time.monotonic() - began < soak_s - FAULT_AT - 20:
            time.sleep(30)
            victim = n % len(workers)
            workers[victim].kill()
            workers[victim] = Worker(fault_env, tmp_path / f"soak-{n}", f"w{victim}-{n}")
            n += 1
            if not restarted_broker and time.monotonic() - began > soak_s / 2:
                broker = LocalKafka(fault_env)
                broker.stop()
                broker.start()
                restarted_broker = True

    run_scenario("soak", fault_env, fault_engine, tmp_path, seed=305, fault=faults, workers=2, seconds=soak_s)
