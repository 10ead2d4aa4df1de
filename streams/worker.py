"""The stream worker: a faust app (timers, services) whose intake reads every `reports.<source>`
topic with one Kafka consumer per lane (a district's partition range, streams/lanes.py and
streams/intake.py), all in the intake's group.

Several workers can run at once (one process each); Kafka shares the partitions between
them (each lane's only to that lane's members), and PostgreSQL advisory locks per street keep
duplicate merging correct across them and across lanes. Each lane takes one batch at a time,
at-least-once (offsets committed after the batch was handled).
"""

from __future__ import annotations

import asyncio
import logging

import faust
from faust.app.base import BootStrategy
from kafka.errors import KafkaError
from prometheus_client import REGISTRY, CollectorRegistry

from config.report_partitions import load_report_partitions
from config.settings import Settings
from dispatch.kpi.metrics import DispatchMetrics
from schemas.report import Source
from streams.agents.alerts import install as install_alerts
from streams.agents.deliveries import install as install_deliveries
from streams.agents.hotline_replies import install as install_hotline_replies
from streams.agents.notices import install as install_notices
from streams.agents.regrid import install as install_regrid
from streams.agents.surge import install as install_surge
from streams.app import create_app
from streams.intake import IntakeLane
from streams.lag import group_lag
from streams.lanes import lanes_of
from streams.metrics import PipelineMetrics
from streams.outputs import Outputs
from streams.runtime import IntakeRuntime
from streams.sla.runtime import install as install_sla
from streams.warmup import IntakeWarmup

log = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_LINGER_S = 0.005
"""A batch that starts from an idle lane waits this long for more (streams/intake.py)."""
REFRESH_EVERY_S = 120.0
PRUNE_EVERY_S = 300.0
LAG_EVERY_S = 10.0
INTAKE_APP_ID = "yiwang-intake"


def report_topics(settings: Settings) -> list[str]:
    return [settings.topic(f"reports.{s.value}") for s in Source]


def build_worker(settings: Settings, *, registry: CollectorRegistry = REGISTRY) -> faust.App:
    app = create_app(settings, app_id=INTAKE_APP_ID)
    # faust's own consumer reads nothing any more (the intake's lanes and the small agents have
    # consumers of their own), and started without a topic it crashes; it would also join the
    # intake's group with faust's assignor beside the lanes' (the group would refuse one of them)
    app.boot_strategy = BootStrategy(app, enable_kafka_consumer=False)
    metrics = PipelineMetrics.create(registry)

    outputs = Outputs(settings)
    runtime = IntakeRuntime(settings, metrics, outputs.send, outputs.send_many)

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
    # faust starts the services added here in order, and its own consumer after all of them: the
    # SLA service's start (deadlines first) and then the intake's come before the group join
    app.add_dependency(IntakeWarmup(runtime, outputs, loop=app.loop))
    # the intake's readers, one consumer per lane (a district's partitions, streams/lanes.py) in
    # the intake's group, started after the warm-up: partitions are never assigned to a worker
    # that cannot take their records yet
    shares = load_report_partitions()
    app.yiwang_lanes = [  # type: ignore[attr-defined]
        IntakeLane(
            runtime=runtime,
            lane=lane,
            shares=shares,
            bootstrap_servers=settings.bootstrap_servers,
            topics=report_topics(settings),
            group=settings.topic(INTAKE_APP_ID),
            max_records=BATCH_MAX,
            linger_s=BATCH_LINGER_S,
        )
        for lane in lanes_of(shares)
    ]
    for reader in app.yiwang_lanes:  # type: ignore[attr-defined]
        app.add_dependency(reader)
    return app
