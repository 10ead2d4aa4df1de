"""The notices agent: reads `dispatch.events`, hands each batch to `NoticeFlows.record`, and
climbs unreceived 督办 on a timer. Thin: decoding, the DLQ, offsets; the rules are in
dispatch/notices/.

It reads with a consumer of its own (streams/batch_consumer.py), not through faust: nearly every
record of `dispatch.events` is the intake's own report, register and dispatch events (about three
per report), and only `NOTICE_ACTIONS` make notices. A record is looked at for its event's
`action` alone first (a msgspec decode of that one field, under a microsecond); one whose action
makes no notice is skipped unread. Everything else is read in full: a record whose action cannot
be read, or that is not a case event, goes to `reports.dlq` (stage `notices`) with the field that
failed, and the agent carries on.

Offsets are committed only after the batch's notices are committed. A database outage leaves
the batch uncommitted: the worker logs it and the batch is retried until the database is back
(notice ids make a repeat harmless).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import msgspec
import psycopg
from pydantic import ValidationError

from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.notices.channels import load_channels
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.rules import NOTICE_ACTIONS, CaseEventDoc, EventRecord, load_notice_policy
from schemas.dead_letter import DLQ_TOPIC, HEADERS, Origin, Stage, dead_letter, encode
from streams.agents.batches import Record, one_pass, read_in_batches
from streams.outputs import Outputs

log = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.2
CLIMB_EVERY_S = 30.0
APP_TOPIC = "dispatch.events"


class _Action(msgspec.Struct):
    action: str


class _ActionOf(msgspec.Struct):
    event: _Action


_action_of = msgspec.json.Decoder(_ActionOf)


def makes_no_notice(value: bytes) -> bool:
    """True when the record's event reads as an action that makes no notice; False when it may
    make one or cannot be read so far (then `decode_event` reads it in full and names the field)."""
    try:
        return _action_of.decode(value).event.action not in NOTICE_ACTIONS
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False


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

    async def handle(self, records: list[Record]) -> int:
        """Record the notices of a batch of (topic, partition, offset, value); how many were new."""
        events: list[CaseEventDoc] = []
        for topic, partition, offset, value in records:
            if makes_no_notice(value):
                continue
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
    """Add the notices agent (its own consumer of `dispatch.events`) and the climb timer to a
    worker app."""
    runtime = NoticesRuntime(settings, outputs)

    async def handle(records: list[Record]) -> int:
        made = await runtime.handle(records)
        if made:
            log.info("notices: %d new notice(s)", made)
        return made

    read_in_batches(
        app,
        settings,
        name="notices",
        topic=APP_TOPIC,
        handle=handle,
        reset=runtime.reset,
        max_records=BATCH_MAX,
        within_s=BATCH_WITHIN_S,
    )

    @app.timer(CLIMB_EVERY_S)  # type: ignore[untyped-decorator]
    async def climb() -> None:
        climbed = await one_pass("notices", "climb", runtime.climb, runtime.reset)
        if climbed:
            log.info("notices: %d unreceived notice(s) climbed a rung", climbed)

    return runtime
