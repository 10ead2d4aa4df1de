"""A topic read in batches by a consumer of its own, outside faust's stream machinery: how the
worker's small agents (notices, alerts, surge, 12345 replies) read their topics.

Why not a faust agent, as the intake is:
- faust costs ~100 µs of CPU per consumed record (a task and futures per event in its drain
  loop); the notices agent reads `dispatch.events`, the intake's own output (about three records
  per report), and keeps almost none of them: through faust it cost the worker about a third of
  its CPU per report (docs/architecture.md, "Round 4"). `getmany` hands over a whole fetch at
  once, and the agent skips what it ignores for the price of a look at the bytes.
- every faust agent of a process shares one consumer, and a rebalance waits for every record
  any agent holds (`Consumer.wait_empty`, without a limit): an agent whose send hung while a
  partition leader moved held the intake's rebalance for over 100 s. Each `BatchConsumer` is in
  a group of its own, so the intake never waits for it, and its own rebalances wait at most
  `REVOKE_WAIT_S` for the batch in hand.

The guarantees: at-least-once. A batch's offsets are committed only after `handle` returned for
the whole batch. A batch that fails (any exception: `handle` retries database outages itself,
streams/agents/batches.py) is not committed: the consumer seeks back to its first offsets and
reads it again after a growing pause, so nothing is skipped and the worker keeps running. When
the group takes partitions away (another worker joined or left), the batch in hand gets
`REVOKE_WAIT_S` to finish and be committed; beyond that it is cancelled, `drop` is called (the
runtime closes what the cancelled attempt left half-used) and its offsets stay uncommitted, so the
partitions' next owner reads it again. The handlers' writes are idempotent, so a batch read twice
changes nothing.

Where a group that never committed starts: where `continues_from` left each partition, when that
group committed there (the worker's faust group, which read these topics through faust agents
before they had consumers of their own: an upgrade goes on where the old release stopped instead
of reading `dispatch.events` once more from its start); otherwise at the earliest record (a new
deployment misses nothing produced before its agents first joined; idempotent, as above).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from mode import Service

log = logging.getLogger(__name__)
Record = tuple[str, int, int, bytes]
"""topic, partition, offset, value"""
R = TypeVar("R")
Handle = Callable[[list[Any]], Awaitable[object]]
"""Given `records_of`'s records of one batch (`Record`s by default)."""
REVOKE_WAIT_S = 3.0
"""How long a rebalance (or a stop) waits for the batch in hand before dropping it uncommitted."""
FAILED_PAUSE_S = (1.0, 30.0)
"""The pause before a failed batch is read again: doubling from the first to the second."""


def record_of(tp: TopicPartition, message: Any) -> Record:
    return (tp.topic, tp.partition, message.offset, message.value or b"")


def place_of(record: Record) -> tuple[str, int, int]:
    return record[0], record[1], record[2]


def batch_of(
    fetched: dict[TopicPartition, list[Any]],
    make: Callable[[TopicPartition, Any], R],
) -> tuple[list[R], dict[TopicPartition, int]]:
    """The records of one `getmany` in partition order (each made by `make`: `record_of` unless
    a consumer hands over more of it), and per partition its first offset."""
    records: list[R] = []
    first: dict[TopicPartition, int] = {}
    for tp, messages in fetched.items():
        if not messages:
            continue
        first[tp] = messages[0].offset
        records.extend(make(tp, m) for m in messages)
    return records, first


def ends_of(
    records: Iterable[R],
    place: Callable[[R], tuple[str, int, int]],
) -> dict[TopicPartition, int]:
    """What to commit once `records` are handled: per partition, one past its last offset
    (`place` reads a record's topic, partition and offset)."""
    ends: dict[TopicPartition, int] = {}
    for record in records:
        topic, partition, offset = place(record)
        tp = TopicPartition(topic, partition)
        ends[tp] = max(ends.get(tp, 0), offset + 1)
    return ends


