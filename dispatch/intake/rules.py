"""From located reports to decisions: merge into an incident, or open a case and dispatch it.

This is the pure heart of the stream intake. The caller (streams/) has already validated and
geolocated each report, loaded the incidents it may merge into (under a per-street database
lock) and the people who may take it (with their open work); `IntakeRules.decide` returns, for
each report, either `Merged` or `Opened` with the case's events, clocks and routing decision.
It reads no clock of its own (`now` is an argument) and does no I/O, so tests drive it directly.

Identifiers are derived, not random, so that reprocessing a report after a crash yields the
same incident, task and events (idempotent writes downstream):
incident = uuid5(report_id), task = uuid5(incident, dispatch event sequence).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from config.policy import (
    CONFIG_DIR,
    Category,
    PolicyError,
    Priority,
    Taxonomy,
    load_taxonomy,
    load_workforce,
    read_toml,
)
from dispatch.lifecycle.case import Actor, CaseEvent, CaseSnapshot
from dispatch.lifecycle.machine import apply, open_case
from dispatch.lifecycle.states import Action, Role
from dispatch.merging import MergePolicy, OpenIncident, Sighting, find_match
from dispatch.routing.rosters import routing_rosters
from dispatch.routing.router import Router
from dispatch.routing.values import Candidate, DecisionKind, RoutingDecision, RoutingIncident, RoutingRule
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.clocks import ClockName, ClockState, apply_effects
from dispatch.sla.deadlines import Deadlines
from dispatch.sla.escalation import next_check
from dispatch.sla.ladder import EscalationPolicy
from dispatch.sla.policy import Area, SlaPolicy
from dispatch.sla.policy_book import DistrictPolicy, PolicyBook, load_policy_book
from dispatch.surge.overlay import NO_SURGE, SurgeOverlay

ID_NAMESPACE = uuid.UUID("3b5c0d8e-9a41-5f3e-8d2b-6c7e1f9a2d40")
INTAKE_ACTOR = Actor(Role.SYSTEM, "intake")


def incident_id_for(report_id: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"incident\x1f{report_id}"))


def task_id_for(incident_id: str, sequence: int) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"task\x1f{incident_id}\x1f{sequence}"))


TRIAGE_REASON = "waits for triage: an operator registers it (立案) or rejects it (不予立案)"
OUTSIDE_REASON = "out of area: the alert lies wholly outside the district; recorded, never dispatched"
OUTSIDE = "outside"
"""The placement of a report whose whole area lies outside the district (`dispatch.intake.locate`)."""


def triage_sources(path: Path | None = None) -> frozenset[str]:
    """The feeds whose reports wait for an operator (`triage = true` in config/sources.toml);
    every other feed's reports are registered at once (110, 119, 12345 …)."""
    where = path or CONFIG_DIR / "sources.toml"
    out: set[str] = set()
    for name, entry in read_toml(where).get("source", {}).items():
        flag = entry.get("triage", False)
        if not isinstance(flag, bool):
            raise PolicyError(f"{where}: source.{name}.triage must be true or false")
        if flag:
            out.add(name)
    return frozenset(out)


def area_of(street_name: str | None) -> Area:
    """Towns (镇/乡) are rural for the verification limit; streets (街道) are the city."""
    return Area.RURAL if street_name and street_name.endswith(("镇", "乡")) else Area.CITY


@dataclass(frozen=True, slots=True)
class LocatedReport:
    """A validated report with its WGS84 point (if any) and its place in the grid hierarchy."""

    report_id: str
    source: str
    category: Category
    priority: Priority
    received_at: datetime
    reported_at: datetime
    lon: float | None
    lat: float | None
    district_code: str
    street_code: str | None
    street_name: str | None
    community_code: str | None
    grid_code: str | None
    placement_reason: str | None
    placement: str = "point"  # point | address | desk | fallback | outside: how the place was found
    layer_version: int | None = None


@dataclass(frozen=True, slots=True)
class Merged:
    """The report joins an open incident of the same problem.

    `priority` is the incident's priority with this report in it (the highest of its reports);
    `raised_from` is the priority it had before when this report raised it, else None: the
    case flow then restarts the owner clocks under the tighter limits (`dispatch.cases.urgency`).
    """

    report: LocatedReport
    incident_id: str
    priority: Priority
    raised_from: Priority | None = None


@dataclass(frozen=True, slots=True)
class Opened:
    report: LocatedReport
    incident_id: str
    case: CaseSnapshot
    events: tuple[CaseEvent, ...]
    clocks: dict[ClockName, ClockState]
    decision: RoutingDecision
    task_id: str | None
    next_sla_at: datetime | None
    sla_note: str | None
    surge_id: str | None = None  # the surge it opened under (its later clocks are scaled too)


Decision = Merged | Opened


