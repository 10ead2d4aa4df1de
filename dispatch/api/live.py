"""The live board's feed: every case event and escalation, as it reaches Kafka, to the
operators whose scope it is in.

One consumer per API process reads `dispatch.events` and `sla.escalations` (no consumer
group: every API process sees everything, from the end of each partition at its start) and
fans each record out to the subscribed pages. A subscriber has a bounded queue; one that
falls behind gets a `resync` item instead of an ever-growing backlog, and its page reloads
the board. An operator only ever receives items their scope admits (`dispatch.scope`: a district
operator by the item's district, so a case at the district's centre is theirs too; a street
operator by its grid or street code).

`board_item` (pure) turns a record into what a page needs to decide what to refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError

from config.settings import Settings
from dispatch.scope import Scope

log = logging.getLogger(__name__)
QUEUE_SIZE = 256
RETRY_S = 5.0
TOPICS = ("dispatch.events", "sla.escalations", "dispatch.tasks")

Item = dict[str, Any]


def _task_item(task: object) -> Item | None:
    if not isinstance(task, dict):
        return None
    return {
        "kind": "task",
        "task_id": task.get("task_id"),
        "incident_id": task.get("incident_id"),
        "assignee_id": task.get("assignee_id"),
        "status": task.get("status"),
        "street_code": task.get("street_code"),
        "at": task.get("updated_at"),
    }


def board_item(topic: str, value: bytes) -> Item | None:
    """What a page is told about one record; None for a record that is not for the board."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    if topic == "dispatch.tasks":
        return _task_item(doc.get("task"))
    if topic == "sla.escalations":
        return {
            "kind": "escalation",
            "incident_id": doc.get("incident_id"),
            "task_id": doc.get("task_id"),
            "assignee_id": doc.get("assignee_id"),
            "target": doc.get("target"),
            "due_at": doc.get("due_at"),
            "step": doc.get("step"),
            "level": doc.get("level"),
            "clock": doc.get("clock"),
            "priority": doc.get("priority"),
            "category": doc.get("category"),
            "state": doc.get("state"),
            "grid_code": doc.get("grid_code"),
            "street_code": doc.get("street_code"),
            "district_code": doc.get("district_code"),
            "at": doc.get("at"),
        }
    event = doc.get("event")
    if not isinstance(event, dict):
        return None
    return {
        "kind": "event",
        "incident_id": event.get("incident_id"),
        "action": event.get("action"),
        "to_state": event.get("to_state"),
        "actor_role": event.get("actor_role"),
        "grid_code": event.get("grid_code"),
        "street_code": event.get("street_code"),
        "district_code": event.get("district_code"),
        "at": event.get("at"),
    }


def for_operator(item: Item, scope: Scope) -> bool:
    """An operator sees what their scope admits, but no task records (the board reads tasks
    through events), and every `resync` (which names no case)."""
    if item.get("kind") == "task":
        return False
    return item.get("kind") == "resync" or scope.admits(item)


def for_worker(item: Item, worker: str) -> bool:
    """A grid worker's feed: their own tasks changing (new, reassigned away, done) and the
    reminders addressed to them (提醒: the ladder's step for the assignee), and `resync`."""
    kind = item.get("kind")
    if kind == "resync":
        return True
    if item.get("assignee_id") != worker:
        return False
    return kind == "task" or (kind == "escalation" and item.get("target") == "assignee")


def _report_death(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("live feed stopped: the board no longer updates live", exc_info=task.exception())


@dataclass(eq=False)
class Subscriber:
    scope: Scope
    worker: str | None = None  # a grid worker's own feed (then `scope` is not used)
    queue: asyncio.Queue[Item] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, item: Item) -> None:
        wanted = for_worker(item, self.worker) if self.worker is not None else for_operator(item, self.scope)
        if not wanted:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # fell behind: drop the backlog, ask the page to reload the board instead
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait({"kind": "resync"})


class LiveFeed:
    """The consumer task and its subscribers (build it with `started`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = {settings.topic(t): t for t in TOPICS}
        self.subscribers: set[Subscriber] = set()
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def started(cls, settings: Settings, *, wait_s: float = 20.0) -> LiveFeed:
        """A running feed; waits (up to `wait_s`) until it reads from the ends of its topics."""
        feed = cls(settings)
        feed._task = asyncio.create_task(feed._run())
        feed._task.add_done_callback(_report_death)
        try:
            await asyncio.wait_for(feed.ready.wait(), wait_s)
        except TimeoutError:
            log.warning("live feed: Kafka not ready after %.0fs; the board updates once it is", wait_s)
        return feed

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @asynccontextmanager
    async def subscribe(self, scope: Scope, *, worker: str | None = None) -> AsyncIterator[Subscriber]:
        sub = Subscriber(scope, worker)
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)

    def publish(self, item: Item) -> None:
        for sub in list(self.subscribers):
            sub.offer(item)

    async def _run(self) -> None:
        while True:
            # no group: every partition is assigned to this consumer, starting at its end
            consumer = AIOKafkaConsumer(
                *self.topics,
                bootstrap_servers=self.settings.bootstrap_servers,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                client_id="yiwang-api-live",
            )
            try:
                await consumer.start()
                for _ in range(100):
                    if {tp.topic for tp in consumer.assignment()} == set(self.topics):
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise UnknownTopicOrPartitionError(
                        f"topics {sorted(self.topics)} not found (run `yiwang up`)"
                    )
                for tp in consumer.assignment():  # resolve the end offsets now: nothing later is missed
                    await consumer.position(tp)
                self.ready.set()
                while True:
                    batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                    for tp, records in batches.items():
                        for record in records:
                            item = board_item(self.topics[tp.topic], record.value or b"")
                            if item is not None:
                                self.publish(item)
            except (KafkaError, OSError) as exc:
                log.warning("live feed: %s; reconnecting in %.0fs", exc, RETRY_S)
                for sub in list(self.subscribers):
                    sub.offer({"kind": "resync"})
            finally:
                await consumer.stop()
            await asyncio.sleep(RETRY_S)
