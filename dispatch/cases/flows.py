"""Side effects of case changes: one transaction per command, then publish, then mark.

Order: load the incident `FOR UPDATE`, work the change out in memory
(`dispatch.cases.work`), write the incident (revision + 1), its tasks and its events with
`published_at` NULL in ONE transaction, commit, publish the documents
(`dispatch.cases.documents`), and mark the events published. A crash or a broker outage
between commit and mark leaves the events unpublished: `relay` (run periodically by the
worker and the API) publishes them and everything they imply. The writer holds its events
(row locks) while it delivers them, so a relay pass at that moment skips them: without a failure
each event is published once. Consumers are idempotent on event ids and revisions, so a document
published twice (a crash between the acknowledgement and the mark) changes nothing.

Idempotency for HTTP retries: with a key, the command is recorded in `api_requests` in the same
transaction; a retry with the same key returns the stored answer and applies nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from psycopg import AsyncConnection

from config.policy import Priority
from config.settings import Settings
from dispatch import store
from dispatch.calendar.imported_years import sync_calendar
from dispatch.cases import queries as q
from dispatch.cases import split as split_rules
from dispatch.cases.case_rules import CaseRulesLoader
from dispatch.cases.commands import Command, Route, perform
from dispatch.cases.documents import HEADERS, Message, messages, needs_reports
from dispatch.cases.people import People
from dispatch.cases.split import StoredReport
from dispatch.cases.urgency import raise_by_case, raised_row
from dispatch.cases.work import Assignment, CaseRules, CaseWork, Changes, routing_incident
from dispatch.intake.rules import IntakeRules, Opened
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.lifecycle.case import Actor, CaseSnapshot
from dispatch.lifecycle.errors import DetailError, LifecycleError
from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.positions import service as positions
from dispatch.positions.service import load_max_age
from dispatch.routing.values import Candidate
from dispatch.rows import event_row, merge_window_row, opened_incident_row, task_row
from dispatch.sla.ladder import LadderTarget

log = logging.getLogger(__name__)
Row = dict[str, Any]
Conn = AsyncConnection[Any]
ROUTING_ACTIONS = frozenset({Action.RETURN, Action.REOPEN, Action.REASSIGN, Action.DISPATCH, Action.REGISTER})


class Sender(Protocol):
    """Send one record; the returned awaitable resolves when the broker acknowledged it
    (aiokafka's `AIOKafkaProducer.send`, faust's `app.producer.send`, wrapped)."""

    def __call__(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Awaitable[Awaitable[Any]]: ...


SendMany = Callable[[list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]]], Awaitable[list[Any]]]
"""Send many records at once (a worker's batching producer); the awaitables it returns
resolve when the broker has acknowledged them all."""


class CaseHook(Protocol):
    """Another domain's part of a case change (the volunteers' claims and points), run in the
    command's transaction after the lifecycle accepted it and before anything is written: it
    may refuse (raise, and nothing is written) or write rows of its own, committed together."""

    async def __call__(self, conn: Conn, work: CaseWork, before: CaseSnapshot) -> None: ...


class CaseNotFound(LifecycleError):
    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id} not found")


class KeyReused(LifecycleError):
    """An idempotency key sent again with a different command."""


@dataclass(frozen=True, slots=True)
class SplitOutcome:
    """A split's answer: the case left (`incident`, `tasks`, `events`) and, under `split`, the
    case the report now is (same three keys), as stored and published."""

    body: Row
    replayed: bool = False

    def doc(self) -> Row:
        return self.body


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command changed (as stored and published); `replayed`: an idempotent retry."""

    incident: Row
    tasks: list[Row]
    events: list[Row]
    replayed: bool = False

    def doc(self) -> Row:
        return {"incident": self.incident, "tasks": self.tasks, "events": self.events}


