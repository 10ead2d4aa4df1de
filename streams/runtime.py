"""What a stream worker holds while it runs: the database connection, the grid index, the
gazetteer and the directory, with reconnection and periodic refresh.

Database trouble (PostgreSQL restarting, a dropped connection) never crashes the worker and
never skips a batch: the batch is retried on a fresh connection with a growing pause, and the
input offsets are not acknowledged until it went through.

Each lane of the intake (a district's partitions, streams/lanes.py, read by a consumer of its
own) runs its batches on its own connection, in its own transactions, at the same time as the
other lanes' (as two workers do), over the one loaded service (index, gazetteer, directory,
rules: shared, not copied). What a batch decides is built per batch (`IntakeService.process`);
merges across lanes are kept correct by the merge cells' advisory locks, as across workers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
import psycopg
import sqlalchemy.exc
from psycopg import AsyncConnection
from psycopg.types.json import set_json_dumps
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from config.settings import Settings
from dispatch.calendar.imported_years import sync_calendar
from dispatch.cases.boot import store_policies
from dispatch.directory import Directory
from dispatch.intake import store as intake_sql
from dispatch.intake.decode import Inbound
from dispatch.intake.flow import BatchResult, IntakeService, Publish, PublishMany
from dispatch.intake.locate import Locator
from dispatch.intake.rules import IntakeRules
from dispatch.sla.published import POLICY_HEADERS, POLICY_TOPIC, policy_message
from geo.city import load_city
from geo.index import GridIndexes
from geo.service import city_gazetteer_from_db
from streams.metrics import PipelineMetrics

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF_S = 30.0
DATABASE_AWAY = (psycopg.OperationalError, sqlalchemy.exc.OperationalError)
"""psycopg's error, or SQLAlchemy's from the blocking loads: the database is away, wait it out."""
ISOLATED_FAILURES_LIMIT = 25
"""Records dead-lettered one after another with nothing succeeding in between: that is not a
few poisoned records but a systemic fault (a bug, a broken schema); stop instead of sending
the whole feed to the DLQ."""


COLLECTOR_THRESHOLDS = (50_000, 20, 100)
"""The worker's garbage-collector thresholds (CPython's defaults: 700, 10, 10).

A batch keeps tens of thousands of objects alive while it runs (decoded reports, rows,
documents), so at the default 700 allocations a young collection ran every few hundred
microseconds of batch work and promoted the batch's live objects, and a full collection
followed every ~2 s of load: 15-390 ms each with the loop held (22 of them, 1.7 s, in one
15,000-report run beside a busy machine). With these thresholds a young collection comes every
50,000 allocations, most of a batch's objects are gone by then (freed by their reference
counts), and the full collection that the young ones' survivors still trigger is rare; the
loaded reference data is frozen out of every walk (`settle_heap`)."""


def tune_collector() -> None:
    """Set the worker process's collector thresholds (its entry point calls this once)."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


class SystemicFailure(RuntimeError):
    """Every record fails: the worker must stop loudly (its supervisor restarts it)."""


