"""streams/batch_consumer.py on the real broker: a batch is committed only after it was handled; a
batch that failed is read again; a rebalance waits a bounded time for a batch that hangs, drops
it uncommitted, and its records are handled after all (at-least-once)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from config.settings import Settings
from deploy.topics import admin_client
from streams import batch_consumer
from streams.batch_consumer import BatchConsumer, Record
from streams.lag import total_lag

pytestmark = [pytest.mark.anyio, pytest.mark.kafka]
RECORDS = 40


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def topic(kafka: Settings) -> Iterator[str]:
    """A topic of two partitions holding `RECORDS` records, values "0" … "39"."""
    name = kafka.topic(f"batch-consumer-{uuid.uuid4().hex[:8]}")
    admin = admin_client(kafka)
    admin.create_topics([NewTopic(name, 2, kafka.replication_factor)])
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    for i in range(RECORDS):
        producer.send(name, str(i).encode(), partition=i % 2)
    producer.flush()
    producer.close()
    yield name
    admin.delete_topics([name])
    admin.close()


Handle = Callable[[list[Record]], Awaitable[None]]


def reader(kafka: Settings, topic: str, group: str, handle: Handle, drops: list[str]) -> BatchConsumer:
    async def drop() -> None:
        drops.append(group)

    return BatchConsumer(
        bootstrap_servers=kafka.bootstrap_servers,
        topic=topic,
        group=group,
        handle=handle,
        drop=drop,
        max_records=100,
        within_s=0.1,
        revoke_wait_s=0.5,
    )


async def caught_up(kafka: Settings, group: str, topic: str, timeout_s: float = 45.0) -> bool:
    for _ in range(int(timeout_s / 0.25)):
        if await asyncio.to_thread(total_lag, kafka.bootstrap_servers, group, [topic]) == 0:
            return True
        await asyncio.sleep(0.25)
    return False


def values(batches: list[list[Record]]) -> set[int]:
    return {int(value) for batch in batches for *_, value in batch}


async def test_a_failed_batch_is_read_again_and_committed_only_once_handled(
    kafka: Settings, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_consumer, "FAILED_PAUSE_S", (0.05, 0.1))
    group = kafka.topic(f"batch-consumer-{uuid.uuid4().hex[:8]}")
    handled: list[list[Record]] = []
    failed: list[list[Record]] = []
    drops: list[str] = []

    async def handle(records: list[Record]) -> None:
        if not failed:
            failed.append(records)
            raise ValueError("a bug met on a record")
        handled.append(records)

    one = reader(kafka, topic, group, handle, drops)
    await one.start()
    try:
        assert await caught_up(kafka, group, topic)
    finally:
        await one.stop()
    assert values(handled) == set(range(RECORDS))
    assert values(failed) <= values(handled) and failed[0]  # the failed batch, read again
    assert drops == [group]  # the runtime reset once, after the failure


async def test_a_rebalance_drops_a_batch_that_hangs_and_its_records_are_handled_after_all(
    kafka: Settings, topic: str
) -> None:
    group = kafka.topic(f"batch-consumer-{uuid.uuid4().hex[:8]}")
    handled: list[list[Record]] = []
    hung: list[list[Record]] = []
    drops: list[str] = []

    async def hangs_first(records: list[Record]) -> None:
        if not hung:
            hung.append(records)
            await asyncio.Event().wait()  # a send waiting for a leader that never comes back
        handled.append(records)

    async def handle(records: list[Record]) -> None:
        handled.append(records)

    first = reader(kafka, topic, group, hangs_first, drops)
    second = reader(kafka, topic, group, handle, drops)
    await first.start()
    try:
        for _ in range(120):
            if hung:
                break
            await asyncio.sleep(0.25)
        assert hung, "the first reader never got a batch"
        await second.start()  # the group rebalances: without the bound it would wait forever
        assert await caught_up(kafka, group, topic)
    finally:
        await second.stop()
        await first.stop()
    assert drops.count(group) == 1  # the hung batch was dropped, once
    assert values(handled) == set(range(RECORDS))  # and every record handled after all
    assert values(hung) <= values(handled)


async def test_a_new_group_goes_on_where_its_predecessor_left_each_partition(
    kafka: Settings, topic: str
) -> None:
    """An upgrade: the old release's group committed partition 0 at offset 15 and partition 1 at
    5; the agent's new group starts there, not at the topic's start, and reads everything after."""
    predecessor = kafka.topic(f"batch-consumer-old-{uuid.uuid4().hex[:8]}")
    group = kafka.topic(f"batch-consumer-{uuid.uuid4().hex[:8]}")
    left_at = {0: 15, 1: 5}
    old = KafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=predecessor, enable_auto_commit=False
    )
    old.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in left_at.items()})
    old.close()
    handled: list[list[Record]] = []
    drops: list[str] = []

    async def handle(records: list[Record]) -> None:
        handled.append(records)

    one = reader(kafka, topic, group, handle, drops)
    one.continues_from = predecessor
    await one.start()
    try:
        assert await caught_up(kafka, group, topic)
    finally:
        await one.stop()
    offsets = {(partition, offset) for batch in handled for _, partition, offset, _ in batch}
    # record i went to partition i % 2 at offset i // 2
    assert offsets == {(i % 2, i // 2) for i in range(RECORDS) if i // 2 >= left_at[i % 2]}
