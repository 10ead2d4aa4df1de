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
than its share is paused at the poll (`PartitionTurns`: left out of the partitions the Kafka
client's next poll names, so its records wait in the client's fetch buffer, not in front of the
quiet ones; what a running poll returned still comes, no offset skipped) and resumed as soon as
the held records fall under that. A rebalance makes every assigned partition active again; the
pauses of an earlier generation are forgotten here. What faust puts in front of the read-ahead
in arrival order is bounded in streams/app.py (its queue, `stream_buffer_maxsize`, and one poll,
`broker_max_poll_records`). While a quiet partition's live records wait beside a backlog, the
batches are short (`SHARED_BUDGET_S`): its next record waits for the batch in hand and its own.
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
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Hashable, Sequence
from typing import Any, Generic, TypeVar

import orjson
from faust.types import TP

E = TypeVar("E")
K = TypeVar("K", bound=Hashable)
BATCH_BUDGET_S = 0.3
"""What a batch taken from a backlog should cost: every held record waits for the batch in hand
and then its own, so a quiet partition's record waits about two batches. The size follows the
measured time per record, between `MIN_BATCH` and `max_`; a batch's fixed cost (two database
round trips, the broker's acknowledgement) is small beside this."""
MIN_BATCH = 100
SHARED_BUDGET_S = 0.1
"""What a batch costs while a partition with few records waits beside another's backlog (and the
batch after such a batch): the quiet partition's next record waits for the batch in hand and its
own, so their length is its wait; the bursting partition's records pay a batch's fixed cost
three times as often meanwhile. A backlog alone (one district's burst with the other silent, or
a sustained load over every partition) keeps `BATCH_BUDGET_S`."""
SHARED_MIN_BATCH = 10
LIVE_S = 2.0
"""A quiet partition counts as waiting beside a backlog only while its newest held record was
produced within this many seconds (by the record's own timestamp): live reports beside a burst.
A backlog worked off after an outage or a restart holds old records on every partition, the few
of a low-volume topic among them, and keeps whole batches."""
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
TRACE_ENV = "YIWANG_READ_AHEAD_TRACE"
"""A file to append every record's stage times to (`StageTrace`): bench/districts.py's
`--stages`, to see where a quiet district's reports wait. Unset: nothing is traced."""


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
    so high that the first backlog's batches stayed at `MIN_BATCH` for 7-10 cycles (at 1 ms per
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


