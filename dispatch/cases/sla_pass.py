"""One pass of the SLA tracker: every due step of every due incident, exactly once.

Deadlines are state, not timers: each incident stores its clocks (with the ladder steps already
taken) and `next_sla_at`, the earliest instant anything can be due. A pass claims due incidents
with `SELECT … FOR UPDATE SKIP LOCKED` (trackers in several workers share the work and never
take the same incident at once), takes their due steps, and writes the escalation events, the
clocks with `after_step(index)` and the new `next_sla_at` in the same transaction. A tracker
killed at any point either committed a step (it is recorded and never due again) or did not
(the incident is still due and the next pass takes it): no step is lost, none is taken twice.

An incident that cannot be worked (a clock past the working calendar's data, or a bug met on
one case) never stops the pass: it gets a note and an alarm, and is looked at again later.

Catching up (a pass that claimed a full batch, so another follows at once), a batch's documents
are delivered while the next batch is claimed and computed, and its events are marked
published in that next batch's transaction: the broker's acknowledgements and a commit per
batch are no longer waited for in line. The outbox guarantee is unchanged: an event is marked
only once the broker has it, and one left unmarked (a crash, a failed send) is published by the
relay. Events in flight are not the relay's: the worker's own relay settles the tracker's
delivery first (streams/sla/runtime.py), and the next pass locks them as its first statement, so
another worker's relay skips them (it can still take them in the moment between the two
transactions: a document then goes out twice, which its consumers drop by id and revision).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection

from dispatch.cases import queries as q
from dispatch.cases.commands import Route
from dispatch.cases.flows import CaseFlows
from dispatch.cases.steps import StepOutcome, take_due_steps
from dispatch.cases.work import CaseWork, Changes
from dispatch.codec import iso, when
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import Action
from dispatch.sla.errors import SlaError

log = logging.getLogger(__name__)
Conn = AsyncConnection[Any]
RECHECK = timedelta(hours=1)
"""How soon an incident whose clocks cannot be read (calendar data missing) is looked at again."""


@dataclass(frozen=True, slots=True)
class Pass:
    claimed: int
    steps: int
    reassigned: int
    alarms: int
    published: bool


class SlaTracker:
    def __init__(self, flows: CaseFlows, *, batch: int = 500) -> None:
        self.flows = flows
        self.batch = batch
        self._in_flight: tuple[asyncio.Task[bool], list[dict[str, Any]]] | None = None
        """The previous full batch's delivery and its events, marked by the next pass."""

    async def _delivered(self) -> list[dict[str, Any]]:
        """The events of the delivery in flight once the broker has them all ([] if it failed:
        the relay publishes them)."""
        if self._in_flight is None:
            return []
        task, events = self._in_flight
        self._in_flight = None
        return events if await task else []

    async def settle(self, conn: AsyncConnection[Any]) -> None:
        """Wait for the delivery in flight and mark its events (a pass that does not follow at
        once, and the process's stop, leave nothing unmarked behind)."""
        events = await self._delivered()
        if events:
            async with conn.transaction():
                await q.mark_published(conn, events, self.flows.clock())

    async def run_once(self, conn: AsyncConnection[Any], now: datetime | None = None) -> Pass:
        """Claim up to `batch` due incidents at `now` (default: the flows' clock) and step them.

        Batched: one claim, one read of their tasks, one read of their people's open work,
        the steps computed in memory, then one upsert per table for the whole batch. A case
        whose steps cannot be computed (calendar data missing, a bug met on it) is set aside
        with a note and never holds up the others.
        """
        now = now or self.flows.clock()
        metrics = self.flows.metrics
        steps = reassigned = alarms = 0
        changes: list[Changes] = []
        async with conn.transaction():
            if self._in_flight is not None:  # another worker's relay skips them from here on
                await q.hold_unpublished(conn, self._in_flight[1])
            due = await q.claim_due(conn, now, self.batch)
            await self.flows.refresh_calendar(conn)  # after the claim: an import committed before it is seen
            if due:
                oldest = min(when(str(i["next_sla_at"])) for i in due)
                metrics.sla_lag.set(max((now - oldest).total_seconds(), 0.0))
            else:
                metrics.sla_lag.set(0.0)
            tasks: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for task in await q.tasks_of(conn, [str(i["incident_id"]) for i in due]) if due else []:
                tasks[str(task["incident_id"])].append(task)
            routers = await self.flows.routers_for(conn, due) if due else None
            for incident in due:
                incident_id = str(incident["incident_id"])
                try:
                    assert routers is not None
                    change, outcome = await self._step(conn, incident, tasks[incident_id], routers, now)
                except (LifecycleError, SlaError) as exc:
                    log.exception("sla: incident %s could not be stepped; re-checking later", incident_id)
                    await self._defer(conn, incident_id, now, f"{type(exc).__name__}: {exc}")
                    alarms += 1
                    continue
                changes.append(change)
                steps += outcome.steps
                reassigned += outcome.reassigned
                if outcome.alarm:
                    alarms += 1
            if changes:
                await self.flows.write(conn, changes)
            delivered = await self._delivered()
            if delivered:
                await q.mark_published(conn, delivered, self.flows.clock())
        self._count(changes, reassigned, alarms)
        published = await self._publish(conn, changes, catching_up=len(due) >= self.batch)
        return Pass(len(due), steps, reassigned, alarms, published)

    def _count(self, changes: list[Changes], reassigned: int, alarms: int) -> None:
        metrics = self.flows.metrics
        for change in changes:
            for event in change.events:
                metrics.transitions.labels(event["action"], event["actor_role"]).inc()
                escalation = event["data"].get("escalation")
                if event["action"] == Action.ESCALATE.value and escalation:
                    metrics.escalations.labels(escalation["step"], escalation["clock"] or "manual").inc()
        metrics.reassigned.inc(reassigned)
        metrics.calendar_alarms.inc(alarms)

    async def _publish(self, conn: Conn, changes: list[Changes], *, catching_up: bool) -> bool:
        """Deliver the batch's documents; catching up, the next pass marks them (see the module doc)."""
        if not changes:
            return True
        delivery = asyncio.ensure_future(self.flows.deliver_documents(changes, {}))
        self._in_flight = (delivery, [e for c in changes for e in c.events])
        if catching_up:
            return True
        published = await delivery
        await self.settle(conn)
        return published

    async def _step(
        self,
        conn: AsyncConnection[Any],
        incident: dict[str, Any],
        tasks: list[dict[str, Any]],
        routers: Callable[[dict[str, Any]], Route],
        now: datetime,
    ) -> tuple[Changes, StepOutcome]:
        flows = self.flows
        incident_id = str(incident["incident_id"])
        work = CaseWork(incident, tasks, await flows.rules_for(conn, incident, now=now), now)
        route = routers(incident)
        outcome = take_due_steps(
            work, route=lambda w: route(w, Action.REASSIGN), targets=flows.targets_for(work)
        )
        change = work.finish()
        if outcome.alarm:
            change.incident["sla_note"] = outcome.alarm
            log.warning("sla: incident %s: %s", incident_id, outcome.alarm)
        nxt = change.incident.get("next_sla_at")
        if nxt is not None and when(str(nxt)) <= now:
            change.incident["next_sla_at"] = iso(now + RECHECK)
        return change, outcome

    async def _defer(self, conn: AsyncConnection[Any], incident_id: str, now: datetime, note: str) -> None:
        await conn.execute(
            "UPDATE incidents SET next_sla_at = %s, sla_note = %s WHERE incident_id = %s",
            (now + RECHECK, note[:2000], incident_id),
        )
