"""Which grids a warning covers: polygons, circles, geocodes, edge cases, bad areas."""

from __future__ import annotations

import doctest
import importlib

import pytest
from shapely.geometry import box

from dispatch.surge.areas import AreaError, GridShape, WarningArea, circle, covered_grids

# a 3×1 row of 0.01° grids at Shapingba's latitude; the codes nest district/street/community/grid
LAT = 29.55
GRIDS = [
    GridShape("500106001001001", box(106.40, LAT, 106.41, LAT + 0.01)),
    GridShape("500106001001002", box(106.41, LAT, 106.42, LAT + 0.01)),
    GridShape("500106002001001", box(106.42, LAT, 106.43, LAT + 0.01)),
]


def ring(x0: float, x1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, LAT + 0.002), (x1, LAT + 0.002), (x1, LAT + 0.008), (x0, LAT + 0.008), (x0, LAT + 0.002))


@pytest.mark.parametrize(
    ("area", "covered"),
    [
        (WarningArea(polygons=(ring(106.402, 106.408),)), {"500106001001001"}),  # inside one
        (WarningArea(polygons=(ring(106.405, 106.415),)), {"500106001001001", "500106001001002"}),  # across
        (WarningArea(polygons=(ring(106.43, 106.44),)), set()),  # touches the last grid's edge only
        (WarningArea(polygons=(ring(106.50, 106.51),)), set()),  # outside
        (WarningArea(circles=((106.425, LAT + 0.005, 300.0),)), {"500106002001001"}),
        (WarningArea(circles=((106.42, LAT + 0.005, 300.0),)), {"500106001001002", "500106002001001"}),
        (WarningArea(geocodes=("500106",)), {g.code for g in GRIDS}),  # the district
        (WarningArea(geocodes=("500106002",)), {"500106002001001"}),  # a street
        (WarningArea(geocodes=("500106001001002",)), {"500106001001002"}),  # a grid
        # the drawn shape is the precise statement: the district code beside it adds nothing
        (WarningArea(polygons=(ring(106.402, 106.408),), geocodes=("500106",)), {"500106001001001"}),
    ],
)
def test_covered_grids(area: WarningArea, covered: set[str]) -> None:
    assert covered_grids(area, GRIDS) == covered


def test_a_circle_is_round_on_the_ground() -> None:
    c = circle(106.4, LAT, 1000.0)
    minx, miny, maxx, maxy = c.bounds
    # 1 km east-west spans more degrees than north-south at 29.5°N, by 1/cos(lat)
    assert (maxx - minx) / (maxy - miny) == pytest.approx(1 / 0.8699, rel=1e-3)


@pytest.mark.parametrize(
    ("area", "field"),
    [
        (WarningArea(polygons=(((106.4, LAT), (106.41, LAT), (106.4, LAT)),)), "polygons[0]"),
        (
            WarningArea(polygons=(((106.4, LAT), (106.41, LAT), (106.41, 29.6), (106.4, 29.6)),)),
            "polygons[0]",
        ),
        (WarningArea(polygons=(((106.4, LAT), (106.5, LAT), (106.6, LAT), (106.4, LAT)),)), "polygons[0]"),
        (WarningArea(polygons=(((200.0, LAT), (106.41, LAT), (106.41, 29.6), (200.0, LAT)),)), "polygons[0]"),
        (WarningArea(circles=((106.4, LAT, 0.0),)), "circles[0].radius_m"),
        (WarningArea(circles=((106.4, 95.0, 10.0),)), "circles[0]"),
        (WarningArea(geocodes=("5001",)), "geocodes[0]"),
        (WarningArea(geocodes=("50010600100A",)), "geocodes[0]"),
    ],
)
def test_a_bad_area_names_its_field(area: WarningArea, field: str) -> None:
    with pytest.raises(AreaError) as caught:
        covered_grids(area, GRIDS)
    assert caught.value.field == field


@pytest.mark.parametrize("name", ["dispatch.surge.areas", "dispatch.surge.policy"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.attempted > 0 and result.failed == 0
