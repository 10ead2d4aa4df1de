"""The roster sheet's `district_code` column when several districts share the deployment: a
person's district follows from their area, a district-level person names theirs."""

from __future__ import annotations

from config.policy import load_workforce
from dispatch.people.checks import Areas, check_rows
from dispatch.people.sheet import COLUMNS, SheetRow
from dispatch.routing.rosters import load_rosters

TWO = Areas(
    "",
    frozenset({"500106001", "500107001"}),
    {"500106001001": "500106001", "500107001001": "500107001"},
    {"500107001001001": ("500107001001", "500107001")},
    {},
    frozenset({"500106", "500107"}),
)


def _row(n: int, force: str, *, grid: str = "", district: str = "") -> SheetRow:
    cells = dict.fromkeys(COLUMNS, "")
    cells |= {
        "worker_id": f"w-{n}",
        "name": "某某",
        "force": force,
        "roster": "duty_24h",
        "phone": "13800000000",
    }
    cells |= {"grid_code": grid, "district_code": district, "active": "yes"}
    return SheetRow("people", n + 1, cells)


def _check(*rows: SheetRow, areas: Areas = TWO) -> tuple[list[str], list[str]]:
    people, problems = check_rows(rows, areas=areas, workforce=load_workforce(), rosters=load_rosters())
    return [f"{p.worker_id}:{p.district_code}" for p in people], [
        f"{p.column}: {p.message}" for p in problems
    ]


def test_an_areas_code_gives_the_district() -> None:
    assert _check(_row(1, "grid_worker", grid="500107001001001")) == (["w-1:500107"], [])


def test_a_district_level_person_names_their_district_once_there_are_several() -> None:
    assert _check(_row(1, "district_center", district="500107")) == (["w-1:500107"], [])
    _, problems = _check(_row(1, "district_center"))
    assert problems == ["district_code: required for a district-level role (2 districts: 500106, 500107)"]
    _, problems = _check(_row(1, "district_center", district="500199"))
    assert problems == ["district_code: unknown district '500199' (loaded: 500106, 500107)"]
    one = Areas("500106", frozenset(), {}, {}, {})
    assert _check(_row(1, "district_center"), areas=one) == (["w-1:500106"], [])


def test_a_district_code_that_contradicts_the_area_is_refused() -> None:
    _, problems = _check(_row(1, "grid_worker", grid="500107001001001", district="500106"))
    assert problems == ["district_code: '500106', but 500107001001001 is in district 500107"]
