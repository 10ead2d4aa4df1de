"""One replay run: stored reports through the live rules, in memory, on a simulated clock.

The clock jumps from one thing to the next: a report arriving (at its `received_at`), a person
taking the next step of a case (after a delay drawn from `ServiceTimes`), or the SLA tracker's
next look at a case (`next_sla_at`). Every decision is the live code's:
- placement: the intake's `Locator` over the run's grid layer;
- merge or open, registration, routing and the opening clocks: `IntakeRules.decide`, with the
  stored-incident side (the merge window) and people's open work held here;
- a more urgent merged report: `dispatch.cases.urgency.raise_case`;
- accept, arrive, resolve, verify, close: `CaseWork.act` (the lifecycle table and clock effects);
- escalation steps and red-step reassignment: `dispatch.cases.steps.take_due_steps`, routing
  again through the same `Router`.
A case is one `CaseWork` kept for its whole life, its `now` moved forward at each step (the
live flows build one per transaction from the stored rows; the rows would be the same).

What the live system does that a replay does not: operators' own commands (dispatching a case
the router could not place, returns, extensions, parking), failed verifications, reopening,
workers' shared positions (routing uses home points), the working-calendar years imported into
the database (the policy files' calendar is used). Nothing is written or published.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from config.policy import PolicyError, Priority
from dispatch.cases.steps import take_due_steps
from dispatch.cases.urgency import raise_case, raised_row
from dispatch.cases.work import LADDER_ROLES, Assignment, CaseRules, CaseWork, routing_incident
from dispatch.intake.rules import LocatedReport, Merged, Opened, area_of
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.merging import OpenIncident
from dispatch.replay.configuration import Configuration
from dispatch.replay.open_work import OpenWork
from dispatch.replay.service_times import ServiceTimes, Step, quantile_of
from dispatch.routing.values import RoutingError
from dispatch.rows import opened_incident_row, task_row
from dispatch.sla.clocks import ClockName, ClockState, ClockStatus
from dispatch.sla.errors import CalendarRangeError, SlaError
from dispatch.sla.escalation import next_step_at
from dispatch.sla.ladder import EscalationPolicy
from schemas.report_struct import ReportStruct

OPERATOR = Actor(Role.OPERATOR, "replay")
RECHECK = timedelta(hours=1)
"""As the live tracker: a case whose next check is not after now is looked at an hour later."""
DRAIN = timedelta(days=14)
"""After the last report, how long the simulated clock keeps running so late cases can finish."""

Progress = Callable[[int, int], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ESCALATE, _REASSIGN, _CLOSE = Action.ESCALATE.value, Action.REASSIGN.value, Action.CLOSE.value
_ACCEPT_CLOCK = ClockName.ACCEPT.value


@contextmanager
def few_collections() -> Iterator[None]:
    """Python's cycle collector, quieter for the length of a run.

    A run allocates millions of short-lived objects (events, clock states, candidates) beside
    everything it holds for the whole run (the reports, their placements, the open cases), and
    by default the collector walks all of it again and again: at a month's volume that was
    ~6 % of a run's CPU. The objects alive when the run starts are moved out of its sight
    (`gc.freeze`: they are the run's inputs) and it collects less often; both are undone after.
    Nothing a run decides depends on when memory is collected.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


class _Kind(IntEnum):
    SLA = 0
    STEP = 1


_NEXT_STEP: dict[CaseState, Step] = {
    CaseState.DISPATCHED: Step.ACCEPT,
    CaseState.REWORK: Step.ACCEPT,
    CaseState.ACCEPTED: Step.ARRIVE,
    CaseState.ON_SITE: Step.RESOLVE,
    CaseState.RESOLVED: Step.VERIFY,
    CaseState.VERIFIED: Step.CLOSE,
}
_ACTION: dict[Step, Action] = {
    Step.ACCEPT: Action.ACCEPT,
    Step.ARRIVE: Action.ARRIVE,
    Step.RESOLVE: Action.RESOLVE,
    Step.VERIFY: Action.VERIFY,
    Step.CLOSE: Action.CLOSE,
}


@dataclass
class RunOutcome:
    """What one run did; `dispatch.replay.comparison` sets two of these side by side."""

    label: str
    reports: int = 0
    opened: int = 0
    merged: int = 0
    unplaced: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    """Report id -> why this configuration could not take it (kept out of every other count)."""
    raised: int = 0
    tasks_by_worker: Counter[str] = field(default_factory=Counter)
    incidents_by_grid: Counter[str] = field(default_factory=Counter)
    grid_codes: tuple[str, ...] = ()
    escalations: int = 0
    escalations_by_step: Counter[str] = field(default_factory=Counter)
    reassigned: int = 0
    clock_runs: Counter[str] = field(default_factory=Counter)
    clock_late: Counter[str] = field(default_factory=Counter)
    closed: int = 0
    closed_on_time: int = 0
    open_at_end: int = 0
    never_dispatched: int = 0
    grid_of: dict[str, str | None] = field(default_factory=dict)
    """Report id -> the grid it was placed in (None: unplaced)."""
    desks: frozenset[str] = frozenset()
    """The ladder's desks (community leads, street and district centers) among the people."""


@dataclass
class _Case:
    work: CaseWork
    key: str  # the first report's id: what the worker model's draws hang on
    problem: str | None  # merge key when the case is in the merge window
    holder: str | None  # who holds its active task (their open work counts it)
    scheduled: tuple[CaseState, str | None] | None = None
    next_sla: datetime | None = None
    tasks: int = 0
    step_at: dict[ClockName, tuple[ClockState, EscalationPolicy, datetime | None]] = field(
        default_factory=dict
    )
    """Per clock: when its next ladder step falls, for the clock state and ladder it was seen with."""
    live: bool = True
    """False once the case left the run (closed, merged away, failed): its queued things lapse."""


class _Window:
    """Open incidents that may absorb a report, bucketed by problem and cell (the merge window)."""

    def __init__(self, cell_deg: float) -> None:
        self.cell = cell_deg
        self.cells: dict[tuple[str, int, int], dict[str, OpenIncident]] = defaultdict(dict)
        self.where: dict[str, tuple[str, int, int]] = {}

    def _key(self, problem: str, lon: float, lat: float) -> tuple[str, int, int]:
        return problem, math.floor(lon / self.cell), math.floor(lat / self.cell)

    def add(self, incident: OpenIncident) -> None:
        key = self._key(incident.problem, incident.lon, incident.lat)
        self.cells[key][incident.incident_id] = incident
        self.where[incident.incident_id] = key

    def get(self, incident_id: str) -> OpenIncident | None:
        key = self.where.get(incident_id)
        return None if key is None else self.cells[key].get(incident_id)

    def remove(self, incident_id: str) -> None:
        key = self.where.pop(incident_id, None)
        if key is not None:
            self.cells[key].pop(incident_id, None)

    def near(self, problem: str, lon: float, lat: float) -> list[OpenIncident]:
        fam, x, y = self._key(problem, lon, lat)
        out: list[OpenIncident] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                cell = self.cells.get((fam, x + dx, y + dy))
                if cell:
                    out.extend(cell.values())
        return out


class Replay:
    """One configuration's run over one list of reports (use once)."""

    def __init__(self, config: Configuration, times: ServiceTimes, *, drain: timedelta = DRAIN) -> None:
        missing = times.missing()
        if missing:
            raise ValueError(f"worker model: no measured {', '.join(missing)} delays")
        self.config = config
        self.rules = config.rules
        self.times = times
        self.drain = drain
        self.out = RunOutcome(
            config.label,
            grid_codes=config.grid_codes,
            desks=frozenset(w for w, role in config.people.roles.items() if role in LADDER_ROLES),
        )
        self.window = _Window(self.rules.merge.search_degrees)
        self.cases: dict[str, _Case] = {}
        self.open_work = OpenWork(config.people, self.rules.tk.working)
        self.heap: list[tuple[int, int, datetime, _Kind, _Case]] = []
        """(microseconds since the epoch, order pushed, the instant, what, which case): the clock's
        next things, ordered by integers (cheaper to compare than aware datetimes, and exact).
        The case itself, not its id: no lookup in `cases` per thing (report ids, and so incident
        ids, are unique: the stored reports' key)."""
        self.seq = 0
        self.workers: dict[str, Actor] = {}
        """Each person's actor, made once (people take ~100,000 steps a week)."""
        self.has_arrive = times.has(Step.ARRIVE)
        self.has_verify = times.has(Step.VERIFY)
        self.has_close = times.has(Step.CLOSE)

    # --- the run ------------------------------------------------------------------------
    def run(self, reports: Sequence[ReportStruct], *, progress: Progress | None = None) -> RunOutcome:
        out = self.out
        ordered = sorted(reports, key=lambda r: (r.received_at, str(r.report_id)))
        known = self.rules.taxonomy.categories
        taken = []
        for r in ordered:
            if r.category in known:
                taken.append(r)
            else:
                out.failed[str(r.report_id)] = (
                    f"category {r.category!r} is not in this configuration's taxonomy"
                )
        out.reports = len(ordered)
        if not taken:
            return out
        located = self.config.locator.locate(taken, taken[-1].received_at)
        total = len(located)
        with few_collections():
            for done, report in enumerate(located, start=1):
                self._advance(report.received_at)
                out.grid_of[report.report_id] = report.grid_code
                if report.grid_code is None:
                    out.unplaced += 1
                self._arrive(report)
                if progress is not None and (done % 2000 == 0 or done == total):
                    progress(done, total)
            self._advance(located[-1].received_at + self.drain)
        out.open_at_end = len(self.cases)
        out.never_dispatched = sum(1 for c in self.cases.values() if c.tasks == 0)
        return out

    # --- reports ------------------------------------------------------------------------
    def _arrive(self, report: LocatedReport) -> None:
        rules, now = self.rules, report.received_at
        problem: str | None = None
        nearby: list[OpenIncident] = []
        if (
            report.lon is not None
            and report.lat is not None
            and rules.merge.mergeable(report.category.family)
        ):
            problem = rules.merge.problem_of(report.category.code)
            nearby = self.window.near(problem, report.lon, report.lat)
        candidates = self.open_work.for_report(report, now)
        try:
            (decision,) = rules.decide([report], nearby=[nearby], candidates=candidates, now=now)
            if isinstance(decision, Merged):
                self._merge(decision, now)
            else:
                self._open(decision, problem, now)
        except (LifecycleError, SlaError, RoutingError, PolicyError) as exc:
            self.out.failed[report.report_id] = f"{type(exc).__name__}: {exc}"

    def _merge(self, merged: Merged, now: datetime) -> None:
        self.out.merged += 1
        report = merged.report
        held = self.window.get(merged.incident_id)
        if held is not None:
            self.window.add(
                replace(
                    held,
                    last_at=max(held.last_at, report.reported_at),
                    priority=merged.priority,
                    lead=report.category.lead_department if merged.raised_from else held.lead,
                )
            )
        case = self.cases.get(merged.incident_id)
        if merged.raised_from is None or case is None:
            return
        work = case.work
        work.now = now
        work.incident = raised_row(work.incident, report.category, merged.priority)
        work.rules = self._case_rules(report.category.code, merged.priority, report)
        raise_case(work, merged)
        self.out.raised += 1
        self._settle(case, now)

    def _case_rules(self, category: str, priority: Priority, report: LocatedReport) -> CaseRules:
        rules = self.rules
        policy = rules.policy_of(report.district_code)  # the case's district's (the policy book)
        limits = policy.deadlines.limits(category, priority, area_of(report.street_name))
        return CaseRules(limits, policy.escalation, rules.tk, policy.sla.extension)

    def _open(self, opened: Opened, problem: str | None, now: datetime) -> None:
        out, report = self.out, opened.report
        out.opened += 1
        if report.grid_code is not None:
            out.incidents_by_grid[report.grid_code] += 1
        for clock in opened.clocks.values():
            if clock.status is ClockStatus.STOPPED:
                out.clock_runs[clock.name.value] += 1
                if clock.used > clock.budget:
                    out.clock_late[clock.name.value] += 1
        row = opened_incident_row(
            opened,
            address=None,
            description="",
            now=now,
            policy_id=self.rules.policy_of(report.district_code).escalation.fingerprint,
        )
        task = task_row(opened, now=now)
        rules = self._case_rules(report.category.code, report.priority, report)
        work = CaseWork(row, [task] if task else [], rules, now, clocks=opened.clocks, documents=False)
        case = _Case(work, report.report_id, problem, None)
        self.cases[opened.incident_id] = case
        if problem is not None and report.lon is not None and report.lat is not None:
            self.window.add(
                OpenIncident(
                    opened.incident_id,
                    problem,
                    report.lon,
                    report.lat,
                    report.reported_at,
                    report.reported_at,
                    report.priority,
                    report.category.lead_department,
                )
            )
        self._settle(case, now)

    # --- the simulated clock --------------------------------------------------------------
    def _push(self, at: datetime, kind: _Kind, case: _Case) -> None:
        self.seq += 1
        heapq.heappush(self.heap, ((at - _EPOCH) // _US, self.seq, at, kind, case))

    def _advance(self, until: datetime) -> None:
        heap = self.heap
        last = (until - _EPOCH) // _US
        while heap and heap[0][0] <= last:
            _, _, at, kind, case = heapq.heappop(heap)
            if not case.live:
                continue
            try:
                if kind is _Kind.SLA:
                    if case.next_sla != at:
                        continue
                    self._sla(case, at)
                else:
                    self._step(case, at)
            except (LifecycleError, SlaError, RoutingError) as exc:
                self.out.failed[case.key] = f"{type(exc).__name__}: {exc}"
                self._drop(case)

    def _sla(self, case: _Case, at: datetime) -> None:
        work = case.work
        work.now = at
        people = self.config.people
        take_due_steps(
            work,
            route=self._route,
            targets=lambda target: people.targets(work.incident, work.case.assignee_id, target),
        )
        self._settle(case, at)

    def _route(self, work: CaseWork) -> Assignment | None:
        """The live tracker's red-step reassignment, over the open work held here."""
        case = work.case
        candidates = self.open_work.for_case(work.incident, work.now)
        exclude = {case.assignee_id} if case.assignee_id else set()
        decision = self.rules.router.route(
            routing_incident(work.incident), candidates, work.now, exclude=exclude, returns=case.returns
        )
        return Assignment.from_decision(decision)

    def _step(self, case: _Case, at: datetime) -> None:
        work = case.work
        current = work.current_task
        if case.scheduled != (work.state, current["task_id"] if current else None):
            return  # the case moved on (reassigned, escalated to someone else) since this was drawn
        step = self._next_step(work.state)
        if step is None:
            return
        work.now = at
        if step in (Step.VERIFY, Step.CLOSE):
            work.act(_ACTION[step], OPERATOR)
        else:
            assert work.case.assignee_id is not None
            worker = work.case.assignee_id
            actor = self.workers.get(worker)
            if actor is None:
                actor = self.workers[worker] = Actor(Role.GRID_WORKER, worker)
            work.act(_ACTION[step], actor)
        self._settle(case, at)

    def _next_step(self, state: CaseState) -> Step | None:
        step = _NEXT_STEP.get(state)
        if step is Step.ARRIVE and not self.has_arrive:
            return Step.RESOLVE
        if (step is Step.VERIFY and not self.has_verify) or (step is Step.CLOSE and not self.has_close):
            return None
        return step

    def _settle(self, case: _Case, now: datetime) -> None:
        """Count what the case's new events did, move open work, schedule what comes next."""
        work = case.work
        self._count(work)
        current = work.current_task
        holder = current["assignee_id"] if current else None
        task_id = current["task_id"] if current else None
        if holder != case.holder:
            if case.holder is not None:
                self.open_work.add(case.holder, -1)
            if holder is not None:
                self.open_work.add(holder, 1)
        if task_id is not None and (case.scheduled is None or case.scheduled[1] != task_id):
            case.tasks += 1
            self.out.tasks_by_worker[holder or ""] += 1
        case.holder = holder
        if work.state not in OPEN:
            self._drop(case)
            return
        token = (work.state, task_id)
        if token != case.scheduled:
            case.scheduled = token
            step = self._next_step(work.state)
            if step is not None and holder is not None:
                priority = str(work.incident["priority"])
                delay = self.times.draw(step, priority, quantile_of(case.key, step, case.tasks))
                self._push(now + timedelta(seconds=delay), _Kind.STEP, case)
        nxt = self._next_check(case, now)
        if nxt is not None and nxt <= now:
            nxt = now + RECHECK
        if nxt != case.next_sla:
            case.next_sla = nxt
            if nxt is not None:
                self._push(nxt, _Kind.SLA, case)

    def _next_check(self, case: _Case, now: datetime) -> datetime | None:
        """`dispatch.sla.escalation.next_check`'s time, each clock's step looked up only when it changed.

        A step's time depends on the clock's state and the ladder, not on `now` (a clock that
        stopped, paused or took its last step has none), and a settle changes one or two of a
        case's clocks: the others' times are reused. A step past the calendar's data is not
        kept, and is checked at the horizon, as `next_check` does.
        """
        work = case.work
        policy, tk = work.rules.policy, work.rules.tk
        memo = case.step_at
        soonest: datetime | None = None
        for name, clock in work.clocks.items():
            seen = memo.get(name)
            if seen is not None and seen[0] is clock and seen[1] is policy:
                at = seen[2]
            else:
                try:
                    at = next_step_at(policy, clock, tk)
                    memo[name] = (clock, policy, at)
                except CalendarRangeError:
                    memo.pop(name, None)
                    at = max(tk.working.horizon, now)
            if at is not None and (soonest is None or at < soonest):
                soonest = at
        return soonest

    def _count(self, work: CaseWork) -> None:
        out = self.out
        for row in work.events:
            action, data = row["action"], row["data"]
            for clock, stop in (data.get("sla") or {}).items():
                out.clock_runs[clock] += 1
                if stop["late"]:
                    out.clock_late[clock] += 1
            if action == _ESCALATE:
                out.escalations += 1
                out.escalations_by_step[data["escalation"]["step"]] += 1
            elif action == _REASSIGN:
                # only the tracker reassigns here, at a red step: the accept run overran its limit
                out.reassigned += 1
                out.clock_runs[_ACCEPT_CLOCK] += 1
                out.clock_late[_ACCEPT_CLOCK] += 1
            elif action == _CLOSE:
                out.closed += 1
                out.closed_on_time += bool(data.get("on_time"))
        work.events.clear()
        work.changed.clear()

    def _drop(self, case: _Case) -> None:
        case.live = False
        if case.holder is not None:
            self.open_work.add(case.holder, -1)
            case.holder = None
        self.window.remove(case.work.incident_id)
        self.cases.pop(case.work.incident_id, None)
