"""Several districts in one directory: routing and the escalation ladder of a case stay inside its
own district, and the city desk takes only what lies outside every district."""

from __future__ import annotations

import pytest

from config.policy import Priority, Taxonomy, Workforce, load_taxonomy
from dispatch.cases.people import People
from dispatch.directory import Directory
from dispatch.intake.rules import LocatedReport
from dispatch.routing.rosters import Roster
from dispatch.routing.router import Router
from dispatch.routing.values import Candidate, RoutingIncident, RoutingRule
from dispatch.sla.calendar import WorkingCalendar
from dispatch.sla.ladder import EscalationPolicy, LadderTarget
from geo.city import CITY_DESK
from tests.dispatch.helpers import sh

MONDAY_10 = sh(2025, 3, 3, 10)
SPB, JLP = "500106", "500107"


def _desk(worker_id: str, district: str, open_tasks: int = 0) -> Candidate:
    return Candidate(
        worker_id, "district_center", None, None, None, "duty_24h", open_tasks, None, None, district
    )


PEOPLE = [
    Candidate("spb-lead", "community_lead", None, "500106001001", "500106001", "duty_24h", district_code=SPB),
    Candidate("jlp-lead", "community_lead", None, "500107001001", "500107001", "duty_24h", district_code=JLP),
    Candidate("jlp-street", "street_center", None, None, "500107001", "duty_24h", district_code=JLP),
    _desk("spb-center", SPB),  # the least loaded desk of all: still never another district's
    _desk("jlp-center", JLP, open_tasks=40),
    _desk("city-desk", CITY_DESK, open_tasks=5),
]
LEVELS = {c.worker_id: "community" if "lead" in c.worker_id else "street" for c in PEOPLE[:3]} | {
    c.worker_id: "district" for c in PEOPLE[3:]
}


@pytest.fixture(scope="module")
def router(
    taxonomy: Taxonomy,
    workforce: Workforce,
    rosters: dict[str, Roster],
    calendar: WorkingCalendar,
    escalation: EscalationPolicy,
) -> Router:
    return Router(
        taxonomy=taxonomy,
        workforce=workforce,
        rosters=rosters,
        calendar=calendar,
        returns_to_lead=escalation.returns_to_lead,
    )


def _incident(district: str, *, grid: str | None = None) -> RoutingIncident:
    community, street = (grid[:12], grid[:9]) if grid else (None, None)
    return RoutingIncident(
        "i-1", "exposed_garbage", Priority.P3, grid, community, street, district_code=district
    )


@pytest.mark.parametrize(
    ("district", "desk"), [(SPB, "spb-center"), (JLP, "jlp-center"), (CITY_DESK, "city-desk")]
)
def test_outside_every_grid_goes_to_its_own_districts_center(
    router: Router, district: str, desk: str
) -> None:
    decision = router.route(_incident(district), PEOPLE, MONDAY_10)
    assert (decision.rule, decision.worker_id) == (RoutingRule.DISTRICT_CENTER, desk)


def test_the_ladder_below_the_center_is_the_districts_own(router: Router) -> None:
    decision = router.route(_incident(JLP, grid="500107001001001"), PEOPLE, MONDAY_10)
    assert (decision.rule, decision.worker_id) == (RoutingRule.COMMUNITY_LEAD, "jlp-lead")
    picks = router.eligible(_incident(JLP, grid="500107001001001"), PEOPLE, MONDAY_10)
    assert [p.candidate.worker_id for p in picks] == ["jlp-lead", "jlp-street", "jlp-center"]


def _located(district: str, grid: str | None) -> LocatedReport:
    return LocatedReport(
        report_id="r-1",
        source="hotline",
        category=load_taxonomy().category("exposed_garbage"),
        priority=Priority.P3,
        received_at=MONDAY_10,
        reported_at=MONDAY_10,
        lon=None,
        lat=None,
        district_code=district,
        street_code=grid[:9] if grid else None,
        street_name=None,
        community_code=grid[:12] if grid else None,
        grid_code=grid,
        placement_reason=None,
        placement="point",
        layer_version=1,
    )


def test_the_directory_and_the_escalation_targets_hold_one_districts_people() -> None:
    directory = Directory(PEOPLE, LEVELS)
    near = {c.worker_id for c in directory.near(_located(JLP, "500107001001001"))}
    assert near == {"jlp-lead", "jlp-street", "jlp-center"}
    assert {c.worker_id for c in directory.near(_located(CITY_DESK, None))} == {"city-desk"}
    people = People(directory, {})
    case = {"district_code": JLP, "community_code": "500107001001", "street_code": "500107001"}
    assert people.targets(case, None, LadderTarget.DISTRICT_CENTER) == ["jlp-center"]
    assert people.targets({"district_code": SPB}, None, LadderTarget.DISTRICT_CENTER) == ["spb-center"]
    assert people.targets(case, None, LadderTarget.STREET_CENTER) == ["jlp-street"]


def test_a_row_without_its_district_column_is_placed_by_its_codes() -> None:
    people = People(Directory(PEOPLE, LEVELS), {})
    row = {"grid_code": "500107001001001", "community_code": "500107001001", "street_code": "500107001"}
    assert {c.worker_id for c in people.near(row)} == {"jlp-lead", "jlp-street", "jlp-center"}
