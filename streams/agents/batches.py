"""What every small agent of the worker does with a batch: hand it to its runtime until the
database takes it; the agent's `BatchConsumer` (streams/batch_consumer.py) commits it after.

Nothing of a batch is committed before its runtime returned: a database outage retries the
same batch here (the runtime reconnects on `reset`), and a restart reads it again; the runtimes'
writes are idempotent, so a repeat changes nothing.

Every attempt is bounded (`ATTEMPT_S`): a send that waits for a partition leader that is moving,
or a statement that waits for a lock, is cancelled, the runtime is `reset` (its connection may be
left mid-statement) and the same batch is tried again. An agent therefore never holds a batch,
or its runtime's lock, for as long as a hang lasts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import faust
import psycopg

from config.settings import Settings
from streams.batch_consumer import BatchConsumer, Record

__all__ = ["ATTEMPT_S", "RETRY_S", "Record", "one_pass", "read_in_batches", "until_handled"]
log = logging.getLogger(__name__)
RETRY_S = 2.0
ATTEMPT_S = 30.0
"""One attempt at a batch or a timer pass. Far above what a batch takes (milliseconds to a few
seconds under load), far below a hang (a send that waited over 100 s for a moving leader)."""
T = TypeVar("T")


async def until_handled(
    name: str,
    handle: Callable[[list[Record]], Awaitable[T]],
    reset: Callable[[], Awaitable[None]],
    records: list[Record],
) -> T:
    """`handle(records)`, again after `reset` and a pause for as long as the database is away or
    an attempt takes longer than `ATTEMPT_S`."""
    while True:
        try:
            async with asyncio.timeout(ATTEMPT_S):
                return await handle(records)
        except psycopg.OperationalError as exc:
            log.warning("%s: database unavailable (%s); retrying in %.0fs", name, exc, RETRY_S)
        except TimeoutError:
            log.warning(
                "%s: a batch of %d record(s) not handled in %.0fs; retrying in %.0fs",
                name,
                len(records),
                ATTEMPT_S,
                RETRY_S,
            )
        await reset()
        await asyncio.sleep(RETRY_S)


async def one_pass(
    name: str, what: str, run: Callable[[], Awaitable[T]], reset: Callable[[], Awaitable[None]]
) -> T | None:
    """One pass of an agent's timer; None (after `reset`) when the database is away or the pass
    took longer than `ATTEMPT_S`: the next tick tries again, the passes being idempotent."""
    try:
        async with asyncio.timeout(ATTEMPT_S):
            return await run()
    except psycopg.OperationalError as exc:
        log.warning("%s: %s pass failed (%s); retrying at the next tick", name, what, exc)
    except TimeoutError:
        log.warning("%s: %s pass not done in %.0fs; retrying at the next tick", name, what, ATTEMPT_S)
    await reset()
    return None


def read_in_batches(
    app: faust.App,
    settings: Settings,
    *,
    name: str,
    topic: str,
    handle: Callable[[list[Record]], Awaitable[object]],
    reset: Callable[[], Awaitable[None]],
    max_records: int,
    within_s: float,
) -> BatchConsumer:
    """Read the declared `topic` with a consumer of the agent's own, in group `yiwang-<name>`
    (prefixed), started and stopped with the worker's app: each batch through `until_handled`,
    then committed; `reset` also after a batch a rebalance took away mid-way. A partition the group
    never committed starts where the app's own group left it (the agent read through faust before)."""

    async def handled(records: list[Record]) -> object:
        return await until_handled(name, handle, reset, records)

    consumer = BatchConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        topic=settings.topic(topic),
        group=settings.topic(f"yiwang-{name}"),
        handle=handled,
        drop=reset,
        max_records=max_records,
        within_s=within_s,
        continues_from=app.conf.id,
    )
    app.add_dependency(consumer)
    return consumer