class BatchConsumer(Service):
    """Reads `topic` in group `group`, hands each batch to `handle`, then commits its offsets.

    A `mode` service: added to the worker's faust app (`app.add_dependency`), it starts and stops
    with it.
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic: str | Sequence[str],
        group: str,
        handle: Handle,
        drop: Callable[[], Awaitable[None]],
        max_records: int,
        within_s: float,
        revoke_wait_s: float = REVOKE_WAIT_S,
        continues_from: str | None = None,
        assignor: AbstractPartitionAssignor | None = None,
        client_id: str | None = None,
        session_timeout_ms: int = 10_000,
        first_wait_ms: int | None = None,
    ) -> None:
        super().__init__()
        self.bootstrap_servers = bootstrap_servers
        self.topics = [topic] if isinstance(topic, str) else list(topic)
        self.group = group
        self.assignor = assignor
        """Who gets which partition when this consumer leads the group (default: round robin)."""
        self.client_id = client_id or group
        self.session_timeout_ms = session_timeout_ms
        self.first_wait_ms = int(within_s * 1000) if first_wait_ms is None else first_wait_ms
        """How long a poll waits for a batch's first record (default `within_s`; the fetcher wakes
        it sooner): an idle consumer's loop turns once per this."""
        self.handle = handle
        self.drop = drop
        self.max_records = max_records
        self.within_s = within_s
        self.revoke_wait_s = revoke_wait_s
        self.continues_from = continues_from
        """The group whose committed offsets a partition this group never committed starts from."""
        self.consumer: AIOKafkaConsumer | None = None
        self.in_hand: asyncio.Task[None] | None = None
        """The batch being handled and committed; None between batches."""
        self.committed_batches = 0
        self._reading: asyncio.Future[None] | None = None

    async def on_start(self) -> None:
        self._reading = self.add_future(self._read())  # a failure of the loop itself crashes the worker

    async def on_stop(self) -> None:
        await self.let_go("stopping")
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    async def let_go(self, why: str) -> None:
        """Give the batch in hand `revoke_wait_s` to finish; beyond, cancel it uncommitted."""
        task = self.in_hand
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=self.revoke_wait_s)
        if not done:
            log.warning(
                "%s: batch in hand not done after %.0fs (%s): dropped uncommitted, read again later",
                self.group,
                self.revoke_wait_s,
                why,
            )
            task.cancel()
            await asyncio.wait({task})

    async def continue_where_predecessor_left(self, assigned: set[TopicPartition]) -> None:
        """Seek each assigned partition this group never committed to `continues_from`'s offset.

        The partitions are paused from the moment they are assigned until then: the consumer's
        fetcher starts at the earliest record meanwhile, and nothing of that may be handed out."""
        consumer = self.consumer
        if self.continues_from is None or consumer is None or not assigned:
            return
        consumer.pause(*assigned)  # before the first await: no getmany may return them yet
        try:
            fresh = [tp for tp in sorted(assigned) if await consumer.committed(tp) is None]
            if fresh:
                await self._seek_where_left(consumer, self.continues_from, fresh)
        finally:
            consumer.resume(*assigned)

    async def _seek_where_left(
        self, consumer: AIOKafkaConsumer, predecessor: str, fresh: list[TopicPartition]
    ) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers.split(","))
        try:
            await admin.start()
            left_at = await admin.list_consumer_group_offsets(predecessor, partitions=fresh)
        except KafkaError as exc:
            log.warning(
                "%s: offsets of %s not read (%s): %d partition(s) start at their earliest record",
                self.group,
                predecessor,
                exc,
                len(fresh),
            )
            return
        finally:
            await admin.close()
        moved = {tp: meta.offset for tp, meta in left_at.items() if tp in fresh and meta.offset >= 0}
        for tp, offset in moved.items():
            consumer.seek(tp, offset)
        if moved:
            log.info("%s: %d partition(s) go on where %s left them", self.group, len(moved), predecessor)

    async def _connect(self) -> AIOKafkaConsumer:
        pause = FAILED_PAUSE_S[0]
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers.split(","),
                group_id=self.group,
                client_id=self.client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=self.max_records,
                partition_assignment_strategy=(self.assignor or RoundRobinPartitionAssignor,),
                session_timeout_ms=self.session_timeout_ms,
            )
            self.consumer = consumer  # the listener's seeks need it before `start` returns
            consumer.subscribe(self.topics, listener=_LetGoOnRevoke(self))
            try:
                await consumer.start()
            except KafkaError as exc:
                log.warning("%s: broker not reached (%s); trying again in %.0fs", self.group, exc, pause)
                await consumer.stop()
                await asyncio.sleep(pause)
                pause = min(pause * 2, FAILED_PAUSE_S[1])
                continue
            return consumer

    async def _read(self) -> None:
        self.consumer = consumer = await self._connect()
        pause = FAILED_PAUSE_S[0]
        while True:
            records, first = self.records_of(await self._gather(consumer))
            if not records:
                continue
            self.in_hand = task = asyncio.create_task(self._handle_and_commit(consumer, records))
            try:
                await asyncio.wait({task})
            finally:
                self.in_hand = None
            if task.cancelled():  # a rebalance or a stop let it go: the next owner reads it again
                await self.drop()
                continue
            failure = task.exception()
            if failure is None:
                pause = FAILED_PAUSE_S[0]
                continue
            log.error(
                "%s: a batch of %d record(s) failed; read again in %.0fs",
                self.group,
                len(records),
                pause,
                exc_info=failure,
            )
            await self.drop()
            assigned = consumer.assignment()
            for tp, offset in first.items():
                if tp in assigned:
                    consumer.seek(tp, offset)
            await asyncio.sleep(pause)
            pause = min(pause * 2, FAILED_PAUSE_S[1])

    async def _gather(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, list[Any]]:
        """Up to `max_records`, fetched within `within_s` of the first (what faust's `take` does:
        a batch per window, not a batch and a commit per fetch response)."""
        loop = asyncio.get_running_loop()
        fetched: dict[TopicPartition, list[Any]] = await consumer.getmany(
            timeout_ms=self.first_wait_ms, max_records=self.max_records
        )
        count = sum(len(m) for m in fetched.values())
        deadline = loop.time() + self.within_s
        while count and count < self.max_records and (left := deadline - loop.time()) > 0:
            more = await consumer.getmany(
                timeout_ms=max(1, int(left * 1000)), max_records=self.max_records - count
            )
            if not more:
                break
            for tp, messages in more.items():
                fetched.setdefault(tp, []).extend(messages)
                count += len(messages)
        return fetched

    def records_of(
        self, fetched: dict[TopicPartition, list[Any]]
    ) -> tuple[list[Any], dict[TopicPartition, int]]:
        """What `handle` is given of one batch's fetched records, and each partition's first
        offset (`batch_of`'s `Record`s; a subclass may hand over more of each record)."""
        return batch_of(fetched, record_of)

    def ends(self, records: list[Any]) -> dict[TopicPartition, int]:
        """What to commit once `records` (of `records_of`) are handled."""
        return ends_of(records, place_of)

    async def _handle_and_commit(self, consumer: AIOKafkaConsumer, records: list[Any]) -> None:
        await self.handle(records)
        offsets = {tp: OffsetAndMetadata(end, "") for tp, end in self.ends(records).items()}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # the partitions moved on meanwhile: their next owner reads the batch again (harmless)
            log.info("%s: offsets of a handled batch not committed (%s)", self.group, exc)
            return
        self.committed_batches += 1


class _LetGoOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions move, the batch in hand finishes (and is committed) or is dropped; once
    assigned, partitions the group never committed go on where its predecessor left them."""

    def __init__(self, reader: BatchConsumer) -> None:
        self.reader = reader

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            await self.reader.let_go("partitions revoked")

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.reader.continue_where_predecessor_left(assigned)
