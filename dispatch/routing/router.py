"""Who gets this report: the one place that decides.

Rule, in order:
1. the category's eligible forces (taxonomy), as workers of the incident's grid (grid-level
   forces) or of its community (community-level forces), on shift now by their roster;
   volunteer forces (config/forces.toml `volunteer`) never for P0–P2, and a worker already
   holding their force's `capacity` of open tasks is passed over;
2. among them: the force the taxonomy lists first for the category, then least open work, then
   nearest last known position (unknown positions last), then worker id — so a force's place in
   the taxonomy is never outweighed by load, and the same input always picks the same person;
   when every worker of a force is at capacity or off shift, the next force is asked;
3. nobody eligible on shift: the community lead, else the street center, else the district center
   (each on shift, least open work first); nobody at all: `UNROUTED`, for the district board.
   Nobody of another district is ever considered (several districts share one deployment): a
   candidate whose district differs from the incident's is skipped, the city desk's people
   (district `city`) take only what lies outside every district.
A point outside every grid goes straight to the district center (属地兜底). P0 reports and
agency-led categories are led by the agency's own dispatch: the decision is an `assist` task.
A case handed back `returns_to_lead` times skips step 1: a human sorts it out.

Everything per category is precomputed at construction. A decision is two steps: the
`shortlist` of a place's candidates for a category (levels and ranks: they depend on the place,
not the case), then `pick` at an instant (capacity, volunteers, shifts, open work, distance),
which evaluates each roster at most once. `route` does both; the intake shortlists once per
place and category of a batch and shares the rosters' answers across the batch.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from math import asin, cos, inf, radians, sin, sqrt

from config.policy import Level, Priority, Taxonomy, Workforce
from dispatch.routing.rosters import Roster, on_shift
from dispatch.routing.values import (
    Candidate,
    DecisionKind,
    RoutingDecision,
    RoutingError,
    RoutingIncident,
    RoutingRule,
)
from dispatch.sla.calendar import WorkingCalendar

_EARTH_RADIUS_M = 6_371_008.8
_LADDER: dict[Level, RoutingRule] = {
    "community": RoutingRule.COMMUNITY_LEAD,
    "street": RoutingRule.STREET_CENTER,
    "district": RoutingRule.DISTRICT_CENTER,
}
VOLUNTEER_MIN_PRIORITY = Priority.P3
"""The most urgent priority routing may give a volunteer force."""
_TIERS: tuple[RoutingRule, ...] = (
    RoutingRule.ELIGIBLE_WORKER,
    RoutingRule.COMMUNITY_LEAD,
    RoutingRule.STREET_CENTER,
    RoutingRule.DISTRICT_CENTER,
)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (WGS84 mean radius): plenty for "who is nearer"."""
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_M * asin(sqrt(h))


@dataclass(frozen=True, slots=True)
class _CategoryRule:
    ranks: dict[str, int]  # eligible force -> preference (0 = most suitable)
    agency_led: bool
    lead_department: str


