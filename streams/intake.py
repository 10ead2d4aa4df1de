"""The intake's readers: one Kafka consumer per lane (streams/lanes.py), each handing its batches
to the runtime on the lane's own database connection.

Each lane is a `BatchConsumer` (streams/batch_consumer.py) in the intake's group, and keeps its
rules: a batch's offsets are committed only after the runtime handled the whole batch
(at-least-once); when the group takes partitions away the batch in hand gets `REVOKE_WAIT_S` to
finish and be committed, beyond that it is cancelled, its lane's connection closed and its
offsets left uncommitted (the partitions' next owner reads it again; every effect is
idempotent). Unlike the small agents' consumers, a batch the runtime could not absorb
(`SystemicFailure`, or a start that cannot load its layers) is never read again here: the
worker stops (exit status 3) and its supervisor restarts it, as with the faust agent before.

Why not faust: the quiet district's records waited in the one faust consumer's fetch cycle
(docs/architecture.md, "Several districts"), and faust costs ~100 µs of CPU per record (issue
14): `getmany` hands over a whole fetch at once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aiokafka import TopicPartition

from config.report_partitions import ReportPartitions
from dispatch.intake.decode import Inbound
from streams.batch_consumer import BatchConsumer, batch_of, ends_of
from streams.lanes import LaneAssignor
from streams.runtime import IntakeRuntime, SystemicFailure

log = logging.getLogger(__name__)
WAIT_MS = 1000
"""How long one poll of an idle lane waits for a first record (the fetcher wakes it sooner)."""
SESSION_TIMEOUT_MS = 20_000
"""A worker that dies (kill -9, a lost host) is noticed after 20 s (the client's default 10 s,
faust's 60 s): heartbeats come from the client's own task, so a long batch never counts."""


def inbound(tp: TopicPartition, message: Any) -> Inbound:
    """A fetched record as the intake takes it (with its key and timestamp, in milliseconds)."""
    return Inbound(
        tp.topic, tp.partition, message.offset, message.key, message.value or b"", message.timestamp
    )


def inbound_place(record: Inbound) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


class IntakeLane(BatchConsumer):
    """One lane's consumer: its partitions only (`LaneAssignor`), its batches on its connection."""

    def __init__(
        self,
        *,
        runtime: IntakeRuntime,
        lane: str,
        shares: ReportPartitions,
        bootstrap_servers: str,
        topics: list[str],
        group: str,
        max_records: int,
        linger_s: float,
    ) -> None:
        self.runtime = runtime
        self.lane = lane

        async def drop() -> None:
            await runtime.drop_lane(lane)

        super().__init__(
            bootstrap_servers=bootstrap_servers,
            topic=topics,
            group=group,
            handle=self._handle,
            drop=drop,
            max_records=max_records,
            within_s=linger_s,
            assignor=LaneAssignor(lane, shares),
            client_id=f"{group}-{lane or 'default'}",
            session_timeout_ms=SESSION_TIMEOUT_MS,
            first_wait_ms=WAIT_MS,
        )

    def records_of(
        self, fetched: dict[TopicPartition, list[Any]]
    ) -> tuple[list[Any], dict[TopicPartition, int]]:
        return batch_of(fetched, inbound)

    def ends(self, records: list[Any]) -> dict[TopicPartition, int]:
        return ends_of(records, inbound_place)

    async def _handle(self, records: list[Inbound]) -> object:
        try:
            return await self.runtime.handle(records, lane=self.lane)
        except Exception as exc:
            # SystemicFailure, or anything the runtime could not absorb: nothing of this batch is
            # committed, and the worker stops rather than read past records it never processed
            kind = "systemic failure" if isinstance(exc, SystemicFailure) else type(exc).__name__
            log.critical("intake lane %r: %s; the worker stops", self.lane, kind, exc_info=True)
            logging.shutdown()
            os._exit(3)
