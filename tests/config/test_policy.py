from __future__ import annotations

from typing import Any

import pytest

from config.policy import (
    Duration,
    PolicyError,
    Priority,
    load_taxonomy,
    load_workforce,
    parse_taxonomy,
    parse_workforce,
)


def test_shipped_workforce_has_eleven_forces_and_the_ladder() -> None:
    wf = load_workforce()
    assert len(wf.forces) == 11
    assert set(wf.roles) == {"community_lead", "street_center", "district_center"}
    assert {f.level for f in wf.forces.values()} == {"grid", "community"}


def test_shipped_taxonomy_is_consistent_and_covers_the_design_examples() -> None:
    tax = load_taxonomy()
    assert tax.category("manhole_cover_missing").priority is Priority.P1
    assert tax.category("exposed_garbage").resolve == Duration(4, "h")
    assert tax.category("illegal_construction").resolve == Duration(20, "d")
    assert tax.category("hotline_complaint").resolve == Duration(15, "d")
    assert tax.category("fire").agency_led and tax.category("fire").priority is Priority.P0
    assert all(c.agency_led for c in tax.categories.values() if c.priority is Priority.P0)
    used = {c.family for c in tax.categories.values()}
    assert used == set(tax.families)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30min", Duration(30, "min")), ("4h", Duration(4, "h")), (" 20d ", Duration(20, "d"))],
)
def test_duration_parse(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["0h", "4 hours", "h", "-1d", "1.5h"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(PolicyError, match="bad duration"):
        Duration.parse(text)


def _forces() -> dict[str, Any]:
    return {"force": [{"code": "grid_worker", "zh": "网格员", "en": "Grid worker", "level": "grid"}]}


def _category(**changes: Any) -> dict[str, Any]:
    base = {
        "code": "x",
        "zh": "某",
        "en": "X",
        "family": "f",
        "priority": "P3",
        "forces": ["grid_worker"],
        "lead_department": "区城市管理局",
    }
    return {"family": [{"code": "f", "zh": "族", "en": "F"}], "category": [{**base, **changes}]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family": "nope"}, "unknown family"),
        ({"priority": "P9"}, "priority must be"),
        ({"forces": ["astronaut"]}, "unknown forces"),
        ({"forces": []}, "non-empty list"),
        ({"zh": ""}, "'zh' must be"),
        ({"resolve": "soon"}, "bad duration"),
    ],
)
def test_taxonomy_cross_references_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_taxonomy(_category(**changes), parse_workforce(_forces()))


def test_workforce_rejects_bad_level() -> None:
    doc = {"force": [{"code": "a", "zh": "甲", "en": "A", "level": "planet"}]}
    with pytest.raises(PolicyError, match="level must be"):
        parse_workforce(doc)