class Router:
    """Routing rules bound to the taxonomy, the workforce levels, the rosters and the calendar."""

    __slots__ = (
        "_calendar",
        "_capacity",
        "_categories",
        "_force_level",
        "_ladder_rule",
        "_returns_to_lead",
        "_rosters",
        "_volunteers",
    )

    def __init__(
        self,
        *,
        taxonomy: Taxonomy,
        workforce: Workforce,
        rosters: Mapping[str, Roster],
        calendar: WorkingCalendar,
        returns_to_lead: int,
    ) -> None:
        self._categories = {
            code: _CategoryRule(
                ranks={force: i for i, force in enumerate(c.forces)},
                agency_led=c.agency_led,
                lead_department=c.lead_department,
            )
            for code, c in taxonomy.categories.items()
        }
        self._force_level: dict[str, Level] = {f.code: f.level for f in workforce.forces.values()}
        self._capacity: dict[str, int] = {
            f.code: f.capacity for f in workforce.forces.values() if f.capacity is not None
        }
        self._volunteers = frozenset(f.code for f in workforce.forces.values() if f.volunteer)
        self._ladder_rule: dict[str, RoutingRule] = {}
        for role in workforce.roles.values():
            if role.level not in _LADDER:
                raise RoutingError(f"ladder role {role.code!r}: level {role.level} is not a ladder level")
            self._ladder_rule[role.code] = _LADDER[role.level]
        self._rosters = dict(rosters)
        self._calendar = calendar
        self._returns_to_lead = returns_to_lead

    def route(
        self,
        incident: RoutingIncident,
        candidates: Iterable[Candidate],
        now: datetime,
        *,
        exclude: Collection[str] = (),
        returns: int = 0,
    ) -> RoutingDecision:
        """Pick the assignee for `incident` among `candidates` at `now` (see the module doc)."""
        if now.tzinfo is None:
            raise RoutingError(f"now: naive datetime {now.isoformat()}; pass a timezone-aware datetime")
        if exclude:
            candidates = [c for c in candidates if c.worker_id not in exclude]
        return self.pick(incident, self.shortlist(incident, candidates), now, {}, returns=returns)

    def shortlist(self, incident: RoutingIncident, candidates: Iterable[Candidate]) -> Shortlist:
        """The candidates the rule considers for `incident` at its place, with their level and
        rank. It depends only on the category and the place (grid, community, street, district),
        so the intake makes one per place and category of a batch and `pick`s from it per case."""
        rule = self._categories.get(incident.category)
        if rule is None:
            raise RoutingError(f"category: unknown category {incident.category!r}")
        entries: list[_Entry] = []
        for c in candidates:
            tier, rank = self._tier(incident, rule, c)
            if tier is not None:
                entries.append((tier, rank, c, c.role in self._volunteers, self._capacity.get(c.role)))
        return Shortlist(rule, tuple(entries))

    def pick(
        self,
        incident: RoutingIncident,
        listed: Shortlist,
        now: datetime,
        on_duty: dict[str, bool],
        *,
        assigned: Mapping[str, int] | None = None,
        returns: int = 0,
    ) -> RoutingDecision:
        """The rule's choice among a `shortlist` at `now`. `on_duty`: each roster's answer at
        `now`, filled as rosters are asked (a batch routes at one instant and shares it);
        `assigned`: work given out since the candidates' open work was read (added to it)."""
        best: dict[RoutingRule, tuple[tuple[int, int, float, str], Candidate]] = {}
        off_shift = 0
        passed = _Passed()
        no_volunteers = incident.priority.rank < VOLUNTEER_MIN_PRIORITY.rank
        eligible = RoutingRule.ELIGIBLE_WORKER
        for tier, rank, c, volunteer, limit in listed.entries:
            open_tasks = c.open_tasks + assigned.get(c.worker_id, 0) if assigned else c.open_tasks
            if tier is eligible:
                if no_volunteers and volunteer:
                    passed.volunteers += 1
                    continue
                if limit is not None and open_tasks >= limit:
                    passed.at_capacity += 1
                    continue
            on = on_duty.get(c.roster)
            if on is None:
                on = on_duty[c.roster] = on_shift(self._roster(c), now, self._calendar)
            if not on:
                if tier is eligible:
                    off_shift += 1
                continue
            key = (rank, open_tasks, _distance(incident, c), c.worker_id)
            held = best.get(tier)
            if held is None or key < held[0]:
                best[tier] = (key, c)
        return self._decide(incident, listed.rule, best, off_shift, passed=passed, returns=returns)

    def eligible(
        self, incident: RoutingIncident, candidates: Iterable[Candidate], now: datetime
    ) -> list[Pick]:
        """Everyone the rule above would consider for `incident` and who is on shift at `now`,
        in the rule's order (most specific level first, then the force's rank, open work,
        distance, id): the operator's choice when they reassign by hand."""
        if now.tzinfo is None:
            raise RoutingError(f"now: naive datetime {now.isoformat()}; pass a timezone-aware datetime")
        rule = self._categories.get(incident.category)
        if rule is None:
            raise RoutingError(f"category: unknown category {incident.category!r}")
        no_volunteers = incident.priority.rank < VOLUNTEER_MIN_PRIORITY.rank
        ranked: list[tuple[tuple[int, int, int, float, str], Pick]] = []
        for c in candidates:
            tier, rank = self._tier(incident, rule, c)
            if tier is None:
                continue
            if tier is RoutingRule.ELIGIBLE_WORKER and self._passed_over(c, no_volunteers) is not None:
                continue
            if not self.on_shift(c, now):
                continue
            distance = _distance(incident, c)
            pick = Pick(c, tier, None if distance == inf else round(distance, 1))
            ranked.append(((_TIERS.index(tier), rank, c.open_tasks, distance, c.worker_id), pick))
        return [pick for _, pick in sorted(ranked, key=lambda r: r[0])]

    def on_shift(self, c: Candidate, now: datetime) -> bool:
        """Is `c` on shift at `now` by their roster (resolve dated exceptions first)?"""
        return on_shift(self._roster(c), now, self._calendar)

    def _passed_over(self, c: Candidate, no_volunteers: bool) -> str | None:
        """Why an eligible worker is not given the case: a volunteer too junior for its
        priority ("volunteer"), or at their force's capacity ("capacity")."""
        if no_volunteers and c.role in self._volunteers:
            return "volunteer"
        limit = self._capacity.get(c.role)
        if limit is not None and c.open_tasks >= limit:
            return "capacity"
        return None

    def reroute_after_return(
        self,
        incident: RoutingIncident,
        candidates: Iterable[Candidate],
        now: datetime,
        *,
        returned_by: Collection[str],
        returns: int,
    ) -> RoutingDecision:
        """Route a case handed back (回退): never to a worker who returned it; `returns` counted."""
        return self.route(incident, candidates, now, exclude=frozenset(returned_by), returns=returns)

    def _tier(
        self, incident: RoutingIncident, rule: _CategoryRule, c: Candidate
    ) -> tuple[RoutingRule | None, int]:
        if incident.district_code and c.district_code and c.district_code != incident.district_code:
            return None, 0  # another district's person (or the city desk's): never
        rank = rule.ranks.get(c.role)
        if rank is not None:
            if incident.grid_code is None:
                return None, 0
            if self._force_level[c.role] == "grid":
                here = c.grid_code == incident.grid_code
            else:
                here = incident.community_code is not None and c.community_code == incident.community_code
            return (RoutingRule.ELIGIBLE_WORKER if here else None), rank
        ladder = self._ladder_rule.get(c.role)
        if ladder is None:
            if c.role in self._force_level:
                return None, 0  # a force not eligible for this category
            raise RoutingError(
                f"candidate {c.worker_id}: role {c.role!r} is neither a force nor a ladder role"
            )
        if incident.grid_code is None and ladder is not RoutingRule.DISTRICT_CENTER:
            return None, 0
        if ladder is RoutingRule.COMMUNITY_LEAD:
            here = incident.community_code is not None and c.community_code == incident.community_code
        elif ladder is RoutingRule.STREET_CENTER:
            here = incident.street_code is not None and c.street_code == incident.street_code
        else:
            here = True
        return (ladder if here else None), 0

    def _roster(self, c: Candidate) -> Roster:
        roster = self._rosters.get(c.roster)
        if roster is None:
            raise RoutingError(f"candidate {c.worker_id}: roster {c.roster!r} is not in the rosters")
        return roster

    def _decide(
        self,
        incident: RoutingIncident,
        rule: _CategoryRule,
        best: dict[RoutingRule, tuple[tuple[int, int, float, str], Candidate]],
        off_shift: int,
        *,
        passed: _Passed,
        returns: int,
    ) -> RoutingDecision:
        assist = rule.agency_led or incident.priority is Priority.P0
        notes: list[str] = []
        if assist:
            notes.append(f"agency-led ({rule.lead_department} leads): the grid assists")
        if returns:
            notes.append(f"handed back {returns} time(s)")
        if passed.volunteers:
            notes.append(f"{passed.volunteers} volunteer(s) passed over ({incident.priority} is too urgent)")
        if passed.at_capacity:
            notes.append(f"{passed.at_capacity} worker(s) at their force's capacity passed over")
        tiers = _TIERS
        if incident.grid_code is None:
            notes.append("outside every grid (属地兜底)")
            tiers = (RoutingRule.DISTRICT_CENTER,)
        elif returns >= self._returns_to_lead:
            notes.append(f"{returns} returns reach the limit of {self._returns_to_lead}: a lead decides")
            tiers = _TIERS[1:]
        for tier in tiers:
            held = best.get(tier)
            if held is None:
                notes.append(_missing(tier, off_shift, rule))
                continue
            key, c = held
            notes.append(_picked(tier, c, key[1], key[2]))
            return RoutingDecision(
                incident_id=incident.incident_id,
                kind=DecisionKind.ASSIST if assist else DecisionKind.MAIN,
                rule=tier,
                worker_id=c.worker_id,
                role=c.role,
                reason="; ".join(notes),
                lead_department=rule.lead_department,
                returns=returns,
                distance_m=None if key[2] == inf else round(key[2], 1),
            )
        notes.append("nobody on shift at any level: put it on the district board")
        return RoutingDecision(
            incident_id=incident.incident_id,
            kind=DecisionKind.ASSIST if assist else DecisionKind.MAIN,
            rule=RoutingRule.UNROUTED,
            worker_id=None,
            role=None,
            reason="; ".join(notes),
            lead_department=rule.lead_department,
            returns=returns,
        )