def batch_size(seconds_per_record: float | None, budget_s: float, max_: int, least: int = MIN_BATCH) -> int:
    """Records a batch takes from a backlog: what fits `budget_s` at the measured rate, at least
    `least`.

    >>> batch_size(None, 0.3, 1000), batch_size(0.0006, 0.3, 1000), batch_size(0.01, 0.3, 1000)
    (1000, 500, 100)
    >>> batch_size(0.002, 0.1, 1000, least=10)
    50
    """
    if seconds_per_record is None or seconds_per_record <= 0:
        return max_
    return max(min(least, max_), min(max_, int(budget_s / seconds_per_record)))


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
        self.shared_last = False
        """The last batch was taken while a quiet partition waited beside a backlog."""
        self.newest: dict[K, float] = {}
        """When each partition's newest held record was produced (wall clock, seconds)."""

    def __len__(self) -> int:
        return self._size

    def add(self, key: K, event: E, produced: float | None = None) -> bool:
        """Hold `event` of partition `key`, produced at `produced` (wall clock; None: now); True
        while that partition should be paused (said at each of its records: faust resumes a
        partition of its own accord when its queue drains)."""
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = deque()
        queue.append((self._seq, event))
        self.newest[key] = time.time() if produced is None else produced
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
                del self.newest[key]
            self._size -= n
        batch = [event for _, event in heapq.merge(*runs, key=lambda held: held[0])]
        resume: set[K] = set()
        if self._size < self.hold:
            resume, self.paused = self.paused, set()
        return batch, resume

    def forget_pauses(self) -> None:
        """A rebalance made every assigned partition active again."""
        self.paused.clear()

    def quiet_beside_backlog(self, room: int, now: float | None = None) -> bool:
        """A batch of `room` takes all one partition holds, produced within `LIVE_S` of `now`,
        and leaves another's records held: live records of a quiet partition wait beside a
        backlog.

        >>> held: HeldEvents[str, int] = HeldEvents(hold=100)
        >>> _ = [held.add("busy", i, produced=0.0) for i in range(50)]
        >>> held.quiet_beside_backlog(10, now=1.0), held.add("quiet", 0, produced=0.5)
        (False, False)
        >>> held.quiet_beside_backlog(10, now=1.0), held.quiet_beside_backlog(60, now=1.0)
        (True, False)
        >>> held.quiet_beside_backlog(10, now=60.0)  # an old backlog's few: not live
        False
        """
        if len(self.queues) < 2 or self._size <= room:
            return False
        live_since = (time.time() if now is None else now) - LIVE_S
        keys = list(self.queues)
        counts = [len(self.queues[k]) for k in keys]
        taken = shares(counts, room)
        return any(
            t == c and self.newest[k] >= live_since for k, t, c in zip(keys, taken, counts, strict=True)
        )

    def room(self, per_record: float | None, budget_s: float, max_: int) -> int:
        """How many records the next batch takes: what fits `budget_s` at `per_record`
        (`batch_size`), or `SHARED_BUDGET_S` while a quiet partition waits beside a backlog and
        in the batch after one that did (its next record is likely to come meanwhile).

        >>> held: HeldEvents[str, int] = HeldEvents(hold=1000)
        >>> _ = [held.add("busy", i) for i in range(2000)]
        >>> held.room(0.002, 0.3, 1000), held.add("quiet", 0), held.room(0.002, 0.3, 1000)
        (150, False, 50)
        >>> _ = held.take(50); held.room(0.002, 0.3, 1000), held.room(0.002, 0.3, 1000)
        (50, 150)
        """
        room = batch_size(per_record, budget_s, max_)
        shared = self.quiet_beside_backlog(room)
        if shared or self.shared_last:
            room = batch_size(per_record, min(budget_s, SHARED_BUDGET_S), max_, SHARED_MIN_BATCH)
        self.shared_last = shared
        return room


def shorten_fetch_wait(consumer: Any) -> bool:
    """Set `FETCH_WAIT_MS` on the Kafka client's fetcher under faust's consumer (faust offers no
    setting for it); False while the client is not started yet."""
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    fetcher = getattr(client, "_fetcher", None)
    if fetcher is None or not hasattr(fetcher, "_fetch_max_wait_ms"):
        return False
    fetcher._fetch_max_wait_ms = FETCH_WAIT_MS  # read by the fetch routine at each fetch it builds
    return True


class StageTrace:
    """Per record, the wall-clock times of the stages it passes, one JSON array a batch of rows
    `[topic, partition, offset, produced, polled, queued, held, batched, written]`:

    - produced: the record's own timestamp (the producer's clock);
    - polled: the Kafka client's poll that returned it came back to faust (what waited before
      was in the broker or in the client's fetch buffer);
    - queued: faust made it a message to put into its stream queue (behind the same poll's
      earlier records, which wait for room in that queue);
    - held: it left faust's queue into the read-ahead; batched: its batch was taken;
    - written: its batch was handled and acknowledged.

    Hooks faust's consumer (`_wait_next_records`, `_to_message`) by wrapping them on the
    instance; costs a dict entry and a few clock reads a record, only while tracing."""

    def __init__(self, path: str, consumer: Any) -> None:
        self.out = open(path, "ab")  # noqa: SIM115  # open for the stream's life, closed in `close`
        self.polled_at = self.batched_at = 0.0
        self.arrived: dict[tuple[str, int, int], tuple[float, float]] = {}
        self.rows: dict[int, list[Any]] = {}
        wait_next, to_message = consumer._wait_next_records, consumer._to_message

        async def traced_wait_next(timeout: float) -> Any:
            got = await wait_next(timeout)
            self.polled_at = time.time()
            return got

        def traced_to_message(tp: Any, record: Any) -> Any:
            self.arrived[(record.topic, record.partition, record.offset)] = (self.polled_at, time.time())
            return to_message(tp, record)

        consumer._wait_next_records = traced_wait_next
        consumer._to_message = traced_to_message

    def held(self, event: Any) -> None:
        m = event.message
        polled, queued = self.arrived.pop((m.topic, m.partition, m.offset), (0.0, 0.0))
        row = [m.topic, m.partition, m.offset, m.timestamp or 0.0, polled, queued, time.time()]
        self.rows[id(event)] = row

    def taken(self) -> None:
        self.batched_at = time.time()

    def written(self, batch: list[Any]) -> None:
        done = time.time()
        rows = [[*self.rows.pop(id(e)), self.batched_at, done] for e in batch]
        self.out.write(orjson.dumps(rows) + b"\n")
        self.out.flush()

    def close(self) -> None:
        self.out.close()


