"""The hotline replies agent: reads `replies.hotline` (12345's return-visit results, its own
document: dispatch/revisits/hotline_reply.py) and answers each work order's return visit through
`RevisitFlows.reply`, so a 不满意 about the handling reopens the case by config/revisits.toml,
exactly as a resident's rating does. Thin: decoding, the DLQ, offsets.

A document that is not one, or an entry that fails (a missing or unknown value, a work order
with no return visit, one answered otherwise already or past its time), goes to `reports.dlq`
(stage `replies`) with the field that failed (`visits[0].visitResult`, ...), and the agent carries
on with the next entry. The same reply again changes nothing (`reply` sees it recorded), so a
batch read again after a crash is harmless. A database outage (or an attempt that hangs) leaves
the batch uncommitted: it is retried until the database is back. It reads with a consumer of its
own (streams/batch_consumer.py), so the intake's rebalances never wait for it.

Beside it, the return visits' timer (`SWEEP_EVERY_S`, every worker: the rows are claimed with
SKIP LOCKED) marks the visits nobody answered in time as 未回访成功 and sends 12345 every
回访结果 still in the outbox (`RevisitFlows.sweep`), on a connection of its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import psycopg

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.revisits.errors import FieldError, NotFound, Refused
from dispatch.revisits.flows import REPEATED, RevisitFlows
from dispatch.revisits.hotline_reply import read_visits
from dispatch.revisits.policy import load_revisit_policy
from schemas.dead_letter import DLQ_TOPIC, HEADERS, Origin, Stage, dead_letter, encode
from schemas.report import Source
from streams.agents.batches import Record, read_in_batches
from streams.agents.case_flows import case_flows
from streams.outputs import Outputs

log = logging.getLogger(__name__)
APP_TOPIC = "replies.hotline"
BATCH_MAX = 100
BATCH_WITHIN_S = 0.2
SWEEP_EVERY_S = 30.0


class HotlineRepliesRuntime:
    """The agent's state: the case and return-visit flows, one database connection."""

    def __init__(self, settings: Settings, outputs: Outputs, metrics: DispatchMetrics) -> None:
        self.settings = settings
        self.outputs = outputs
        self.metrics = metrics
        self.clock = settings.clock()
        self.revisits: RevisitFlows | None = None
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.sweep_conn: psycopg.AsyncConnection[Any] | None = None

    async def start(self) -> RevisitFlows:
        if self.revisits is None:
            cases = await case_flows(self.settings, self.outputs, self.metrics)
            policy = await asyncio.to_thread(load_revisit_policy)
            self.revisits = RevisitFlows(policy, cases, clock=self.clock)
        return self.revisits

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.settings, application_name="yiwang-hotline-replies")
        return self.conn

    async def reset(self) -> None:
        if self.conn is not None and not self.conn.closed:
            await self.conn.close()
        self.conn = None

    async def sweep(self) -> int:
        """未回访成功 marked and the 回访结果 outbox sent; a database outage is retried next time."""
        revisits = await self.start()
        try:
            if self.sweep_conn is None or self.sweep_conn.closed:
                self.sweep_conn = await connect(self.settings, application_name="yiwang-revisit-sweep")
            return await revisits.sweep(self.sweep_conn)
        except psycopg.OperationalError as exc:
            log.warning("revisits sweep: database unavailable (%s); next pass in %.0fs", exc, SWEEP_EVERY_S)
            if self.sweep_conn is not None and not self.sweep_conn.closed:
                await self.sweep_conn.close()
            self.sweep_conn = None
            return 0

    async def handle(self, records: list[Record]) -> int:
        """Answer the return visits of a batch; how many answers were new."""
        revisits = await self.start()
        conn = await self.connection()
        made = 0
        for topic, partition, offset, value in records:
            origin = Origin(topic=topic, partition=partition, offset=offset)
            try:
                entries = list(read_visits(value, revisits.policy, now=self.clock()))
            except FieldError as exc:
                await self._dead(value, exc.field, str(exc), origin, None)
                continue
            for i, entry in enumerate(entries):
                if isinstance(entry, FieldError):
                    await self._dead(value, entry.field, str(entry), origin, None)
                    continue
                where = f"visits[{i}]"
                try:
                    out = await revisits.reply(
                        conn, Source.HOTLINE.value, entry, channel=Source.HOTLINE.value
                    )
                except NotFound as exc:
                    await self._dead(
                        value, f"{where}.workOrderNo", f"{where}.workOrderNo: {exc}", origin, entry.source_ref
                    )
                    continue
                except Refused as exc:
                    await self._dead(
                        value, f"{where}.visitResult", f"{where}.visitResult: {exc}", origin, entry.source_ref
                    )
                    continue
                except FieldError as exc:
                    await self._dead(
                        value, f"{where}.{exc.field}", f"{where}.{exc}", origin, entry.source_ref
                    )
                    continue
                if out.verdict.why != REPEATED:
                    made += 1
                    log.info(
                        "hotline replies: %s %s (%s)", entry.source_ref, entry.answer.value, out.verdict.why
                    )
        return made

    async def _dead(self, value: bytes, field: str, reason: str, origin: Origin, ref: str | None) -> None:
        letter = dead_letter(
            Source.HOTLINE.value, Stage.REPLIES, value, field, reason, origin=origin, source_ref=ref
        )
        ack = await self.outputs.send(self.settings.topic(DLQ_TOPIC), b"hotline", encode(letter), HEADERS)
        await ack
        log.warning(
            "hotline replies: %s[%d]@%s dead-lettered: %s",
            origin.topic,
            origin.partition or 0,
            origin.offset,
            field,
        )


def install(
    app: faust.App, settings: Settings, outputs: Outputs, metrics: DispatchMetrics
) -> HotlineRepliesRuntime:
    """Add the hotline replies agent to a worker app."""
    runtime = HotlineRepliesRuntime(settings, outputs, metrics)
    read_in_batches(
        app,
        settings,
        name="hotline-replies",
        topic=APP_TOPIC,
        handle=runtime.handle,
        reset=runtime.reset,
        max_records=BATCH_MAX,
        within_s=BATCH_WITHIN_S,
    )

    @app.timer(SWEEP_EVERY_S)  # type: ignore[untyped-decorator]
    async def revisit_sweep() -> None:
        await runtime.sweep()

    return runtime
