"""What `yiwang worker` runs for the SLA: the tracker every `sla_tick_s`, the outbox relay, the
directory refresh; built lazily on the first tick, reconnecting when PostgreSQL goes away.

Installed on the worker's faust app as a dependency service (`install`), sending through the
worker's one producer (`streams.outputs`, not faust's): faust timers and tasks only start once
the consumer group has assigned partitions,
which after a kill -9 waits for the dead member's session to time out (about a minute). The
deadlines must not wait for that: they are recovered from PostgreSQL as soon as the process
starts. Every worker process runs one; the tracker and the relay claim rows with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import faust
import psycopg
from aiokafka.errors import KafkaError
from mode import Service
from psycopg import AsyncConnection
from sqlalchemy import Engine, create_engine
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from dispatch.cases.boot import connect, load_people, store_policies
from dispatch.cases.flows import CaseFlows, Sender, SendMany
from dispatch.cases.sla_pass import Pass, SlaTracker
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from streams.outputs import Outputs
from streams.runtime import hold_reloaded, settle_heap

log = logging.getLogger(__name__)
RELAY_EVERY_S = 5.0
REFRESH_EVERY_S = 120.0


class SlaRuntime:
    def __init__(
        self,
        settings: Settings,
        metrics: DispatchMetrics,
        send: Sender,
        *,
        clock: Callable[[], datetime] | None = None,
        send_many: SendMany | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.send = send
        self.send_many = send_many
        self.clock = clock
        self.engine: Engine = create_engine(settings.db_url, pool_size=1)
        self.conn: AsyncConnection[Any] | None = None
        self.flows: CaseFlows | None = None
        self.tracker: SlaTracker | None = None
        self._one_at_a_time = asyncio.Lock()
        """The tracker pass and the outbox relay share one connection: never at the same time
        (interleaved transactions on one connection corrupt each other's nesting)."""

    async def start(self) -> None:
        rules = await asyncio.to_thread(IntakeRules.load)
        people = await asyncio.to_thread(load_people, self.engine, rules.taxonomy)
        extra = {"clock": self.clock} if self.clock is not None else {}
        self.flows = CaseFlows(self.settings, rules, people, self.send, metrics=self.metrics, **extra)
        self.flows.send_many = self.send_many
        self.tracker = SlaTracker(self.flows)
        self.conn = await connect(self.settings, application_name="yiwang-sla")
        await store_policies(self.conn, rules.book)
        settle_heap()
        log.info("sla: tracker ready (%d people in the directory)", len(people.roles))

    async def _guarded(
        self, what: str, job: Callable[[CaseFlows, AsyncConnection[Any]], Awaitable[Any]]
    ) -> Any:
        """Run one periodic job; a lost database or broker is logged and retried next time."""
        async with self._one_at_a_time:
            return await self._run(what, job)

    async def _run(self, what: str, job: Callable[[CaseFlows, AsyncConnection[Any]], Awaitable[Any]]) -> Any:
        try:
            if self.flows is None:
                await self.start()
            assert self.flows is not None
            if self.conn is None or self.conn.closed:
                self.conn = await connect(self.settings, application_name="yiwang-sla")
            return await job(self.flows, self.conn)
        except (psycopg.OperationalError, sqlalchemy_exc.OperationalError, KafkaError, OSError) as exc:
            # the start's reads go through SQLAlchemy, which wraps psycopg's error in its own
            log.warning("sla: %s failed (%s: %s); retrying at the next tick", what, type(exc).__name__, exc)
            if self.conn is not None and not self.conn.closed:
                await self.conn.close()
            self.conn = None
            return None

    async def prepare(self) -> bool:
        """The start (rules, people, policies, a full collection: 0.8-4 s) before the worker takes
        work (`SlaService.on_start`), not in the first tick beside the intake's first batches.
        A database that is away is logged; the first tick starts it."""

        async def started(flows: CaseFlows, conn: AsyncConnection[Any]) -> bool:
            return True

        return bool(await self._guarded("start", started))

    async def tick(self) -> Pass | None:
        async def job(flows: CaseFlows, conn: AsyncConnection[Any]) -> Pass:
            assert self.tracker is not None
            return await self.tracker.run_once(conn)

        result: Pass | None = await self._guarded("tracker pass", job)
        return result

    async def relay(self) -> int:
        async def job(flows: CaseFlows, conn: AsyncConnection[Any]) -> int:
            if self.tracker is not None:
                # a catch-up batch's delivery in flight is the tracker's to mark: relayed before
                # the next pass marked it, its events went out twice
                await self.tracker.settle(conn)
            return await flows.relay(conn)

        return int(await self._guarded("outbox relay", job) or 0)

    async def refresh(self) -> None:
        """Reload the directory; PostgreSQL away (restarting) keeps the people already loaded."""
        if self.flows is None:
            return
        try:
            self.flows.people = await asyncio.to_thread(load_people, self.engine, self.flows.rules.taxonomy)
            hold_reloaded()  # every 120 s on the intake's loop: never a full collection here
        except (SQLAlchemyError, psycopg.OperationalError, OSError) as exc:
            log.warning("sla: directory not refreshed (%s); retrying at the next refresh", type(exc).__name__)

    async def close(self) -> None:
        if self.conn is not None:
            if self.tracker is not None and not self.conn.closed:
                try:  # the last catch-up batch's events: marked, not left to the relay
                    await self.tracker.settle(self.conn)
                except psycopg.OperationalError as exc:
                    log.warning("sla: last batch not marked published (%s); the relay will", exc)
            await self.conn.close()
        self.engine.dispose()


class SlaService(Service):
    """The tracker, the relay and the refresh as loops of a mode service (started with the app)."""

    def __init__(self, settings: Settings, metrics: DispatchMetrics, outputs: Outputs, **kwargs: Any) -> None:
        """`outputs`: the worker's one producer (the intake's too), started on first use."""
        super().__init__(**kwargs)
        self.settings = settings
        self.outputs = outputs
        self.runtime = SlaRuntime(
            settings, metrics, outputs.send, send_many=outputs.send_many, clock=settings.clock()
        )

    async def on_start(self) -> None:
        await self.outputs.start()
        await self.runtime.prepare()  # before faust's consumer, which starts after this service

    async def on_stop(self) -> None:
        await self.runtime.close()
        await self.outputs.stop()

    @Service.task
    async def _tracker(self) -> None:
        while not self.should_stop:
            result = await self.runtime.tick()
            if result is not None and result.steps:
                log.info(
                    "sla: %d step(s) on %d incident(s), %d reassigned",
                    result.steps,
                    result.claimed,
                    result.reassigned,
                )
            if (
                result is not None
                and self.runtime.tracker is not None
                and result.claimed >= self.runtime.tracker.batch
            ):
                await self.sleep(0)  # catching up (after an outage): the next batch at once
                continue
            await self.sleep(self.settings.sla_tick_s)

    @Service.task
    async def _relay(self) -> None:
        while not self.should_stop:
            await self.sleep(RELAY_EVERY_S)
            relayed = await self.runtime.relay()
            if relayed:
                log.info("outbox: relayed %d event(s)", relayed)

    @Service.task
    async def _refresh(self) -> None:
        while not self.should_stop:
            await self.sleep(REFRESH_EVERY_S)
            await self.runtime.refresh()


def install(
    app: faust.App, settings: Settings, metrics: DispatchMetrics, outputs: Outputs | None = None
) -> SlaService:
    """Add the SLA tracker, the outbox relay and the directory refresh to a worker app."""
    service = SlaService(settings, metrics, outputs or Outputs(settings), loop=app.loop)
    app.add_dependency(service)
    return service