def libpq_url(db_url: str) -> str:
    """The SQLAlchemy URL as a plain libpq URL for psycopg."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect(settings: Settings) -> AsyncConnection[Any]:
    conn = await psycopg.AsyncConnection.connect(
        libpq_url(settings.db_url), options="-c TimeZone=UTC", application_name="yiwang-worker"
    )
    set_json_dumps(_orjson_text, conn)  # JSONB written through orjson: datetimes native, ~10x faster
    return conn


def _orjson_text(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def settle_heap() -> None:
    """Move what is loaded so far out of the cyclic garbage collector's sight.

    The grid index, gazetteer and directory are a few million objects kept for the process's
    life; without this every full collection (triggered by a batch's allocations) walks them
    all again, and the walk lands on whatever code happens to allocate (py-spy showed it on
    the SLA pass's row handling). Called again after each reload: what was frozen goes back
    into sight first, so a replaced directory's reference cycles are collected, not kept.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def hold_reloaded() -> None:
    """Move a reloaded directory out of the collector's sight without a full collection.

    A full settle walks every loaded object and holds the event loop for 0.2-0.9 s (measured
    beside a busy intake: 237-277 ms at a loaded machine's start, 0.6-0.9 s on refresh), a pause
    every batch in flight waits for. A replaced directory holds no reference cycles (it is freed
    by its reference count), so freezing the new one is enough.
    """
    gc.freeze()


class IntakeRuntime:
    def __init__(
        self,
        settings: Settings,
        metrics: PipelineMetrics,
        publish: Publish,
        publish_many: PublishMany | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.publish = publish
        self.publish_many = publish_many
        self.engine: Engine = create_engine(settings.db_url, pool_size=2)
        self.conn: AsyncConnection[Any] | None = None
        """The start's, the prune's and the calendar sync's connection: never a lane's batch's."""
        self.lanes: dict[Hashable, AsyncConnection[Any]] = {}
        """Each lane's connection (`handle(..., lane=)`): one batch at a time on each."""
        self.service: IntakeService | None = None
        self.indexes: GridIndexes | None = None
        self.isolated_failures = 0
        self._conn_lock = asyncio.Lock()
        """The periodic prune and the calendar sync share `conn`: one at a time."""
        self._start_lock = asyncio.Lock()
        """Two lanes' first batches start the service once."""

    def _load(self) -> IntakeService:
        """Index, gazetteer and directory from PostGIS (blocking; at start and on refresh)."""
        with self.engine.connect() as conn:
            indexes = load_city(conn)  # every district loaded; one district: exactly its own index
            if not indexes.versions:
                raise RuntimeError("no grid layer loaded: run `yiwang geo load` first")
            gazetteer = city_gazetteer_from_db(conn, *indexes.newest())  # one per district
            directory = Directory.load(conn)
        rules = IntakeRules.load()
        self.indexes = indexes
        log.info(
            "intake: %d layer version(s), %d buildings, %d people in the directory",
            len(indexes.versions),
            len(gazetteer),
            directory.size,
        )
        return IntakeService(
            settings=self.settings,
            rules=rules,
            locator=Locator(indexes, gazetteer, rules.taxonomy),
            directory=directory,
            metrics=self.metrics,
            publish=self.publish,
            publish_many=self.publish_many,
            clock=self.settings.clock(),
        )

    async def start(self) -> None:
        """Load, store the policies, publish them; the service is set only once all of it is done,
        so a start that fails half way is made again whole."""
        service = await asyncio.to_thread(self._load)
        self.conn = await connect(self.settings)
        # every escalation policy of the book (shared, each district's) is stored once; cases
        # point at theirs by fingerprint
        async with self.conn.transaction():
            await store_policies(self.conn, service.rules.book)
            await sync_calendar(self.conn, service.rules.tk.working, service.rules.sla)
        for escalation in service.rules.book.escalations():
            key, value = policy_message(escalation)  # published too, so `yiwang rebuild` restores it
            await (await self.publish(self.settings.topic(POLICY_TOPIC), key, value, POLICY_HEADERS))
        self.service = service
        settle_heap()

    async def warm(self) -> bool:
        """Start before the worker takes any work (`streams.warmup`): once, not waiting out a
        database that is away. Loading the index, gazetteer and directory, storing and publishing
        the policies and the full collection after them take 1-4 s; started lazily on the first
        batch, all of it fell on partitions already assigned, with their records waiting.
        False: not started (logged); the first batch starts it, waiting out the database."""
        if self.service is not None:
            return True
        try:
            await self.start()
        except DATABASE_AWAY as exc:
            why = await self._drop_connection(exc)
            log.warning("intake: not started before taking work (%s); the first batch will", why)
            return False
        return True

    async def refresh(self) -> None:
        """Pick up new layer versions and directory changes without a restart."""
        if self.indexes is None or self.service is None:
            return
        changed, directory = await asyncio.to_thread(self._reload, self.indexes)
        self.service.directory = directory
        if changed:
            settle_heap()  # the replaced layers' cycles back in the collector's sight once
        else:
            hold_reloaded()
        try:
            async with self._conn_lock:
                conn = await self._own_conn()
                async with conn.transaction():
                    await sync_calendar(conn, self.service.rules.tk.working, self.service.rules.sla)
        except psycopg.OperationalError as exc:  # the next refresh reconnects and retries
            log.warning("intake: working calendar not refreshed (%s)", exc)
            await self._drop_connection(exc)
        if changed:
            log.info("intake: grid layers changed; now %d version(s)", len(self.indexes.versions))

    def _reload(self, indexes: GridIndexes) -> tuple[bool, Directory]:
        """New layer versions and the directory (blocking: run in a thread, off the event loop)."""
        with self.engine.connect() as conn:
            return indexes.refresh(conn), Directory.load(conn)

    async def prune(self) -> int:
        if self.service is None:
            return 0
        horizon = datetime.now(UTC) - 2 * self.service.rules.merge.window
        try:
            async with self._conn_lock:
                conn = await self._own_conn()
                async with conn.transaction():
                    return await intake_sql.prune_merge_window(conn, horizon)
        except psycopg.OperationalError as exc:  # the next prune reconnects and retries
            log.warning("intake: merge window not pruned (%s)", exc)
            await self._drop_connection(exc)
            return 0

    async def _own_conn(self) -> AsyncConnection[Any]:
        """`conn`, connected again if the database dropped it (no batch runs on it: the lanes have
        theirs, so the prune and the calendar sync never wait for a batch, nor it for them)."""
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.settings)
        return self.conn

    async def drop_lane(self, lane: Hashable = None) -> None:
        """Close `lane`'s connection: a batch cancelled mid-way (a rebalance took its partitions)
        may have left it inside a transaction; the lane's next batch opens a new one."""
        conn = self.lanes.pop(lane, None)
        if conn is not None:
            await conn.close()

    async def handle(self, records: Sequence[Inbound], *, lane: Hashable = None) -> BatchResult:
        """Process one batch, whatever it holds; returns once every record is accounted for.

        `lane`: whose connection the batch runs on (each lane one batch at a time; other lanes'
        batches run meanwhile on theirs). `ISOLATED_FAILURES_LIMIT` counts over every lane.

        Database unavailable: reconnect and retry the same batch, with a growing pause.
        Anything else going wrong (a record PostgreSQL refuses, a bug met on one record):
        split the batch and retry the halves, down to the single record, which becomes a
        dead letter with its raw bytes. The rest of the batch goes through.
        """
        if self.service is None:
            async with self._start_lock:
                if self.service is None:
                    await self._starting()
        assert self.service is not None
        try:
            result = await self._retrying(records, lane)
        except Exception as exc:
            if len(records) == 1:
                self.isolated_failures += 1
                if self.isolated_failures >= ISOLATED_FAILURES_LIMIT:
                    raise SystemicFailure(
                        f"{self.isolated_failures} records in a row failed ({type(exc).__name__}): "
                        "stopping rather than dead-lettering the whole feed"
                    ) from exc
                log.exception(
                    "intake: record %s:%d@%d refused; dead-lettered",
                    records[0].topic,
                    records[0].partition,
                    records[0].offset,
                )
                await self.service.dead_letter(records[0], exc)
                return BatchResult(records=1, dead_letters=1)
            log.warning(
                "intake: batch of %d failed (%s); splitting it to find the record",
                len(records),
                type(exc).__name__,
            )
            mid = len(records) // 2
            first = await self.handle(records[:mid], lane=lane)
            second = await self.handle(records[mid:], lane=lane)
            return first.plus(second)
        self.isolated_failures = 0
        return result

    async def _starting(self) -> None:
        """Start, waiting out a database that is away. Never let it escape: an agent that crashes
        on its first batch can be restarted by faust past records it never processed."""
        await self._database_awaited("at start", self.start)

    async def _retrying(self, records: Sequence[Inbound], lane: Hashable = None) -> BatchResult:
        service = self.service
        assert service is not None

        async def attempt() -> BatchResult:
            conn = self.lanes.get(lane)
            if conn is None or conn.closed:
                conn = self.lanes[lane] = await connect(self.settings)
            return await service.process(records, conn)

        async def drop(exc: Exception) -> str:
            await self.drop_lane(lane)
            return _first_line(exc)

        return await self._database_awaited("for the batch", attempt, drop)

    async def _database_awaited(
        self,
        when: str,
        attempt: Callable[[], Awaitable[T]],
        drop: Callable[[Exception], Awaitable[str]] | None = None,
    ) -> T:
        """`attempt()`, again with a growing pause for as long as the database is away
        (psycopg's error, or SQLAlchemy's from the blocking loads); the connection it used
        (`drop`: a lane's; by default the runtime's own `conn`) is dropped between attempts."""
        backoff = 0.5
        while True:
            try:
                return await attempt()
            except DATABASE_AWAY as exc:
                why = await (drop or self._drop_connection)(exc)
                log.warning("intake: database unavailable %s (%s); retrying in %.1fs", when, why, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _drop_connection(self, exc: Exception) -> str:
        """Close the connection the database's loss left (the next attempt opens a new one);
        the error's first line, for the log."""
        if self.conn is not None:
            await self.conn.close()
        self.conn = None
        return _first_line(exc)

    async def close(self) -> None:
        for conn in [self.conn, *self.lanes.values()]:
            if conn is not None:
                await conn.close()
        self.lanes.clear()
        self.engine.dispose()


def _first_line(exc: Exception) -> str:
    """The error's first line, for the log."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
