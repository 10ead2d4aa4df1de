"""The stream worker: a faust app whose intake agent reads every `reports.<source>` topic.

Several workers can run at once (one process each); Kafka shares the partitions between
them, and PostgreSQL advisory locks per street keep duplicate merging correct across them.
The agent runs with concurrency 1 and at-least-once delivery (see streams/app.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import faust
from kafka.errors import KafkaError
from prometheus_client import REGISTRY, CollectorRegistry

from config.settings import Settings
from dispatch.intake.decode import Inbound
from dispatch.kpi.metrics import DispatchMetrics
from schemas.report import Source
from streams.agents.alerts import install as install_alerts
from streams.agents.deliveries import install as install_deliveries
from streams.agents.hotline_replies import install as install_hotline_replies
from streams.agents.notices import install as install_notices
from streams.agents.regrid import install as install_regrid
from streams.agents.surge import install as install_surge
from streams.app import create_app
from streams.lag import group_lag
from streams.metrics import PipelineMetrics
from streams.outputs import Outputs
from streams.read_ahead import read_ahead
from streams.runtime import IntakeRuntime, SystemicFailure
from streams.sla.runtime import install as install_sla

log = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_LINGER_S = 0.005
"""A batch that starts from an empty buffer waits this long for more (streams/read_ahead.py)."""
REFRESH_EVERY_S = 120.0
PRUNE_EVERY_S = 300.0
LAG_EVERY_S = 10.0
INTAKE_APP_ID = "yiwang-intake"


def report_topics(settings: Settings) -> list[str]:
    return [settings.topic(f"reports.{s.value}") for s in Source]


def build_worker(settings: Settings, *, registry: CollectorRegistry = REGISTRY) -> faust.App:
    app = create_app(settings, app_id=INTAKE_APP_ID)
    metrics = PipelineMetrics.create(registry)

    outputs = Outputs(settings)
    runtime = IntakeRuntime(settings, metrics, outputs.send, outputs.send_many)
    source = app.topic(*report_topics(settings), key_serializer="raw", value_serializer="raw")

    @app.agent(source, concurrency=1)
    async def intake(stream: Any) -> AsyncIterator[None]:
        # unacknowledged batches, acked by hand after the batch is committed and published:
        # faust's take()/take_events() ack the batch in a `finally`, so a worker stopped
        # mid-batch would commit offsets of records it never processed; the next batch fills
        # while this one is processed (streams/read_ahead.py)
        async for events in read_ahead(stream, BATCH_MAX, BATCH_LINGER_S):
            records = [
                Inbound(
                    e.message.topic,
                    e.message.partition,
                    e.message.offset,
                    e.message.key,
                    e.message.value or b"",
                    int(e.message.timestamp * 1000) if e.message.timestamp else None,
                )
                for e in events
            ]
            try:
                await runtime.handle(records)
            except Exception as exc:
                # SystemicFailure, or anything the runtime could not absorb (a start that cannot
                # load its layers): nothing of this batch is acknowledged, and the worker stops
                # rather than let faust restart the agent past records it never processed
                kind = "systemic failure" if isinstance(exc, SystemicFailure) else type(exc).__name__
                log.critical("intake: %s; the worker stops", kind, exc_info=True)
                logging.shutdown()
                os._exit(3)
            for event in events:
                await stream.ack(event)
            yield None

    @app.timer(REFRESH_EVERY_S)  # type: ignore[untyped-decorator]
    async def refresh() -> None:
        await runtime.refresh()

    @app.timer(PRUNE_EVERY_S)  # type: ignore[untyped-decorator]
    async def prune() -> None:
        removed = await runtime.prune()
        if removed:
            log.info("intake: pruned %d incidents out of the merge window", removed)

    @app.timer(LAG_EVERY_S)  # type: ignore[untyped-decorator]
    async def lag() -> None:
        # committed offsets of the whole group against the ends: what every worker still has to do
        topics = report_topics(settings)
        try:
            lags = await asyncio.to_thread(
                group_lag, settings.bootstrap_servers, settings.topic(INTAKE_APP_ID), topics
            )
        except (KafkaError, OSError) as exc:
            log.info("intake: consumer lag not measured this time (%s)", exc)
            return
        metrics.record_lag(lags)

    app.yiwang_runtime = runtime  # type: ignore[attr-defined]  # for tests and shutdown
    app.yiwang_notices = install_notices(app, settings, outputs)  # type: ignore[attr-defined]
    app.yiwang_deliveries = install_deliveries(app, settings, registry)  # type: ignore[attr-defined]
    # the SLA tracker and the outbox relay of API/tracker events run in every worker (SKIP LOCKED)
    dispatch_metrics = DispatchMetrics.create(registry)
    app.yiwang_sla = install_sla(app, settings, dispatch_metrics, outputs)  # type: ignore[attr-defined]
    app.yiwang_replies = install_hotline_replies(app, settings, outputs, dispatch_metrics)  # type: ignore[attr-defined]
    app.yiwang_surge = install_surge(app, settings, outputs, dispatch_metrics)  # type: ignore[attr-defined]
    app.yiwang_alerts = install_alerts(app, settings, outputs, registry, dispatch_metrics)  # type: ignore[attr-defined]
    install_regrid(app, settings, app.yiwang_alerts)  # type: ignore[attr-defined]
    return app
