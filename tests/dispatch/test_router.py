"""Routing: each rule, each fallback, ties, rosters and holidays, returns and agency-led cases."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from config.policy import Priority, Taxonomy, Workforce, load_taxonomy
from dispatch.routing.rosters import Roster
from dispatch.routing.router import Router, haversine_m
from dispatch.routing.values import Candidate, DecisionKind, RoutingError, RoutingIncident, RoutingRule
from dispatch.sla.calendar import WorkingCalendar
from dispatch.sla.ladder import EscalationPolicy
from tests.dispatch.helpers import sh

STREET = "500106001"
COMMUNITY = "500106001001"
GRID = "500106001001001"
NEIGHBOUR_GRID = "500106001001002"
OTHER_COMMUNITY = "500106001002"
LON, LAT = 106.45, 29.55
MONDAY_10 = sh(2025, 3, 3, 10)
TUESDAY_03 = sh(2025, 3, 4, 3)


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


def incident(
    category: str = "exposed_garbage", priority: Priority = Priority.P3, **changes: object
) -> RoutingIncident:
    base = RoutingIncident("i-1", category, priority, GRID, COMMUNITY, STREET, LON, LAT)
    return replace(base, **changes)  # type: ignore[arg-type]


def worker(
    worker_id: str,
    role: str,
    *,
    grid: str | None = GRID,
    community: str | None = COMMUNITY,
    roster: str = "duty_24h",
    open_tasks: int = 0,
    metres_north: float | None = None,
) -> Candidate:
    lat = None if metres_north is None else LAT + metres_north / 111_195
    lon = None if metres_north is None else LON
    return Candidate(worker_id, role, grid, community, STREET, roster, open_tasks, lon, lat)


LEAD = worker("lead", "community_lead", grid=None, roster="office")
STREET_CENTER = worker("street", "street_center", grid=None, community=None, roster="duty_24h")
DISTRICT = Candidate("district", "district_center", None, None, None, "duty_24h")
LADDER = [LEAD, STREET_CENTER, DISTRICT]


def test_least_open_work_wins_within_a_force(router: Router) -> None:
    cands = [worker("a", "sanitation", open_tasks=3), worker("b", "sanitation", open_tasks=1), *LADDER]
    decision = router.route(incident(), cands, MONDAY_10)
    assert (decision.worker_id, decision.rule, decision.kind) == (
        "b",
        RoutingRule.ELIGIBLE_WORKER,
        DecisionKind.MAIN,
    )
    assert "eligible worker b (sanitation): on shift, 1 open task(s), position unknown" in decision.reason
    assert decision.lead_department == "区城市管理局"


def test_load_never_outranks_the_force_order(router: Router) -> None:
    # exposed_garbage lists sanitation first: a busier sanitation worker still comes first
    cands = [worker("a", "sanitation", open_tasks=7), worker("b", "grid_worker"), *LADDER]
    assert router.route(incident(), cands, MONDAY_10).worker_id == "a"


def test_then_the_nearest_known_position(router: Router) -> None:
    cands = [
        worker("a", "sanitation", metres_north=900),
        worker("b", "sanitation", metres_north=120),
        worker("c", "sanitation"),  # position unknown: after every known one
        worker("d", "urban_mgmt", metres_north=5),  # nearer, but a later force
    ]
    decision = router.route(incident(), cands, MONDAY_10)
    assert decision.worker_id == "b"
    assert decision.distance_m == pytest.approx(120, abs=1)
    assert "120 m away" in decision.reason


def test_a_force_at_capacity_passes_to_the_next(router: Router, workforce: Workforce) -> None:
    limit = workforce.forces["sanitation"].capacity
    assert limit is not None
    full = [worker("s1", "sanitation", open_tasks=limit), worker("s2", "sanitation", open_tasks=limit + 3)]
    decision = router.route(incident(), [*full, worker("g", "grid_worker", open_tasks=9), *LADDER], MONDAY_10)
    assert decision.worker_id == "g"
    assert "2 worker(s) at their force's capacity passed over" in decision.reason
    one_below = [worker("s1", "sanitation", open_tasks=limit - 1), worker("g", "grid_worker"), *LADDER]
    assert router.route(incident(), one_below, MONDAY_10).worker_id == "s1"


def test_everyone_at_capacity_goes_up_the_ladder(router: Router, workforce: Workforce) -> None:
    cands = [
        worker(f"w-{force}", force, open_tasks=workforce.forces[force].capacity or 0)
        for force in ("sanitation", "grid_worker", "urban_mgmt")
    ]
    decision = router.route(incident(), [*cands, *LADDER], MONDAY_10)
    assert (decision.worker_id, decision.rule) == ("lead", RoutingRule.COMMUNITY_LEAD)


def test_then_the_force_the_taxonomy_lists_first_then_the_worker_id(router: Router) -> None:
    # exposed_garbage lists sanitation, grid_worker, urban_mgmt
    cands = [worker("a", "urban_mgmt"), worker("z", "sanitation"), worker("m", "grid_worker")]
    assert router.route(incident(), cands, MONDAY_10).worker_id == "z"
    same = [worker("w-2", "sanitation"), worker("w-10", "sanitation"), worker("w-1", "sanitation")]
    assert router.route(incident(), same, MONDAY_10).worker_id == "w-1"


def test_the_candidate_order_never_matters(router: Router) -> None:
    cands = [
        worker("a", "sanitation", open_tasks=1, metres_north=50),
        worker("b", "grid_worker", open_tasks=1, metres_north=50),
        worker("c", "urban_mgmt", open_tasks=1),
        worker("d", "sanitation", open_tasks=2, metres_north=1),
        *LADDER,
    ]
    picks = {router.route(incident(), list(p), MONDAY_10).worker_id for p in itertools.permutations(cands)}
    assert picks == {"a"}


def test_only_workers_of_the_grid_or_for_community_forces_the_community(router: Router) -> None:
    # neighbour_dispute: mediator (community level), grid_worker (grid level)
    cands = [
        worker("g-next-door", "grid_worker", grid=NEIGHBOUR_GRID),
        worker("m-other", "mediator", grid=None, community=OTHER_COMMUNITY),
        worker("m-here", "mediator", grid=None, open_tasks=4),
        worker("g-here", "grid_worker", open_tasks=5),
        worker("s-here", "sanitation"),  # not eligible for disputes
        *LADDER,
    ]
    decision = router.route(incident("neighbour_dispute"), cands, MONDAY_10)
    assert (decision.worker_id, decision.role) == ("m-here", "mediator")


def test_off_shift_workers_are_skipped(router: Router) -> None:
    cands = [
        worker("day", "sanitation", roster="early"),
        worker("night", "grid_worker", roster="night", open_tasks=9),
    ]
    assert router.route(incident(), cands, TUESDAY_03).worker_id == "night"
    assert router.route(incident(), cands, MONDAY_10).worker_id == "day"


def test_nobody_eligible_on_shift_goes_to_the_community_lead(router: Router) -> None:
    cands = [worker("day", "sanitation", roster="office"), *LADDER]
    decision = router.route(incident(), cands, sh(2025, 3, 3, 8, 45))  # the office shift starts at 08:30
    assert decision.worker_id == "day"
    decision = router.route(incident(), [worker("late", "sanitation", roster="late"), *LADDER], MONDAY_10)
    assert (decision.worker_id, decision.rule) == ("lead", RoutingRule.COMMUNITY_LEAD)
    assert (
        "no eligible worker on shift (forces sanitation, grid_worker, urban_mgmt; 1 off shift)"
        in decision.reason
    )
    assert "community lead lead (community_lead)" in decision.reason


def test_then_the_street_center_then_the_district_center(router: Router) -> None:
    cands = [worker("day", "sanitation", roster="office"), *LADDER]
    at_night = router.route(incident(), cands, TUESDAY_03)  # the lead works office hours
    assert (at_night.worker_id, at_night.rule) == ("street", RoutingRule.STREET_CENTER)
    assert "no community lead on shift" in at_night.reason
    holiday = router.route(incident(), [LEAD, DISTRICT], sh(2024, 10, 1, 10))  # National Day
    assert (holiday.worker_id, holiday.rule) == ("district", RoutingRule.DISTRICT_CENTER)
    assert "no street center on shift" in holiday.reason


def test_ladder_roles_of_another_community_or_street_do_not_count(router: Router) -> None:
    other_lead = worker("lead-2", "community_lead", grid=None, community=OTHER_COMMUNITY)
    other_street = Candidate("street-2", "street_center", None, None, "500106002", "duty_24h")
    decision = router.route(incident(), [other_lead, other_street, DISTRICT], MONDAY_10)
    assert decision.worker_id == "district"


def test_nobody_anywhere_is_unrouted_not_dropped(router: Router) -> None:
    decision = router.route(incident(), [worker("late", "sanitation", roster="late")], MONDAY_10)
    assert (decision.rule, decision.worker_id, decision.role) == (RoutingRule.UNROUTED, None, None)
    assert "district board" in decision.reason


def test_outside_every_grid_goes_to_the_district_center(router: Router) -> None:
    cands = [worker("a", "sanitation", grid=None), *LADDER]
    decision = router.route(incident(grid_code=None, community_code=None, street_code=None), cands, MONDAY_10)
    assert (decision.worker_id, decision.rule) == ("district", RoutingRule.DISTRICT_CENTER)
    assert "属地兜底" in decision.reason


def test_agency_led_and_p0_reports_give_the_grid_an_assist_task(router: Router) -> None:
    cands = [worker("f", "fire_safety", grid=None), worker("g", "grid_worker"), *LADDER]
    fire = router.route(incident("fire", Priority.P0), cands, MONDAY_10)
    assert (fire.kind, fire.worker_id, fire.lead_department) == (DecisionKind.ASSIST, "f", "区消防救援支队")
    assert fire.reason.startswith("agency-led (区消防救援支队 leads): the grid assists")
    raised = router.route(incident("road_blocked", Priority.P0), cands, MONDAY_10)
    assert raised.kind is DecisionKind.ASSIST
    assert router.route(incident("road_blocked", Priority.P1), cands, MONDAY_10).kind is DecisionKind.MAIN


def test_rerouting_after_a_return_skips_who_returned_it(router: Router) -> None:
    cands = [worker("a", "sanitation"), worker("b", "grid_worker", open_tasks=2), *LADDER]
    decision = router.reroute_after_return(incident(), cands, MONDAY_10, returned_by={"a"}, returns=1)
    assert (decision.worker_id, decision.returns) == ("b", 1)
    assert "handed back 1 time(s)" in decision.reason
    # the limit of returns reached: a lead decides, even with eligible workers on shift
    second = router.reroute_after_return(incident(), cands, MONDAY_10, returned_by={"a", "c"}, returns=2)
    assert (second.worker_id, second.rule, second.returns) == ("lead", RoutingRule.COMMUNITY_LEAD, 2)
    assert "2 returns reach the limit of 2" in second.reason


@pytest.mark.parametrize(
    ("inc", "cands", "message"),
    [
        (incident("ufo"), [], "category: unknown category 'ufo'"),
        (incident(), [worker("x", "astronaut")], "candidate x: role 'astronaut'"),
        (incident(), [worker("x", "sanitation", roster="siesta")], "candidate x: roster 'siesta'"),
    ],
)
def test_bad_input_is_named(
    router: Router, inc: RoutingIncident, cands: list[Candidate], message: str
) -> None:
    with pytest.raises(RoutingError, match=message):
        router.route(inc, cands, MONDAY_10)


def test_naive_now_is_refused(router: Router) -> None:
    with pytest.raises(RoutingError, match="naive"):
        router.route(incident(), [], MONDAY_10.replace(tzinfo=None))


def test_haversine() -> None:
    assert haversine_m(LON, LAT, LON, LAT) == 0
    assert haversine_m(LON, LAT, LON, LAT + 1) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(116.3975, 39.9087, 121.4737, 31.2304) == pytest.approx(
        1_067_000, rel=0.01
    )  # Beijing–Shanghai


# --- table-driven over the shipped taxonomy ----------------------------------------------
SHIPPED = load_taxonomy()


def _one_of_each(forces: tuple[str, ...], workforce: Workforce, **changes: object) -> list[Candidate]:
    """One on-shift worker per listed force, community-level forces at the community."""
    out = []
    for force in forces:
        grid = None if workforce.forces[force].level == "community" else GRID
        out.append(replace(worker(f"w-{force}", force, grid=grid), **changes))  # type: ignore[arg-type]
    return out


def _routable(forces: tuple[str, ...], priority: Priority, workforce: Workforce) -> list[str]:
    """The forces routing may use at this priority, in the taxonomy's order."""
    urgent = priority.rank <= Priority.P2.rank
    return [f for f in forces if not (urgent and workforce.forces[f].volunteer)]


