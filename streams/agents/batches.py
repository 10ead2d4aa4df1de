"""What every small agent of the worker does with a batch: read it, hand it to its runtime until
the database takes it, then acknowledge.

Nothing of a batch is acknowledged before its runtime returned: a database outage retries the
same batch here (the runtime reconnects on `reset`), and a restart reads it again; the runtimes'
writes are idempotent, so a repeat changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psycopg

log = logging.getLogger(__name__)
RETRY_S = 2.0
Record = tuple[str, int, int, bytes]
"""topic, partition, offset, value"""
T = TypeVar("T")


def records_of(batch: Sequence[Any]) -> list[Record]:
    """The (topic, partition, offset, value) of each event of a faust batch."""
    return [(e.message.topic, e.message.partition, e.message.offset, e.message.value or b"") for e in batch]


async def until_handled(
    name: str,
    handle: Callable[[list[Record]], Awaitable[T]],
    reset: Callable[[], Awaitable[None]],
    records: list[Record],
) -> T:
    """`handle(records)`, again after `reset` and a pause for as long as the database is away."""
    while True:
        try:
            return await handle(records)
        except psycopg.OperationalError as exc:
            log.warning("%s: database unavailable (%s); retrying in %.0fs", name, exc, RETRY_S)
            await reset()
            await asyncio.sleep(RETRY_S)


async def one_pass(
    name: str, what: str, run: Callable[[], Awaitable[T]], reset: Callable[[], Awaitable[None]]
) -> T | None:
    """One pass of an agent's timer; None (after `reset`) when the database is away: the next
    tick tries again, the passes being idempotent."""
    try:
        return await run()
    except psycopg.OperationalError as exc:
        log.warning("%s: %s pass failed (%s); retrying at the next tick", name, what, exc)
        await reset()
        return None
