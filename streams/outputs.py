"""The stream worker's own producer for what it publishes (incidents, tasks, events, DLQ).

Idempotent and acks=all, like every producer of the project. The intake waits for the
broker's acknowledgement of a batch's outputs before it acknowledges the batch's input, so
a crash can repeat outputs (consumers are idempotent) but never lose them. It is also the
cheap path: aiokafka's send costs a fraction of faust's per-record producer machinery.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from config.settings import Settings


class Outputs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None