def fingerprint(incident_id: str, command: Command) -> str:
    body = orjson.dumps(
        {"incident_id": incident_id, **command.fingerprint_fields()}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(body).hexdigest()


class CaseFlows:
    """The case flows of one process (API or worker), over its rules, people and publisher."""

    def __init__(
        self,
        settings: Settings,
        rules: IntakeRules,
        people: People,
        send: Sender,
        *,
        metrics: DispatchMetrics,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.hooks: list[CaseHook] = []
        self.settings = settings
        self.rules = rules
        self.people = people
        self.send = send
        self.send_many: SendMany | None = None
        """A worker's batching producer, when it has one (set by its composition root)."""
        self.metrics = metrics
        self.clock = clock
        self._case_rules = CaseRulesLoader(rules)
        self.position_max_age = load_max_age()

    # --- what a case is computed with ------------------------------------------------------
    async def refresh_calendar(self, conn: Conn) -> bool:
        """Bring the working calendar up to the imported years (every tracker pass and scrape);
        True when it changed. Sets the gauge of how long the calendar is authoritative."""
        calendar = self.rules.tk.working
        changed = await sync_calendar(conn, calendar, self.rules.sla)
        self.metrics.calendar_until.set(calendar.authoritative_until.timestamp())
        return changed

    async def rules_for(self, conn: Conn, incident: Row, *, now: datetime | None = None) -> CaseRules:
        """The case's rules at `now` (default: the flows' clock; a surge's scaling holds in time)."""
        return await self._case_rules(conn, incident, now=now or self.clock())

    async def router_for(self, conn: Conn, incident: Row) -> Route:
        """A router over the people around the case, with their open work as stored now and,
        for those who share it, their last position (not their home) for "nearest"."""
        return (await self.routers_for(conn, [incident]))(incident)

    async def people_around(self, conn: Conn, incident: Row, now: datetime) -> list[Candidate]:
        """The people around the case as routing sees them at `now`: their stored open work,
        their shared position when fresh, their dated shift exceptions applied (the board's
        reassignment picker, over `Router.eligible`)."""
        people = self.people.near(incident)
        ids = sorted({c.worker_id for c in people})
        loads = await (await q.open_work(conn, ids)).result()
        shared = await positions.fresh(conn, ids, now=now, max_age=self.position_max_age)
        placed = positions.placed(People.loaded(people, loads), shared)
        return self.people.directory.on_duty_at(placed, now, self.rules.tk.working)

    async def routers_for(self, conn: Conn, incidents: Sequence[Row]) -> Callable[[Row], Route]:
        """Routers for a batch of cases, over their people's open work and shared positions,
        each read in one query.

        Work given out by one of them is counted by the others (the batch is one transaction,
        so nothing stored yet shows it), as the intake counts its own batch's assignments.
        """
        near = {str(i["incident_id"]): self.people.near(i) for i in incidents}
        ids = sorted({c.worker_id for n in near.values() for c in n})
        stored = await (await q.open_work(conn, ids)).result()
        shared = await positions.fresh(conn, ids, now=self.clock(), max_age=self.position_max_age)
        given: Counter[str] = Counter()
        router = self.rules.router

        def for_incident(incident: Row) -> Route:
            people = near[str(incident["incident_id"])]

            def route(work: CaseWork, why: Action) -> Assignment | None:
                loads = stored
                if given:  # only this case's people: the batch's other people are not read here
                    loads = {
                        c.worker_id: stored.get(c.worker_id, 0) + given[c.worker_id]
                        for c in people
                        if c.worker_id in stored or c.worker_id in given
                    }
                candidates = self.people.directory.on_duty_at(
                    positions.placed(People.loaded(people, loads), shared), work.now, self.rules.tk.working
                )
                where = routing_incident(work.incident)
                case = work.case
                if why is Action.RETURN:
                    decision = router.reroute_after_return(
                        where, candidates, work.now, returned_by=case.returned_by, returns=case.returns
                    )
                elif why is Action.REASSIGN and case.assignee_id:
                    decision = router.route(
                        where, candidates, work.now, exclude={case.assignee_id}, returns=case.returns
                    )
                else:
                    decision = router.route(where, candidates, work.now, returns=case.returns)
                assignment = Assignment.from_decision(decision)
                if assignment is not None and assignment.worker_id != case.assignee_id:
                    given[assignment.worker_id] += 1
                return assignment

            return route

        return for_incident

    def targets_for(self, work: CaseWork) -> Callable[[LadderTarget], list[str]]:
        return lambda target: self.people.targets(work.incident, work.case.assignee_id, target)

    # --- commands ---------------------------------------------------------------------------
    async def transition(
        self, conn: Conn, incident_id: str, command: Command, *, key: str | None = None
    ) -> Outcome:
        """Apply one command to one case (see the module doc); lifecycle errors propagate."""
        now = self.clock()
        actor_key = f"{command.actor.role.value}:{command.actor.actor_id}"
        async with conn.transaction():
            if key is not None:
                fp = fingerprint(incident_id, command)
                fresh, stored_fp, response = await q.claim_key(conn, actor_key, key, fp, incident_id)
                if not fresh:
                    if stored_fp != fp or response is None:
                        raise KeyReused(f"Idempotency-Key {key!r} was already used for a different command")
                    return Outcome(response["incident"], response["tasks"], response["events"], replayed=True)
            merge = command.merged_into if command.action is Action.MERGE else None
            locked = await q.lock_incidents(conn, [incident_id, *([merge] if merge else [])])
            incident = locked.get(incident_id)
            if incident is None or not in_scope(command.actor, incident):
                raise CaseNotFound(incident_id)  # out of scope looks exactly like absent
            tasks = await q.tasks_of(conn, [incident_id])
            work = CaseWork(incident, tasks, await self.rules_for(conn, incident, now=now), now)
            route = await self.router_for(conn, incident) if command.action in ROUTING_ACTIONS else _no_route
            before = work.case
            perform(work, command, route=route, roles=self.people.roles, targets=self.targets_for(work))
            for hook in self.hooks:
                await hook(conn, work, before)
            changes = [work.finish()]
            if merge:
                changes.append(await self._absorb(conn, locked, command, changes[0].incident, now))
            await self.write(conn, changes)
            reports = await q.original_reports(conn, sorted(needs_reports(changes[0].events)))
            # as JSON (times as RFC 3339 text): a replay from `api_requests` answers the same
            doc = orjson.loads(
                orjson.dumps(Outcome(changes[0].incident, changes[0].tasks, changes[0].events).doc())
            )
            outcome = Outcome(doc["incident"], doc["tasks"], doc["events"])
            if key is not None:
                await q.store_response(conn, actor_key, key, outcome.doc())
        for event in outcome.events:
            self.metrics.transitions.labels(event["action"], event["actor_role"]).inc()
        await self.publish(conn, changes, reports)
        return outcome

    async def split(
        self,
        conn: Conn,
        incident_id: str,
        report_id: str,
        *,
        actor: Actor,
        reason: str,
        key: str | None = None,
    ) -> SplitOutcome:
        """Take a report out of its case into a case of its own, routed (`dispatch.cases.split`).

        One transaction: the `split` event on the case, the new case (report, register and
        dispatch events, its task, its merge window), the report moved; then both published.
        """
        now = self.clock()
        command = Command(Action.SPLIT, actor, reason=reason, report_id=report_id)
        actor_key = f"{actor.role.value}:{actor.actor_id}"
        async with conn.transaction():
            if key is not None:
                fp = fingerprint(incident_id, command)
                fresh, stored_fp, response = await q.claim_key(conn, actor_key, key, fp, incident_id)
                if not fresh:
                    if stored_fp != fp or response is None:
                        raise KeyReused(f"Idempotency-Key {key!r} was already used for a different command")
                    return SplitOutcome(response, replayed=True)
            locked = await q.lock_incidents(conn, [incident_id])
            incident = locked.get(incident_id)
            if incident is None or not in_scope(actor, incident):
                raise CaseNotFound(incident_id)
            report = split_rules.check_splittable(incident_id, await q.stored_report(conn, report_id))
            category = self.rules.taxonomy.category(report.category)
            grid = report.grid_code
            street = grid[: split_rules.STREET_DIGITS] if grid else None
            where = split_rules.located(
                report, category, incident, await q.street_name(conn, street) if street else None
            )
            near = self.people.near(
                {"grid_code": where.grid_code, "community_code": where.community_code, "street_code": street}
            )
            loads = await (await q.open_work(conn, (c.worker_id for c in near))).result()
            [opened] = self.rules.decide(
                [where], nearby=[[]], candidates=lambda _: People.loaded(near, loads), now=now
            )
            assert isinstance(opened, Opened)  # nothing to merge into: it opens
            tasks = await q.tasks_of(conn, [incident_id])
            work = CaseWork(incident, tasks, await self.rules_for(conn, incident, now=now), now)
            family = (await q.original_reports(conn, [incident_id])).get(incident_id, [])
            remaining = [r["source"] for r in family if r["report_id"] != report_id]
            split_rules.release(work, report, opened, actor=actor, reason=reason, remaining=remaining)
            changes = [_as_json(work.finish()), _as_json(self._opened_changes(opened, report))]
            await q.move_report(conn, report_id, opened.incident_id)
            await self.write(conn, changes)
            window = merge_window_row(opened, problem=self.rules.merge.problem_of(category.code))
            await store.upsert(conn, store.MERGE_WINDOW, [window] if window else [])
            doc = orjson.loads(
                orjson.dumps(
                    {
                        **Outcome(changes[0].incident, changes[0].tasks, changes[0].events).doc(),
                        "split": Outcome(changes[1].incident, changes[1].tasks, changes[1].events).doc(),
                    }
                )
            )
            if key is not None:
                await q.store_response(conn, actor_key, key, doc)
        for change in changes:
            for event in change.events:
                self.metrics.transitions.labels(event["action"], event["actor_role"]).inc()
        await self.publish(conn, changes, {})
        return SplitOutcome(doc)

    def _opened_changes(self, opened: Opened, report: StoredReport) -> Changes:
        """The rows of a case the split opened, as the intake builds them (events via the outbox)."""
        now = self.clock()
        row = opened_incident_row(
            opened,
            address=report.address,
            description=report.description,
            now=now,
            policy_id=self.rules.policy_of(opened.report.district_code).escalation.fingerprint,
        )
        task = task_row(opened, now=now)
        events = []
        for event in opened.events:
            is_dispatch = task is not None and event.sequence == len(opened.events)
            ev = event_row(
                event,
                grid_code=opened.report.grid_code,
                district_code=opened.report.district_code,
                task_id=opened.task_id if is_dispatch else None,
            )
            ev["street_code"] = opened.report.street_code
            events.append(ev)
        events[0]["data"] = {**events[0]["data"], "split_from": report.incident_id}
        return Changes(row, [task] if task else [], events, closed_window=False)

    async def _absorb(
        self, conn: Conn, locked: dict[str, Row], command: Command, merged: Row, now: datetime
    ) -> Changes:
        """The merge target takes the merged case's sources and reports (and so its feedback)."""
        target_id = str(command.merged_into)
        target = locked.get(target_id)
        if target is None or CaseState(target["state"]) not in OPEN or not in_scope(command.actor, target):
            raise DetailError(
                "merged_into", f"no open incident {target_id} in your scope to merge into", code="not_found"
            )
        tasks = await q.tasks_of(conn, [target_id])
        before = Priority(target["priority"])
        raises = Priority(merged["priority"]).rank < before.rank
        category = self.rules.taxonomy.category(str(merged["category"]))
        if raises:  # urgency is never lost: the target takes the more urgent case's priority
            target = raised_row(target, category, Priority(merged["priority"]))
        work = CaseWork(target, tasks, await self.rules_for(conn, target, now=now), now)
        work.absorb(merged)
        if raises:
            raise_by_case(work, merged, category, before)
            await q.raise_in_merge_window(
                conn, [(target_id, str(merged["priority"]), category.lead_department)]
            )
        return work.finish()

    # --- writing and publishing ------------------------------------------------------------
    async def write(self, conn: Conn, changes: Sequence[Changes]) -> None:
        await store.upsert(conn, store.INCIDENTS, [c.incident for c in changes])
        await store.upsert(conn, store.TASKS, [t for c in changes for t in c.tasks])
        await store.upsert(conn, store.EVENTS, [e for c in changes for e in c.events])
        await q.leave_merge_window(conn, [str(c.incident["incident_id"]) for c in changes if c.closed_window])

    async def deliver(self, out: Sequence[Message]) -> None:
        """Send every message and wait for the broker's acknowledgements."""
        topic = self.settings.topic
        if self.send_many is not None:
            pending = await self.send_many([(topic(m.topic), m.key, m.value, HEADERS) for m in out])
        else:
            pending = [await self.send(topic(m.topic), m.key, m.value, HEADERS) for m in out]
        await asyncio.gather(*pending)
        for m in out:
            self.metrics.published.labels(
                m.topic.split(".")[0] if m.topic.startswith("feedback.") else m.topic
            ).inc()

    async def deliver_documents(self, changes: Sequence[Changes], reports: dict[str, list[Row]]) -> bool:
        """After commit: every document of the changes, acknowledged by the broker; False when
        it failed (the outbox keeps the events for the relay)."""
        out = messages(
            [c.incident for c in changes],
            [t for c in changes for t in c.tasks],
            [e for c in changes for e in c.events],
            reports,
        )
        try:
            await self.deliver(out)
        except Exception:  # the broker is unavailable; the outbox keeps the events
            log.warning(
                "publishing %d documents failed; the outbox relay will retry", len(out), exc_info=True
            )
            return False
        return True

    async def publish(self, conn: Conn, changes: Sequence[Changes], reports: dict[str, list[Row]]) -> bool:
        """After commit: publish and mark; on failure leave the events to the relay.

        The events are held (row locks, as the relay holds what it claims) from before the
        delivery until they are marked, so a relay pass meanwhile skips them; events a relay
        claimed first, between the commit and the hold, are left to it. Without a failure each
        event, and the feedback it implies, is published once; a crash between the broker's
        acknowledgement and the mark publishes it again (consumers drop repeats by event id).
        """
        events = [e for c in changes for e in c.events]
        async with conn.transaction():
            held = await q.hold_unpublished(conn, events)
            if events and not held:
                return True  # a relay has them (and publishes their incident and tasks with them)
            if len(held) < len(events):
                changes = [replace(c, events=[e for e in c.events if _event_key(e) in held]) for c in changes]
            if not await self.deliver_documents(changes, reports):
                return False
            await q.mark_published(conn, [e for c in changes for e in c.events], self.clock())
        return True

    async def relay(self, conn: Conn, *, limit: int = 500) -> int:
        """Publish events left unpublished (with their incident, tasks and feedback); returns how many."""
        async with conn.transaction():
            events = await q.claim_unpublished(conn, limit)
            if not events:
                return 0
            ids = sorted({str(e["incident_id"]) for e in events})
            out = messages(
                await q.incidents(conn, ids),
                await q.tasks_of(conn, ids),
                events,
                await q.original_reports(conn, sorted(needs_reports(events))),
            )
            await self.deliver(out)
            await q.mark_published(conn, events, self.clock())
        self.metrics.relayed.inc(len(events))
        return len(events)


def in_scope(actor: Actor, incident: Row) -> bool:
    """Whether the case is the actor's to see at all (checked before the lifecycle's rules, so
    a refusal never tells an outsider the state of a case that is not theirs)."""
    if actor.role is Role.OPERATOR:
        return actor.scope.admits(incident)
    if actor.role is Role.GRID_WORKER:
        return actor.actor_id == incident.get("assignee_id")
    if actor.role is Role.AGENCY:
        return actor.actor_id in (incident.get("sources") or ())
    return True


def _as_json(changes: Changes) -> Changes:
    """The rows as JSON values (times as RFC 3339 text): rows built by the intake's builders and
    rows of loaded cases go into one statement, which needs one type per column."""
    doc = orjson.loads(orjson.dumps({"i": changes.incident, "t": changes.tasks, "e": changes.events}))
    return Changes(doc["i"], doc["t"], doc["e"], changes.closed_window)


def _event_key(event: Row) -> tuple[str, int]:
    return str(event["incident_id"]), int(event["sequence"])


def _no_route(work: CaseWork, why: Action) -> Assignment | None:
    raise AssertionError(f"{why} does not route")
