"""Batches of a faust stream that fill while the previous batch is being processed, serving the
partitions in turn.

faust's `Stream.noack_take(max, within)` holds its buffer shut while the caller processes a
batch (one record waits at the door), then waits the whole `within` again before the next
one, even when records are queued. faust moves a record into the buffer at ~100 µs of CPU
each, so that design adds `within` plus the time to drain the queue to every batch, one
after the other. Here the stream keeps filling the next batch whenever the loop is free
(while this batch waits for PostgreSQL or the broker), and a batch is handed out as soon as
the previous one is done:

- records already waiting: at once (up to `max_`, fewer from a backlog: `batch_size`);
- none waiting: from the first one that arrives, `linger` seconds for more (a burst becomes
  one batch instead of many), or sooner if `max_` arrive.

**In turn.** One faust stream reads every partition of every report topic through one FIFO
queue, so a burst on a few partitions (one district's, config/districts.toml
[report_partitions]) would queue thousands of records in front of a quiet partition's next one.
Here the records wait per partition (`HeldEvents`): a batch takes every partition's share in
turn (each the same number, all it holds if fewer), so a quiet partition's records go into the
next batch whatever a busy one holds. And once `hold` records are held, a partition holding more
than its share is paused at the fetch (faust's own flow control: `Consumer.on_buffer_full`,
which stops fetching the partition but still delivers what was already fetched, so no offset is
skipped; said again at each of its records, since faust's queue resumes on its own every
partition that put into it while it was nearly full) and resumed as soon as the held records
fall under that: the bursting partitions' records wait in the Kafka client's fetch buffer, not
in front of the quiet ones. A rebalance makes every assigned partition active again (faust's
`_set_active_tps`); the pauses of an earlier generation are forgotten here. What faust puts in
front of the read-ahead in arrival order is bounded in streams/app.py (its queue,
`stream_buffer_maxsize`, and one poll, `broker_max_poll_records`): after a pause at most that
many of a bursting partition's records still arrive ahead of a quiet one's.
docs/architecture.md, "Several districts", has the measured effect and why faust's
`pause_partitions` is not used (records of a running poll skipped).

The records are faust events, not acknowledged: the caller acknowledges each after its batch has
been committed and published (at-least-once, as with `noack_take`). faust waits for every event
handed out to be acknowledged before a rebalance completes, so what is held stays small: about
two batches (`hold`) beside the batch in hand, and never more than `HARD_CAP_BATCHES` batches
beyond it (the stream waits there, as `noack_take` does at one).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator, Hashable, Sequence
from typing import Any, Generic, TypeVar

from faust.types import TP

E = TypeVar("E")
K = TypeVar("K", bound=Hashable)
BATCH_BUDGET_S = 0.3
"""What a batch taken from a backlog should cost: every held record waits for the batch in hand
and then its own, so a quiet partition's record waits about two batches. The size follows the
measured time per record, between `MIN_BATCH` and `max_`; a batch's fixed cost (two database
round trips, the broker's acknowledgement) is small beside this."""
MIN_BATCH = 100
FETCH_WAIT_MS = 100
"""How long the broker may hold a fetch that finds no new records (faust builds its consumer with
1,500 ms). The Kafka client sends one fetch at a time per broker, for the partitions it holds no
fetched records of: while the busy partitions are paused with their fetched records held, that
fetch names only idle partitions and waits out this time at the broker, and a resumed partition
that needs fetching again waits for it."""
HOLD_BATCHES = 2
"""Batches held before a busy partition is paused: after a batch is taken a whole one is still
held, worked on while a resumed partition's records come (faust's poll of the Kafka client
waits up to a second for new records before it asks again with the resumed partition)."""
HARD_CAP_BATCHES = 2
"""Batches beyond `hold` from which the stream stops moving records in (the pauses at the fetch
keep the held records far below it)."""