class _Fresh:
    """Incidents opened or touched earlier in the same batch, bucketed by problem and cell."""

    def __init__(self, cell_deg: float) -> None:
        self.cell = cell_deg
        self.cells: dict[tuple[str, int, int], list[OpenIncident]] = defaultdict(list)

    def _key(self, problem: str, lon: float, lat: float) -> tuple[str, int, int]:
        return problem, math.floor(lon / self.cell), math.floor(lat / self.cell)

    def add(self, incident: OpenIncident) -> None:
        self.cells[self._key(incident.problem, incident.lon, incident.lat)].append(incident)

    def near(self, problem: str, lon: float, lat: float) -> list[OpenIncident]:
        fam, x, y = self._key(problem, lon, lat)
        out: list[OpenIncident] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                out.extend(self.cells.get((fam, x + dx, y + dy), ()))
        return out

    def touch(self, incident: OpenIncident, at: datetime, priority: Priority, lead: str) -> None:
        """Record a merge: the incident's window now also reaches from `at`, and it is handled
        at `priority`, led by `lead`, for later reports of the batch.

        Every id's newest copy is kept here and wins over the stored one (`current`).
        """
        newer = replace(incident, last_at=max(at, incident.last_at), priority=priority, lead=lead)
        bucket = self.cells[self._key(incident.problem, incident.lon, incident.lat)]
        for i, held in enumerate(bucket):
            if held.incident_id == incident.incident_id:
                bucket[i] = newer
                return
        bucket.append(newer)

    def current(
        self, stored: Sequence[OpenIncident], problem: str, lon: float, lat: float
    ) -> list[OpenIncident]:
        """The candidates near a point: this batch's copy of an incident replaces the stored one."""
        fresh = self.near(problem, lon, lat)
        ids = {i.incident_id for i in fresh}
        return [*(i for i in stored if i.incident_id not in ids), *fresh]


