"""A faust app that reads one topic through `streams.read_ahead` and prints each batch, for
tests/streams/test_read_ahead.py (run as a subprocess: faust owns its process's event loop).

env: READ_AHEAD_TOPIC, READ_AHEAD_GROUP, READ_AHEAD_EXPECT (records, then it exits),
READ_AHEAD_BATCH (records a batch), READ_AHEAD_BATCH_S (how long a batch takes: the worker's
case work stood in for by a sleep). Prints a line a batch: `batch [[partition, offset], ...]`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import faust
import orjson

from config.settings import Settings
from streams.app import create_app
from streams.read_ahead import read_ahead


def main() -> None:
    app = create_app(Settings(), app_id=os.environ["READ_AHEAD_GROUP"])
    source = app.topic(os.environ["READ_AHEAD_TOPIC"], key_serializer="raw", value_serializer="raw")
    expect, size = int(os.environ["READ_AHEAD_EXPECT"]), int(os.environ["READ_AHEAD_BATCH"])
    batch_s = float(os.environ["READ_AHEAD_BATCH_S"])
    seen = 0

    @app.agent(source, concurrency=1)
    async def read(stream: Any) -> AsyncIterator[None]:
        nonlocal seen
        async for events in read_ahead(stream, size, 0.005):
            await asyncio.sleep(batch_s)
            handed = [[e.message.partition, e.message.offset] for e in events]
            os.write(1, b"batch " + orjson.dumps(handed) + b"\n")  # faust redirects print to its log
            for event in events:
                await stream.ack(event)
            seen += len(events)
            if seen >= expect:
                os._exit(0)
            yield None

    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
