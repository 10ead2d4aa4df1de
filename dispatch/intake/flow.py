"""One intake batch, end to end: decode, locate, decide, write, publish.

Order of effects: the batch's rows are written and committed in one transaction,
then its outputs are published, then (in the agent) the input offsets are acknowledged. A
crash anywhere before the acknowledgement redelivers the batch; reports already committed
are recognised by id and their stored rows are published again, so nothing is lost and
nothing is created twice.

A record this code cannot handle — bad bytes, a schema violation, or a bug met in deciding
it — becomes a dead letter with its raw bytes and a reason; the rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from psycopg import AsyncConnection

from config.settings import Settings
from dispatch import store
from dispatch.cases.case_rules import CaseRulesLoader
from dispatch.cases.documents import HEADERS, event_message, incident_message, task_message
from dispatch.cases.queries import open_work
from dispatch.cases.urgency import raise_merged
from dispatch.cases.work import Changes
from dispatch.directory import Directory
from dispatch.intake import store as sql
from dispatch.intake.decode import Decoded, Inbound, decode, source_of
from dispatch.intake.locate import Locator
from dispatch.intake.metrics import IntakeMetrics
from dispatch.intake.rules import IntakeRules, LocatedReport, Merged, Opened
from dispatch.merging import OpenIncident, lock_keys
from dispatch.rows import event_row, incident_row, merge_window_row, report_row, task_row
from dispatch.search.phones import stamp_reports
from dispatch.surge.book import SurgeBook
from dispatch.surge.overlay import NO_SURGE, SurgeOverlay
from dispatch.surge.policy import load_surge_policy
from schemas.dead_letter import DLQ_TOPIC, DeadLetter, Stage, dead_letter, encode
from schemas.dead_letter import HEADERS as DLQ_HEADERS

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[Any]]]
"""Send a record; the awaitable it returns completes when the broker has acknowledged it."""
PublishMany = Callable[[list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]], Awaitable[list[Any]]]
"""Send many records at once; the awaitables it returns complete when the broker has them all."""
Row = dict[str, Any]
COPY_FROM = 500
"""A table's rows of a batch are staged by COPY from this many on (a round trip of its own each);
fewer join the batch's one pipelined round trip of upserts. `bench.persistence --batch 40/100/300`
measured the unnest path ahead of COPY for incidents and events at those sizes (1.2-1.9 ×), so
COPY pays only for a backlog's full batches."""


@dataclass
class BatchResult:
    records: int = 0
    dead_letters: int = 0
    replayed: int = 0
    opened: int = 0
    merged: int = 0
    tasks: int = 0
    published: int = 0
    latencies: list[float] = field(default_factory=list)

    def plus(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.records + other.records,
            self.dead_letters + other.dead_letters,
            self.replayed + other.replayed,
            self.opened + other.opened,
            self.merged + other.merged,
            self.tasks + other.tasks,
            self.published + other.published,
            self.latencies + other.latencies,
        )


@dataclass
class _Outputs:
    reports: list[Row] = field(default_factory=list)
    incidents: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    window: list[Row] = field(default_factory=list)
    merges: dict[str, sql.MergeIn] = field(default_factory=lambda: defaultdict(sql.MergeIn))
    raises: list[Merged] = field(default_factory=list)
    """Merged reports more urgent than their incident (dispatch.cases.urgency raises it)."""
    produced_at: dict[str, datetime] = field(default_factory=dict)
    """When each new task's report entered Kafka, by task id (for report-to-task latency)."""