class IntakeRules:
    """The policies the intake applies, loaded once per worker."""

    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        merge: MergePolicy,
        router: Router,
        deadlines: Deadlines,
        escalation: EscalationPolicy,
        sla: SlaPolicy,
        triage: frozenset[str] = frozenset(),
        book: PolicyBook | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.triage = triage
        """Sources whose reports wait as `reported` for an operator (`triage_sources`)."""
        self.merge = merge
        self.router = router
        self.deadlines = deadlines
        self.escalation = escalation
        self.sla = sla
        self.tk: Timekeeper = deadlines.tk
        # --- the policy book (dispatch.sla.policy_book): a case opens under its district's
        # limits and ladder; `sla`, `escalation` and `deadlines` above are the shared ones
        self.book = book or PolicyBook(DistrictPolicy(sla, escalation, deadlines), {}, deadlines.tk)

    def policy_of(self, district_code: str | None) -> DistrictPolicy:
        """The policy a case of `district_code` opens and runs under (`PolicyBook.of`)."""
        return self.book.of(district_code)

    @classmethod
    def load(cls) -> IntakeRules:
        taxonomy = load_taxonomy()
        book = load_policy_book(taxonomy=taxonomy)
        sla, tk, escalation = book.shared.sla, book.tk, book.shared.escalation
        router = Router(
            taxonomy=taxonomy,
            workforce=load_workforce(),
            rosters=routing_rosters(),
            calendar=tk.working,
            returns_to_lead=escalation.returns_to_lead,
        )
        return cls(
            taxonomy=taxonomy,
            merge=MergePolicy.load(taxonomy=taxonomy),
            router=router,
            deadlines=book.shared.deadlines,
            escalation=escalation,
            sla=sla,
            triage=triage_sources(),
            book=book,
        )

    # --- the batch -------------------------------------------------------------------
    def decide(
        self,
        reports: Sequence[LocatedReport],
        *,
        nearby: Sequence[Sequence[OpenIncident]],
        candidates: Callable[[LocatedReport], Sequence[Candidate]],
        now: datetime,
        surge: SurgeOverlay = NO_SURGE,
    ) -> list[Decision]:
        """Decide every report of a batch, in order; later reports see earlier ones' incidents.

        `nearby[i]` are the stored open incidents near report i (any superset is fine: the merge
        rule filters); `candidates(report)` the people who may take it, with their open work as
        stored. Work assigned earlier in this batch is added to their counts here. `surge`: the
        warnings in force (dispatch.surge); new cases in their grids open under them.
        """
        fresh = _Fresh(self.merge.search_degrees)
        assigned: Counter[str] = Counter()
        out: list[Decision] = []
        for report, stored in zip(reports, nearby, strict=True):
            category = report.category
            problem = self.merge.problem_of(category.code)
            point = (
                report.lon is not None and report.lat is not None and self.merge.mergeable(category.family)
            )
            if point:
                assert report.lon is not None and report.lat is not None
                sighting = Sighting(
                    problem,
                    report.lon,
                    report.lat,
                    report.reported_at,
                    report.priority,
                    category.lead_department,
                )
                pool = fresh.current(stored, problem, report.lon, report.lat)
                match = find_match(sighting, pool, self.merge)
                if match is not None:
                    raises = report.priority.rank < match.priority.rank
                    priority = report.priority if raises else match.priority
                    lead = category.lead_department if raises else match.lead
                    fresh.touch(match, report.reported_at, priority, lead)
                    out.append(
                        Merged(report, match.incident_id, priority, match.priority if raises else None)
                    )
                    continue
            opened = self._open(report, candidates(report), assigned, now, surge)
            if point:
                assert report.lon is not None and report.lat is not None
                fresh.add(
                    OpenIncident(
                        opened.incident_id,
                        problem,
                        report.lon,
                        report.lat,
                        report.reported_at,
                        report.reported_at,
                        report.priority,
                        category.lead_department,
                    )
                )
            if opened.decision.worker_id is not None:
                assigned[opened.decision.worker_id] += 1
            out.append(opened)
        return out

    def _open(
        self,
        report: LocatedReport,
        people: Sequence[Candidate],
        assigned: Counter[str],
        now: datetime,
        surge: SurgeOverlay = NO_SURGE,
    ) -> Opened:
        incident_id = incident_id_for(report.report_id)
        # --- surge hook (dispatch.surge.overlay): a warning in force over this grid raises the
        # priority, scales the limits and routes with the surge's eligibility; else no change
        surged = surge.apply(
            grid_code=report.grid_code,
            category=report.category.code,
            priority=report.priority,
            router=self.router,
            now=now,
        )
        report = replace(report, priority=surged.priority)
        policy = self.policy_of(report.district_code)
        limits = surged.limits(
            policy.deadlines.limits(report.category.code, report.priority, area_of(report.street_name))
        )
        surge_id = surged.surge.surge_id if surged.surge is not None else None
        # --- end of the surge hook (surged.router, surged.noted and surge_id below)
        ext = policy.sla.extension
        result = open_case(
            incident_id,
            street_code=report.street_code,
            sources=frozenset({report.source}),
            actor=INTAKE_ACTOR,
            at=report.received_at,
        )
        events = [result.event]
        clocks = apply_effects({}, result.clock_effects, report.received_at, limits=limits, tk=self.tk)
        outside = report.placement == OUTSIDE
        if outside or report.source in self.triage:  # reported, register clock running: an operator decides
            waiting = RoutingDecision(
                incident_id,
                DecisionKind.MAIN,
                RoutingRule.UNROUTED,
                None,
                None,
                OUTSIDE_REASON if outside else TRIAGE_REASON,
                report.category.lead_department,
            )
            next_at, note = self.next_check(clocks, now, policy.escalation)
            return Opened(
                report,
                incident_id,
                result.case,
                tuple(events),
                clocks,
                waiting,
                None,
                next_at,
                note,
                surge_id,
            )
        result = apply(result.case, Action.REGISTER, INTAKE_ACTOR, now, extension_policy=ext)
        events.append(result.event)
        clocks = apply_effects(clocks, result.clock_effects, now, limits=limits, tk=self.tk)
        if assigned:
            people = [
                replace(c, open_tasks=c.open_tasks + assigned[c.worker_id]) if c.worker_id in assigned else c
                for c in people
            ]
        decision = surged.router.route(
            RoutingIncident(
                incident_id,
                report.category.code,
                report.priority,
                report.grid_code,
                report.community_code,
                report.street_code,
                report.lon,
                report.lat,
                report.district_code,
            ),
            people,
            now,
        )
        decision = surged.noted(decision)
        task_id: str | None = None
        case = result.case
        if decision.worker_id is not None:
            result = apply(
                case,
                Action.DISPATCH,
                INTAKE_ACTOR,
                now,
                decision.reason,
                extension_policy=ext,
                assignee=decision.worker_id,
            )
            events.append(result.event)
            clocks = apply_effects(clocks, result.clock_effects, now, limits=limits, tk=self.tk)
            task_id = task_id_for(incident_id, result.event.sequence)
            case = result.case
        next_at, note = self.next_check(clocks, now, policy.escalation)
        return Opened(
            report, incident_id, case, tuple(events), clocks, decision, task_id, next_at, note, surge_id
        )

    def next_check(
        self, clocks: dict[ClockName, ClockState], now: datetime, escalation: EscalationPolicy | None = None
    ) -> tuple[datetime | None, str | None]:
        """When the SLA tracker must next look at these clocks (under `escalation`, default the
        shared ladder), and an alarm note if any."""
        return next_check(escalation or self.escalation, clocks, now, self.tk)
