"""The intake's start: before the worker joins the group, and never raising.

An exception out of the intake agent's first batch lets faust restart the agent past records it
never processed (seen once after a PostgreSQL restart: reports missing, the group's lag at 0).
The database-away test is pure of Kafka: the runtime is driven directly against a port nothing
listens on. The warm-up test runs the real worker against the real broker and database.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from config.settings import Settings
from dispatch.intake.rules import IntakeRules
from dispatch.sla.published import POLICY_TOPIC
from geo.reference import ReferenceDistrict
from geo.service import load_reference_set
from streams.metrics import PipelineMetrics
from streams.runtime import IntakeRuntime
from tests.conftest import own_topics_and_database
from tests.net import free_port
from tests.reliability.reconciliation import wait_joined
from tests.streams.harness import read_topic, running_worker


async def _never(*_: object) -> object:
    raise AssertionError("nothing is published before the start succeeds")


def test_a_start_with_the_database_away_waits_instead_of_raising(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(pg_port=free_port())  # nothing listens there
    runtime = IntakeRuntime(settings, PipelineMetrics.create(CollectorRegistry()), _never, _never)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="streams.runtime")

    async def attempt() -> None:
        with pytest.raises(TimeoutError):  # still retrying when the time is up: nothing escaped
            await asyncio.wait_for(runtime.handle([]), timeout=2.0)

    asyncio.run(attempt())
    retries = [r for r in caplog.records if "database unavailable at start" in r.getMessage()]
    assert len(retries) >= 2
    assert runtime.service is None


@pytest.mark.kafka
@pytest.mark.db
def test_the_worker_joins_the_intake_group_only_once_started(
    services: Settings, reference: ReferenceDistrict, tmp_path: Path
) -> None:
    """No report is sent: started lazily, on its first batch, the intake would never start; the
    warm-up starts it before faust's consumer joins the group, so partitions are never assigned
    to a worker that cannot take their records yet."""
    with own_topics_and_database(services, "warmup") as settings:
        engine = create_engine(settings.db_url)
        with engine.begin() as conn:
            load_reference_set(conn, reference)
        engine.dispose()
        with running_worker(settings, tmp_path) as worker:
            wait_joined(settings, [worker])
            policies = read_topic(settings, POLICY_TOPIC)
    # the intake's start publishes the book's escalation policies once it has loaded, and only
    # it does: on the topic when the group has the worker, so the start came first
    assert len(policies) == len(list(IntakeRules.load().book.escalations())) > 0
