"""The notices agent: reads `dispatch.events`, hands each batch to `NoticeFlows.record`, and
climbs unreceived 督办 on a timer. Thin: decoding, the DLQ, offsets; the rules are in
dispatch/notices/.

Offsets are acknowledged only after the batch's notices are committed; a record that is not a
case event goes to `reports.dlq` (stage `notices`) with the field that failed, and the agent
carries on. A database outage leaves the batch unacknowledged: the worker logs it and the batch
is retried until the database is back (notice ids make a repeat harmless).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import faust
import psycopg
from pydantic import ValidationError

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.notices.channels import load_channels
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.rules import CaseEventDoc, EventRecord, load_notice_policy
from schemas.dead_letter import DLQ_TOPIC, HEADERS, Origin, Stage, dead_letter, encode
from streams.agents.batches import one_pass, records_of, until_handled
from streams.outputs import Outputs

log = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.2
CLIMB_EVERY_S = 30.0
APP_TOPIC = "dispatch.events"


def decode_event(value: bytes) -> CaseEventDoc | tuple[str, str]:
    """The case event of one record, or (field, reason) naming what failed."""
    try:
        return EventRecord.model_validate_json(value).event
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        return where, f"{where}: {first['msg']}"


class NoticesRuntime:
    """The agent's state: the flows, one database connection, the DLQ producer."""

    def __init__(self, settings: Settings, outputs: Outputs) -> None:
        self.settings = settings
        self.outputs = outputs
        self.flows = NoticeFlows(load_notice_policy(), channels=load_channels(settings.channels_file))
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.one_at_a_time = asyncio.Lock()
        """The agent and the climb timer share one connection: never at the same time."""

    async def connection(self) -> psycopg.AsyncConnection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.settings, application_name="yiwang-notices")
        return self.conn

    async def handle(self, records: list[tuple[str, int, int, bytes]]) -> int:
        """Record the notices of a batch of (topic, partition, offset, value); how many were new."""
        events: list[CaseEventDoc] = []
        for topic, partition, offset, value in records:
            decoded = decode_event(value)
            if isinstance(decoded, CaseEventDoc):
                events.append(decoded)
                continue
            field, reason = decoded
            letter = dead_letter(
                "dispatch",
                Stage.NOTICES,
                value,
                field,
                reason,
                origin=Origin(topic=topic, partition=partition, offset=offset),
            )
            ack = await self.outputs.send(
                self.settings.topic(DLQ_TOPIC), b"dispatch", encode(letter), HEADERS
            )
            await ack
            log.warning("notices: record %s[%d]@%d dead-lettered: %s", topic, partition, offset, field)
        if not events:
            return 0
        async with self.one_at_a_time:
            return len(await self.flows.record(await self.connection(), events))

    async def reset(self) -> None:
        if self.conn is not None and not self.conn.closed:
            await self.conn.close()
        self.conn = None

    async def climb(self) -> int:
        async with self.one_at_a_time:
            return len(await self.flows.climb_due(await self.connection()))


def install(app: faust.App, settings: Settings, outputs: Outputs) -> NoticesRuntime:
    """Add the notices agent and the climb timer to a worker app."""
    runtime = NoticesRuntime(settings, outputs)
    topic = app.topic(settings.topic(APP_TOPIC), key_serializer="raw", value_serializer="raw")

    @app.agent(topic, concurrency=1, name="notices")
    async def notices(stream: Any) -> AsyncIterator[None]:
        async for batch in stream.noack_take(BATCH_MAX, within=BATCH_WITHIN_S):
            made = await until_handled("notices", runtime.handle, runtime.reset, records_of(batch))
            if made:
                log.info("notices: %d new notice(s)", made)
            for event in batch:
                await stream.ack(event)
            yield None

    @app.timer(CLIMB_EVERY_S)  # type: ignore[untyped-decorator]
    async def climb() -> None:
        climbed = await one_pass("notices", "climb", runtime.climb, runtime.reset)
        if climbed:
            log.info("notices: %d unreceived notice(s) climbed a rung", climbed)

    return runtime
