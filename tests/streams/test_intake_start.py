"""The intake's first start with the database away: it waits and retries, it never raises.

An exception out of the intake agent's first batch lets faust restart the agent past records it
never processed (seen once after a PostgreSQL restart: reports missing, the group's lag at 0).
Pure of Kafka: the runtime is driven directly against a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from config.settings import Settings
from streams.metrics import PipelineMetrics
from streams.runtime import IntakeRuntime
from tests.net import free_port


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
