"""The alerts agent: reads `alerts.cap`, hands each batch to `AlertFlows.record`, and on a timer
settles what waited for its case and closes expired alerts. Thin: decoding, the DLQ, offsets,
reconnection; the rules are in dispatch/alerts/.

It reads `alerts.cap` with a consumer of its own (streams/batch_consumer.py), so a rebalance of
the intake never waits for a batch of this agent (one whose send hung while a partition leader
moved held the intake's rebalance for over 100 s), and each attempt at a batch is bounded
(streams/agents/batches.py).

Offsets are committed only after the batch is recorded; a record that is not a CAP life-cycle
record goes to `reports.dlq` (stage `alerts`) naming the field, and the agent carries on. A
database outage or an attempt that hangs leaves the batch uncommitted and retried (rows are keyed
by message).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import psycopg
from prometheus_client import CollectorRegistry

from config.settings import Settings
from dispatch.alerts.flows import AlertFlows, AlertMetrics, decode_record
from dispatch.cases.boot import connect
from dispatch.kpi.metrics import DispatchMetrics
from schemas.cap_record import CAP_TOPIC, CapRecord
from schemas.dead_letter import DLQ_TOPIC, HEADERS, Origin, Stage, dead_letter, encode
from streams.agents.batches import Record, one_pass, read_in_batches
from streams.agents.case_flows import case_flows
from streams.outputs import Outputs

log = logging.getLogger(__name__)
BATCH_MAX = 200
BATCH_WITHIN_S = 0.2
SETTLE_EVERY_S = 30.0


class AlertsRuntime:
    """The agent's state: the case flows (built on first use), one connection, the producer."""

    def __init__(
        self, settings: Settings, outputs: Outputs, metrics: AlertMetrics, dispatch_metrics: DispatchMetrics
    ) -> None:
        self.settings = settings
        self.outputs = outputs
        self.metrics = metrics
        self.dispatch_metrics = dispatch_metrics
        self.flows: AlertFlows | None = None
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.one_at_a_time = asyncio.Lock()

    async def ready(self) -> tuple[AlertFlows, psycopg.AsyncConnection[Any]]:
        if self.flows is None:
            cases = await case_flows(self.settings, self.outputs, self.dispatch_metrics)
            self.flows = AlertFlows(cases, self.metrics)
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.settings, application_name="yiwang-alerts")
        return self.flows, self.conn

    async def handle(self, records: list[Record]) -> int:
        """Record a batch of (topic, partition, offset, value); how many messages were new."""
        found: list[CapRecord] = []
        for topic, partition, offset, value in records:
            decoded = decode_record(value)
            if isinstance(decoded, CapRecord):
                found.append(decoded)
                continue
            field, reason = decoded
            letter = dead_letter(
                "emergency",
                Stage.ALERTS,
                value,
                field,
                reason,
                origin=Origin(topic=topic, partition=partition, offset=offset),
            )
            await (
                await self.outputs.send(self.settings.topic(DLQ_TOPIC), b"emergency", encode(letter), HEADERS)
            )
            log.warning("alerts: record %s[%d]@%d dead-lettered: %s", topic, partition, offset, field)
        if not found:
            return 0
        async with self.one_at_a_time:
            flows, conn = await self.ready()
            return await flows.record(conn, found)

    async def tick(self) -> int:
        async with self.one_at_a_time:
            flows, conn = await self.ready()
            return await flows.settle(conn) + await flows.expire_due(conn)

    async def reset(self) -> None:
        if self.conn is not None and not self.conn.closed:
            await self.conn.close()
        self.conn = None


def install(
    app: faust.App,
    settings: Settings,
    outputs: Outputs,
    registry: CollectorRegistry,
    dispatch_metrics: DispatchMetrics,
) -> AlertsRuntime:
    """Add the alerts agent and its timer to a worker app (case transitions counted with the
    worker's other dispatch metrics)."""
    runtime = AlertsRuntime(settings, outputs, AlertMetrics.create(registry), dispatch_metrics)

    async def handle(records: list[Record]) -> int:
        new = await runtime.handle(records)
        if new:
            log.info("alerts: %d new CAP message(s)", new)
        return new

    read_in_batches(
        app,
        settings,
        name="alerts",
        topic=CAP_TOPIC,
        handle=handle,
        reset=runtime.reset,
        max_records=BATCH_MAX,
        within_s=BATCH_WITHIN_S,
    )

    @app.timer(SETTLE_EVERY_S)  # type: ignore[untyped-decorator]
    async def settle() -> None:
        done = await one_pass("alerts", "settle", runtime.tick, runtime.reset)
        if done:
            log.info("alerts: %d CAP message(s) applied or expired", done)

    return runtime
