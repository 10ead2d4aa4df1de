"""What the router is told and what it answers, as plain values the caller builds from its own state.

The router never looks anything up: the stream processor passes the candidates it holds for the
incident's grid, community and street (workers of the 11 forces and the ladder roles), with their
open-task counts and last known positions. That keeps routing pure, testable and fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.policy import Priority


class RoutingError(ValueError):
    """A candidate or incident the router cannot interpret (unknown role or roster, naive time)."""


class DecisionKind(StrEnum):
    MAIN = "main"  # the assignee owns the case
    ASSIST = "assist"  # an agency leads (P0, agency-led categories); the grid assists


class RoutingRule(StrEnum):
    """Which rule picked the assignee, from the most to the least specific."""

    ELIGIBLE_WORKER = "eligible_worker"
    COMMUNITY_LEAD = "community_lead"
    STREET_CENTER = "street_center"
    DISTRICT_CENTER = "district_center"
    UNROUTED = "unrouted"  # nobody at any level: the caller must put it on the district board


@dataclass(frozen=True, slots=True)
class RoutingIncident:
    """The facts of an incident that routing depends on.

    `grid_code` is None for a point outside every grid (属地兜底: the district center takes it).
    """

    incident_id: str
    category: str
    priority: Priority
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    lon: float | None = None
    lat: float | None = None
    district_code: str | None = None
    """The incident's district (`city`: the city desk's); None: whoever the caller passes."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person who might get the task.

    `role` is a force code (config/forces.toml `[[force]]`) or a ladder role code
    (`community_lead`, `street_center`, `district_center`). Its level (grid, community, ...) is
    taken from the configuration, not from the caller, so the two can never disagree.
    """

    worker_id: str
    role: str
    grid_code: str | None
    community_code: str | None
    street_code: str | None
    roster: str
    open_tasks: int = 0
    lon: float | None = None
    lat: float | None = None
    district_code: str | None = None
    """The district the person works for; routing never gives them another district's case."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Who gets the task, as what, by which rule, and why in words for the board."""

    incident_id: str
    kind: DecisionKind
    rule: RoutingRule
    worker_id: str | None
    role: str | None
    reason: str
    lead_department: str  # who is whistled for (吹哨报到), or who leads an agency-led case
    returns: int = 0  # times the case has been handed back before this decision
    distance_m: float | None = None