@pytest.mark.parametrize("code", sorted(SHIPPED.categories))
def test_shipped_category_goes_to_its_first_force_whatever_the_load(
    router: Router, workforce: Workforce, code: str
) -> None:
    category = SHIPPED.categories[code]
    routable = _routable(category.forces, category.priority, workforce)
    cands = _one_of_each(category.forces, workforce)
    # the first routable force is the busiest of all (still below its capacity)
    first = routable[0]
    busy = (workforce.forces[first].capacity or 10) - 1
    cands = [replace(c, open_tasks=busy) if c.role == first else c for c in cands]
    decision = router.route(incident(code, category.priority), [*cands, *LADDER], MONDAY_10)
    assert (decision.role, decision.rule) == (first, RoutingRule.ELIGIBLE_WORKER), decision.reason
    assert decision.lead_department == category.lead_department
    expected_kind = (
        DecisionKind.ASSIST if category.agency_led or category.priority is Priority.P0 else DecisionKind.MAIN
    )
    assert decision.kind is expected_kind


@pytest.mark.parametrize("code", sorted(SHIPPED.categories))
def test_shipped_category_passes_down_its_force_list_at_capacity(
    router: Router, workforce: Workforce, code: str
) -> None:
    category = SHIPPED.categories[code]
    routable = _routable(category.forces, category.priority, workforce)
    cands = _one_of_each(category.forces, workforce)
    for force in routable:
        decision = router.route(incident(code, category.priority), [*cands, *LADDER], MONDAY_10)
        assert decision.role == force, decision.reason
        cap = workforce.forces[force].capacity
        assert cap is not None, f"force {force} has no capacity in config/forces.toml"
        cands = [replace(c, open_tasks=cap) if c.role == force else c for c in cands]
    last = router.route(incident(code, category.priority), [*cands, *LADDER], MONDAY_10)
    assert (last.worker_id, last.rule) == ("lead", RoutingRule.COMMUNITY_LEAD), last.reason


