"""What a surge in force does to a new case in one of its grids: the intake's overlay.

The intake calls `SurgeOverlay.apply` once per case it opens (dispatch/intake/rules.py); outside
every surge (or with `NO_SURGE`) the case is decided exactly as without this module. Inside one:
the listed categories go `raise_by` priorities up, their SLA budgets are multiplied by
`limits_factor`, and routing uses the surge's eligibility (community-level forces added after
the ones the taxonomy lists, volunteers removed), by a router built once per rule.
Where two surges cover a grid, the one that raises more (then tightens more) wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from config.policy import Priority, Taxonomy, Workforce
from dispatch.routing.rosters import Roster
from dispatch.routing.router import Router
from dispatch.routing.values import RoutingDecision
from dispatch.sla.calendar import WorkingCalendar
from dispatch.sla.clocks import CaseLimits
from dispatch.surge.policy import SurgePolicy, SurgeRule


@dataclass(frozen=True, slots=True)
class ActiveSurge:
    """One surge as stored: its rule, its grids and its period [starts_at, ends_at)."""

    surge_id: str
    rule: SurgeRule
    grids: frozenset[str]
    starts_at: datetime
    ends_at: datetime
    title: str = ""

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def covers(self, grid_code: str | None, category: str, now: datetime) -> bool:
        return grid_code in self.grids and category in self.rule.categories and self.in_force(now)

    @property
    def label(self) -> str:
        return f"surge {self.rule.name} ({self.surge_id})"


def raised(priority: Priority, steps: int) -> Priority:
    """`steps` priorities more urgent, never above P0."""
    return Priority(f"P{max(0, priority.rank - steps)}")


def scaled(limits: CaseLimits, factor: float) -> CaseLimits:
    if factor == 1.0:
        return limits
    return CaseLimits(kind=limits.kind, budgets={k: v * factor for k, v in limits.budgets.items()})


@dataclass(frozen=True, slots=True)
class Surged:
    """The overlay's answer for one case: what to use instead (unchanged outside a surge)."""

    surge: ActiveSurge | None
    priority: Priority
    router: Router

    def limits(self, limits: CaseLimits) -> CaseLimits:
        return limits if self.surge is None else scaled(limits, self.surge.rule.limits_factor)

    def noted(self, decision: RoutingDecision) -> RoutingDecision:
        """The routing reason names the surge the case was opened under."""
        if self.surge is None:
            return decision
        return replace(decision, reason=f"{self.surge.label}; {decision.reason}")


def surge_taxonomy(taxonomy: Taxonomy, workforce: Workforce, rule: SurgeRule) -> Taxonomy:
    """The taxonomy as `rule` changes eligibility for its categories."""
    community = [f.code for f in workforce.forces.values() if f.level == "community" and not f.volunteer]
    volunteers = {f.code for f in workforce.forces.values() if f.volunteer}
    categories = dict(taxonomy.categories)
    for code in rule.categories:
        category = categories[code]
        forces = [f for f in category.forces if not (rule.exclude_volunteers and f in volunteers)]
        if rule.community_forces:
            forces += [f for f in community if f not in forces]
        categories[code] = replace(category, forces=tuple(forces))
    return replace(taxonomy, categories=categories)


def surge_routers(
    policy: SurgePolicy,
    *,
    taxonomy: Taxonomy,
    workforce: Workforce,
    rosters: Mapping[str, Roster],
    calendar: WorkingCalendar,
    returns_to_lead: int,
) -> dict[tuple[str, str], Router]:
    """One router per rule, built once per worker."""
    return {
        (rule.warning, rule.level): Router(
            taxonomy=surge_taxonomy(taxonomy, workforce, rule),
            workforce=workforce,
            rosters=rosters,
            calendar=calendar,
            returns_to_lead=returns_to_lead,
        )
        for rule in policy.rules
    }


class SurgeOverlay:
    """The surges a batch of new cases is decided under."""

    def __init__(
        self, surges: Sequence[ActiveSurge] = (), routers: Mapping[tuple[str, str], Router] | None = None
    ) -> None:
        self.surges = tuple(surges)
        self.routers = dict(routers or {})
        self._by_grid: dict[str, list[ActiveSurge]] = {}
        for s in self.surges:
            for grid in s.grids:
                self._by_grid.setdefault(grid, []).append(s)

    def surge_at(self, grid_code: str | None, category: str, now: datetime) -> ActiveSurge | None:
        """The strongest surge in force over `grid_code` that lists `category`, if any."""
        here = [s for s in self._by_grid.get(grid_code or "", ()) if s.covers(grid_code, category, now)]
        if not here:
            return None
        return min(here, key=lambda s: (-s.rule.raise_by, s.rule.limits_factor, s.surge_id))

    def apply(
        self, *, grid_code: str | None, category: str, priority: Priority, router: Router, now: datetime
    ) -> Surged:
        surge = self.surge_at(grid_code, category, now)
        if surge is None:
            return Surged(None, priority, router)
        own = self.routers.get((surge.rule.warning, surge.rule.level), router)
        return Surged(surge, raised(priority, surge.rule.raise_by), own)


NO_SURGE = SurgeOverlay()
