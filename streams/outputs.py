"""The stream worker's own producer for what it publishes (incidents, tasks, events, DLQ).

Idempotent and acks=all, like every producer of the project. The intake waits for the
broker's acknowledgement of a batch's outputs before it acknowledges the batch's input, so
a crash can repeat outputs (consumers are idempotent) but never lose them. It is also the
cheap path: aiokafka's send costs a fraction of faust's per-record producer machinery.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from config.settings import Settings

Message = tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]
"""topic, key, value, headers"""


class Outputs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.partitioner = DefaultPartitioner()
        self.producer: AIOKafkaProducer | None = None  # made inside the event loop, on first use

    async def start(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.bootstrap_servers.split(","),
                client_id="yiwang-worker",
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                max_batch_size=512 * 1024,
            )
            await producer.start()
            self.producer = producer
        return self.producer

    async def send(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        producer = await self.start()
        future: asyncio.Future[Any] = await producer.send(topic, value, key=key, headers=headers)
        return future

    async def send_many(self, messages: Sequence[Message]) -> list[asyncio.Future[Any]]:
        """Send many records at once: one batch per topic partition instead of a send per record.

        Partitions are chosen exactly as `send` would (murmur2 of the key, like the Java
        client), so a key lands where it always did. Returns the batches' futures: each
        completes when the broker has acknowledged its batch. The batches are closed, which
        aiokafka's sender takes as ready: the caller waits for them at once, so a linger
        would only add its 5 ms to every intake batch.
        """
        producer = await self.start()
        by_partition: dict[tuple[str, int], list[Message]] = defaultdict(list)
        partitions: dict[str, list[int]] = {}
        for message in messages:
            topic, key = message[0], message[1]
            if topic not in partitions:
                partitions[topic] = sorted(await producer.partitions_for(topic))
            every = partitions[topic]
            by_partition[topic, self.partitioner(key, every, every)].append(message)
        futures: list[asyncio.Future[Any]] = []
        for (topic, partition), group in by_partition.items():
            batch = producer.create_batch()
            for _, key, value, headers in group:
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is not None:
                    continue
                futures.append(await producer.send_batch(batch, topic, partition=partition))  # full: closed
                batch = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    # larger than a whole batch: the ordinary path says what the broker thinks
                    futures.append(
                        await producer.send(topic, value, key=key, partition=partition, headers=headers)
                    )
            if batch.record_count():
                batch.close()  # complete: sent at once, not after the producer's linger
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        return futures

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