_Entry = tuple[RoutingRule, int, Candidate, bool, int | None]
"""One shortlisted candidate: level, the force's rank, who, a volunteer?, their force's capacity."""


@dataclass(frozen=True, slots=True)
class Shortlist:
    """The candidates of one place that one category's rule considers (`Router.shortlist`)."""

    rule: _CategoryRule
    entries: tuple[_Entry, ...]


@dataclass(slots=True)
class _Passed:
    """Eligible workers on shift that the rule passed over, counted for the decision's reason."""

    volunteers: int = 0
    at_capacity: int = 0


@dataclass(frozen=True, slots=True)
class Pick:
    """One person an operator may give the case to: who, by which rule, how far away."""

    candidate: Candidate
    rule: RoutingRule
    distance_m: float | None


def _distance(incident: RoutingIncident, c: Candidate) -> float:
    if incident.lon is None or incident.lat is None or c.lon is None or c.lat is None:
        return inf
    return haversine_m(incident.lon, incident.lat, c.lon, c.lat)


def _missing(tier: RoutingRule, off_shift: int, rule: _CategoryRule) -> str:
    if tier is RoutingRule.ELIGIBLE_WORKER:
        forces = ", ".join(rule.ranks)
        return f"no eligible worker on shift (forces {forces}; {off_shift} off shift)"
    return f"no {tier.value.replace('_', ' ')} on shift"


def _picked(tier: RoutingRule, c: Candidate, open_tasks: int, distance: float) -> str:
    where = "position unknown" if distance == inf else f"{distance:.0f} m away"
    who = "eligible worker" if tier is RoutingRule.ELIGIBLE_WORKER else tier.value.replace("_", " ")
    return f"{who} {c.worker_id} ({c.role}): on shift, {open_tasks} open task(s), {where}"
