"""The volunteer policy: what may be offered to volunteers, and what the file may not open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from config.policy import PolicyError, Priority, load_taxonomy
from dispatch.volunteers.policy import load_volunteer_policy, parse_volunteer_policy


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "eligible_priorities": ["P3", "P4"],
        "exclude": [],
        "claim_lapse": "90min",
        "category": [{"code": "shared_bikes_disorder", "points": 10, "on_time_bonus": 5, "auto": True}],
    }
    doc.update(changes)
    return doc


def test_the_shipped_policy_never_offers_urgent_or_excluded_work() -> None:
    policy = load_volunteer_policy()
    taxonomy = load_taxonomy()
    assert policy.claim_lapse == timedelta(hours=2)
    for code, category in taxonomy.categories.items():
        for priority in Priority:
            for handed in (False, True):
                if policy.eligible(code, priority, handed=handed):
                    assert priority.rank >= 3, (code, priority)
                    assert code not in policy.excluded
                    assert not category.agency_led
    assert policy.eligible("exposed_garbage", Priority.P4)
    assert not policy.eligible("fire_hazard", Priority.P3, handed=True)  # excluded by the policy
    assert policy.points_for("shared_bikes_disorder", on_time=True) == (10, 5)
    assert policy.points_for("shared_bikes_disorder", on_time=False) == (10, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"eligible_priorities": ["P2", "P3"]}, "P2 are never offered"),
        ({"eligible_priorities": ["P9"]}, "eligible_priorities"),
        ({"category": [{"code": "fire", "points": 5, "on_time_bonus": 0}]}, "never for volunteers"),
        ({"category": [{"code": "no_such", "points": 5, "on_time_bonus": 0}]}, "unknown category"),
        ({"category": [{"code": "road_dirt", "points": 0, "on_time_bonus": 0}]}, "'points' must be"),
        ({"category": [{"code": "road_dirt", "points": 3, "on_time_bonus": -1}]}, "'on_time_bonus'"),
        ({"claim_lapse": "soon"}, "bad duration"),
        ({"exclude": ["nope"]}, "unknown category"),
    ],
)
def test_a_bad_policy_is_refused_at_load_time(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_volunteer_policy(_doc(**changes), load_taxonomy())


def test_an_excluded_category_is_never_offered_even_when_listed() -> None:
    policy = parse_volunteer_policy(_doc(exclude=["shared_bikes_disorder"]), load_taxonomy())
    assert not policy.eligible("shared_bikes_disorder", "P3", handed=True)
    assert policy.auto_offered() == []