class IntakeService:
    def __init__(
        self,
        *,
        settings: Settings,
        rules: IntakeRules,
        locator: Locator,
        directory: Directory,
        metrics: IntakeMetrics,
        publish: Publish,
        publish_many: PublishMany | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.rules = rules
        self.locator = locator
        self.directory = directory
        self.metrics = metrics
        self.publish = publish
        self.publish_many = publish_many
        self.clock = clock
        self.case_rules = CaseRulesLoader(rules)
        self.surges = SurgeBook(rules, load_surge_policy())  # surge hook: warnings in force (dispatch.surge)
        self.topics = {
            name: settings.topic(name)
            for name in ("incidents", "dispatch.tasks", "dispatch.events", DLQ_TOPIC)
        }

    # --- the batch -------------------------------------------------------------------
    async def process(self, records: Sequence[Inbound], conn: AsyncConnection[Any]) -> BatchResult:
        now = self.clock()
        result = BatchResult(records=len(records))
        stage = self.metrics.stage_seconds
        t0 = time.perf_counter()
        reports, origins, letters = self._decode(records, now)
        stage.labels("decode").observe(time.perf_counter() - t0)

        t1 = time.perf_counter()
        located = self.locator.locate([r.report for r in reports], now)
        stage.labels("locate").observe(time.perf_counter() - t1)
        async with conn.transaction():
            # phase 1, one round trip: locks, what was seen before, merge candidates, open work
            t2 = time.perf_counter()
            async with conn.pipeline():
                await sql.lock(conn, self._lock_keys(located))
                seen = await sql.known_reports(conn, [str(r.report.report_id) for r in reports])
                near_q = await sql.nearby(conn, located, self.rules.merge)
                work_q = await open_work(conn, self.directory.ids(located))
                surge_q = await self.surges.send(conn, now)  # surge hook: the overlay of this batch
                known, near, loads = await seen.result(), await near_q.result(), await work_q.result()
                surge = await surge_q.result()
            stage.labels("read").observe(time.perf_counter() - t2)
            t3 = time.perf_counter()
            fresh = [i for i, r in enumerate(reports) if str(r.report.report_id) not in known]
            out, poisoned = self._decide(
                [reports[i] for i in fresh],
                [located[i] for i in fresh],
                [near[i] for i in fresh],
                loads=loads,
                origins=origins,
                now=now,
                surge=surge,
            )
            letters += poisoned
            stamp_reports(out.reports, self.settings.search_key)
            stage.labels("decide").observe(time.perf_counter() - t3)
            # phase 2: big tables staged by COPY (a round trip each), then one round trip for
            # every upsert of the batch
            t4 = time.perf_counter()
            writes = (
                (store.REPORTS, out.reports),
                (store.INCIDENTS, out.incidents),
                (store.TASKS, out.tasks),
                (store.EVENTS, out.events),
                (store.MERGE_WINDOW, out.window),
            )
            staged = [len(rows) >= COPY_FROM and await store.stage(conn, spec, rows) for spec, rows in writes]
            async with conn.pipeline():
                for (spec, rows), copied in zip(writes, staged, strict=True):
                    await (store.send_staged(conn, spec) if copied else store.send(conn, spec, rows))
                merged_q = await sql.merge_into(conn, out.merges, now)
                merged_rows = await merged_q.result()
            raised = await raise_merged(
                conn, out.raises, rules_for=self.case_rules, now=now, published_at=now
            )
            replay = await sql.replay_rows(conn, list(known.values()))
            stage.labels("write").observe(time.perf_counter() - t4)
            t5 = time.perf_counter()
        # the COMMIT's round trip and its WAL flush: a batch's fixed cost the other stages omit
        stage.labels("commit").observe(time.perf_counter() - t5)
        committed = datetime.now(UTC)
        t4 = time.perf_counter()
        result.published = await self._publish(out, merged_rows, raised, replay, letters)
        stage.labels("publish").observe(time.perf_counter() - t4)
        result.dead_letters = len(letters)
        result.replayed = len(reports) - len(fresh)
        result.opened = len(out.incidents)
        result.merged = sum(m.count for m in out.merges.values())
        result.tasks = len(out.tasks)
        result.latencies = [(committed - at).total_seconds() for at in out.produced_at.values()]
        self._count(result, reports, out)
        return result

    async def dead_letter(self, record: Inbound, exc: Exception) -> None:
        """Keep a record the pipeline could not process (after isolating it), with the reason."""
        source = source_of(record.topic, self.settings.topic_prefix)
        reason = f"$: could not be processed ({type(exc).__name__}); kept for review"
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate:
            reason = (
                f"$: refused by the database (SQLSTATE {sqlstate}, {type(exc).__name__}); kept for review"
            )
        letter = dead_letter(
            source, Stage.INTAKE, record.value, "$", reason, origin=record.origin, received_at=self.clock()
        )
        await (
            await self.publish(self.topics[DLQ_TOPIC], letter.source.encode(), encode(letter), DLQ_HEADERS)
        )
        self.metrics.dead_letters.labels(letter.stage.value, "$").inc()

    # --- steps -----------------------------------------------------------------------
    def _decode(
        self, records: Sequence[Inbound], now: datetime
    ) -> tuple[list[Decoded], dict[str, tuple[tuple[str, int, int], datetime | None]], list[DeadLetter]]:
        """Reports (first copy of each id), their Kafka origin by report and incident id, letters."""
        reports: list[Decoded] = []
        origins: dict[str, tuple[tuple[str, int, int], datetime | None]] = {}
        letters: list[DeadLetter] = []
        seen: set[str] = set()
        for record in records:
            source = source_of(record.topic, self.settings.topic_prefix)
            self.metrics.reports_in.labels(source).inc()
            decoded = decode(record, source=source, taxonomy=self.rules.taxonomy, now=now)
            if isinstance(decoded, DeadLetter):
                letters.append(decoded)
                continue
            rid = str(decoded.report.report_id)
            if rid in seen:
                continue
            seen.add(rid)
            reports.append(decoded)
            origin = ((record.topic, record.partition, record.offset), record.produced_at)
            origins[rid] = origin
        return reports, origins, letters

    async def _publish(
        self,
        out: _Outputs,
        merged_rows: list[Row],
        raised: list[Changes],
        replay: tuple[list[Row], list[Row], list[Row]],
        letters: list[DeadLetter],
    ) -> int:
        """Everything the batch committed, on its topics, delivered (acknowledged by the broker)
        before this returns, so the input is never acknowledged ahead of its outputs."""
        by_incident: dict[str, list[Row]] = defaultdict(list)
        for row in out.reports:
            by_incident[row["incident_id"]].append(row)
        incidents = [*out.incidents, *merged_rows, *(c.incident for c in raised), *replay[0]]
        tasks = [*out.tasks, *(t for c in raised for t in c.tasks), *replay[1]]
        events = [*out.events, *(e for c in raised for e in c.events), *replay[2]]
        documents = [
            *(incident_message(row, by_incident.get(str(row["incident_id"]), ())) for row in incidents),
            *(task_message(row) for row in tasks),
            *(event_message(row) for row in events),
        ]
        topics = self.topics
        out_messages: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = [
            (topics[m.topic], m.key, m.value, HEADERS) for m in documents
        ]
        for letter in letters:
            out_messages.append((topics[DLQ_TOPIC], letter.source.encode(), encode(letter), DLQ_HEADERS))
            self.metrics.dead_letters.labels(letter.stage.value, letter.field.split(".")[0]).inc()
        if self.publish_many is not None:
            pending = await self.publish_many(out_messages)
        else:
            pending = [await self.publish(*message) for message in out_messages]
        await asyncio.gather(*pending)
        return len(out_messages)

    def _lock_keys(self, located: list[LocatedReport]) -> set[int]:
        """The merge cells of every report that may merge (see dispatch.merging.lock_keys)."""
        policy = self.rules.merge
        keys: set[int] = set()
        for r in located:
            if r.lon is not None and r.lat is not None and policy.mergeable(r.category.family):
                keys.update(lock_keys(policy.problem_of(r.category.code), r.lon, r.lat, policy))
        return keys

    def _decide(
        self,
        reports: list[Decoded],
        located: list[LocatedReport],
        near: list[list[OpenIncident]],
        *,
        loads: dict[str, int],
        origins: dict[str, tuple[tuple[str, int, int], datetime | None]],
        now: datetime,
        surge: SurgeOverlay = NO_SURGE,
    ) -> tuple[_Outputs, list[DeadLetter]]:
        out = _Outputs()
        if not located:
            return out, []
        candidates = self.directory.for_batch(located, loads, at=now, calendar=self.rules.tk.working)
        by_id = {str(r.report.report_id): r for r in reports}
        try:
            decisions = self.rules.decide(located, nearby=near, candidates=candidates, now=now, surge=surge)
            poisoned: list[DeadLetter] = []
        except Exception:  # a bug met on some report: find it, keep it, go on with the rest
            log.exception("intake: a batch failed in decide(); isolating the record")
            decisions, poisoned = self._decide_one_by_one(
                located, near, candidates=candidates, by_id=by_id, origins=origins, now=now, surge=surge
            )
        for d in decisions:
            report = by_id[d.report.report_id]
            origin = origins[d.report.report_id][0]
            if isinstance(d, Merged):
                out.reports.append(
                    report_row(
                        report.report,
                        report.doc,
                        d.report,
                        incident_id=d.incident_id,
                        merged=True,
                        origin=origin,
                        now=now,
                    )
                )
                out.merges[d.incident_id].add(d.report.source, d.report.reported_at)
                if d.raised_from is not None:
                    out.raises.append(d)
                continue
            out.reports.append(
                report_row(
                    report.report,
                    report.doc,
                    d.report,
                    incident_id=d.incident_id,
                    merged=False,
                    origin=origin,
                    now=now,
                )
            )
            out.incidents.append(
                incident_row(
                    d,
                    report.report,
                    now=now,
                    policy_id=self.rules.policy_of(d.report.district_code).escalation.fingerprint,
                )
            )
            task = task_row(d, now=now)
            if task is not None:
                out.tasks.append(task)
            for event in d.events:
                is_dispatch = event.sequence == len(d.events) and task is not None
                out.events.append(
                    event_row(
                        event,
                        grid_code=d.report.grid_code,
                        district_code=d.report.district_code,
                        task_id=d.task_id if is_dispatch else None,
                        published_at=now,
                    )
                )
            window = merge_window_row(d, problem=self.rules.merge.problem_of(d.report.category.code))
            if window is not None:
                out.window.append(window)
            produced = origins[d.report.report_id][1]
            if d.task_id is not None and produced is not None:
                out.produced_at[d.task_id] = produced
        return out, poisoned

    def _decide_one_by_one(
        self,
        located: list[LocatedReport],
        near: list[list[Any]],
        *,
        candidates: Callable[[LocatedReport], Any],
        by_id: dict[str, Decoded],
        origins: dict[str, tuple[tuple[str, int, int], datetime | None]],
        now: datetime,
        surge: SurgeOverlay = NO_SURGE,
    ) -> tuple[list[Merged | Opened], list[DeadLetter]]:
        decisions: list[Merged | Opened] = []
        letters: list[DeadLetter] = []
        for r, stored in zip(located, near, strict=True):
            try:
                decisions += self.rules.decide(
                    [r], nearby=[stored], candidates=candidates, now=now, surge=surge
                )
            except Exception as exc:
                report = by_id[r.report_id]
                raw = orjson.dumps(report.doc)
                (topic, partition, offset), _ = origins[r.report_id]
                letters.append(
                    dead_letter(
                        r.source,
                        Stage.INTAKE,
                        raw,
                        "$",
                        f"$: internal error while dispatching ({type(exc).__name__}); kept for review",
                        origin=Inbound(topic, partition, offset, None, b"", None).origin,
                        received_at=now,
                        source_ref=report.report.source_ref,
                    )
                )
        return decisions, letters

    def _count(self, result: BatchResult, reports: list[Decoded], out: _Outputs) -> None:
        m = self.metrics
        m.batch_size.observe(result.records)
        for priority, n in Counter(i["priority"] for i in out.incidents).items():
            m.incidents_created.labels(priority).inc(n)
        for (kind, level), n in Counter((t["kind"], t["assignee_level"]) for t in out.tasks).items():
            m.tasks_created.labels(kind, level).inc(n)
        if result.merged:
            m.reports_merged.inc(result.merged)
        if result.replayed:
            m.duplicates_replayed.inc(result.replayed)
        for seconds in result.latencies:
            m.report_to_task_seconds.observe(max(seconds, 0.0))
