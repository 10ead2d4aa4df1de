"""The reassignment picker's list (`Router.eligible`): the people `Router.route` would consider,
on shift, in its order — so its first entry is always the router's own pick."""

from __future__ import annotations

import random

import pytest

from config.policy import Workforce
from dispatch.routing.router import Router
from dispatch.routing.values import Candidate, RoutingRule
from tests.dispatch.test_router import DISTRICT, LADDER, MONDAY_10, TUESDAY_03, incident, router, worker

__all__ = ["router"]  # the module's fixture, shared


def test_eligible_lists_the_rule_order_on_shift_only(router: Router) -> None:
    people = [
        worker("busy", "sanitation", open_tasks=4, metres_north=50),
        worker("near", "sanitation", metres_north=100),
        worker("far", "sanitation", metres_north=900),
        worker("grid", "grid_worker", metres_north=10),
        worker("night", "sanitation", roster="office"),  # off shift on Tuesday at 03:00
        worker("elsewhere", "sanitation", grid="500106001001002"),  # another grid
        *LADDER,
    ]
    picks = router.eligible(incident(), people, TUESDAY_03)
    assert [p.candidate.worker_id for p in picks] == ["near", "far", "busy", "grid", "street", "district"]
    assert [p.rule for p in picks][-2:] == [RoutingRule.STREET_CENTER, RoutingRule.DISTRICT_CENTER]
    assert picks[0].distance_m == pytest.approx(100, abs=1)
    assert picks[-1].distance_m is None  # position unknown


def test_a_worker_at_capacity_is_left_out_as_routing_leaves_them(
    router: Router, workforce: Workforce
) -> None:
    limit = workforce.forces["sanitation"].capacity
    assert limit is not None
    people = [worker("full", "sanitation", open_tasks=limit), worker("free", "sanitation"), DISTRICT]
    picks = router.eligible(incident(), people, MONDAY_10)
    assert [p.candidate.worker_id for p in picks] == ["free", "district"]


@pytest.mark.parametrize("seed", range(20))
def test_the_first_pick_is_the_routers_choice(router: Router, seed: int) -> None:
    rng = random.Random(seed)
    roles = ["sanitation", "grid_worker", "urban_mgmt", "community_lead", "street_center"]
    people: list[Candidate] = [
        worker(
            f"w{i}",
            rng.choice(roles),
            grid=None if rng.random() < 0.2 else "500106001001001",
            roster=rng.choice(["duty_24h", "office"]),
            open_tasks=rng.randrange(4),
            metres_north=rng.choice([None, rng.uniform(0, 2000)]),
        )
        for i in range(12)
    ]
    at = rng.choice([MONDAY_10, TUESDAY_03])
    picks = router.eligible(incident(), [*people, DISTRICT], at)
    decision = router.route(incident(), [*people, DISTRICT], at)
    assert picks and picks[0].candidate.worker_id == decision.worker_id
    assert picks[0].rule is decision.rule