class NoTrace:
    """`StageTrace`'s stand-in while nothing is traced."""

    def held(self, event: Any) -> None:
        pass

    def taken(self) -> None:
        pass

    def written(self, batch: list[Any]) -> None:
        pass

    def close(self) -> None:
        pass


def stage_trace(consumer: Any) -> StageTrace | NoTrace:
    """A `StageTrace` into the file `TRACE_ENV` names, or nothing traced."""
    path = os.environ.get(TRACE_ENV)
    return StageTrace(path, consumer) if path else NoTrace()


class PartitionTurns:
    """`HeldEvents` over faust's consumer: a paused partition is left out of the partitions each
    poll of the Kafka client names (`Consumer._getmany`), so its records stay in the client's
    fetch buffer; a rebalance forgets the pauses (every assigned partition is active again).

    Why at the poll and not with faust's own flow control (`Consumer.on_buffer_full`): faust's
    stream queue pauses, the same way, every partition that puts a record into it while it is
    nearly full, a quiet one included, and resumes them all once it has drained below 40 %, ours
    among them: measured, a quiet district's reports then waited in the broker behind the busy
    partitions' records. Left out of the poll, a paused partition cannot be resumed by faust,
    the queue in front of the read-ahead never fills with its records, and faust's own pauses
    never happen. What a running poll already returned is still delivered (faust's `getmany`
    keeps a record whose partition is in the set the poll was asked for): no offset skipped."""

    def __init__(self, app: Any, hold: int) -> None:
        self.app = app
        self.consumer = app.consumer
        self.held: HeldEvents[Any, Any] = HeldEvents(hold)
        self.generation = app.consumer_generation_id
        self._fetch_wait_set = False
        self.trace = stage_trace(self.consumer)
        getmany = self.consumer._getmany

        async def unpaused_getmany(active_partitions: Any, timeout: float) -> Any:
            paused = self.held.paused
            if paused and active_partitions:
                active_partitions = active_partitions - paused
                if not active_partitions:  # the client reads an empty set as every partition
                    await asyncio.sleep(min(timeout, FETCH_WAIT_MS / 1000))
                    return {}
            return await getmany(active_partitions, timeout)

        self.consumer._getmany = unpaused_getmany

    def add(self, event: Any) -> None:
        self.trace.held(event)
        if not self._fetch_wait_set:
            self._fetch_wait_set = shorten_fetch_wait(self.consumer)
        if self.app.consumer_generation_id != self.generation:
            self.generation = self.app.consumer_generation_id
            self.held.forget_pauses()
        message = event.message
        tp = TP(message.topic, message.partition)  # faust's own type: its sets hold only TP
        self.held.add(tp, event, message.timestamp or None)  # pauses it from the next poll on

    def take(self, max_: int) -> list[Any]:
        batch, _resumed = self.held.take(max_)  # polled again from the next poll on
        self.trace.taken()
        return batch

    def release(self) -> None:
        self.held.forget_pauses()
        self.trace.close()


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
            batch = turns.take(held.room(per_record, budget_s, max_))
            if not held:
                arrived.clear()
            if len(held) < max_:
                full.clear()
            if len(held) < cap:
                room.set()
            began = time.monotonic()
            yield batch
            spent_s = time.monotonic() - began
            turns.trace.written(batch)
            per_record = per_record_after(per_record, spent_s, len(batch))
    finally:
        turns.release()
        stream.enable_acks = enable_acks
        stream._processors.remove(add_to_buffer)
