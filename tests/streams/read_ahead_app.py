"""A faust app that reads one topic through `streams.read_ahead` and prints each batch, for
tests/streams/test_read_ahead.py (run as a subprocess: faust owns its process's event loop).

env: READ_AHEAD_TOPIC, READ_AHEAD_GROUP, READ_AHEAD_EXPECT (records, then it commits and exits),
READ_AHEAD_BATCH (records a batch), READ_AHEAD_BATCH_S (how long a full batch takes, a smaller
one its share of that: the worker's case work stood in for by a sleep), READ_AHEAD_LANES
(optional, e.g. `0,1;2`: the partitions of each lane, through `read_lanes`; without it one
`read_ahead`). Prints a line a batch: `batch {"lane", "began", "ended", "records": [[partition,
offset], ...]}` (monotonic seconds of this process), and `committed` once every record's offset
is committed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Hashable
from typing import Any

import faust
import orjson

from config.settings import Settings
from streams.app import create_app
from streams.read_ahead import read_ahead, read_lanes


def lanes_of(spec: str) -> dict[int, int]:
    """`0,1;2` → partition → lane number."""
    return {int(p): lane for lane, group in enumerate(spec.split(";")) for p in group.split(",")}


def main() -> None:
    app = create_app(Settings(), app_id=os.environ["READ_AHEAD_GROUP"])
    source = app.topic(os.environ["READ_AHEAD_TOPIC"], key_serializer="raw", value_serializer="raw")
    expect, size = int(os.environ["READ_AHEAD_EXPECT"]), int(os.environ["READ_AHEAD_BATCH"])
    batch_s = float(os.environ["READ_AHEAD_BATCH_S"])
    lanes = lanes_of(os.environ["READ_AHEAD_LANES"]) if os.environ.get("READ_AHEAD_LANES") else None
    seen = 0

    async def work(lane: Hashable, events: list[Any]) -> None:
        nonlocal seen
        began = time.monotonic()
        await asyncio.sleep(batch_s * len(events) / size)
        handed = [[e.message.partition, e.message.offset] for e in events]
        line = {"lane": lane, "began": began, "ended": time.monotonic(), "records": handed}
        os.write(1, b"batch " + orjson.dumps(line) + b"\n")  # faust redirects print to its log
        for event in events:
            await stream_of[0].ack(event)
        seen += len(events)
        if seen >= expect:
            await app.consumer.commit()
            os.write(1, b"committed\n")
            os._exit(0)

    stream_of: list[Any] = []

    @app.agent(source, concurrency=1)
    async def read(stream: Any) -> AsyncIterator[None]:
        stream_of[:] = [stream]
        if lanes is None:
            async for events in read_ahead(stream, size, 0.005):
                await work(0, events)
                yield None
        else:
            lane_of = lanes.__getitem__
            async for _lane in read_lanes(stream, size, 0.005, work, lane_of=lambda _t, p: lane_of(p)):
                yield None

    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
