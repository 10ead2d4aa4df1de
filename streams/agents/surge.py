"""The surge agent: reads the CAP life-cycle records of `alerts.cap` (every Alert, Update and
Cancel carries the report document it is, or would be) and puts CAP warnings in force, updates
and cancels them (`dispatch.surge.flows.SurgeFlows.apply_cap`). Thin: decoding, the DLQ, offsets.

It never subscribes to `reports.emergency`: a second, slower reader of the intake's topic (a
warning can raise many open cases) held the intake up after a worker died when it shared the
intake's faust consumer (seen in the two-worker fault tests). CAP records are few; the intake's
topics stay the intake's alone, and this agent reads `alerts.cap` with a consumer of its own
(streams/batch_consumer.py), each attempt at a batch bounded (streams/agents/batches.py).

A report that is not a CAP alert is skipped (a broken report is the intake's dead letter, not
this agent's); a CAP alert whose warning cannot be read (a bad reference, an unreadable area)
goes to `reports.dlq` naming the field, and the agent carries on. A database outage leaves the
batch uncommitted and retried: surge ids are derived from CAP identifiers, so a repeat
declares nothing twice.

A timer (`RAISE_EVERY_S`) raises the open cases of surges declared for a later start once they
begin (`SurgeFlows.raise_begun`): each pass looks at the surges that began since its last pass
(less `LOOK_BACK`, for a declaration committed late; after a restart, at every surge in force);
the raise is idempotent, so an overlap raises nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import faust
import orjson
import psycopg

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.surge.areas import AreaError
from dispatch.surge.cap import NoticeError, notice_of
from dispatch.surge.declarations import cap_effect
from dispatch.surge.flows import SurgeFlows
from dispatch.surge.policy import load_surge_policy
from schemas.cap_record import CAP_TOPIC
from schemas.dead_letter import DLQ_TOPIC, HEADERS, Origin, Stage, dead_letter, encode
from streams.agents.batches import Record, one_pass, read_in_batches
from streams.agents.case_flows import case_flows
from streams.outputs import Outputs

log = logging.getLogger(__name__)
BATCH_MAX = 10
"""Small: a CAP alert may raise many open cases, and each attempt at a batch is bounded."""
BATCH_WITHIN_S = 0.2
RAISE_EVERY_S = 30.0
LOOK_BACK = timedelta(minutes=5)


class SurgeRuntime:
    """The agent's state: its case flows, one database connection, the DLQ producer."""

    def __init__(self, settings: Settings, outputs: Outputs, metrics: DispatchMetrics) -> None:
        self.settings = settings
        self.outputs = outputs
        self.metrics = metrics
        self.flows: SurgeFlows | None = None
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.looked: datetime | None = None  # the last raise pass (None: none since the start)
        self.one_at_a_time = asyncio.Lock()
        """The agent's batches and the timer's raise passes share one connection: two
        transactions interleaved on it fail (psycopg's OutOfOrderTransactionNesting, seen when a
        PostgreSQL restart made both retry at once), so they take turns."""

    async def _flows(self) -> SurgeFlows:
        if self.flows is None:
            cases = await case_flows(self.settings, self.outputs, self.metrics)
            self.flows = SurgeFlows(cases, load_surge_policy())
        return self.flows

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.settings, application_name="yiwang-surge")
        return self.conn

    async def handle(self, records: list[Record]) -> list[str]:
        """Apply the CAP alerts of a batch of (topic, partition, offset, value); what was done."""
        flows = await self._flows()
        done: list[str] = []
        for topic, partition, offset, value in records:
            try:
                doc = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue  # the intake dead-letters it
            if not isinstance(doc, dict):
                continue
            if topic == self.settings.topic(CAP_TOPIC):  # a life-cycle record: the report it carries
                doc = _as_report(doc)
                if doc is None:
                    continue
            try:
                notice = notice_of(doc)
                if notice is None:
                    continue
                effect = cap_effect(notice, flows.policy)
                if effect.declare is not None:
                    effect.declare.area.shapes()  # a bad area is this record's dead letter
            except (NoticeError, AreaError) as exc:
                await self._dead_letter(value, f"surge.{exc.field}", str(exc), (topic, partition, offset))
                continue
            async with self.one_at_a_time:
                done += await flows.apply_cap(await self.connection(), effect)
        return done

    async def raise_begun(self) -> int:
        """One timer pass: raise the open cases of the surges that began since the last pass;
        how many cases were raised."""
        flows = await self._flows()
        now = flows.cases.clock()
        since = None if self.looked is None else self.looked - LOOK_BACK
        async with self.one_at_a_time:
            raised = await flows.raise_begun(await self.connection(), since)
        self.looked = now
        return len(raised)

    async def _dead_letter(self, value: bytes, field: str, reason: str, where: tuple[str, int, int]) -> None:
        topic, partition, offset = where
        letter = dead_letter(
            "emergency",
            Stage.INTAKE,
            value,
            field,
            reason,
            origin=Origin(topic=topic, partition=partition, offset=offset),
        )
        await (await self.outputs.send(self.settings.topic(DLQ_TOPIC), b"emergency", encode(letter), HEADERS))
        log.warning("surge: record %s[%d]@%d dead-lettered: %s", topic, partition, offset, field)

    async def reset(self) -> None:
        async with self.one_at_a_time:  # not under the other's transaction
            if self.conn is not None and not self.conn.closed:
                await self.conn.close()
            self.conn = None


def _as_report(record: dict[str, Any]) -> dict[str, Any] | None:
    """An Alert's, Update's or Cancel's life-cycle record (schemas/cap_record.py) as the report
    document it carries; None for Ack, Error and a message without an <info>."""
    report = record.get("report")
    return (
        report
        if record.get("msg_type") in ("Alert", "Update", "Cancel") and isinstance(report, dict)
        else None
    )


def install(app: faust.App, settings: Settings, outputs: Outputs, metrics: DispatchMetrics) -> SurgeRuntime:
    """Add the surge agent to a worker app."""
    runtime = SurgeRuntime(settings, outputs, metrics)

    async def handle(records: list[Record]) -> list[str]:
        done = await runtime.handle(records)
        for line in done:
            log.info("surge: %s", line)
        return done

    read_in_batches(
        app,
        settings,
        name="surge",
        topic=CAP_TOPIC,
        handle=handle,
        reset=runtime.reset,
        max_records=BATCH_MAX,
        within_s=BATCH_WITHIN_S,
    )

    @app.timer(RAISE_EVERY_S)  # type: ignore[untyped-decorator]
    async def raise_begun() -> None:
        raised = await one_pass("surge", "raise", runtime.raise_begun, runtime.reset)
        if raised:
            log.info("surge: %d open case(s) raised by surges that began", raised)

    return runtime
