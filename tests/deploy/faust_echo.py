"""A minimal faust worker for the broker round-trip test (run as a subprocess).

Reads JSON records from $ECHO_IN and writes {"echo": value, "by": "faust"} to $ECHO_OUT,
keyed like the input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from config.settings import Settings
from streams.app import create_app

settings = Settings()
app = create_app(settings, app_id=os.environ["ECHO_GROUP"])
source = app.topic(os.environ["ECHO_IN"], key_type=bytes, value_serializer="json")
sink = app.topic(os.environ["ECHO_OUT"], key_type=bytes, value_serializer="json")


@app.agent(source)
async def echo(stream: Any) -> AsyncIterator[None]:
    async for key, value in stream.items():
        await sink.send(key=key, value={"echo": value, "by": "faust"})
        yield None


if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