def shares(counts: Sequence[int], room: int) -> list[int]:
    """How many of each queue's records a batch of `room` takes: the same number from each, or
    all a queue holds if that is fewer; what a short queue leaves goes to the longer ones.

    >>> shares([3, 500, 40, 900], 100)
    [3, 32, 32, 33]
    >>> shares([5, 5], 3), shares([2, 1], 10), shares([], 10)
    ([1, 2], [2, 1], [])
    """
    out = [0] * len(counts)
    left = room
    order = sorted(range(len(counts)), key=counts.__getitem__)
    for k, i in enumerate(order):
        out[i] = min(counts[i], left // (len(order) - k))
        left -= out[i]
    return out


def per_record_after(previous: float | None, spent_s: float, records: int) -> float | None:
    """The moving average of seconds per record after a batch of `records` that took `spent_s`.

    Only batches of at least `MIN_BATCH` records count: a smaller one's time is mostly the
    batch's fixed cost (two database round trips, the commit, the broker's acknowledgement), so
    its time per record says nothing of a backlog's. Counted, a starting stream's batches of
    1-15 records (60-200 ms each beside a busy machine: 4-60 ms "per record") seeded the average
    so high that the first backlog's batches stayed at `MIN_BATCH` for 6-10 cycles (at 1 ms per
    record), taking records about as fast as 1,000 reports/s brings them.

    >>> per_record_after(None, 0.06, 1) is None, per_record_after(None, 0.1, 100)
    (True, 0.001)
    >>> round(per_record_after(0.001, 0.3, 200), 6), per_record_after(0.001, 0.5, 10)
    (0.00115, 0.001)
    """
    if records < MIN_BATCH:
        return previous
    spent = spent_s / records
    return spent if previous is None else 0.7 * previous + 0.3 * spent


def batch_size(seconds_per_record: float | None, budget_s: float, max_: int) -> int:
    """Records a batch takes from a backlog: what fits `budget_s` at the measured rate.

    >>> batch_size(None, 0.3, 1000), batch_size(0.0006, 0.3, 1000), batch_size(0.01, 0.3, 1000)
    (1000, 500, 100)
    """
    if seconds_per_record is None or seconds_per_record <= 0:
        return max_
    return max(min(MIN_BATCH, max_), min(max_, int(budget_s / seconds_per_record)))


class HeldEvents(Generic[K, E]):
    """Events waiting for a batch, one queue per partition (`K`), oldest first in each.

    `add` says when the partition should be paused: the held records have reached `hold` and it
    holds at least its share of them (`hold` over the partitions holding any), so a partition
    with only a few records waiting is never paused. `take` returns a batch in arrival order and
    the partitions to resume (all paused ones, once fewer than `hold` are held).

    >>> held: HeldEvents[str, str] = HeldEvents(hold=4)
    >>> [held.add("busy", f"b{i}") for i in range(5)] + [held.add("quiet", "q0")]
    [False, False, False, True, True, False]
    >>> held.take(3)
    (['b0', 'b1', 'q0'], {'busy'})
    >>> len(held), held.paused
    (3, set())
    """

    def __init__(self, hold: int) -> None:
        if hold < 1:
            raise ValueError(f"hold must be at least 1, not {hold}")
        self.hold = hold
        self.queues: dict[K, deque[tuple[int, E]]] = {}
        self.paused: set[K] = set()
        self._size = 0
        self._seq = 0

    def __len__(self) -> int:
        return self._size

    def add(self, key: K, event: E) -> bool:
        """Hold `event` of partition `key`; True while that partition should be paused (said at
        each of its records: faust resumes a partition of its own accord when its queue drains)."""
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = deque()
        queue.append((self._seq, event))
        self._seq += 1
        self._size += 1
        if key in self.paused:
            return True  # again: faust's own flow control may have resumed it since
        if self._size < self.hold or len(queue) < max(1, self.hold // len(self.queues)):
            return False
        self.paused.add(key)
        return True

    def take(self, max_: int) -> tuple[list[E], set[K]]:
        """Up to `max_` events, every partition's share, in arrival order; and the partitions to
        resume."""
        keys = list(self.queues)
        counts = shares([len(self.queues[k]) for k in keys], max_)
        runs: list[list[tuple[int, E]]] = []
        for key, n in zip(keys, counts, strict=True):
            if not n:
                continue
            queue = self.queues[key]
            runs.append([queue.popleft() for _ in range(n)])
            if not queue:
                del self.queues[key]
            self._size -= n
        batch = [event for _, event in heapq.merge(*runs, key=lambda held: held[0])]
        resume: set[K] = set()
        if self._size < self.hold:
            resume, self.paused = self.paused, set()
        return batch, resume

    def forget_pauses(self) -> None:
        """A rebalance made every assigned partition active again."""
        self.paused.clear()


def shorten_fetch_wait(consumer: Any) -> bool:
    """Set `FETCH_WAIT_MS` on the Kafka client's fetcher under faust's consumer (faust offers no
    setting for it); False while the client is not started yet."""
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    fetcher = getattr(client, "_fetcher", None)
    if fetcher is None or not hasattr(fetcher, "_fetch_max_wait_ms"):
        return False
    fetcher._fetch_max_wait_ms = FETCH_WAIT_MS  # read by the fetch routine at each fetch it builds
    return True


class PartitionTurns:
    """`HeldEvents` over faust's consumer: pauses and resumes partitions at the fetch, and forgets
    the pauses a rebalance undid (every assigned partition is active again after one)."""

    def __init__(self, app: Any, hold: int) -> None:
        self.app = app
        self.consumer = app.consumer
        self.held: HeldEvents[Any, Any] = HeldEvents(hold)
        self.generation = app.consumer_generation_id
        self._fetch_wait_set = False

    def add(self, event: Any) -> None:
        if not self._fetch_wait_set:
            self._fetch_wait_set = shorten_fetch_wait(self.consumer)
        if self.app.consumer_generation_id != self.generation:
            self.generation = self.app.consumer_generation_id
            self.held.forget_pauses()
        tp = TP(event.message.topic, event.message.partition)  # faust's own type: its sets hold only TP
        if self.held.add(tp, event):
            # what was fetched still comes, no more is fetched; said again at each of its records,
            # since faust's queue resumes the partitions that put into it while it was nearly full
            # (`on_buffer_drop`) once it has drained, whatever paused them
            self.consumer.on_buffer_full(tp)

    def take(self, max_: int) -> list[Any]:
        batch, resume = self.held.take(max_)
        if self.app.consumer_generation_id == self.generation:
            for tp in resume:
                self.consumer.on_buffer_drop(tp)
        return batch

    def release(self) -> None:
        for tp in self.held.paused:
            self.consumer.on_buffer_drop(tp)
        self.held.forget_pauses()


async def read_ahead(
    stream: Any, max_: int, linger: float, *, hold: int | None = None, budget_s: float = BATCH_BUDGET_S
) -> AsyncIterator[list[Any]]:
    """Unacknowledged batches of `stream`'s events, the partitions served in turn (see the
    module's docstring); `hold`: the held records from which a busy partition is paused (default
    `HOLD_BATCHES` batches); `budget_s`: what a batch from a backlog should cost (`batch_size`)."""
    turns = PartitionTurns(stream.app, hold or HOLD_BATCHES * max_)
    held = turns.held
    cap = held.hold + HARD_CAP_BATCHES * max_
    arrived = asyncio.Event()
    full = asyncio.Event()
    room = asyncio.Event()
    room.set()
    per_record: float | None = None
    """Seconds the caller spent per record of its recent full-sized batches (`per_record_after`)."""

    async def add_to_buffer(value: Any) -> Any:
        event = stream.current_event
        if event is None:
            raise RuntimeError("read-ahead found no current event")
        turns.add(event)
        arrived.set()
        if len(held) >= max_:
            full.set()
        if len(held) >= cap:
            room.clear()
            await stream.wait(room)  # the stream stops moving records in here
        return value

    enable_acks = stream.enable_acks
    stream.enable_acks = False
    stream.add_processor(add_to_buffer)
    stream._enable_passive(aiter(stream.channel))  # faust's own background drain, as noack_take's
    try:
        while not stream.should_stop:
            if not held:
                await stream.wait_for_stopped(arrived)
                if held and not full.is_set():
                    await stream.wait_for_stopped(full, timeout=linger)
            if not held:
                continue
            batch = turns.take(batch_size(per_record, budget_s, max_))
            if not held:
                arrived.clear()
            if len(held) < max_:
                full.clear()
            if len(held) < cap:
                room.set()
            began = time.monotonic()
            yield batch
            per_record = per_record_after(per_record, time.monotonic() - began, len(batch))
    finally:
        turns.release()
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)
