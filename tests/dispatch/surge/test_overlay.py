"""The surge overlay on new cases: priority up, limits scaled, eligibility changed, only where
and while a surge is in force, and nothing at all outside one (driven through IntakeRules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config.policy import Priority, load_taxonomy, load_workforce
from dispatch.intake.rules import IntakeRules, LocatedReport, Opened
from dispatch.routing.rosters import routing_rosters
from dispatch.routing.values import Candidate, RoutingRule
from dispatch.sla.clocks import ClockName
from dispatch.surge.overlay import ActiveSurge, SurgeOverlay, raised, surge_routers, surge_taxonomy
from dispatch.surge.policy import SurgeRule, load_surge_policy

NOW = datetime(2025, 6, 10, 2, 0, tzinfo=UTC)  # a working Tuesday, 10:00 in Shanghai
GRID, OTHER, COMMUNITY, STREET = "500106001001001", "500106001001002", "500106001001", "500106001"


@pytest.fixture(scope="module")
def rules() -> IntakeRules:
    return IntakeRules.load()


@pytest.fixture(scope="module")
def overlay(rules: IntakeRules) -> SurgeOverlay:
    policy = load_surge_policy()
    red = policy.rule("暴雨", "红色")
    assert red is not None
    surge = ActiveSurge("s-red", red, frozenset({GRID}), NOW - timedelta(hours=1), NOW + timedelta(hours=5))
    routers = surge_routers(
        policy,
        taxonomy=rules.taxonomy,
        workforce=load_workforce(),
        rosters=routing_rosters(),
        calendar=rules.tk.working,
        returns_to_lead=rules.escalation.returns_to_lead,
    )
    return SurgeOverlay([surge], routers)


def report(n: int, category: str = "waterlogging", grid: str = GRID) -> LocatedReport:
    cat = load_taxonomy().category(category)
    at = NOW - timedelta(minutes=1)
    return LocatedReport(
        f"00000000-0000-0000-0000-{n:012d}", "hotline", cat, cat.priority, at, at, 106.45, 29.55,
        "500106", STREET, "小龙坎街道", COMMUNITY, grid, None,
    )  # fmt: skip


def people() -> list[Candidate]:
    """Nobody of the forces waterlogging lists: a community police officer and the ladder."""
    return [
        Candidate("P1", "community_police", None, COMMUNITY, STREET, "duty_24h"),
        Candidate("L1", "community_lead", None, COMMUNITY, STREET, "duty_24h"),
        Candidate("D1", "district_center", None, None, None, "duty_24h"),
    ]


def open_one(rules: IntakeRules, r: LocatedReport, surge: SurgeOverlay | None, now: datetime = NOW) -> Opened:
    kwargs = {"surge": surge} if surge is not None else {}
    [d] = rules.decide([r], nearby=[[]], candidates=lambda _: people(), now=now, **kwargs)
    assert isinstance(d, Opened)
    return d


def test_without_a_surge_the_case_is_decided_as_before(rules: IntakeRules) -> None:
    d = open_one(rules, report(1), None)
    assert d.report.priority is Priority.P1
    assert d.decision.rule is RoutingRule.COMMUNITY_LEAD  # community police is not eligible
    assert "surge" not in d.decision.reason


def test_in_a_red_rainstorm_grid_the_case_is_raised_tightened_and_rerouted(
    rules: IntakeRules, overlay: SurgeOverlay
) -> None:
    d = open_one(rules, report(2), overlay)
    assert d.report.priority is Priority.P0  # one up from P1
    assert d.decision.worker_id == "P1" and d.decision.rule is RoutingRule.ELIGIBLE_WORKER
    assert d.decision.reason.startswith("surge 暴雨红色预警 (s-red); ")
    p0 = rules.deadlines.limits("waterlogging", Priority.P0)
    assert d.clocks[ClockName.ACCEPT].budget == p0.budgets[ClockName.ACCEPT] * 0.5


@pytest.mark.parametrize(
    ("r", "now"),
    [
        (report(3, grid=OTHER), NOW),  # another grid
        (report(3, category="noise_nuisance"), NOW),  # a category the rule does not list
        (report(3), NOW + timedelta(hours=6)),  # after the surge ended
        (report(3), NOW - timedelta(hours=2)),  # before it began
    ],
)
def test_outside_its_grids_categories_or_period_nothing_changes(
    rules: IntakeRules, overlay: SurgeOverlay, r: LocatedReport, now: datetime
) -> None:
    d = open_one(
        rules,
        replace(r, received_at=now - timedelta(minutes=1), reported_at=now - timedelta(minutes=1)),
        overlay,
        now,
    )
    assert d.report.priority is r.priority and "surge" not in d.decision.reason


def test_the_strongest_of_two_surges_wins() -> None:
    policy = load_surge_policy()
    red, yellow = policy.rule("暴雨", "红色"), policy.rule("暴雨", "黄色")
    assert red is not None and yellow is not None
    end = NOW + timedelta(hours=1)
    both = SurgeOverlay(
        [
            ActiveSurge("y", yellow, frozenset({GRID}), NOW, end),
            ActiveSurge("r", red, frozenset({GRID}), NOW, end),
        ]
    )
    found = both.surge_at(GRID, "waterlogging", NOW)
    assert found is not None and found.surge_id == "r"


@pytest.mark.parametrize(
    ("priority", "steps", "to"),
    [
        (Priority.P3, 1, Priority.P2),
        (Priority.P1, 1, Priority.P0),
        (Priority.P0, 1, Priority.P0),
        (Priority.P2, 0, Priority.P2),
    ],
)
def test_raised_never_goes_above_p0(priority: Priority, steps: int, to: Priority) -> None:
    assert raised(priority, steps) is to


def test_the_surge_taxonomy_drops_volunteers_and_adds_community_forces() -> None:
    taxonomy, workforce = load_taxonomy(), load_workforce()
    rule = SurgeRule("暴雨", "红色", frozenset({"hotline_help"}), 0, 1.0, True, True)
    forces = surge_taxonomy(taxonomy, workforce, rule).categories["hotline_help"].forces
    assert forces[0] == "grid_worker" and "building_steward" not in forces
    community = {f.code for f in workforce.forces.values() if f.level == "community" and not f.volunteer}
    assert community <= set(forces)
    assert (
        surge_taxonomy(taxonomy, workforce, rule).categories["illegal_ads"]
        == taxonomy.categories["illegal_ads"]
    )
