"""Batches of a faust stream that fill while the previous batch is being processed.

faust's `Stream.noack_take(max, within)` holds its buffer shut while the caller processes a
batch (one record waits at the door), then waits the whole `within` again before the next
one, even when records are queued. faust moves a record into the buffer at ~100 µs of CPU
each, so that design adds `within` plus the time to drain the queue to every batch, one
after the other. Here the stream keeps filling the next batch whenever the loop is free
(while this batch waits for PostgreSQL or the broker), and a batch is handed out as soon as
the previous one is done:

- records already waiting: at once, all of them (up to `max_`);
- none waiting: from the first one that arrives, `linger` seconds for more (a burst becomes
  one batch instead of many), or sooner if `max_` arrive.

The records are faust events, not acknowledged: the caller acknowledges each after its batch
has been committed and published (at-least-once, as with `noack_take`). At most `max_`
events wait in the buffer (the stream pauses there), as with `noack_take`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any


async def read_ahead(stream: Any, max_: int, linger: float) -> AsyncIterator[list[Any]]:
    """Unacknowledged batches of `stream`'s events (see the module's docstring)."""
    buffer: list[Any] = []
    arrived = asyncio.Event()
    full = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def add_to_buffer(value: Any) -> Any:
        event = stream.current_event
        if event is None:
            raise RuntimeError("read-ahead found no current event")
        buffer.append(event)
        arrived.set()
        if len(buffer) >= max_:
            full.set()
            room.clear()
            await stream.wait(room)  # not more than `max_` in hand: the stream pauses here
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))  # faust's own background drain, as noack_take's
    try:
        while not stream.should_stop:
            if not buffer:
                await stream.wait_for_stopped(arrived)
                if buffer and not full.is_set():
                    await stream.wait_for_stopped(full, timeout=linger)
            if not buffer:
                continue
            batch = buffer.copy()
            buffer.clear()
            arrived.clear()
            full.clear()
            room.set()
            yield batch
    finally:
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)