VOLUNTEER_CATEGORIES = sorted(
    code for code, c in SHIPPED.categories.items() if "building_steward" in c.forces
)


@pytest.mark.parametrize("priority", list(Priority))
@pytest.mark.parametrize("code", VOLUNTEER_CATEGORIES)
def test_volunteers_never_get_p0_to_p2(router: Router, code: str, priority: Priority) -> None:
    steward = worker("steward", "building_steward")
    decision = router.route(incident(code, priority), [steward, *LADDER], MONDAY_10)
    if priority.rank <= Priority.P2.rank:
        assert (decision.worker_id, decision.rule) == ("lead", RoutingRule.COMMUNITY_LEAD)
        assert "1 volunteer(s) passed over" in decision.reason
    else:
        assert decision.worker_id == "steward"


def test_the_volunteer_flag_is_on_the_building_stewards_only(workforce: Workforce) -> None:
    assert VOLUNTEER_CATEGORIES  # the shipped taxonomy does list volunteers somewhere
    assert {f.code for f in workforce.forces.values() if f.volunteer} == {"building_steward"}


def test_pick_counts_work_assigned_in_the_batch_as_route_counts_stored_work(router: Router) -> None:
    """The intake shortlists a place once and picks per case with the batch's assignments
    added: the same decision as routing candidates whose stored work includes them."""
    cands = [
        worker("a", "sanitation", open_tasks=1, metres_north=10),
        worker("b", "sanitation", open_tasks=2, metres_north=500),
        worker("c", "sanitation", open_tasks=0, roster="night"),
        worker("v", "grid_worker", open_tasks=0, metres_north=5),
        *LADDER,
    ]
    for category, priority, extra in itertools.product(
        ("exposed_garbage", "illegal_parking"),
        (Priority.P1, Priority.P3),
        ({}, {"a": 2}, {"a": 9, "b": 9}, {"a": 9, "b": 9, "v": 9, "lead": 3}),
    ):
        case = incident(category, priority)
        listed = router.shortlist(case, cands)
        on_duty: dict[str, bool] = {}
        picked = router.pick(case, listed, MONDAY_10, on_duty, assigned=extra)
        stored = [replace(c, open_tasks=c.open_tasks + extra.get(c.worker_id, 0)) for c in cands]
        assert picked == router.route(case, stored, MONDAY_10), (category, priority, extra)
        assert set(on_duty) <= {c.roster for c in cands}
