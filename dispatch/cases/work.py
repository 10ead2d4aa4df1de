"""One case's change worked out in memory: transitions, clock effects, task and event rows.

`CaseWork` starts from the stored incident row and its task rows (as the JSON documents of
`dispatch.rows`), applies lifecycle actions one after another (`act`), and `finish()` returns
the rows to write and publish: the incident (revision + 1), the tasks that changed, the new
events (outbox: `published_at` NULL). It does no I/O and reads no clock: the caller passes
`now` and, for actions that hand the case to someone, the `Assignment` the router chose.

Side effects hang off the action, in one table-like method (`_tasks_after`):
accept / arrive / resolve stamp the active task; return and reassign end it (a new task is
created for the next holder); merge, reject, withdraw, expire, void and close end every active
task.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from config.policy import Duration, Priority
from dispatch.codec import case_columns, case_from, clocks_doc, clocks_from, iso
from dispatch.intake.rules import task_id_for
from dispatch.lifecycle.case import Actor, CaseEvent, CaseSnapshot
from dispatch.lifecycle.machine import apply
from dispatch.lifecycle.states import Action, CaseState
from dispatch.models import Light, TaskStatus
from dispatch.routing.values import DecisionKind, RoutingDecision, RoutingIncident
from dispatch.rows import event_row, new_task_row
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.clocks import CaseLimits, ClockName, ClockState, ClockStatus, apply_effects
from dispatch.sla.escalation import next_check
from dispatch.sla.ladder import EscalationPolicy, LadderTarget
from dispatch.sla.policy import ExtensionPolicy

Row = dict[str, Any]

LEVEL_RANK: dict[str, int] = {
    LadderTarget.ASSIGNEE.value: 0,
    LadderTarget.COMMUNITY_LEAD.value: 1,
    LadderTarget.STREET_CENTER.value: 2,
    LadderTarget.DISTRICT_CENTER.value: 3,
}
"""How high a case has climbed (小事不出村、大事不出镇): escalation_level only goes up."""

_STAMPS = {
    Action.ACCEPT: "accepted_at",
    Action.ARRIVE: "arrived_at",
    Action.RESOLVE: "resolved_at",
    Action.VOLUNTEER_RESOLVE: "resolved_at",  # the holder's task records the volunteer's work
}
_RESOLVES = frozenset({Action.RESOLVE, Action.VOLUNTEER_RESOLVE})
_ENDS_CASE = frozenset({Action.MERGE, Action.REJECT, Action.WITHDRAW, Action.EXPIRE, Action.VOID})
"""Every active task is withdrawn (cancelled, with the event's reason)."""
LADDER_ROLES = frozenset({"community_lead", "street_center", "district_center"})
_ACTIVE = TaskStatus.ACTIVE.value  # read once: `current_task` is asked many times per step


@dataclass(frozen=True, slots=True)
class CaseRules:
    """What one case's transitions are computed with: its limits and its frozen ladder."""

    limits: CaseLimits
    policy: EscalationPolicy
    tk: Timekeeper
    extension: ExtensionPolicy


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who gets the next task, as what, and why (from the router or an operator's choice)."""

    worker_id: str
    role: str
    level: str  # the routing rule that picked them: eligible_worker, community_lead, ...
    kind: DecisionKind
    reason: str

    @classmethod
    def from_decision(cls, decision: RoutingDecision) -> Assignment | None:
        if decision.worker_id is None or decision.role is None:
            return None
        return cls(decision.worker_id, decision.role, decision.rule.value, decision.kind, decision.reason)


@dataclass(frozen=True, slots=True)
class Changes:
    """What one unit of work writes (in one transaction) and then publishes."""

    incident: Row
    tasks: list[Row]
    events: list[Row]
    closed_window: bool  # the case left the merge window (merged, rejected, closed)


@dataclass
class _Extras:
    data: dict[str, Any] = field(default_factory=dict)


def point_of(geom: str | None) -> tuple[float | None, float | None]:
    """(lon, lat) of an EWKT point 'SRID=4326;POINT(lon lat)' as the rows carry it."""
    if not geom or "POINT(" not in geom:
        return None, None
    lon, lat = geom.split("POINT(", 1)[1].rstrip(")").split()
    return float(lon), float(lat)


def routing_incident(incident: Mapping[str, Any]) -> RoutingIncident:
    lon, lat = point_of(incident.get("geom"))
    return RoutingIncident(
        str(incident["incident_id"]),
        incident["category"],
        Priority(incident["priority"]),
        incident.get("grid_code"),
        incident.get("community_code"),
        incident.get("street_code"),
        lon,
        lat,
        incident.get("district_code"),
    )


def task_kind(incident: Mapping[str, Any]) -> DecisionKind:
    """P0 and agency-led cases are led by the agency: the grid's task is an assist, always."""
    if incident.get("agency_led") or incident.get("priority") == Priority.P0.value:
        return DecisionKind.ASSIST
    return DecisionKind.MAIN


def level_of_role(role: str) -> str:
    return role if role in LADDER_ROLES else "eligible_worker"


def light_of(policy: EscalationPolicy, clocks: Iterable[ClockState]) -> Light:
    """Red when a step at or past the limit was taken on an open clock, yellow for an earlier
    step (80 %), green otherwise: the light changes exactly when the ladder says so."""
    light = Light.GREEN
    for clock in clocks:
        ladder = policy.ladder_for(clock.name)
        if ladder is None or clock.status is ClockStatus.STOPPED or clock.steps_taken == 0:
            continue
        if ladder.steps[clock.steps_taken - 1].at >= 1.0:
            return Light.RED
        light = Light.YELLOW
    return light


def _stop_report(before: Mapping[ClockName, ClockState], after: Mapping[ClockName, ClockState]) -> Row:
    """Each clock this transition stopped, with the time it used and whether it overran."""
    out: Row = {}
    for name, clock in after.items():
        old = before.get(name)
        if clock.status is ClockStatus.STOPPED and old is not None and old.status is not ClockStatus.STOPPED:
            out[name.value] = {
                "used_s": clock.used.total_seconds(),
                "budget_s": clock.budget.total_seconds(),
                "late": clock.used > clock.budget,
            }
    return out


class CaseWork:
    """A loaded case being changed. Not thread-safe; one per transaction."""

    def __init__(
        self,
        incident: Mapping[str, Any],
        tasks: Sequence[Mapping[str, Any]],
        rules: CaseRules,
        now: datetime,
        *,
        clocks: Mapping[ClockName, ClockState] | None = None,
        documents: bool = True,
    ):
        """`clocks`: the incident's clocks as values when the caller holds them already (the
        intake's decision that wrote `incident["clocks"]`), instead of parsing the document.

        `documents=False`: the caller reads only what each event did, never writes or publishes
        it (the what-if replay, `dispatch.replay.simulation`): each of `events` is then an
        outcome row, `{"action": …, "data": …}` with only the data this module adds (the clocks
        an event stopped, `on_time`, the caller's `data`), not the event document of
        `dispatch.rows.event_row`, and escalation documents are cut to what the replay counts
        (`dispatch.cases.steps.take_due_steps`). A month's replay builds ~1.5 M of those
        documents otherwise, for nobody."""
        if now.tzinfo is None:
            raise ValueError("now: pass a timezone-aware datetime")
        self.rules = rules
        self.now = now
        self.incident: Row = dict(incident)
        self.incident_id = str(incident["incident_id"])
        self.case: CaseSnapshot = case_from(incident)
        self.clocks: dict[ClockName, ClockState] = (
            clocks_from(incident["clocks"]) if clocks is None else dict(clocks)
        )
        self.tasks: dict[str, Row] = {str(t["task_id"]): dict(t) for t in tasks}
        self.changed: list[str] = []
        self.events: list[Row] = []
        self.level: str | None = incident.get("escalation_level")
        self.closed_window = False
        self.documents = documents

    # --- reading ------------------------------------------------------------------------
    @property
    def state(self) -> CaseState:
        return self.case.state

    @property
    def current_task(self) -> Row | None:
        task_id = self.incident.get("current_task_id")
        task = self.tasks.get(str(task_id)) if task_id else None
        return task if task is not None and task["status"] == _ACTIVE else None

    # --- changing -----------------------------------------------------------------------
    def act(
        self,
        action: Action,
        actor: Actor,
        reason: str | None = None,
        *,
        assignment: Assignment | None = None,
        merged_into: str | None = None,
        extension: Duration | None = None,
        note: str | None = None,
        photos: Sequence[str] = (),
        data: Mapping[str, Any] | None = None,
    ) -> CaseEvent:
        """Apply one lifecycle action (checked by `dispatch.lifecycle.apply`) and its effects."""
        result = apply(
            self.case,
            action,
            actor,
            self.now,
            reason,
            extension_policy=self.rules.extension,
            assignee=assignment.worker_id if assignment else None,
            merged_into=merged_into,
            extension=extension,
        )
        before = self.clocks
        self.clocks = apply_effects(
            before, result.clock_effects, self.now, limits=self.rules.limits, tk=self.rules.tk
        )
        self.case = result.case
        event = result.event
        task_id = self._tasks_after(event, assignment, note, tuple(photos))
        extras: Row = dict(data or {})
        stops = _stop_report(before, self.clocks)
        if stops:
            extras["sla"] = stops
        if note:
            extras["note"] = note
        if photos:
            extras["photos"] = list(photos)
        if action is Action.CLOSE:
            extras["on_time"] = self._closed_on_time()
        if self.documents:
            row = event_row(
                event,
                grid_code=self.incident.get("grid_code"),
                district_code=self.incident.get("district_code"),
                task_id=task_id,
            )
            row["street_code"] = self.incident.get("street_code")
            if extras:
                row["data"].update(extras)  # the row's own document, built just above
        else:
            row = {"action": action.value, "data": extras}
        self.events.append(row)
        if action in _ENDS_CASE or action is Action.CLOSE:
            self.closed_window = True
        return event

    def took_step(self, clock: ClockName, index: int, level: str | None) -> None:
        """Record an escalation step on its clock (never returned again) and the level reached."""
        self.clocks[clock] = self.clocks[clock].after_step(index)
        self.raise_level(level)

    def raise_level(self, level: str | None) -> None:
        if level is None or level not in LEVEL_RANK:
            return
        if self.level is None or LEVEL_RANK[level] > LEVEL_RANK.get(self.level, -1):
            self.level = level

    def absorb(self, other: Mapping[str, Any]) -> None:
        """This case is the target of an operator merge: it takes the other's sources and reports."""
        sources = frozenset(self.case.sources) | frozenset(other.get("sources") or ())
        self.case = replace(self.case, sources=sources)
        self.incident["report_count"] = int(self.incident["report_count"]) + int(other["report_count"])
        self.incident["last_reported_at"] = max(
            str(self.incident["last_reported_at"]), str(other["last_reported_at"])
        )

    def assist_beside(self, lead_department: str, why: str) -> str | None:
        """The grid's current task becomes an `assist` beside the agency that leads (a P0):
        same holder, same task id, the leading agency named in its reason. Returns its id."""
        current = self.current_task
        if current is None or current["kind"] == DecisionKind.ASSIST.value:
            return None
        self._touch(
            current,
            kind=DecisionKind.ASSIST.value,
            routing_reason=f"{why}; agency-led ({lead_department} leads): the grid assists",
        )
        return str(current["task_id"])

    def finish(self) -> Changes:
        inc = self.incident
        case = self.case
        next_at, note = next_check(self.rules.policy, self.clocks, self.now, self.rules.tk)
        terminal = case.state in (CaseState.MERGED, CaseState.REJECTED, CaseState.CLOSED)
        current = self.current_task
        inc.update(
            case_columns(case),
            revision=int(inc["revision"]) + 1,
            updated_at=iso(self.now),
            current_task_id=current["task_id"] if current else None,
            clocks=clocks_doc(self.clocks),
            next_sla_at=None if terminal or next_at is None else iso(next_at),
            light=light_of(self.rules.policy, self.clocks.values()).value,
            escalation_level=self.level,
            sla_note=note,
        )
        if case.state is CaseState.CLOSED:
            inc["closed_at"] = iso(self.now)
        elif case.state is CaseState.REOPENED:
            inc["closed_at"] = None
        tasks = [self.tasks[t] for t in dict.fromkeys(self.changed)]
        return Changes(inc, tasks, list(self.events), self.closed_window)

    # --- effects on tasks ---------------------------------------------------------------
    def _touch(self, task: Row, **changes: Any) -> None:
        task.update(changes)
        task["revision"] = int(task["revision"]) + 1
        self.changed.append(str(task["task_id"]))

    def _end(self, status: TaskStatus, reason: str | None) -> str | None:
        """End every active task of the case; returns the current one's id (for the event)."""
        current = self.current_task
        for task in self.tasks.values():
            if task["status"] == _ACTIVE:
                self._touch(task, status=status.value, ended_at=iso(self.now), end_reason=reason)
        return str(current["task_id"]) if current else None

    def _new_task(self, event: CaseEvent, assignment: Assignment) -> str:
        task_id = task_id_for(self.incident_id, event.sequence)
        self.tasks[task_id] = new_task_row(
            task_id=task_id,
            incident_id=self.incident_id,
            kind=assignment.kind.value,
            assignee_id=assignment.worker_id,
            level=assignment.level,
            role=assignment.role,
            grid_code=self.incident.get("grid_code"),
            street_code=self.incident.get("street_code"),
            reason=assignment.reason,
            created_at=iso(self.now),
            revision=0,
        )
        self._touch(self.tasks[task_id])
        self.incident["current_task_id"] = task_id
        return task_id

    def _tasks_after(
        self, event: CaseEvent, assignment: Assignment | None, note: str | None, photos: tuple[str, ...]
    ) -> str | None:
        """The task side of an event; returns the task the event is about."""
        action = event.action
        current = self.current_task
        task_id = str(current["task_id"]) if current else None
        if action in _STAMPS and current is not None:
            changes: Row = {_STAMPS[action]: iso(self.now)}
            if action in _RESOLVES:
                changes["notes"] = note
                changes["photos"] = [*(current.get("photos") or []), *photos]
            self._touch(current, **changes)
        elif action is Action.RETURN:
            task_id = self._end(TaskStatus.RETURNED, event.reason)
        elif action in (Action.REASSIGN, Action.DISPATCH):
            if action is Action.REASSIGN:
                self._end(TaskStatus.REASSIGNED, event.reason)
            assert assignment is not None  # the lifecycle refuses these without an assignee
            task_id = self._new_task(event, assignment)
        elif action in _ENDS_CASE:
            task_id = self._end(TaskStatus.CANCELLED, event.reason or action.value)
        elif action is Action.CLOSE:
            task_id = self._end(TaskStatus.DONE, event.reason)
        return task_id

    def _closed_on_time(self) -> bool:
        """按期结案: the last resolve and verify runs stayed within their limits."""
        for name in (ClockName.RESOLVE, ClockName.VERIFY):
            clock = self.clocks.get(name)
            if clock is not None and clock.used > clock.budget:
                return False
        return True
